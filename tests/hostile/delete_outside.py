"""Delete, then move into the working directory, a file outside it."""

import os
import sys

path = sys.argv[1] if len(sys.argv) > 1 and os.path.isabs(sys.argv[1]) else "/tmp/promptgen-hostile/sentinel"
for name, action in (("remove", lambda: os.remove(path)), ("rename", lambda: os.rename(path, "stolen"))):
    try:
        action()
        print(f"{name} succeeded")
    except OSError as error:
        print(f"{name} failed: {error}")
