"""Child side of the promptgen sandbox: confine this interpreter, then run one script as __main__.

promptgen.sandbox starts ``python -I _sandbox_boot.py SETUP_FD SCRIPT [ARG ...]``. The setup
descriptor carries one JSON object (working directory, limits, report descriptor, closing
token). This module applies every protection it can, writes what applied to the report
descriptor, installs the audit hook and only then runs the script. It imports nothing but
the standard library because it runs before anything else in the child.

Report records are tab-separated lines:
``protection NAME``, ``unavailable NAME REASON``, ``ready``, then ``blocked ACTION`` lines
while the script runs, and ``end TOKEN`` from an atexit handler registered before the script.
"""

from __future__ import annotations

import atexit
import json
import os
import pathlib
import resource
import runpy
import stat
import sys
from typing import Any, Callable

# Distinct blocked actions written to the report, so that a script stuck in a loop of
# blocked calls cannot grow the report without bound.
MAX_REPORTED = 100
MAX_DESCRIPTION = 200

# Imported by the bootstrap and patched before the hook is installed. Importing a fresh copy
# (after deleting it from sys.modules) would undo the patch.
FORBIDDEN_IMPORTS = ("_posixsubprocess",)

# Events blocked whatever their arguments: starting programs, signalling other processes,
# raising limits, and the introspection that reaches the hook's own state.
ALWAYS_BLOCKED = frozenset(
    {
        "os.system", "os.exec", "os.spawn", "os.posix_spawn", "os.fork", "os.forkpty",
        "subprocess.Popen", "os.kill", "os.killpg", "signal.pthread_kill",
        "resource.setrlimit", "resource.prlimit", "sys.addaudithook",
        "gc.get_objects", "gc.get_referrers", "gc.get_referents",
        "socket.sethostname", "syslog.openlog", "syslog.syslog",
        "sqlite3.enable_load_extension", "sqlite3.load_extension",
    }
)

# Paths of these exact types are converted the same way by the check and by the real call.
PATH_TYPES = (pathlib.PosixPath, pathlib.PurePosixPath)

WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

Check = Callable[[tuple[Any, ...]], "str | None"]


# ---------------------------------------------------------------- report channel


def make_reporter(report_fd: int) -> Callable[..., None]:
    """Return a function that writes one tab-separated record to the report descriptor."""
    write = os.write

    def report(*fields: str) -> None:
        clean = [field.replace("\t", " ").replace("\n", " ")[:MAX_DESCRIPTION] for field in fields]
        try:
            write(report_fd, ("\t".join(clean) + "\n").encode("utf-8", "replace"))
        except OSError:
            # The script closed or replaced the descriptor. The parent notices the missing closing record.
            pass

    return report


# ---------------------------------------------------------------- resource limits


def apply_limits(limits: dict[str, int]) -> None:
    """Lower the soft and hard limits, keeping any limit that is already below the request."""
    requested = [
        # SIGXCPU at the soft limit, SIGKILL one second later at the hard limit.
        (resource.RLIMIT_CPU, limits["cpu_seconds"], limits["cpu_seconds"] + 1),
        (resource.RLIMIT_AS, limits["memory_bytes"], limits["memory_bytes"]),
        (resource.RLIMIT_FSIZE, limits["file_bytes"], limits["file_bytes"]),
        (resource.RLIMIT_NOFILE, limits["open_files"], limits["open_files"]),
        # Not enforced for uid 0, even without capabilities: the kernel exempts the root user.
        (resource.RLIMIT_NPROC, limits["processes"], limits["processes"]),
        (resource.RLIMIT_CORE, 0, 0),
    ]
    for limit, soft, hard in requested:
        _, current_hard = resource.getrlimit(limit)
        if current_hard != resource.RLIM_INFINITY:
            hard = min(hard, current_hard)
            soft = min(soft, hard)
        resource.setrlimit(limit, (soft, hard))


def join_cgroup(cgroup: str) -> None:
    with open(os.path.join(cgroup, "cgroup.procs"), "w", encoding="ascii") as procs:
        procs.write(str(os.getpid()))


