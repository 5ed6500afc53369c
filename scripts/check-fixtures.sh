#!/usr/bin/env bash
# Checks that the fixture images behave like the official images they stand
# in for, from outside, the way a test uses them: postgres (env, init
# scripts, password over TCP, argument rules, the ready line twice), redis
# (protected mode off, requirepass, config files, runs as redis), registry
# (no auth by default, htpasswd from REGISTRY_* env, docker login + push +
# pull), busybox, and the modules' servers: mariadb (MARIADB_*/MYSQL_* env,
# init scripts, the ready line twice, datadir from the arguments), rabbitmq
# (RABBITMQ_DEFAULT_*, guest from outside, the management API), nats (flags
# as the command, monitoring) and memcached. Every container carries
# berth.session and is removed.
#
# Image names can be overridden to check a trial build:
#   POSTGRES_IMAGE REDIS_IMAGE REGISTRY_IMAGE BUSYBOX_IMAGE MARIADB_IMAGE
#   RABBITMQ_IMAGE RABBITMQ_MANAGEMENT_IMAGE NATS_IMAGE MEMCACHED_IMAGE
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
. scripts/lib.sh

PG=${POSTGRES_IMAGE:-postgres:15-bookworm}
RD=${REDIS_IMAGE:-redis:7-bookworm}
RG=${REGISTRY_IMAGE:-registry:2.8}
BB=${BUSYBOX_IMAGE:-busybox:1.36}
MD=${MARIADB_IMAGE:-mariadb:10.11}
MQ=${RABBITMQ_IMAGE:-rabbitmq:3.10}
MQM=${RABBITMQ_MANAGEMENT_IMAGE:-rabbitmq:3.10-management}
NT=${NATS_IMAGE:-nats:2.9}
MC=${MEMCACHED_IMAGE:-memcached:1.6}
SESSION=fixture-check-$$-$RANDOM
tmp=$(mktemp -d /tmp/berth-fixture-check.XXXXXX)
failures=0
t0=$(date +%s.%N)

