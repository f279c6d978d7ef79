"""Look up 'localhost' through the resolver."""

import socket

try:
    print("resolved", socket.getaddrinfo("localhost", 80))
except OSError as error:
    print(f"lookup failed: {error}")