# ---------------------------------------------------------------- Linux namespaces

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_RDONLY = 0x1
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
MNT_DETACH = 0x2
AT_FDCWD = -100
AT_RECURSIVE = 0x8000
MOUNT_ATTR_RDONLY = 0x1
MOUNT_ATTR_NOSUID = 0x2
MOUNT_ATTR_NODEV = 0x4
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
LINUX_CAPABILITY_VERSION_3 = 0x20080522
# Syscall numbers for the calls that older C libraries do not wrap. mount_setattr (Linux
# 5.12) has one number on every architecture, but pivot_root's differs per architecture.
SYS_MOUNT_SETATTR = 442
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}

# The new root is built on a tmpfs mounted over this folder, in the child's own mount
# namespace. Nothing the script needs lives under it.
STAGING = "/sys"
SYSTEM_ROOTS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# Read by the dynamic loader, by time.localtime and by mimetypes (which openpyxl imports).
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/localtime", "/etc/mime.types")
DEVICES = ("/dev/null", "/dev/zero", "/dev/random", "/dev/urandom")


class Kernel:
    """The libc calls that set up namespaces, mounts and capabilities, raising OSError on failure."""

    def __init__(self) -> None:
        import ctypes

        self._ctypes = ctypes
        self._libc = ctypes.CDLL(None, use_errno=True)
        self._machine = os.uname().machine

    def _check(self, result: int, call: str) -> None:
        if result != 0:
            error = self._ctypes.get_errno()
            raise OSError(error, f"{call} failed: {os.strerror(error)}")

    def unshare(self, flags: int) -> None:
        self._check(self._libc.unshare(flags), "unshare")

    def mount(self, source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
        encoded = [None if value is None else value.encode() for value in (source, target, fstype, data)]
        result = self._libc.mount(encoded[0], encoded[1], encoded[2], self._ctypes.c_ulong(flags), encoded[3])
        self._check(result, f"mount {target}")

    def umount(self, target: str) -> None:
        self._check(self._libc.umount2(target.encode(), MNT_DETACH), f"umount {target}")

    def make_read_only(self, target: str, *, allow_devices: bool = False) -> None:
        """Set read-only, nosuid and (unless ``allow_devices``) nodev on a mount and every mount below it."""
        ctypes = self._ctypes

        class MountAttr(ctypes.Structure):
            _fields_ = [(name, ctypes.c_uint64) for name in ("attr_set", "attr_clr", "propagation", "userns_fd")]

        attributes = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | (0 if allow_devices else MOUNT_ATTR_NODEV)
        attr = MountAttr(attributes, 0, 0, 0)
        result = self._libc.syscall(
            ctypes.c_long(SYS_MOUNT_SETATTR),
            ctypes.c_long(AT_FDCWD),
            target.encode(),
            ctypes.c_long(AT_RECURSIVE),
            ctypes.byref(attr),
            ctypes.c_long(ctypes.sizeof(attr)),
        )
        self._check(result, f"mount_setattr {target}")

    def pivot_root(self, new_root: str, put_old: str) -> None:
        number = SYS_PIVOT_ROOT.get(self._machine)
        if number is None:
            raise OSError(0, f"pivot_root: no syscall number known for {self._machine}")
        result = self._libc.syscall(self._ctypes.c_long(number), new_root.encode(), put_old.encode())
        self._check(result, "pivot_root")

    def drop_capabilities(self) -> None:
        """Empty the bounding, ambient, permitted, effective and inheritable sets, then set no_new_privs."""
        ctypes = self._ctypes
        for capability in range(64):
            # EINVAL past the last capability this kernel supports. EPERM without CAP_SETPCAP,
            # and then the bounding set does not matter because no capability can be regained.
            if self._libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
                break
        self._libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)

        class Header(ctypes.Structure):
            _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

        class Data(ctypes.Structure):
            _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

        self._check(self._libc.capset(ctypes.byref(Header(LINUX_CAPABILITY_VERSION_3, 0)), (Data * 2)()), "capset")
        self._check(self._libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl no_new_privs")


def enter_namespaces(kernel: Kernel) -> None:
    """Move into new network and mount namespaces, through a user namespace when not root."""
    if os.geteuid() == 0:
        kernel.unshare(CLONE_NEWNET | CLONE_NEWNS)
        return
    uid, gid = os.geteuid(), os.getegid()
    kernel.unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS)
    # Map the caller's ids to themselves so that file owners look the same inside.
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w", encoding="ascii") as handle:
            handle.write(text)


