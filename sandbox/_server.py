"""The fork server that runs *inside* a sandbox (bwrap, unshare, docker or a bare subprocess).

It is started once per worker as `python -I -c <this file's source> <json config>`, so the
namespaces, mounts and user of the worker are set up once. It then reads requests from fd 0
and answers on fd 1, each message a 4-byte big-endian length and a JSON object. For every
program it:

1. makes a fresh work dir under the private tmp and writes the program and its files there;
2. forks a child that starts a new session, sets its own rlimits (CPU, address space, file
   size, open files, processes, no core files), a clean environment (PATH, LANG, HOME=work dir),
   fd 0 from the stdin file and fds 1/2 into pipes, then either runs the program in this warm,
   already-started interpreter (`mode="fork"`) or execs a fresh interpreter (`mode="exec"`);
3. reads stdout/stderr as capped streams, kills the child's process group at the wall-clock
   limit or when the output cap is passed, then kills every other process that belongs to the
   sandbox (the whole PID namespace, or every process of the sandbox's own uid) and reaps them,
   so nothing one program leaves behind can touch the next;
4. removes the work dir and answers with exit code, output, flags, wall and CPU seconds.

Standard library only; it must not start threads (it forks). It runs with `-s -S`: no site
packages (forking an interpreter that loaded site's .pth hooks costs several times more), so
programs get the standard library only.
"""

import json
import os
import resource
import select
import shutil
import signal
import struct
import sys
import time

# Warm the interpreter: what programs and the test driver commonly import is loaded once here,
# before any fork, so each child starts with it already in memory.
import collections, functools, heapq, io, itertools, math, re, string, traceback, types, typing  # noqa: E401,F401
CONFIG = json.loads(sys.argv[1]) if __name__ == "__main__" and len(sys.argv) > 1 else {}
TMP_ROOT = CONFIG.get("tmp", "/tmp")
PYTHON = CONFIG.get("python") or sys.executable
SWEEP = CONFIG.get("sweep", "session")  # pidns | uid | session
CLEAN_PATH = "/usr/local/bin:/usr/bin:/bin"


def become_program_user():
    """In the child: take the worker's own unprivileged uid/gid when the server may switch.

    The server keeps its (root, capability-limited) identity, so a program cannot signal it,
    and every worker's programs run under a distinct uid, so RLIMIT_NPROC counts per worker.
    """
    uid, gid = CONFIG.get("child_uid"), CONFIG.get("child_gid")
    if uid is None:
        return
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.geteuid() != uid:
        raise OSError("could not switch to the sandbox user")


def read_exact(fd, n):
    chunks, got = [], 0
    while got < n:
        chunk = os.read(fd, n - got)
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def send(obj):
    data = json.dumps(obj).encode()
    msg = struct.pack(">I", len(data)) + data
    while msg:
        msg = msg[os.write(1, msg):]


def set_limits(lim):
    cpu = max(1, int(lim["cpu_s"] + 0.999))
    pairs = [
        (resource.RLIMIT_CPU, (cpu, cpu + 1)),
        (resource.RLIMIT_AS, (lim["memory_bytes"], lim["memory_bytes"])),
        (resource.RLIMIT_FSIZE, (lim["file_size_bytes"], lim["file_size_bytes"])),
        (resource.RLIMIT_NOFILE, (lim["open_files"], lim["open_files"])),
        (resource.RLIMIT_CORE, (0, 0)),
    ]
    if CONFIG.get("nproc", True):
        pairs.append((resource.RLIMIT_NPROC, (lim["processes"], lim["processes"])))
    for which, value in pairs:
        resource.setrlimit(which, value)


CODE_CACHE = {}  # source -> code object, for trusted programs only (the harness's test driver)


def cached_code(req, prog):
    """Compile a trusted program once per worker, in the server, before forking."""
    if not req.get("cache_code") or req.get("mode") == "exec":
        return None
    code = CODE_CACHE.get(req["code"])
    if code is None:
        if len(CODE_CACHE) >= 8:
            CODE_CACHE.clear()
        code = CODE_CACHE[req["code"]] = compile(req["code"], prog, "exec")
    return code


