#!/bin/bash
# Runs as an init script: the environment names the database, and the root
# password reaches the client through MYSQL_PWD, not its command line.
set -euo pipefail
MYSQL_PWD="$MYSQL_ROOT_PASSWORD" mysql -uroot "$MYSQL_DATABASE" -e "INSERT INTO orders (item, qty) VALUES ('from-shell', 2);"
