"""Start a shell through pty.spawn, which would create the sentinel file."""

import os
import pty
import sys

path = sys.argv[1] if len(sys.argv) > 1 and os.path.isabs(sys.argv[1]) else "/tmp/promptgen-hostile/shell"
try:
    pty.spawn(["/bin/sh", "-c", f"touch '{path}'"])
except OSError as error:
    print(f"pty.spawn failed: {error}")