def child_main(req, workdir, stdin_path, out_w, err_w, code):
    """Runs in the forked child: never returns."""
    try:
        os.setsid()
        os.chdir(workdir)
        fd = os.open(stdin_path, os.O_RDONLY)
        os.dup2(fd, 0)
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        os.closerange(3, 1 << 16)
        become_program_user()
        os.environ.clear()
        os.environ.update({"PATH": CLEAN_PATH, "LANG": "C.UTF-8", "HOME": workdir, "TMPDIR": workdir,
                           "PYTHONHASHSEED": "0"})
        for sig in (signal.SIGPIPE, signal.SIGXFSZ):
            signal.signal(sig, signal.SIG_DFL)
        set_limits(req["limits"])
        prog = os.path.join(workdir, req.get("filename", "main.py"))
        if req.get("mode") == "exec":
            os.execve(PYTHON, [PYTHON, "-s", "-S", prog], dict(os.environ))
        run_warm(prog, code)
    except BaseException as exc:  # noqa: BLE001 - the child must never return into the server
        try:
            os.write(2, f"sandbox: could not start the program: {exc!r}\n".encode())
        finally:
            os._exit(126)


def run_warm(prog, code=None):
    """Execute the program as `__main__` in this (forked, warm) interpreter, then exit."""
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8", errors="replace")
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8", errors="backslashreplace")
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="backslashreplace",
                                  line_buffering=True)
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = sys.stdin, sys.stdout, sys.stderr
    sys.argv = [prog]
    sys.path[0:0] = [os.path.dirname(prog)]
    main = types.ModuleType("__main__")
    main.__file__ = prog
    main.__builtins__ = __builtins__
    sys.modules["__main__"] = main
    status = 0
    try:
        if code is None:
            with open(prog, encoding="utf-8") as f:
                code = compile(f.read(), prog, "exec")
        exec(code, main.__dict__)
    except SystemExit as exc:
        code = exc.code
        if code is None:
            status = 0
        elif isinstance(code, int):
            status = code & 0xFF
        else:
            print(code, file=sys.stderr)
            status = 1
    except BaseException as exc:  # noqa: BLE001 - report like the interpreter would
        tb = exc.__traceback__.tb_next if exc.__traceback__ is not None else None
        traceback.print_exception(type(exc), exc, tb)
        status = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # noqa: BLE001 - a closed or full pipe must not change the exit path
        pass
    os._exit(status)


def other_pids():
    me = os.getpid()
    mine = os.getuid()
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        pid = int(name)
        if pid in (me, 1) and SWEEP == "pidns":
            continue
        if pid == me:
            continue
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
            if state == b"Z":
                continue
            if SWEEP == "uid" and os.stat(f"/proc/{pid}").st_uid != CONFIG.get("child_uid", mine):
                continue
        except OSError:
            continue
        pids.append(pid)
    return pids


def reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def sweep(child_pid):
    """Kill everything the program may have left behind."""
    try:
        os.killpg(child_pid, signal.SIGKILL)
    except OSError:
        pass
    if SWEEP in ("pidns", "uid"):
        for _ in range(100):
            pids = other_pids()
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            reap()
            time.sleep(0.001)
    reap()


def run_one(req):
    lim = req["limits"]
    # The same path every time (the dir is removed after each program), so outputs that name it
    # do not depend on how many programs this worker ran before.
    workdir = os.path.join(TMP_ROOT, "work")
    shutil.rmtree(workdir, ignore_errors=True)
    os.mkdir(workdir, 0o700)
    if CONFIG.get("child_uid") is not None:
        os.chown(workdir, CONFIG["child_uid"], CONFIG["child_gid"])
    stdin_path = os.path.join(TMP_ROOT, ".stdin")
    try:
        with open(stdin_path, "w", encoding="utf-8") as f:
            f.write(req.get("stdin") or "")
        for name, content in (req.get("files") or {}).items():
            path = os.path.normpath(os.path.join(workdir, name))
            if not path.startswith(workdir + os.sep):
                raise ValueError(f"file name {name!r} leaves the work dir")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(content)
        with open(os.path.join(workdir, req.get("filename", "main.py")), "w", encoding="utf-8") as f:
            f.write(req["code"])
        if CONFIG.get("child_uid") is not None:
            for parent, dirs, names in os.walk(workdir):
                for name in dirs + names:
                    os.chown(os.path.join(parent, name), CONFIG["child_uid"], CONFIG["child_gid"])
        return supervise(req, lim, workdir, stdin_path)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        try:
            os.unlink(stdin_path)
        except OSError:
            pass


