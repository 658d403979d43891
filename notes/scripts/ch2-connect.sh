#!/usr/bin/env bash
# ch2-connect.sh PORT: connect once to 127.0.0.1:PORT, print what the server sends, then how long
# the exchange took, in tenths of a second rounded down ("took 0.2 s"). It sends nothing (nc -N
# with its input closed), so the echo server closes after the banner; nc gives up after 5 s.
#
# Chapter 2, a frozen worker: kill -STOP W0, then run it twice and compare the times.
#   notes/scripts/ch2-connect.sh PORT
set -euo pipefail
port="${1:?usage: ch2-connect.sh PORT}"
start=$EPOCHREALTIME
nc -N -w 5 127.0.0.1 "$port" </dev/null
end=$EPOCHREALTIME
# EPOCHREALTIME is seconds and 6 digits of microseconds; drop the separator to get microseconds.
us=$((10#${end//[.,]/} - 10#${start//[.,]/}))
printf 'took %d.%d s\n' $((us / 1000000)) $((us / 100000 % 10))
