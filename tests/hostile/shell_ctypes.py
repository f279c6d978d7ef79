"""Call libc's system() through ctypes, which no process-level audit event covers."""

import ctypes
import os
import sys

path = sys.argv[1] if len(sys.argv) > 1 and os.path.isabs(sys.argv[1]) else "/tmp/promptgen-hostile/shell"
command = f"touch '{path}'".encode()
routes = {
    "libc by name": lambda: ctypes.CDLL("libc.so.6").system(command),
    "main program": lambda: ctypes.CDLL(None).system(command),
    "pythonapi": lambda: ctypes.pythonapi.system(command),
}
for name, route in routes.items():
    try:
        print(name, "returned", route())
    except (OSError, AttributeError) as error:
        print(f"{name} failed: {error}")
