"""Write to a file outside the working directory through a symbolic link made inside it."""

import os
import sys

path = sys.argv[1] if len(sys.argv) > 1 and os.path.isabs(sys.argv[1]) else "/tmp/promptgen-hostile/sentinel"
try:
    os.symlink(path, "link")
    with open("link", "w", encoding="utf-8") as handle:
        handle.write("escaped")
    print("written through the link")
except OSError as error:
    print(f"write failed: {error}")