cleanup() {
  local ids
  ids=$("$DOCKER" ps -aq --filter "label=berth.session=$SESSION")
  # shellcheck disable=SC2086 # one ID per word
  [ -n "$ids" ] && "$DOCKER" rm -f -v $ids > /dev/null 2>&1
  for tag in $("$DOCKER" images --filter "reference=localhost:*/berth-check/*" --format '{{.Repository}}:{{.Tag}}'); do
    "$DOCKER" rmi "$tag" > /dev/null 2>&1
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

ok() { echo "  ok: $1"; }
bad() { echo "  FAIL: $1"; failures=$((failures + 1)); }
# expect DESCRIPTION WANT GOT: GOT must contain WANT.
expect() {
  if [[ "$3" == *"$2"* ]]; then ok "$1"; else bad "$1: want '$2', got '$(printf '%s' "$3" | tail -c 400)'"; fi
}
# refute DESCRIPTION UNWANTED GOT
refute() {
  if [[ "$3" != *"$2"* ]]; then ok "$1"; else bad "$1: did not want '$2', got '$(printf '%s' "$3" | tail -c 400)'"; fi
}

run() { # docker run -d with the session label; prints the ID
  "$DOCKER" run -d --label "berth.session=$SESSION" --label berth.test=check-fixtures "$@"
}
create() {
  "$DOCKER" create --label "berth.session=$SESSION" --label berth.test=check-fixtures "$@"
}
hostport() { # CONTAINER PORT -> 127.0.0.1:N
  "$DOCKER" port "$1" "$2/tcp" | sed -n 's/^0\.0\.0\.0:/127.0.0.1:/p; s/^127\.0\.0\.1:/127.0.0.1:/p' | head -1
}
# wait_log CONTAINER PATTERN COUNT: until PATTERN appears COUNT times in the
# log (60 s), or the container exits.
wait_log() {
  local n
  for _ in $(seq 1 240); do
    n=$("$DOCKER" logs "$1" 2>&1 | grep -c -- "$2")
    [ "$n" -ge "$3" ] && return 0
    if [ "$("$DOCKER" inspect -f '{{.State.Running}}' "$1")" != true ]; then
      echo "  container exited; log:"; "$DOCKER" logs --tail 30 "$1" 2>&1 | sed 's/^/    /'
      return 1
    fi
    sleep 0.25
  done
  echo "  no '$2' x$3 in 60 s; log:"; "$DOCKER" logs --tail 30 "$1" 2>&1 | sed 's/^/    /'
  return 1
}
# wait_v2 CONTAINER CODE: until the registry in CONTAINER answers /v2/ with
# the HTTP status CODE (10 s). It leaves the registry's address in hp and
# its last answer in code, for the checks that follow.
wait_v2() {
  code=""
  for _ in $(seq 1 40); do
    hp=$(hostport "$1" 5000)
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://$hp/v2/" 2>/dev/null)
    [ "$code" = "$2" ] && return 0
    sleep 0.25
  done
  return 1
}
# check_restart NAME CONTAINER READY_LINE ROWS COMMAND...: restarts a
# database fixture that has logged READY_LINE twice (init server, then the
# real one): it must log it a third time, skip init and keep its data
# (COMMAND prints ROWS).
check_restart() {
  local name=$1 c=$2 ready=$3 rows=$4
  shift 4
  "$DOCKER" restart "$c" > /dev/null
  if wait_log "$c" "$ready" 3; then
    expect "restart keeps the data, skips init" "Skipping initialization" "$("$DOCKER" logs "$c" 2>&1)"
    expect "data after restart" "$rows" "$("$@")"
  else
    bad "$name restart"
  fi
}
# resp HOSTPORT COMMAND...: inline commands over bash's /dev/tcp, then
# QUIT (the server closes the connection); prints the raw replies.
resp() {
  local hp=$1 c
  shift
  exec 7<>"/dev/tcp/${hp%:*}/${hp#*:}" || return 1
  for c in "$@" QUIT; do printf '%s\r\n' "$c" >&7; done
  timeout 3 cat <&7 | tr -d '\r'
  exec 7>&-
}

echo "== postgres ($PG)"
mkdir -p "$tmp/initdb"
cat > "$tmp/initdb/01-schema.sql" <<'EOF'
CREATE TABLE items (id int PRIMARY KEY, name text);
INSERT INTO items VALUES (1, 'one'), (2, 'two');
EOF
cat > "$tmp/initdb/02-more.sh" <<'EOF'
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -c "INSERT INTO items VALUES (3, 'from sh')"
EOF
pg=$(create -p 127.0.0.1::5432 -e POSTGRES_USER=app -e POSTGRES_PASSWORD=pw-check -e POSTGRES_DB=shop \
  -e POSTGRES_INITDB_ARGS=--data-checksums "$PG" -c fsync=off -c 'cluster_name=berth check')
"$DOCKER" cp "$tmp/initdb/." "$pg:/docker-entrypoint-initdb.d/"
"$DOCKER" start "$pg" > /dev/null
if wait_log "$pg" 'database system is ready to accept connections' 2; then
  ok "ready line logged twice (init server, then the real one)"
  hp=$(hostport "$pg" 5432)
  q() { PGPASSWORD=$1 PGCONNECT_TIMEOUT=5 psql -X -w -h "${hp%:*}" -p "${hp#*:}" -U app -d shop -tAc "$2" 2>&1; }
  expect "init .sql and .sh ran in order" "1,2,3" "$(q pw-check "SELECT string_agg(id::text, ',' ORDER BY id) FROM items")"
  expect "postgres -c arguments applied" "off" "$(q pw-check "SHOW fsync")"
  expect "quoted -c argument kept whole" "berth check" "$(q pw-check "SHOW cluster_name")"
  expect "POSTGRES_INITDB_ARGS applied" "on" "$(q pw-check "SHOW data_checksums")"
  expect "wrong password refused over TCP" "password authentication failed" "$(q wrong "SELECT 1")"
  expect "no password refused over TCP" "password" "$(q '' "SELECT 1")"
  expect "listens on every address" "*" "$(q pw-check "SHOW listen_addresses")"
  expect "server runs as postgres" "postgres" "$("$DOCKER" exec "$pg" sh -c 'stat -c %U /proc/1')"
  pg_items() { hp=$(hostport "$pg" 5432); q pw-check "SELECT count(*) FROM items"; } # the port is new after a restart
  check_restart postgres "$pg" 'database system is ready to accept connections' 3 pg_items
else
  bad "postgres did not become ready"
fi

c=$(run "$PG")
"$DOCKER" wait "$c" > /dev/null
expect "no POSTGRES_PASSWORD: exits with the official error" "superuser password is not specified" "$("$DOCKER" logs "$c" 2>&1)"
expect "no POSTGRES_PASSWORD: exit code 1" "1" "$("$DOCKER" inspect -f '{{.State.ExitCode}}' "$c")"

c=$(run -p 127.0.0.1::5432 -e POSTGRES_HOST_AUTH_METHOD=trust "$PG")
if wait_log "$c" 'database system is ready to accept connections' 2; then
  hp=$(hostport "$c" 5432)
  expect "POSTGRES_HOST_AUTH_METHOD=trust: no password needed" "42" \
    "$(PGCONNECT_TIMEOUT=5 psql -X -w -h "${hp%:*}" -p "${hp#*:}" -U postgres -d postgres -tAc 'SELECT 42' 2>&1)"
else
  bad "trust container did not become ready"
fi

c=$(run -e POSTGRES_PASSWORD=x "$PG" echo plain command)
"$DOCKER" wait "$c" > /dev/null
out=$("$DOCKER" logs "$c" 2>&1)
expect "other first argument: runs as a plain command" "plain command" "$out"
refute "other first argument: no init" "initdb" "$out$("$DOCKER" exec "$c" true 2>&1)"
expect "postgres --version" "PostgreSQL) 15" "$("$DOCKER" run --rm --label "berth.session=$SESSION" "$PG" postgres --version 2>&1)"

echo "== redis ($RD)"
c=$(run -p 127.0.0.1::6379 "$RD")
if wait_log "$c" 'Ready to accept connections' 1; then
  hp=$(hostport "$c" 6379)
  expect "PING from outside without a password (protected mode off)" "+PONG" "$(resp "$hp" PING)"
  expect "runs as redis" "redis" "$("$DOCKER" exec "$c" stat -c %U /proc/1)"
  expect "workdir /data" "/data" "$("$DOCKER" exec "$c" pwd)"
else
  bad "redis did not become ready"
fi
c=$(run -p 127.0.0.1::6379 "$RD" redis-server --requirepass s3cr3t-check)
if wait_log "$c" 'Ready to accept connections' 1; then
  hp=$(hostport "$c" 6379)
  expect "requirepass: PING without AUTH refused" "NOAUTH" "$(resp "$hp" PING)"
  expect "requirepass: AUTH then PING" "+PONG" "$(resp "$hp" "AUTH s3cr3t-check" PING)"
else
  bad "redis --requirepass did not become ready"
fi
c=$(run -p 127.0.0.1::6379 "$RD" --protected-mode yes)
if wait_log "$c" 'Ready to accept connections' 1; then
  expect "options given win over the defaults ('-' prepends redis-server)" "DENIED" "$(resp "$(hostport "$c" 6379)" PING)"
else
  bad "redis --protected-mode yes did not become ready"
fi
printf 'maxmemory 2mb\n' > "$tmp/redis.conf"
c=$(create -p 127.0.0.1::6379 "$RD" /usr/local/etc/redis/redis.conf --maxmemory-policy allkeys-lru)
"$DOCKER" cp "$tmp/redis.conf" "$c:/usr/local/etc/redis/redis.conf"
"$DOCKER" start "$c" > /dev/null
if wait_log "$c" 'Ready to accept connections' 1; then
  hp=$(hostport "$c" 6379)
  out=$(resp "$hp" "CONFIG GET maxmemory" "CONFIG GET maxmemory-policy")
  expect "config file argument read" "2097152" "$out"
  expect "options after the config file" "allkeys-lru" "$out"
else
  bad "redis with a config file did not become ready"
fi

echo "== registry ($RG)"
c=$(run -p 127.0.0.1::5000 "$RG")
wait_v2 "$c" 200
expect "default config: no auth, /v2/ answers 200" "200" "$code"
expect "a 'registry' program like the official image's" "2.8" "$("$DOCKER" run --rm --label "berth.session=$SESSION" "$RG" registry --version 2>&1)"

htpasswd -Bbn checker pa55-check > "$tmp/htpasswd"
mkdir -p "$tmp/auth"
cp "$tmp/htpasswd" "$tmp/auth/htpasswd"
c=$(create -p 127.0.0.1::5000 -e REGISTRY_AUTH=htpasswd -e REGISTRY_AUTH_HTPASSWD_REALM=berth-check \
  -e REGISTRY_AUTH_HTPASSWD_PATH=/auth/htpasswd "$RG")
tar -C "$tmp" -c auth | "$DOCKER" cp - "$c:/"
"$DOCKER" start "$c" > /dev/null
wait_v2 "$c" 401
expect "htpasswd from env: anonymous /v2/ is 401" "401" "$code"
expect "htpasswd from env: basic auth /v2/ is 200" "200" \
  "$(curl -s -o /dev/null -w '%{http_code}' -u checker:pa55-check "http://$hp/v2/")"
expect "htpasswd from env: wrong password is 401" "401" \
  "$(curl -s -o /dev/null -w '%{http_code}' -u checker:wrong "http://$hp/v2/")"
ref="localhost:${hp#*:}/berth-check/busybox:1.36"
export DOCKER_CONFIG=$tmp/docker-config
"$DOCKER" tag "$BB" "$ref"
expect "push without login refused" "no basic auth credentials" "$("$DOCKER" push "$ref" 2>&1)"
expect "docker login" "Login Succeeded" "$(printf 'pa55-check' | "$DOCKER" login -u checker --password-stdin "localhost:${hp#*:}" 2>&1)"
expect "docker push" "digest: sha256:" "$("$DOCKER" push "$ref" 2>&1)"
"$DOCKER" rmi "$ref" > /dev/null
expect "docker pull" "Downloaded newer image" "$("$DOCKER" pull "$ref" 2>&1)"
expect "the pulled image runs" "pulled ok" "$("$DOCKER" run --rm --label "berth.session=$SESSION" "$ref" echo pulled ok 2>&1)"
"$DOCKER" logout "localhost:${hp#*:}" > /dev/null 2>&1
unset DOCKER_CONFIG

echo "== busybox ($BB)"
expect "runs a shell command" "hello" "$("$DOCKER" run --rm --label "berth.session=$SESSION" "$BB" echo hello 2>&1)"
expect "default command is sh" "from stdin" "$(echo 'echo from stdin' | "$DOCKER" run --rm -i --label "berth.session=$SESSION" "$BB" 2>&1)"
out=$("$DOCKER" run --rm --label "berth.session=$SESSION" "$BB" sh -c 'id nobody; stat -c "tmp %a" /tmp; ls /bin/httpd' 2>&1)
expect "user nobody exists" "uid=65534(nobody)" "$out"
expect "/tmp is 1777" "tmp 1777" "$out"
expect "applets installed" "/bin/httpd" "$out"
# The applets a readiness check or client command reaches for, as the
# official image has them: wget -T (Debian's busybox 1.35 crashes on it,
# the fixture wraps it), nc -z/-v, ping.
out=$("$DOCKER" run --rm --label "berth.session=$SESSION" "$BB" sh -c '
httpd -p 8080 -h /etc
(sleep 10 | nc -l -p 8081 > /dev/null) &
sleep 0.3
echo "host=$(hostname)"
echo "wget -T: $(wget -T 5 -q -O - http://127.0.0.1:8080/hostname) rc=$?"
echo "wget -qT5 -O-: $(wget -qT5 -O- http://127.0.0.1:8080/hostname) rc=$?"
echo "wget --timeout: $(wget --timeout=5 -q -O - http://127.0.0.1:8080/hostname) rc=$?"
start=$(date +%s)
wget -T 1 -q -O - http://127.0.0.1:8081/ 2>&1
echo "silent server rc=$? after $(($(date +%s) - start)) s"
nc -z 127.0.0.1 8080; echo "nc -z open rc=$?"
nc -z -w 1 127.0.0.1 8082 2> /dev/null; echo "nc -z closed rc=$?"
nc -zv 127.0.0.1 8080 2>&1
printf "GET /hostname HTTP/1.0\r\n\r\n" | nc 127.0.0.1 8080 | head -n 1
ping -c 1 -W 2 127.0.0.1 | grep -o "1 packets received"
' 2>&1)
host=$(printf '%s\n' "$out" | sed -n 's/^host=//p')
expect "wget -T 5 fetches" "wget -T: $host rc=0" "$out"
expect "wget -qT5 -O- fetches" "wget -qT5 -O-: $host rc=0" "$out"
expect "wget --timeout=5 fetches" "wget --timeout: $host rc=0" "$out"
expect "wget -T 1 on a silent server times out" "download timed out" "$out"
if [[ "$out" =~ "silent server rc=1 after "([0-9]+)" s" ]] && [ "${BASH_REMATCH[1]}" -le 3 ]; then
  ok "wget -T 1 gives up within seconds, exit 1"
else
  bad "wget -T 1 on a silent server: want exit 1 within 3 s, got '$out'"
fi
expect "nc -z on an open port" "nc -z open rc=0" "$out"
expect "nc -z on a closed port fails" "nc -z closed rc=1" "$out"
expect "nc -zv says open" "127.0.0.1 (127.0.0.1:8080) open" "$out"
expect "nc pipes a request" "HTTP/1.1 200 OK" "$out"
expect "ping" "1 packets received" "$out"

# greet HOSTPORT [BYTES]: what a server sends first on a new connection
# (handshake, banner), as text, within 3 s.
greet() {
  local hp=$1
  exec 7<>"/dev/tcp/${hp%:*}/${hp#*:}" || return 1
  [ -n "${2:-}" ] && printf '%b' "$2" >&7
  timeout 3 cat <&7 | tr -c '[:print:]\n' '.'
  exec 7>&-
}

# The modules' servers boot in seconds (rabbitmq ~10 s, mariadb's init
# ~7 s): start them all first, so their boots overlap the checks.
mq_c=$(run -p 127.0.0.1::5672 -e RABBITMQ_DEFAULT_USER=checker -e RABBITMQ_DEFAULT_PASS=pw-check -e RABBITMQ_DEFAULT_VHOST=shop "$MQ")
mq_m=$(run -p 127.0.0.1::5672 -p 127.0.0.1::15672 "$MQM")
md_none=$(run "$MD")
md_rand=$(run -e MARIADB_RANDOM_ROOT_PASSWORD=1 -e MARIADB_INITDB_SKIP_TZINFO=1 "$MD" --datadir=/var/lib/mysql-other)
nt_default=$(run -p 127.0.0.1::4222 -p 127.0.0.1::8222 "$NT")
nt_js=$(run "$NT" -js -m 8222)
mc=$(run -p 127.0.0.1::11211 "$MC" -m 8)

echo "== mariadb ($MD)"
mkdir -p "$tmp/mariadb-init"
cat > "$tmp/mariadb-init/01-schema.sql" <<'EOF'
CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(32));
INSERT INTO items VALUES (1, 'one'), (2, 'two');
EOF
cat > "$tmp/mariadb-init/02-more.sh" <<'EOF'
MYSQL_PWD="$MARIADB_ROOT_PASSWORD" mariadb -uroot "$MYSQL_DATABASE" -e "INSERT INTO items VALUES (3, 'from sh')"
EOF
printf "INSERT INTO items VALUES (4, 'from gz');\n" | gzip > "$tmp/mariadb-init/03-gz.sql.gz"
c=$(create -p 127.0.0.1::3306 -e MARIADB_ROOT_PASSWORD=root-check -e MYSQL_DATABASE=shop -e MYSQL_USER=app \
  -e MYSQL_PASSWORD=pw-check "$MD")
"$DOCKER" cp "$tmp/mariadb-init/." "$c:/docker-entrypoint-initdb.d/"
"$DOCKER" start "$c" > /dev/null
if wait_log "$c" 'ready for connections' 2; then
  ok "ready line logged twice (init server, then the real one)"
  mq() { "$DOCKER" exec -e MYSQL_PWD="$2" "$c" mariadb -h127.0.0.1 --protocol=tcp -u"$1" -N -e "$3" shop 2>&1; }
  expect "init .sql, .sh and .sql.gz ran in order, as MYSQL_USER" "1,2,3,4" "$(mq app pw-check "SELECT GROUP_CONCAT(id ORDER BY id) FROM items")"
  expect "MYSQL_USER has MYSQL_DATABASE only" "denied" "$(mq app pw-check "CREATE DATABASE other")"
  expect "root from other hosts with MARIADB_ROOT_PASSWORD" "root@%" "$(mq root root-check "SELECT CURRENT_USER()")"
  expect "wrong password refused over TCP" "Access denied" "$(mq app wrong "SELECT 1")"
  expect "handshake on the mapped port" "MariaDB" "$(greet "$(hostport "$c" 3306)")"
  expect "server runs as mysql" "mysql" "$("$DOCKER" exec "$c" stat -c %U /proc/1)"
  check_restart mariadb "$c" 'ready for connections' 4 mq app pw-check "SELECT COUNT(*) FROM items"
else
  bad "mariadb did not become ready"
fi
c=$md_none
"$DOCKER" wait "$c" > /dev/null
expect "no root password option: exits with the official error" "password option is not specified" "$("$DOCKER" logs "$c" 2>&1)"
expect "no root password option: exit code 1" "1" "$("$DOCKER" inspect -f '{{.State.ExitCode}}' "$c")"
c=$md_rand
if wait_log "$c" 'ready for connections' 2; then
  expect "MARIADB_RANDOM_ROOT_PASSWORD: generated and logged" "GENERATED ROOT PASSWORD" "$("$DOCKER" logs "$c" 2>&1)"
  expect "datadir from the arguments ('-' prepends mariadbd)" "mysql" "$("$DOCKER" exec "$c" ls /var/lib/mysql-other)"
else
  bad "mariadb with --datadir did not become ready"
fi
expect "other first argument: runs as a plain command" "plain command" "$("$DOCKER" run --rm --label "berth.session=$SESSION" "$MD" echo plain command 2>&1)"
expect "mariadbd --version" "10.11" "$("$DOCKER" run --rm --label "berth.session=$SESSION" "$MD" mariadbd --version 2>&1)"

echo "== rabbitmq ($MQ, $MQM)"
c=$mq_c
m=$mq_m
if wait_log "$c" 'Server startup complete' 1; then
  ok "log on the console, startup complete"
  out=$("$DOCKER" exec "$c" rabbitmqctl list_users 2>&1)
  expect "RABBITMQ_DEFAULT_USER made" "checker" "$out"
  refute "no guest beside RABBITMQ_DEFAULT_USER" "guest" "$out"
  expect "RABBITMQ_DEFAULT_VHOST made" "shop" "$("$DOCKER" exec "$c" rabbitmqctl list_vhosts 2>&1)"
  expect "AMQP 0-9-1 Connection.Start on the mapped port" "PLAIN" "$(greet "$(hostport "$c" 5672)" 'AMQP\0\0\x09\x01')"
  expect "broker runs as rabbitmq" "rabbitmq" "$("$DOCKER" exec "$c" stat -c %U /proc/1)"
else
  bad "rabbitmq did not become ready"
fi
if wait_log "$m" 'Server startup complete' 1; then
  hp=$(hostport "$m" 15672)
  expect "management image: API as guest from outside" '"name":"guest"' "$(curl -s -u guest:guest "http://$hp/api/whoami")"
  expect "management image: wrong password is 401" "401" "$(curl -s -o /dev/null -w '%{http_code}' -u guest:wrong "http://$hp/api/whoami")"
else
  bad "rabbitmq management did not become ready"
fi

echo "== nats ($NT)"
c=$nt_default
if wait_log "$c" 'Server is ready' 1; then
  expect "INFO on the client port" "INFO {" "$(greet "$(hostport "$c" 4222)")"
  expect "monitoring on 8222 by default" '"status":"ok"' "$(curl -s "http://$(hostport "$c" 8222)/healthz")"
  expect "cluster port 6222 by default" "route connections on 0.0.0.0:6222" "$("$DOCKER" logs "$c" 2>&1)"
else
  bad "nats did not become ready"
fi
c=$nt_js
if wait_log "$c" 'Server is ready' 1; then
  expect "flags as the command ('-' prepends nats-server)" "Starting JetStream" "$("$DOCKER" logs "$c" 2>&1)"
else
  bad "nats -js did not become ready"
fi
expect "nats-server --version" "v2.9" "$("$DOCKER" run --rm --label "berth.session=$SESSION" "$NT" nats-server --version 2>&1)"

echo "== memcached ($MC)"
c=$mc
out=""
for _ in $(seq 1 20); do
  out=$(resp "$(hostport "$c" 11211)" version "stats" 2>/dev/null)
  [[ "$out" == *VERSION* ]] && break
  sleep 0.25
done
expect "version on the mapped port" "VERSION 1.6" "$out"
expect "flags as the command ('-' prepends memcached)" "limit_maxbytes 8388608" "$out"
expect "runs as memcache" "memcache" "$("$DOCKER" exec "$c" stat -c %U /proc/1)"

echo "fixture checks: $failures failed ($(elapsed "$t0") s)"
[ "$failures" = 0 ]