def supervise(req, lim, workdir, stdin_path):
    code = cached_code(req, os.path.join(workdir, req.get("filename", "main.py")))
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.close(out_r)
        os.close(err_r)
        child_main(req, workdir, stdin_path, out_w, err_w, code)
    os.close(out_w)
    os.close(err_w)
    cap = lim["output_bytes"]
    bufs = {out_r: bytearray(), err_r: bytearray()}
    open_fds = [out_r, err_r]
    timed_out = truncated = False
    deadline = start + lim["wall_s"]
    # Readable when the child exits: a daemon it left holding the pipes must not keep us waiting.
    pidfd = os.pidfd_open(pid) if hasattr(os, "pidfd_open") else None
    status = usage = None
    while open_fds or status is None:
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            break
        watch = open_fds + ([pidfd] if pidfd is not None and status is None else [])
        ready, _, _ = select.select(watch, [], [], left if pidfd is not None else min(left, 0.05))
        for fd in ready:
            if fd == pidfd:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                open_fds.remove(fd)
                continue
            buf = bufs[fd]
            room = cap - len(buf)
            if len(chunk) > room:
                buf += chunk[:max(room, 0)]
                truncated = True
            else:
                buf += chunk
        if truncated:
            break
        if status is None and (pidfd in ready or pidfd is None):
            done, st, ru = os.wait4(pid, os.WNOHANG)
            if done:
                status, usage = st, ru
                # Take what is already in the pipes, then stop: the program is over.
                while open_fds and select.select(open_fds, [], [], 0)[0] and not truncated:
                    for fd in select.select(open_fds, [], [], 0)[0]:
                        chunk = os.read(fd, 65536)
                        if not chunk:
                            open_fds.remove(fd)
                        else:
                            room = cap - len(bufs[fd])
                            bufs[fd] += chunk[:max(room, 0)]
                            truncated = truncated or len(chunk) > room
                break
    if pidfd is not None:
        os.close(pidfd)
    if status is None:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
        _, status, usage = os.wait4(pid, 0)
    wall = time.monotonic() - start
    sweep(pid)
    for fd in (out_r, err_r):
        os.close(fd)
    exit_code = os.waitstatus_to_exitcode(status)
    stderr = bufs[err_r].decode("utf-8", "replace")
    tail = stderr.rstrip().rsplit("\n", 1)[-1]
    memory = tail.startswith("MemoryError") or (exit_code == -signal.SIGKILL and not timed_out and not truncated
                                                and "Cannot allocate memory" in stderr)
    cpu = usage.ru_utime + usage.ru_stime
    # SIGXCPU is only sent at the CPU soft limit, whatever rusage reports (under load the waited
    # child's rusage can miss part of a killed grandchild's time); SIGKILL has other causes.
    if exit_code == -signal.SIGXCPU or (exit_code == -signal.SIGKILL
                                        and cpu >= max(1, int(lim["cpu_s"] + 0.999)) - 0.05):
        timed_out = True
    return {"exit_code": exit_code, "stdout": bufs[out_r].decode("utf-8", "replace"), "stderr": stderr,
            "timed_out": timed_out, "memory_exceeded": memory, "output_truncated": truncated,
            "wall_s": wall, "cpu_s": cpu}


def main():
    import gc
    gc.freeze()  # keep the warm objects out of the children's collections (fewer copy-on-write faults)
    os.makedirs(TMP_ROOT, exist_ok=True)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    send({"ready": True, "uid": os.getuid(), "pid": os.getpid()})
    while True:
        head = read_exact(0, 4)
        if head is None:
            return
        body = read_exact(0, struct.unpack(">I", head)[0])
        if body is None:
            return
        req = json.loads(body)
        if req.get("stats"):  # CPU seconds of this worker: the server and every program it reaped
            me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
            send({"cpu_s": me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime})
            continue
        try:
            send(run_one(req))
        except Exception as exc:  # noqa: BLE001 - a bad request must not kill the worker
            send({"error": f"{type(exc).__name__}: {exc}"})


if __name__ == "__main__":
    main()
