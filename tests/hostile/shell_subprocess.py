"""Start a shell through subprocess, which would create the sentinel file."""

import os
import subprocess
import sys

path = sys.argv[1] if len(sys.argv) > 1 and os.path.isabs(sys.argv[1]) else "/tmp/promptgen-hostile/shell"
try:
    subprocess.run(["/bin/sh", "-c", f"touch '{path}'"], check=False)
except OSError as error:
    print(f"subprocess failed: {error}")
