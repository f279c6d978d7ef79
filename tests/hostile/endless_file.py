"""Write an output file without end."""

chunk = b"x" * (1024 * 1024)
with open("endless.bin", "wb") as handle:
    while True:
        handle.write(chunk)
