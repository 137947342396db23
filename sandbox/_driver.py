# The test driver: `sandbox.harness` runs this file, unchanged, as one sandboxed program with the
# tests, the solution and a per-run nonce in `spec.json` beside it, so all tests of a solution
# cost one sandbox run (and the warm server compiles this file once per worker, not per run).
# It writes one line per event to a private copy of fd 1 (prefixed with the nonce); the
# solution's own prints never reach it.
# Standard library only. Every name here starts with `_` so the solution's namespace stays clean.
import io as _io
import json as _json
import linecache as _linecache
import math as _math
import os as _os
import signal as _signal
import sys as _sys
import time as _time
import traceback as _traceback

if __name__ != "__main__":
    raise ImportError("sandbox/_driver.py is a program template run inside the sandbox, not a module")

with open("spec.json", encoding="utf-8") as _f:
    _SPEC = _json.load(_f)
_os.unlink("spec.json")  # the solution has no business reading its tests
_NONCE = _SPEC["nonce"]
_SOLUTION = _SPEC["solution"]
_USER_FILES = ("solution.py", "test.py")
_CAPTURE_CAP = _SPEC["output_bytes"]


class _TimeLimit(BaseException):
    pass


class _OutputLimit(BaseException):
    pass


class _Capture(_io.StringIO):
    def write(self, s):
        if self.tell() + len(s) > _CAPTURE_CAP:
            raise _OutputLimit()
        return super().write(s)


_channel = _os.fdopen(_os.dup(1), "w", buffering=1, encoding="utf-8")
_os.dup2(2, 1)  # the solution's direct fd-1 writes go to stderr, never into the channel
_sys.stdout = _Capture()


def _emit(obj):
    _channel.write(_NONCE + _json.dumps(obj) + "\n")
    _channel.flush()


def _on_alarm(signum, frame):
    raise _TimeLimit()


_signal.signal(_signal.SIGALRM, _on_alarm)


def _short(value, cap=_SPEC["got_cap"]):
    try:
        text = value if isinstance(value, str) else repr(value)
    except BaseException:  # noqa: BLE001 - a hostile __repr__
        text = "<unprintable>"
    return text if len(text) <= cap else text[:cap] + f"... ({len(text) - cap} more chars)"


def _user_traceback(exc):
    """Only the solution's (and test script's) own frames, then the exception line."""
    frames = [f for f in _traceback.extract_tb(exc.__traceback__) if f.filename in _USER_FILES]
    lines = ["Traceback (most recent call last):\n", *_traceback.format_list(frames)] if frames else []
    lines += _traceback.format_exception_only(type(exc), exc)
    text = "".join(lines)
    cap = _SPEC["error_cap"]
    return text if len(text) <= cap else "..." + text[-cap:]


def _close(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b or _math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    return a == b


def _token_close(x, y):
    if x == y:
        return True
    try:
        return _math.isclose(float(x), float(y), rel_tol=1e-6, abs_tol=1e-9)
    except ValueError:
        return False


def _stdout_matches(got, expected):
    g = [line.strip() for line in got.strip().splitlines()]
    e = [line.strip() for line in expected.strip().splitlines()]
    if g == e:
        return True
    if len(g) != len(e):
        return False
    return all(len(gl.split()) == len(el.split()) and all(map(_token_close, gl.split(), el.split()))
               for gl, el in zip(g, e))


def _run_timed(fn, seconds):
    _signal.setitimer(_signal.ITIMER_REAL, seconds)
    try:
        return fn()
    finally:
        _signal.setitimer(_signal.ITIMER_REAL, 0)


def _status_of(exc):
    if isinstance(exc, _TimeLimit):
        return "timeout", "time limit exceeded"
    if isinstance(exc, _OutputLimit):
        return "output_exceeded", "output limit exceeded"
    if isinstance(exc, MemoryError):
        return "memory_exceeded", "memory limit exceeded"
    return "runtime_error", _user_traceback(exc)


def _remember_source(filename, source):
    """So tracebacks show the solution's (and test's) own lines."""
    _linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)


def _fresh_namespace():
    return {"__name__": "__main__", "__builtins__": __builtins__}


def _function(ns, name):
    fn = ns.get(name)
    if callable(fn):
        return fn
    cls = ns.get("Solution")
    if isinstance(cls, type) and hasattr(cls, name):
        return getattr(cls(), name)
    raise NameError(f"the solution defines no function {name!r} (neither top-level nor a method of class Solution)")


def _arguments(raw):
    if isinstance(raw, str):
        return [_json.loads(line) for line in raw.split("\n") if line.strip()]
    return list(raw) if isinstance(raw, (list, tuple)) else [raw]


def _expected(raw):
    if isinstance(raw, str):
        try:
            return _json.loads(raw)
        except ValueError:
            return raw
    return raw


def _one(test, code, shared):
    kind, timeout = test["kind"], _SPEC["timeout"]
    if kind == "stdio":
        data = test.get("input") or ""
        _sys.stdin = _io.TextIOWrapper(_io.BytesIO(data.encode()), encoding="utf-8")
        _sys.stdout = _Capture()
        try:
            _run_timed(lambda: exec(code, _fresh_namespace()), timeout)
        except SystemExit:
            pass
        got = _sys.stdout.getvalue()
        ok = _stdout_matches(got, str(test.get("expected") or ""))
        return ("passed" if ok else "wrong_answer"), _short(got), ""
    if kind == "function":
        fn = _function(shared(), test["fn_name"])
        args = _arguments(test.get("input"))
        got = _run_timed(lambda: fn(*args), timeout)
        ok = _close(got, _expected(test.get("expected")))
        return ("passed" if ok else "wrong_answer"), _short(got), ""
    ns = dict(shared())
    _remember_source("test.py", test.get("script") or "")
    script = compile(test.get("script") or "", "test.py", "exec")

    def body():
        exec(script, ns)
        if test.get("fn_name") and callable(ns.get("check")):
            ns["check"](_function(ns, test["fn_name"]))
    _run_timed(body, timeout)
    return "passed", "", ""


def _main():
    _remember_source("solution.py", _SOLUTION)
    try:
        code = compile(_SOLUTION, "solution.py", "exec")
    except (SyntaxError, ValueError) as exc:
        _emit({"compile_error": "".join(_traceback.format_exception_only(type(exc), exc))[-_SPEC["error_cap"]:]})
        return
    cache = {}

    def shared():
        """The solution executed once (for function and assert tests)."""
        if "ns" not in cache:
            ns = _fresh_namespace()
            _sys.stdin = _io.TextIOWrapper(_io.BytesIO(b""), encoding="utf-8")
            _sys.stdout = _Capture()
            cache["ns"] = ns
            try:
                _run_timed(lambda: exec(code, ns), _SPEC["timeout"])
            except BaseException as exc:  # noqa: BLE001 - every later test fails the same way
                cache["error"] = exc
        if "error" in cache:
            raise cache["error"]
        return cache["ns"]

    for i, test in enumerate(_SPEC["tests"]):
        _emit({"start": i})
        start = _time.perf_counter()
        try:
            status, got, error = _one(test, code, shared)
        except BaseException as exc:  # noqa: BLE001 - everything the solution does is a result
            (status, error), got = _status_of(exc), ""
        _emit({"i": i, "status": status, "got": got, "error": error, "wall_s": _time.perf_counter() - start})
        if status != "passed" and (_SPEC["stop_first"] or status == "timeout"):
            break


_main()
_channel.flush()
_os._exit(0)