def is_within(path: str, root: str) -> bool:
    return root == "/" or path == root or path.startswith(root + "/")


def visible_paths(script: str) -> list[str]:
    """List the paths a script may read: the system libraries, the Python installation and the script."""
    python_paths = {sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix}
    python_paths.update(entry for entry in sys.path if entry)
    if not getattr(sys.flags, "safe_path", False):
        # Before Python 3.11, -I puts the script's folder first on sys.path (see main).
        python_paths.add(os.path.dirname(script))
    paths = [path for path in (*SYSTEM_ROOTS, *SYSTEM_FILES, *DEVICES) if os.path.lexists(path)]
    paths.extend(sorted((os.path.realpath(path) for path in python_paths if os.path.exists(path)), key=len))
    paths.append(script)
    return paths


def build_private_root(kernel: Kernel, workdir: str, visible: list[str]) -> None:
    """Replace the root with a tmpfs that shows read-only system and Python paths and a writable ``workdir``.

    Until pivot_root succeeds a failure leaves the original root in place, so the caller
    can continue without this protection.
    """
    kernel.mount(None, "/", None, MS_REC | MS_PRIVATE)
    kernel.mount("tmpfs", STAGING, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755")
    try:
        bound: list[str] = []
        for path in visible:
            if any(is_within(path, root) for root in bound):
                continue
            _expose(kernel, path, STAGING + path, allow_devices=path in DEVICES)
            bound.append(path)
        _expose_own_proc(kernel)
        _bind(kernel, workdir, STAGING + workdir)
        os.chdir(STAGING)
        # pivot_root(".", ".") stacks the old root on top of the new one, and detaching it leaves the new root.
        kernel.pivot_root(".", ".")
    except OSError:
        os.chdir("/")
        kernel.umount(STAGING)
        raise
    kernel.umount(".")
    os.chdir("/")
    kernel.mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    os.chdir(workdir)


def _expose(kernel: Kernel, source: str, target: str, *, allow_devices: bool) -> None:
    if os.path.islink(source):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.symlink(os.readlink(source), target)
        return
    _bind(kernel, source, target)
    kernel.make_read_only(target, allow_devices=allow_devices)


def _bind(kernel: Kernel, source: str, target: str) -> None:
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    elif not os.path.exists(target):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "x"):
            pass
    kernel.mount(source, target, None, MS_BIND | MS_REC)


def _expose_own_proc(kernel: Kernel) -> None:
    # Only this process's /proc entry, so that the audit hook can resolve directory descriptors
    # through /proc/self/fd. Other processes, and their environments, stay out of sight.
    pid = str(os.getpid())
    try:
        _expose(kernel, f"/proc/{pid}", f"{STAGING}/proc/{pid}", allow_devices=False)
        os.symlink(pid, f"{STAGING}/proc/self")
    except OSError:
        pass


# ---------------------------------------------------------------- audit hook


