"""Connect to a TCP listener on 127.0.0.1 and send a message."""

import socket
import sys

port = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 9
try:
    # A numeric address skips getaddrinfo, so the connect call itself is what gets tried.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as connection:
        connection.settimeout(2)
        connection.connect(("127.0.0.1", port))
        connection.sendall(b"escaped")
    print("connected")
except OSError as error:
    print(f"connect failed: {error}")
