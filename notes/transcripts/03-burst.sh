# Chapter 3: a burst of 300 connections at once. Every connection gets its banner (the first
# line, the same on every run); how they split over the workers changes from run to run, so the
# transcript hides the split.
source "$REPO/notes/transcripts/lib.sh"
cd "$REPO/stage3_round_robin"
mask '^by worker: .*$' 'by worker: (a different split on every run)'

serve stage3_round_robin -p 0 -w 3
wait_log '\] started$' 3
say '$ ./server -p 0 -w 3'
grep '^listening on ' "$LOG"

part burst
cmd '../notes/scripts/burst.py $PORT'
