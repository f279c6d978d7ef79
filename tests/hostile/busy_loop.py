"""Loop forever."""

while True:
    pass
