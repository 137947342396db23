"""The `distil` command.

`distil envs ...` lives here. Commands from packages that `distil_envs` must not
import (`agents`: train, sft, plot; `leaderboard`: eval, leaderboard) plug in through
the `distil.commands` entry-point group: each entry is a function `register(app)`
that adds its commands to the root Typer app.
"""

from __future__ import annotations

import sys
from importlib.metadata import entry_points
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

import distil_envs
from distil_envs.core import FeedbackLevel
from distil_envs.errors import DistilError

app = typer.Typer(help="Feedback environments, agents and a leaderboard for learning from rich feedback.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
envs_app = typer.Typer(help="List, inspect and play the registered environments.", no_args_is_help=True)
app.add_typer(envs_app, name="envs")
console = Console()


@envs_app.command("list")
def envs_list(domain: Optional[str] = typer.Option(None, help="Only this domain (math, science, code).")) -> None:
    """Print a table of every registered env."""
    table = Table(title="distil-envs environments")
    for column in ("id", "domain", "source", "feedback kinds", "size"):
        # ids stay on one line so they can be copied (and found) whole, even in an 80-column terminal
        table.add_column(column, overflow="fold", no_wrap=column == "id", min_width=26 if column == "id" else None)
    for env_id in distil_envs.env_ids():
        info = distil_envs.describe(env_id)
        if domain and info.domain != domain:
            continue
        table.add_row(info.env_id, info.domain, info.source, ", ".join(info.feedback_kinds), info.size)
    console.print(table)


def _make(env_id: str, feedback: str, **kwargs: object):
    env = distil_envs.make(env_id, feedback=feedback, **{k: v for k, v in kwargs.items() if v is not None})
    return env


@envs_app.command("show")
def envs_show(env_id: str, seed: int = typer.Option(0, help="Seed of the task."),
              difficulty: Optional[int] = typer.Option(None, help="Difficulty level, for procedural families."),
              path: Optional[str] = typer.Option(None, help="Local data file, for dataset-backed envs.")) -> None:
    """Print a task and its reference (feedback level `correction`)."""
    env = _make(env_id, FeedbackLevel.CORRECTION.value, difficulty=difficulty, path=path)
    prompt, info = env.reset(seed=seed)
    task = env.unwrapped.task
    console.rule(f"{env_id}  seed={seed}  task={info['task_id']}")
    console.print(prompt, markup=False)
    console.rule("reference")
    console.print(task.correction, markup=False)
    console.rule("metadata")
    console.print(dict(task.metadata), markup=False)


@envs_app.command("play")
def envs_play(env_id: str, seed: int = typer.Option(0, help="Seed of the task."),
              feedback: str = typer.Option("diagnostic", help="binary, diagnostic or correction."),
              attempts: int = typer.Option(3, help="Attempts before the episode ends."),
              difficulty: Optional[int] = typer.Option(None, help="Difficulty level, for procedural families."),
              path: Optional[str] = typer.Option(None, help="Local data file, for dataset-backed envs.")) -> None:
    """Type answers and see the feedback, attempt by attempt. End an answer with an empty line."""
    env = _make(env_id, feedback, max_attempts=attempts, difficulty=difficulty, path=path)
    prompt, _ = env.reset(seed=seed)
    console.print(prompt, markup=False)
    terminated = False
    while not terminated:
        console.print(f"\n[bold]Your answer[/bold] (attempt {env.unwrapped.attempt + 1}/{attempts}; "
                      "finish with an empty line, Ctrl-D to quit):")
        lines = []
        for line in sys.stdin:
            if not line.strip() and lines:
                break
            lines.append(line.rstrip("\n"))
        else:
            if not lines:
                console.print("bye")
                return
        message, reward, terminated, _, info = env.step("\n".join(lines))
        style = "green" if info["correct"] else "red"
        console.print(f"[{style}]{info['feedback']['kind']}  reward={reward:g}[/{style}]")
        console.print(message, markup=False)


@app.command("demo")
def demo(seeds: int = typer.Option(20, help="Held-out seeds per env."),
         domain: Optional[str] = typer.Option(None, help="Only this domain.")) -> None:
    """Evaluate the built-in baseline policies (reference answers, random text) over the procedural suites."""
    import numpy as np

    table = Table(title=f"baseline policies, {seeds} held-out seeds per env (avg score)")
    for column in ("env", "reference", "random"):
        table.add_column(column)
    rng = np.random.default_rng(0)
    for env_id in distil_envs.env_ids():
        info = distil_envs.describe(env_id)
        if info.source != "procedural" or (domain and info.domain != domain):
            continue
        env = distil_envs.make(env_id).unwrapped
        scores = {"reference": [], "random": []}
        for seed in range(10**9, 10**9 + seeds):
            env.reset(seed=seed)
            scores["reference"].append(env.evaluate(env.reference_completion(env.task)).score)
            junk = "".join(chr(int(c)) for c in rng.integers(32, 127, size=40))
            scores["random"].append(env.evaluate(junk).score)
        table.add_row(env_id, *(f"{np.mean(v):.2f}" for v in scores.values()))
    console.print(table)


def _load_plugins() -> None:
    for entry in entry_points(group="distil.commands"):
        try:
            entry.load()(app)
        except ImportError as error:  # an optional part not installed: its commands are absent
            print(f"note: `distil` commands from {entry.value} are unavailable: {error}", file=sys.stderr)


def main() -> None:
    _load_plugins()
    try:
        app()
    except DistilError as error:
        console.print(f"[red]error:[/red] {error}")
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
