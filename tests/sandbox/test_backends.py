"""Backend choice, clean environment, result shape, and the docker backend's container arguments."""

from __future__ import annotations

import dataclasses

import pytest

import sandbox
from sandbox import ExecutionResult, Limits, Sandbox, SandboxUnavailableError, choose_backend
from sandbox.backends.docker import DEFAULT_IMAGE, container_kwargs


def test_env_var_forces_backend_and_rejects_unknown(monkeypatch):
    monkeypatch.setenv("DISTIL_SANDBOX", "nonsense")
    with pytest.raises(SandboxUnavailableError, match="not a backend"):
        choose_backend()


def test_subprocess_backend_needs_allow_unsafe_and_warns(monkeypatch):
    monkeypatch.setenv("DISTIL_SANDBOX", "subprocess")
    with pytest.raises(SandboxUnavailableError, match="allow_unsafe"):
        Sandbox.auto()
    with pytest.warns(RuntimeWarning, match="WITHOUT isolation"):
        with Sandbox.auto(allow_unsafe=True) as sb:
            assert sb.run("print(6 * 7)").stdout == "42\n"


def test_forcing_docker_without_engine_fails_clearly(monkeypatch):
    monkeypatch.setattr(sandbox.core, "_checked", {"docker": "no Docker engine answers (test)"})
    monkeypatch.setenv("DISTIL_SANDBOX", "docker")
    with pytest.raises(SandboxUnavailableError, match="docker.*cannot work here"):
        choose_backend()


def test_auto_never_picks_unsafe_subprocess(monkeypatch):
    monkeypatch.delenv("DISTIL_SANDBOX", raising=False)
    assert choose_backend() in ("docker", "bwrap", "unshare")


def test_result_shape_and_clean_environment(box, monkeypatch):
    res = box.run("import os, sys\nprint(sorted(os.environ))\nprint(input())", stdin="hello")
    assert isinstance(res, ExecutionResult) and res.ok and res.backend == box.name
    keys, echo = res.stdout.splitlines()
    assert eval(keys) == ["HOME", "LANG", "PATH", "PYTHONHASHSEED", "TMPDIR"]
    assert echo == "hello"


def test_files_are_written_to_the_work_dir(box):
    res = box.run("print(open('data/in.txt').read())", files={"data/in.txt": "payload"})
    assert res.stdout == "payload\n"
    bad = box.run("pass", files={"../escape.txt": "x"})
    assert bad.exit_code is None and "leaves the work dir" in bad.stderr


def test_results_do_not_depend_on_timing_or_history(box):
    program = "import os\nprint(os.getcwd())\n1/0"
    first, second = box.run(program), box.run(program)
    strip = lambda r: dataclasses.replace(r, wall_s=0.0, cpu_s=0.0)  # noqa: E731
    assert strip(first) == strip(second)
    assert "ZeroDivisionError" in first.stderr and first.exit_code == 1


def test_set_order_is_the_same_in_every_worker(box):
    program = "print(list({'alpha', 'beta', 'gamma', 'delta', 'epsilon'}), hash('x'))"
    with Sandbox(box.backend_name) as other, Sandbox(box.backend_name, warm=False) as fresh:
        outputs = {box.run(program).stdout, other.run(program).stdout, fresh.run(program).stdout}
    assert len(outputs) == 1


def test_fresh_interpreter_mode_matches_warm_mode(box):
    with Sandbox(box.backend_name, warm=False) as fresh:
        res = fresh.run("import sys\nprint(sys.argv[0].endswith('main.py'), input())", stdin="x")
    assert res.stdout == "True x\n" and res.backend.endswith("-fresh")


def test_unknown_language_is_a_clear_error(box):
    with pytest.raises(ValueError, match="language='ruby'"):
        box.run("puts 1", language="ruby")


def test_docker_container_arguments_isolate():
    kw = container_kwargs(DEFAULT_IMAGE, 3, Limits(memory_bytes=256 << 20, processes=16), cpus=0.5)
    assert kw["network_mode"] == "none" and kw["read_only"] is True
    assert kw["cap_drop"] == ["ALL"] and "no-new-privileges" in kw["security_opt"]
    assert not kw["user"].startswith("0") and kw["user"] != "root"
    assert kw["pids_limit"] <= 32 and kw["mem_limit"] == kw["memswap_limit"] < 512 << 20
    assert kw["nano_cpus"] == 500_000_000 and "/tmp" in kw["tmpfs"] and "noexec" in kw["tmpfs"]["/tmp"]
    assert set(kw["environment"]) == {"PATH", "LANG", "HOME", "PYTHONHASHSEED"}
    assert kw["command"][:3] == ["python", "-s", "-S"] and kw["stdin_open"] and kw["labels"]["distil-sandbox"] == "1"


@pytest.mark.docker
def test_docker_backend_runs_and_isolates():
    with Sandbox("docker") as sb:
        res = sb.run("import os, socket\nprint(os.getuid())\nsocket.create_connection(('1.1.1.1', 53), 2)")
    assert res.stdout.strip() != "0" and res.exit_code != 0 and res.backend == "docker"


def test_bwrap_worker_cgroup_is_made_and_removed():
    from sandbox.core import unavailable_reason
    if unavailable_reason("bwrap") is not None:
        pytest.skip("bubblewrap does not work here")
    sb = Sandbox("bwrap")
    assert sb.run("pass").ok
    group = sb._server.cgroup
    if group is None:
        sb.close()
        pytest.skip("the cgroup file system is not writable here (rlimits only)")
    members = [int(p) for p in (group.dirs[0] / "cgroup.procs").read_text().split()]
    assert sb._server.proc.pid in members
    sb.close()
    assert not any(d.exists() for d in group.dirs)
