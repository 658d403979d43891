# Sourced by every scenario of make trace: notes/transcripts/lib.sh (servers in their own process
# group, killed on exit; waits with deadlines), and a wait on the trace itself.
source "$REPO/notes/transcripts/lib.sh"

# traced EVENT COUNT: the trace holds at least COUNT events named EVENT.
traced() { (($(grep -c "\"ev\":\"$1\"" "$TRACE" || true) >= $2)); }
