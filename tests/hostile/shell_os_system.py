"""Start a shell through os.system, which would create the sentinel file."""

import os
import sys

path = sys.argv[1] if len(sys.argv) > 1 and os.path.isabs(sys.argv[1]) else "/tmp/promptgen-hostile/shell"
try:
    os.system(f"touch '{path}'")
except OSError as error:
    print(f"os.system failed: {error}")
