#!/usr/bin/env bash
# trickle.sh PORT [TIMEOUT]: the trickle attack of chapter 5, by one client on 127.0.0.1:PORT.
# Sends a valid GET request one byte per second and reports when the server hangs up, or that
# all 27 bytes went through and the connection is still open (after about 27 s at most).
# Given the server's --timeout in seconds, it checks the time against the window the time wheel
# promises (TIMEOUT to TIMEOUT + 1 s, with 1 s more for a busy machine) and reports that
# window instead of milliseconds.
set -u
port=${1:?usage: trickle.sh PORT [TIMEOUT]}
timeout=${2:-}
trap '' PIPE  # a write after the hang-up fails with EPIPE instead of killing the script

# Milliseconds of a monotonic clock (/proc/uptime, in hundredths of a second).
now_ms() { local up _; read -r up _ </proc/uptime; echo $((10#${up/./} * 10)); }

req=$'GET / HTTP/1.1\r\nHost: x\r\n\r\n'
start=$(now_ms)
exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
sent=0 closed=0
while ((sent < ${#req})); do
  printf '%s' "${req:sent:1}" >&3 2>/dev/null || { closed=1; break; }
  ((sent++))
  read -r -t 1 -u 3 _; rc=$?   # 0: a line came (an answer); > 128: a second passed; else closed
  ((rc != 0 && rc <= 128)) && { closed=1; break; }
done
ms=$(($(now_ms) - start))

if ((!closed)); then
  echo "sent all ${#req} bytes in $ms ms; the connection is still open"
elif [[ -z $timeout ]]; then
  echo "sent $sent of ${#req} bytes; the server hung up after $ms ms"
elif ((ms >= timeout * 1000 - 10 && ms <= timeout * 1000 + 2000)); then
  echo "sent a byte a second; the server hung up after $timeout-$((timeout + 1)) s"
else
  echo "sent $sent of ${#req} bytes; the server hung up after $ms ms, not $timeout-$((timeout + 1)) s"
  exit 1
fi
