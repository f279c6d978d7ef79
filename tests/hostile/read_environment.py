"""Look for OPENAI_API_KEY in this process's environment and in the parent's."""

import os

print("own:", os.environ.get("OPENAI_API_KEY", "absent"))
try:
    with open(f"/proc/{os.getppid()}/environ", "rb") as handle:
        print("parent:", handle.read().decode("utf-8", "replace"))
except OSError as error:
    print(f"parent environment failed: {error}")
