"""Replace this process with a shell through os.execv, which would create the sentinel file."""

import os
import sys

path = sys.argv[1] if len(sys.argv) > 1 and os.path.isabs(sys.argv[1]) else "/tmp/promptgen-hostile/shell"
try:
    os.execv("/bin/sh", ["sh", "-c", f"touch '{path}'"])
except OSError as error:
    print(f"os.execv failed: {error}")
