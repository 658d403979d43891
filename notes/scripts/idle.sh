#!/usr/bin/env bash
# idle.sh [-n COUNT] PORT [SECONDS]: open COUNT connections (default 1, at most 1000) to
# 127.0.0.1:PORT that send nothing, and report when the server has hung up on every one of them
# (it gives up after 120 s, or SECONDS + 5 s).
# Given SECONDS (the server's --timeout, usually), it checks each hang-up against the window the
# time wheel promises, SECONDS to SECONDS + 1 s after the connection was opened (with 1 s more
# for a busy machine), and reports that window instead of milliseconds.
set -u
count=1
while getopts n: opt; do
  case $opt in
    n) count=$OPTARG ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
port=${1:?usage: idle.sh [-n COUNT] PORT [SECONDS]}
timeout=${2:-}
((count >= 1 && count <= 1000)) || { echo "idle.sh: COUNT must be 1..1000" >&2; exit 2; }

# Milliseconds of a monotonic clock (/proc/uptime, in hundredths of a second).
now_ms() { local up _; read -r up _ </proc/uptime; echo $((10#${up/./} * 10)); }

fds=() opened=()
for ((i = 0; i < count; i++)); do
  opened+=("$(now_ms)")
  exec {fd}<>"/dev/tcp/127.0.0.1/$port" || exit 1
  fds+=("$fd")
done

deadline=$(($(now_ms) + ${timeout:-115} * 1000 + 5000))
shortest='' longest=0
for i in "${!fds[@]}"; do
  while :; do  # read until end of file (or an error): the server has hung up
    read -r -t 1 -u "${fds[i]}" _; rc=$?
    ((rc != 0 && rc <= 128)) && break
    if (($(now_ms) > deadline)); then
      echo "still open after $((deadline - opened[0])) ms"
      exit 1
    fi
  done
  ms=$(($(now_ms) - opened[i]))
  fd=${fds[i]}
  exec {fd}<&-
  ((ms > longest)) && longest=$ms
  [[ -z $shortest ]] || ((ms < shortest)) && shortest=$ms
done

if ((count == 1)); then what="the server hung up after"
else what="the server hung up on all $count, each after"; fi
if [[ -z $timeout ]]; then
  ((count == 1)) && echo "$what $longest ms" || echo "$what $shortest to $longest ms"
elif ((shortest >= timeout * 1000 - 10 && longest <= timeout * 1000 + 2000)); then
  echo "$what $timeout-$((timeout + 1)) s"
else
  echo "$what $shortest to $longest ms, not $timeout-$((timeout + 1)) s"
  exit 1
fi
