#!/usr/bin/env bash
# try-lb.sh [PORT] — the lab by hand: three servers of this copy on 127.0.0.2, .3 and .4, and
# nginx in front of them on 127.0.0.1:PORT (default 8080), configured by lb.conf.in. It prints
# each server's pid (its process group: the server and its workers) and where the logs are.
# Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")"
make -s
port="${1:-8080}"
dir="$(mktemp -d /tmp/try-lb-XXXXXX)"
groups=()

stop() {
    for group in "${groups[@]}"; do kill -KILL -- "-$group" 2>/dev/null || true; done
    echo "try-lb: stopped; the logs stay in $dir" >&2
}
trap stop EXIT
trap 'exit 130' INT TERM

values=(-e "s|@DIR@|$dir|g" -e "s|@LISTEN@|127.0.0.1:$port|g")
for i in 1 2 3; do
    # setsid: a process group of its own, so that kill -KILL -PID ends the server and its workers.
    setsid ./server --host "127.0.0.$((i + 1))" --port 0 --workers 2 \
        >"$dir/server$i.out" 2>"$dir/server$i.log" &
    groups+=("$!")
    for _ in $(seq 50); do grep -q '^listening on' "$dir/server$i.out" && break; sleep 0.1; done
    address="$(sed -n 's/^listening on //p' "$dir/server$i.out")"
    if [[ -z "$address" ]]; then
        echo "try-lb: server $i did not start:" >&2
        cat "$dir/server$i.log" >&2
        exit 1
    fi
    values+=(-e "s|@BACKEND$i@|$address|g")
    echo "server $i on $address, pid $! (kill -KILL -$! kills it, kill -STOP -$! freezes it)"
done
sed "${values[@]}" lb.conf.in >"$dir/lb.conf"
nginx="$(command -v nginx || echo /usr/sbin/nginx)"
setsid "$nginx" -p "$dir/" -c "$dir/lb.conf" -e "$dir/error.log" &
groups+=("$!")
echo "nginx on 127.0.0.1:$port, pid $!; watch it: tail -f $dir/access.log $dir/error.log"
echo "try: for i in 1 2 3 4 5 6; do curl -s -o /dev/null -w '%{http_code} ' 127.0.0.1:$port/; done"
wait "$!" || echo "try-lb: nginx stopped; its error log: $dir/error.log" >&2
