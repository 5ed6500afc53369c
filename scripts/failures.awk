# failures.awk: what each failing test printed, from a `go test -v` log.
#
# With -v, parallel tests' output is interleaved; go test marks each switch
# with "=== RUN/CONT/NAME/PAUSE <test>". This attributes every line to its
# top-level test and prints, for each test that failed, its own lines in
# order. Containers' log lines (the "stdout | ..." / "stderr | ..." lines of
# a failing test's diagnostics) are kept to the last few per test so the
# assertion text, not a registry's access log, is what a reader sees.
# Output for one test is capped; the full log stays in the log directory.
#
#   awk -f scripts/failures.awk test.log
function top(name) { sub(/\/.*/, "", name); return name }
/^=== (RUN|CONT|NAME|PAUSE) / { cur = top($3); next }
/^ *--- FAIL: / { n = top($3); if (!(n in failed)) { failed[n] = 1; order[++nf] = n } }
/^(ok|FAIL|PASS)([ \t]|$)/ { cur = ""; next }
/^panic: / { panics = panics $0 "\n"; cur = "" }
cur != "" {
  if ($0 ~ /^ +(stdout|stderr) \| /) {
    nlog[cur]++
    logs[cur, nlog[cur] % 8] = $0
    next
  }
  nl[cur]++
  if (nl[cur] <= 120) lines[cur, nl[cur]] = $0
}
END {
  for (i = 1; i <= nf; i++) {
    n = order[i]
    printf "### %s\n", n
    for (j = 1; j <= nl[n] && j <= 120; j++) {
      l = lines[n, j]
      if (l ~ /^ *--- (PASS|SKIP): /) continue
      print l
    }
    if (nl[n] > 120) printf "    ... %d more lines in the log\n", nl[n] - 120
    if (nlog[n] > 0) {
      printf "    (last container log lines of %d)\n", nlog[n]
      for (j = (nlog[n] > 8 ? nlog[n] - 7 : 1); j <= nlog[n]; j++) print substr(logs[n, j % 8], 1, 240)
    }
  }
  if (panics != "") printf "### panics\n%s", panics
}
