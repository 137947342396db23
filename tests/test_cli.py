"""The `distil envs` commands."""

import subprocess
import sys

from typer.testing import CliRunner

from distil_envs.cli import app

runner = CliRunner()


def test_envs_list_shows_every_domain():
    result = runner.invoke(app, ["envs", "list"])
    assert result.exit_code == 0, result.output
    import distil_envs
    for env_id in distil_envs.env_ids():  # every registered env, its id whole on one line
        assert env_id in result.output
    assert all(domain in result.output for domain in ("math", "science", "code"))


def test_envs_show_prints_task_and_reference():
    import distil_envs
    env = distil_envs.make("distil/math-arithmetic-v0").unwrapped
    env.reset(seed=3)
    result = runner.invoke(app, ["envs", "show", "distil/math-arithmetic-v0", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert env.task.prompt.splitlines()[0] in result.output
    assert env.task.answer in result.output.split("reference", 1)[1]


def test_envs_play_reads_answers_until_solved(tmp_path):
    import distil_envs
    env = distil_envs.make("distil/math-arithmetic-v0").unwrapped
    env.reset(seed=5)
    answer = env.reference_completion(env.task)
    result = runner.invoke(app, ["envs", "play", "distil/math-arithmetic-v0", "--seed", "5", "--attempts", "2"],
                           input=f"\\boxed{{-1}}\n\n{answer}\n\n")
    assert result.exit_code == 0, result.output
    assert "wrong_answer" in result.output and "correct" in result.output


def test_console_script_is_installed():
    result = subprocess.run([sys.executable, "-m", "distil_envs.cli", "envs", "list", "--domain", "math"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
