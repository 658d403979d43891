#!/bin/sh
# bigfile.sh DIR [MIB]: make DIR/big.bin, a file of MIB mebibytes (default 64, at most 1024),
# for chapter 4's truncation demo: serve DIR with `./server -r DIR`, fetch big.bin slowly, and
# shrink it while it is being sent. The file is sparse (it reads as zeros and takes no disk
# space). DIR must exist; use a temporary directory (DIR=$(mktemp -d)) and remove it afterwards
# (rm -r "$DIR"), never the stage's www/.
set -eu
if [ $# -lt 1 ] || [ $# -gt 2 ] || [ ! -d "$1" ]; then
    echo "usage: bigfile.sh DIR [MIB]   (DIR: an existing directory)" >&2
    exit 2
fi
mib=${2:-64}
case $mib in '' | *[!0-9]*) echo "bigfile.sh: MIB must be a number" >&2; exit 2 ;; esac
if [ "$mib" -lt 1 ] || [ "$mib" -gt 1024 ]; then
    echo "bigfile.sh: MIB must be 1..1024" >&2
    exit 2
fi
rm -f "$1/big.bin"
truncate -s "${mib}M" "$1/big.bin"
echo "$1/big.bin: $(stat -c %s "$1/big.bin") bytes"
