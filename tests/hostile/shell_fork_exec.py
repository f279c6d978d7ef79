"""Call _posixsubprocess.fork_exec directly, skipping subprocess.Popen and its audit event."""

import _posixsubprocess
import os
import sys

path = sys.argv[1] if len(sys.argv) > 1 and os.path.isabs(sys.argv[1]) else "/tmp/promptgen-hostile/shell"
try:
    # The argument list is that of CPython 3.11. The sandbox's guard rejects any arguments.
    _posixsubprocess.fork_exec(
        [b"/bin/sh", b"-c", f"touch '{path}'".encode()], [b"/bin/sh"], True, (), None, None,
        -1, -1, -1, -1, -1, -1, -1, -1, False, False, None, None, None, -1, None, False,
    )
except (OSError, TypeError) as error:
    print(f"fork_exec failed: {error}")
