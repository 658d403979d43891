# Chapter 4: one keep-alive connection carrying three pipelined requests (sent back to back,
# before any answer is read): index.html, a missing file (404), and a 3 MiB file that goes out in
# several turns of at most 1 MiB each; the last request says "Connection: close".
source "$REPO/tools/trace_scenarios/common.bash"
root=$(mktemp -d)
trap 'rm -rf "$root"; _cleanup' EXIT
cp "$REPO/stage4_http/www/index.html" "$root/"
"$REPO/notes/scripts/bigfile.sh" "$root" 3 >/dev/null
serve_pool 1 stage4_http -p 0 -w 1 -r "$root" --trace "$TRACE"
request() { printf 'GET %s HTTP/1.1\r\nHost: x\r\n%b\r\n' "$1" "${2:+$2\r\n}"; }
{ request /index.html; request /missing; request /big.bin 'Connection: close'; } |
    nc -N -w 5 127.0.0.1 "$PORT" >/dev/null
wait_for 5 traced close 1
kill -TERM "$P"
wait_exit
