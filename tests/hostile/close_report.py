"""Close every inherited descriptor, so that blocked actions go unreported, then start a shell."""

import os
import sys

path = sys.argv[1] if len(sys.argv) > 1 and os.path.isabs(sys.argv[1]) else "/tmp/promptgen-hostile/shell"
os.closerange(3, 4096)
try:
    os.system(f"touch '{path}'")
except OSError as error:
    print(f"os.system failed: {error}")
