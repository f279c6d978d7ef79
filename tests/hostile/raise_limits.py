"""Lift the CPU time limit, then print it."""

import resource

try:
    resource.setrlimit(resource.RLIMIT_CPU, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
except (OSError, ValueError) as error:
    print(f"setrlimit failed: {error}")
print("cpu limit", resource.getrlimit(resource.RLIMIT_CPU)[1])
