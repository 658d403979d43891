# Chapter 4: a file that shrinks while it is being sent. The worker closes that connection
# (sendfile returns 0 before the promised end) and serves on. $DIR is a temporary directory;
# N, the bytes curl still expected, depends on how far the download got, so it is masked.
source "$REPO/notes/transcripts/lib.sh"
cd "$REPO/stage4_http"
export TMPDIR="$TRANSCRIPT_DIR"   # mktemp -d below makes its directory in the runner's scratch
mask 'with \d+ bytes remaining' 'with N bytes remaining'

cmd 'DIR=$(mktemp -d)'
mask "$(python3 -c 'import re, sys; print(re.escape(sys.argv[1]))' "$DIR")" '$DIR'
cmd '../notes/scripts/bigfile.sh $DIR'
serve stage4_http -p 0 -w 1 -r "$DIR"
wait_log '\] started$'
name_workers
say '$ ./server -p 0 -w 1 -r $DIR'
grep '^listening on ' "$LOG"

part fetch
cmd 'curl -sS --limit-rate 10M -o $DIR/copy http://127.0.0.1:$PORT/big.bin & until [ -s $DIR/copy ] || ! kill -0 $! 2>/dev/null; do sleep 0.1; done; truncate -s 1000000 $DIR/big.bin; wait $!'
wait_log 'file shrank'
cmd "curl -s -o /dev/null -w '%{http_code} %{size_download}\n' http://127.0.0.1:\$PORT/big.bin"
cmd 'rm -r $DIR'

part log
grep '^\[worker ' "$LOG" | grep -v '\] started$'
