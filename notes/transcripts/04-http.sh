# Chapter 4's class demo: curl and nc against a two-worker server. Dates (Date, Last-Modified)
# are shown as DATE: they change with the clock and with the checkout's file times.
source "$REPO/notes/transcripts/lib.sh"
cd "$REPO/stage4_http"
mask '(Date|Last-Modified): [A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT' '\1: DATE'
mask 'curl/[0-9.]+' 'curl/VERSION'

serve stage4_http -p 0 -w 2 -r www
wait_log '\] started$' 2
name_workers
say '$ ./server -p 0 -w 2 -r www'
grep '^listening on ' "$LOG"
grep '^\[parent ' "$LOG"
grep '\] started$' "$LOG" | sort   # the workers start in any order

part curl
cmd "curl -sv -o /dev/null http://127.0.0.1:\$PORT/ 2>&1 | grep '^[<>]'"
cmd 'curl -sI http://127.0.0.1:$PORT/style.css'

part keepalive
cmd "curl -s -o /dev/null -o /dev/null -w '%{url_effective} %{http_code} connects=%{num_connects} X-Worker: %header{x-worker}\n' http://127.0.0.1:\$PORT/ http://127.0.0.1:\$PORT/style.css"

part pipelining
cmd "printf 'HEAD /style.css HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\nHEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' | nc -N 127.0.0.1 \$PORT | grep -E '^(HTTP|Content-Length|Connection)'"

part traversal
cmd "curl -s -o /dev/null -w '%{http_code}\n' --path-as-is http://127.0.0.1:\$PORT/../../etc/passwd"
cmd "curl -s -o /dev/null -w '%{http_code}\n' http://127.0.0.1:\$PORT/%2e%2e/%2e%2e/etc/passwd"

part refusals
cmd "curl -si -X DELETE http://127.0.0.1:\$PORT/index.html | grep -E '^(HTTP|Allow|Connection)'"
cmd "printf 'GET / HTTP/2.0\r\nHost: x\r\n\r\n' | nc -N 127.0.0.1 \$PORT | grep -E '^(HTTP|Connection)'"

part hostile
cmd "curl -si http://127.0.0.1:\$PORT/\$(head -c 9000 /dev/zero | tr '\\0' a) | head -1"
cmd "curl -si -H \"X-Big: \$(head -c 17000 /dev/zero | tr '\\0' b)\" http://127.0.0.1:\$PORT/ | head -1"
cmd "curl -si -H 'Content-Length: 2000000' http://127.0.0.1:\$PORT/ | head -1"
cmd "printf 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' | nc -N 127.0.0.1 \$PORT | head -1"
cmd "printf '\\026\\003\\001\\002\\000' | nc -N 127.0.0.1 \$PORT | head -1"

part redirect
cmd "curl -si http://127.0.0.1:\$PORT/chapters | grep -E '^(HTTP|Location)'"
cmd "curl -s -o /dev/null -w '%{http_code}\n' http://127.0.0.1:\$PORT/chapters/"

part conditional
cmd "curl -s -o /dev/null -w '%{http_code}\n' -z www/index.html http://127.0.0.1:\$PORT/"
cmd "curl -s -o /dev/null -w '%{http_code}\n' -z 'Sat, 01 Jan 2000 00:00:00 GMT' http://127.0.0.1:\$PORT/"
