# The course map: the words of prose in each lecture and deep dive (tools/lecture_words.py).
source "$REPO/notes/transcripts/lib.sh"
cd "$REPO"
cmd 'python3 tools/lecture_words.py'
