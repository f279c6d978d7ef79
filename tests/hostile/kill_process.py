"""Send SIGKILL to a process outside the sandbox."""

import os
import signal
import sys

pid = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else os.getppid()
try:
    os.kill(pid, signal.SIGKILL)
    print("killed")
except OSError as error:
    print(f"kill failed: {error}")