class PathRules:
    """Decide which paths the script may read and write, resolving symbolic links itself.

    The functions it calls are bound when it is built, so a script that replaces
    ``os.path.realpath`` or ``os.lstat`` later does not change the results.
    """

    def __init__(self, workdir: str, readable: list[str]) -> None:
        self._workdir = workdir
        self._readable = tuple(readable)
        self._lstat = os.lstat
        self._readlink = os.readlink
        self._getcwd = os.getcwd
        self._is_link = stat.S_ISLNK
        self._isinstance = isinstance
        self._str = str
        self._bytes = bytes
        self._int = int
        self._path_types = PATH_TYPES

    def text(self, path: object, dir_fd: object = None) -> str | None:
        """Return ``path`` as an absolute string, or None when it cannot be trusted to stay the same."""
        if self._isinstance(path, self._bytes):
            text = self._bytes.decode(path, "utf-8", "surrogateescape")
        elif self._isinstance(path, self._str):
            text = self._str.__str__(path)
        elif type(path) in self._path_types:
            # A custom os.PathLike could return a different path when the real call converts it.
            text = self._str(path)
        else:
            return None
        if text.startswith("/"):
            return text
        if self._isinstance(dir_fd, self._int) and dir_fd >= 0:
            try:
                base = self._readlink(f"/proc/self/fd/{dir_fd}")
            except OSError:
                return None
        else:
            base = self._getcwd()
        return base + "/" + text

    def resolve(self, path: str, *, follow_last: bool = True) -> str:
        """Return the canonical form of absolute ``path``, keeping missing components as written."""
        pending = [part for part in reversed(path.split("/")) if part]
        resolved = ""
        links = 0
        while pending:
            part = pending.pop()
            if part == ".":
                continue
            if part == "..":
                resolved = resolved.rsplit("/", 1)[0]
                continue
            candidate = resolved + "/" + part
            if not pending and not follow_last:
                return candidate
            try:
                is_link = self._is_link(self._lstat(candidate).st_mode)
            except OSError:
                is_link = False
            if not is_link:
                resolved = candidate
                continue
            links += 1
            if links > 40:
                return candidate
            target = self._readlink(candidate)
            if target.startswith("/"):
                resolved = ""
            pending.extend(part for part in reversed(target.split("/")) if part)
        return resolved or "/"

    def may_write(self, path: str) -> bool:
        return is_within(path, self._workdir) or path == "/dev/null"

    def may_read(self, path: str) -> bool:
        return self.may_write(path) or any(is_within(path, root) for root in self._readable)


