"""Import subprocess and socket under computed names, then use them."""

import importlib
import os
import sys

path = sys.argv[1] if len(sys.argv) > 1 and os.path.isabs(sys.argv[1]) else "/tmp/promptgen-hostile/shell"
port = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2].isdigit() else 9
runner = importlib.import_module("sub" + "process")
network = __import__("".join(reversed("tekcos")))
try:
    runner.run(["/bin/sh", "-c", f"touch '{path}'"], check=False)
except OSError as error:
    print(f"run failed: {error}")
try:
    connection = network.socket(network.AF_INET, network.SOCK_STREAM)
    connection.settimeout(2)
    connection.connect(("127.0.0.1", port))
    connection.sendall(b"escaped")
except OSError as error:
    print(f"connect failed: {error}")
