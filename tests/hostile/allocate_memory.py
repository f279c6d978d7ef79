"""Allocate memory without bound."""

blocks = []
while True:
    blocks.append(bytearray(16 * 1024 * 1024))