def build_checks(rules: PathRules) -> dict[str, Check]:
    """Map audit event names to functions that return a description when the event must be blocked."""
    # Builtins bound here: a script that replaces builtins.isinstance must not change the checks.
    is_instance, integer, text_types = isinstance, int, (str, bytes)

    def target(path: object, dir_fd: object = None, *, follow_last: bool = True) -> tuple[str, str | None]:
        text = rules.text(path, dir_fd)
        if text is None:
            return repr(path), None
        return text, rules.resolve(text, follow_last=follow_last)

    def writable(event: str, path: object, dir_fd: object = None, *, follow_last: bool = False) -> str | None:
        if is_instance(path, integer):
            return None
        as_given, resolved = target(path, dir_fd, follow_last=follow_last)
        if resolved is not None and rules.may_write(resolved):
            return None
        return f"{event} {resolved or as_given}"

    def check_open(args: tuple[Any, ...]) -> str | None:
        path, mode, flags = args
        if is_instance(path, integer):
            return None
        writing = bool(flags & WRITE_FLAGS) or (is_instance(mode, str) and any(c in mode for c in "wax+"))
        as_given, resolved = target(path)
        if resolved is not None and (rules.may_write(resolved) if writing else rules.may_read(resolved)):
            return None
        return f"open {resolved or as_given} for {'writing' if writing else 'reading'}"

    def check_listing(event: str) -> Check:
        def check(args: tuple[Any, ...]) -> str | None:
            path = "." if not args or args[0] is None else args[0]
            if is_instance(path, integer):
                return None
            as_given, resolved = target(path)
            return None if resolved is not None and rules.may_read(resolved) else f"{event} {resolved or as_given}"

        return check

    def check_two_paths(event: str) -> Check:
        def check(args: tuple[Any, ...]) -> str | None:
            source, destination, source_dir_fd, destination_dir_fd = args
            return writable(event, source, source_dir_fd) or writable(event, destination, destination_dir_fd)

        return check

    def check_address(event: str) -> Check:
        def check(args: tuple[Any, ...]) -> str | None:
            address = args[1]
            if is_instance(address, tuple) and len(address) >= 2:
                return f"{event} to {address[0]}:{address[1]}"
            return f"{event} to {address!r}"

        return check

    def check_lookup(event: str) -> Check:
        def check(args: tuple[Any, ...]) -> str | None:
            host = args[0]
            return f"{event} {host.decode(errors='replace') if is_instance(host, bytes) else host}"

        return check

    def check_sqlite(args: tuple[Any, ...]) -> str | None:
        database = args[0]
        if database in (":memory:", "", b":memory:", b""):
            return None
        return writable("sqlite3.connect", database, follow_last=True)

    def check_import(args: tuple[Any, ...]) -> str | None:
        module = args[0]
        if is_instance(module, text_types) and any(
            module == name or module.startswith(name + ".") for name in FORBIDDEN_IMPORTS
        ):
            return f"import {module}"
        return None

    def check_type_setattr(args: tuple[Any, ...]) -> str | None:
        # Changing how a path type converts to text would let the real call see another path.
        return f"setattr {args[0].__name__}.{args[1]}" if args[0] in PATH_TYPES else None

    return {
        "open": check_open,
        "os.listdir": check_listing("os.listdir"),
        "os.scandir": check_listing("os.scandir"),
        "os.remove": lambda args: writable("os.remove", args[0], args[1]),
        "os.rmdir": lambda args: writable("os.rmdir", args[0], args[1]),
        "os.mkdir": lambda args: writable("os.mkdir", args[0], args[2]),
        "os.chmod": lambda args: writable("os.chmod", args[0], args[2], follow_last=True),
        "os.chown": lambda args: writable("os.chown", args[0], args[3], follow_last=True),
        "os.utime": lambda args: writable("os.utime", args[0], args[3], follow_last=True),
        "os.truncate": lambda args: writable("os.truncate", args[0], follow_last=True),
        "os.setxattr": lambda args: writable("os.setxattr", args[0], follow_last=True),
        "os.removexattr": lambda args: writable("os.removexattr", args[0], follow_last=True),
        "os.symlink": lambda args: writable("os.symlink", args[1], args[2]),
        "os.rename": check_two_paths("os.rename"),
        # A hard link to a file outside the working directory would let the script write that file.
        "os.link": check_two_paths("os.link"),
        "socket.connect": check_address("socket.connect"),
        "socket.bind": check_address("socket.bind"),
        "socket.sendto": check_address("socket.sendto"),
        "socket.sendmsg": check_address("socket.sendmsg"),
        "socket.getaddrinfo": lambda args: f"socket.getaddrinfo {args[0]!s}:{args[1]!s}",
        "socket.gethostbyname": check_lookup("socket.gethostbyname"),
        "socket.gethostbyaddr": check_lookup("socket.gethostbyaddr"),
        "socket.getnameinfo": lambda args: f"socket.getnameinfo {args[0]!r}",
        "sqlite3.connect": check_sqlite,
        "import": check_import,
        "object.__setattr__": check_type_setattr,
    }


def describe_always_blocked(event: str, args: tuple[Any, ...]) -> str:
    if event == "subprocess.Popen":
        command = args[1]
        if isinstance(command, (str, bytes)):
            program = command
        else:
            program = command[0] if command else ""
        if isinstance(program, bytes):
            program = os.fsdecode(program)
        return f"subprocess.Popen {program}"
    if event in ("os.exec", "os.posix_spawn", "os.kill", "os.killpg", "ctypes.dlopen"):
        return f"{event} {args[0]}"
    if event == "os.spawn":
        return f"os.spawn {args[1]}"
    return event


