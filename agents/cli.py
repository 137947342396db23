"""`distil train`, `distil sft`, `distil plot`: registered on the `distil` app by entry point.

The options of `train` and `sft` are generated from the config dataclasses' fields (name,
type, help text), so the CLI, TOML files and Python share one definition. Every option
defaults to "not given": with `--config run.toml` the file's values stay unless an option
overrides them.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any, Callable, Optional

import typer


def _options(cls: type, rename: dict[str, str]) -> list[inspect.Parameter]:
    """One typer option per dataclass field; all default to None (= not given)."""
    hints = typing.get_type_hints(cls)
    params = []
    for f in dataclasses.fields(cls):
        kind = hints[f.name]
        flag = "--" + rename.get(f.name, f.name).replace("_", "-")
        help_text = f.metadata.get("help", "")
        if kind is bool:
            option = typer.Option(None, f"{flag}/--no-{flag[2:]}", help=help_text, show_default=False)
            annotation = Optional[bool]
        elif typing.get_origin(kind) is list:
            option = typer.Option(None, flag, help=help_text + " (repeatable)", show_default=False)
            annotation = Optional[list[str]]
        else:
            option = typer.Option(None, flag, help=f"{help_text} [default: {f.default}]", show_default=False)
            annotation = Optional[kind]
        params.append(inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=option,
                                        annotation=annotation))
    return params


def _with_signature(func: Callable, params: list[inspect.Parameter]) -> Callable:
    func.__signature__ = inspect.Signature(params)  # typer reads options from the signature
    return func


def _fail(error: Exception) -> None:
    typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


def train_config_from_options(values: dict[str, Any]):
    """A validated TrainConfig from CLI values (None = not given) and an optional --config TOML."""
    from agents.config import TrainConfig

    config = values.pop("config", None)
    values.pop("nproc", None)
    given = {k: v for k, v in values.items() if v is not None and v != []}
    cfg = TrainConfig.from_toml(config, **given) if config else TrainConfig.from_dict(given)
    return cfg.resolved().validate()


def _train(**values: Any) -> None:
    from distil_envs.errors import DistilError

    nproc = values.get("nproc") or 1
    try:
        cfg = train_config_from_options(dict(values))
    except (ValueError, DistilError) as error:
        _fail(error)
    if nproc > 1 and "LOCAL_RANK" not in os.environ:
        argv = _strip_nproc(sys.argv[2:])  # `distil train ...` -> the same options under torchrun
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
                   "-m", "agents.train", *argv]
        raise typer.Exit(subprocess.call(command))
    from agents.trainer import train

    run_dir = train(cfg)
    if int(os.environ.get("RANK", "0")) == 0:
        typer.echo(f"run: {run_dir}\nfinal model: {run_dir / 'final'}\nplot: distil plot {run_dir}")


def _strip_nproc(argv: list[str]) -> list[str]:
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--nproc":
            skip = True
        elif not arg.startswith("--nproc="):
            out.append(arg)
    return out


def train_command() -> Callable:
    from agents.config import TrainConfig

    params = _options(TrainConfig, {"envs": "env"})
    params.append(inspect.Parameter("config", inspect.Parameter.KEYWORD_ONLY, annotation=Optional[Path],
                                    default=typer.Option(None, "--config", help="TOML file of TrainConfig fields")))
    params.append(inspect.Parameter("nproc", inspect.Parameter.KEYWORD_ONLY, annotation=Optional[int],
                                    default=typer.Option(None, "--nproc", help="processes (launches torchrun)")))

    def train(**values: Any) -> None:
        """Train a policy on feedback envs (distil | ce_local | sdpo | opsd | grpo); writes a run directory."""
        _train(**values)

    return _with_signature(train, params)


def sft_command() -> Callable:
    from agents.sft import SFTConfig

    def sft(**values: Any) -> None:
        """Warm-start a model on reference solutions and teacher contexts; prints the model directory."""
        from agents.sft import warm_start
        from distil_envs.errors import DistilError

        given = {k: v for k, v in values.items() if v is not None and v != []}
        try:
            cfg = SFTConfig(**given).validate()
        except (ValueError, DistilError) as error:
            _fail(error)
        typer.echo(str(warm_start(cfg, log=lambda line: typer.echo(line, err=True))))

    return _with_signature(sft, _options(SFTConfig, {"envs": "env"}))


def plot(run_dir: Path = typer.Argument(..., help="a run directory of `distil train`"),
         out: Optional[Path] = typer.Option(None, help="PNG path (default RUN_DIR/curves.png)")) -> None:
    """Draw reward, losses and held-out accuracy of a run to a PNG."""
    from agents.plot import plot_run

    try:
        typer.echo(str(plot_run(run_dir, out)))
    except (FileNotFoundError, ValueError) as error:
        _fail(error)


def register(app: typer.Typer) -> None:
    app.command("train")(train_command())
    app.command("sft")(sft_command())
    app.command("plot")(plot)
