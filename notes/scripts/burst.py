#!/usr/bin/env python3
"""A burst of connections to a chapter 2 or 3 server: all open at once, then count the banners.

    notes/scripts/burst.py PORT [N]

Opens N connections (default 300, at most 500) to 127.0.0.1:PORT as fast as it can, keeping
each one open, then reads the banner `hello from worker I pid P` of every one and prints how
many came and how many each worker sent. Gives up after 10 s in all (exit 1 if a banner is
missing). Loopback only; every socket is closed on exit.
"""

import collections
import socket
import sys
import time

DEADLINE = 10.0  # seconds for the whole burst


def main(argv):
    if len(argv) not in (2, 3) or not all(arg.isdigit() for arg in argv[1:]):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    port, count = int(argv[1]), int(argv[2]) if len(argv) == 3 else 300
    if not 1 <= count <= 500:
        print("burst.py: N must be 1..500", file=sys.stderr)
        return 2
    give_up_at = time.monotonic() + DEADLINE
    socks, by_worker = [], collections.Counter()
    try:
        for _ in range(count):
            left = max(0.01, give_up_at - time.monotonic())
            socks.append(socket.create_connection(("127.0.0.1", port), timeout=left))
        for s in socks:
            s.settimeout(max(0.01, give_up_at - time.monotonic()))
            line = s.makefile("rb").readline().decode(errors="replace").split()
            if line[:3] == ["hello", "from", "worker"] and line[3:4] and line[3].isdigit():
                by_worker[int(line[3])] += 1
    except OSError as error:
        print(f"burst.py: {error}", file=sys.stderr)
    finally:
        for s in socks:
            s.close()
    banners = sum(by_worker.values())
    print(f"{len(socks)} connections, {banners} banners")
    print("by worker: " + (", ".join(f"{w}: {n}" for w, n in sorted(by_worker.items())) or "none"))
    return 0 if banners == count else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
