"""Reach for the audit hook's state through gc, and add a hook of its own."""

import gc
import sys

try:
    gc.get_objects()
    print("gc.get_objects succeeded")
except PermissionError as error:
    print(f"gc.get_objects failed: {error}")

# CPython drops the new hook silently when an existing hook rejects it, so check whether it runs.
calls = []
sys.addaudithook(lambda event, args: calls.append(event))
sys.audit("promptgen.probe")
print("addaudithook succeeded" if calls else "addaudithook failed")
