"""`python -m agents.train ...` (the same options as `distil train`), the entry for torchrun:

    torchrun --nproc_per_node 2 -m agents.train --algo distil --env distil/math-arithmetic-v0 --device cpu
"""

from __future__ import annotations

import typer

from agents.cli import train_command


def main() -> None:
    app = typer.Typer(add_completion=False)
    app.command()(train_command())
    app()


if __name__ == "__main__":
    main()
