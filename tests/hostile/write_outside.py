"""Create a file outside the working directory."""

import os
import sys

path = sys.argv[1] if len(sys.argv) > 1 and os.path.isabs(sys.argv[1]) else "/tmp/promptgen-hostile/written"
try:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("escaped")
    print("written")
except OSError as error:
    print(f"write failed: {error}")
