"""Replace the functions a path check could rely on, then write outside the working directory."""

import builtins
import os
import os.path
import sys

path = sys.argv[1] if len(sys.argv) > 1 and os.path.isabs(sys.argv[1]) else "/tmp/promptgen-hostile/written"
inside = os.path.join(os.getcwd(), "harmless")
builtins.isinstance = lambda value, kinds: True
os.path.realpath = lambda value, **kwargs: inside
os.path.abspath = lambda value: inside
os.lstat = lambda value, **kwargs: os.stat(inside)
try:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("escaped")
    print("written")
except OSError as error:
    print(f"write failed: {error}")