def install_audit_hook(workdir: str, readable: list[str], report: Callable[..., None]) -> None:
    """Install the tripwire: a blocked event raises PermissionError and is reported once."""
    checks = build_checks(PathRules(workdir, readable))
    always_blocked = ALWAYS_BLOCKED
    reported: set[str] = set()

    def block(description: str) -> PermissionError:
        if description not in reported and len(reported) < MAX_REPORTED:
            reported.add(description)
            report("blocked", description)
        return PermissionError(f"blocked by the promptgen sandbox: {description}")

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event in always_blocked or event.startswith("ctypes."):
            raise block(describe_always_blocked(event, args))
        check = checks.get(event)
        if check is None:
            return
        try:
            description = check(args)
        except (TypeError, ValueError, IndexError, AttributeError, OSError):
            # Another Python version may pass arguments of another shape, or a link may vanish
            # while it is resolved. Either way the check fails closed.
            description = f"{event} with arguments the sandbox cannot check"
        if description is not None:
            raise block(description)

    _guard_fork_exec(block)
    # Importing ctypes loads the main program with dlopen, which the hook blocks. openpyxl
    # imports numpy when it is installed, and numpy imports ctypes, so loading ctypes now
    # keeps that import working while every later dlopen and dlsym is blocked.
    import ctypes  # noqa: F401

    sys.addaudithook(hook)


def _guard_fork_exec(block: Callable[[str], PermissionError]) -> None:
    # subprocess raises its own audit event and then calls _posixsubprocess.fork_exec, which
    # raises none. A script that calls fork_exec directly must still be stopped.
    import _posixsubprocess

    def fork_exec(*args: object, **kwargs: object) -> None:
        raise block("_posixsubprocess.fork_exec")

    _posixsubprocess.fork_exec = fork_exec  # type: ignore[attr-defined]


# ---------------------------------------------------------------- running the script


def confine(setup: dict[str, Any], report: Callable[..., None]) -> None:
    """Apply every protection that the setup requests, and report which applied."""
    workdir, script = setup["workdir"], setup["script"]
    readable = visible_paths(script)

    def attempt(name: str, action: Callable[[], None]) -> bool:
        try:
            action()
        except (OSError, ValueError) as error:
            report("unavailable", name, str(error))
            return False
        report("protection", name)
        return True

    if setup["cgroup"]:
        attempt("pids-cgroup", lambda: join_cgroup(setup["cgroup"]))
    if sys.platform.startswith("linux"):
        kernel = Kernel()
        if setup["namespaces"] and attempt("network-namespace", lambda: enter_namespaces(kernel)):
            attempt("filesystem-namespace", lambda: build_private_root(kernel, workdir, readable))
        attempt("capabilities-dropped", kernel.drop_capabilities)
        del kernel
    attempt("resource-limits", lambda: apply_limits(setup["limits"]))
    if setup["audit_hook"]:
        install_audit_hook(workdir, readable, report)
        report("protection", "audit-hook")


def run(script: str) -> None:
    """Run ``script`` as __main__ and print an uncaught exception as ``python SCRIPT`` would."""
    try:
        runpy.run_path(script, run_name="__main__")
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException as error:
        traceback = error.__traceback__
        # Drop this module's and runpy's frames so the traceback starts at the script.
        while traceback is not None and traceback.tb_frame.f_code.co_filename != script:
            traceback = traceback.tb_next
        # The default hook prints the exception's own __traceback__, not its third argument.
        error.__traceback__ = traceback
        sys.excepthook(type(error), error, traceback)
        raise SystemExit(1) from None


def main() -> None:
    setup_fd, script, *args = sys.argv[1:]
    with os.fdopen(int(setup_fd), "rb") as setup_file:
        setup = json.loads(setup_file.read())
    report = make_reporter(setup["report_fd"])
    token = setup.pop("token")

    confine(setup, report)
    report("ready")
    atexit.register(report, "end", token)
    del token, setup

    sys.argv = [script, *args]
    if not getattr(sys.flags, "safe_path", False):
        # Before Python 3.11, -I leaves the script's folder first on sys.path.
        sys.path[0] = os.path.dirname(script)
    run(script)


if __name__ == "__main__":
    main()
