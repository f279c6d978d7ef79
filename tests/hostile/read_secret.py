"""Read a file outside the working directory and print it."""

import os
import sys

path = sys.argv[1] if len(sys.argv) > 1 and os.path.isabs(sys.argv[1]) else "/etc/shadow"
try:
    with open(path, encoding="utf-8") as handle:
        print(handle.read())
except OSError as error:
    print(f"read failed: {error}")
