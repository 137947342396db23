"""Package boundaries (DESIGN.md, Layout): sandbox <- distil_envs <- agents <- leaderboard, no cycles.

- `sandbox` imports only the standard library (and the optional `docker` SDK, lazily);
- `distil_envs` imports neither torch, transformers nor datasets when a module is imported,
  and never `agents` or `leaderboard` (not even inside a function);
- `agents` never imports `leaderboard`.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imports(package: str, *, top_level_only: bool) -> list[tuple[str, int, str]]:
    """(file, line, imported top-level package) for every absolute import in `package`."""
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        nodes = tree.body if top_level_only else ast.walk(tree)
        for node in nodes:
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            found += [(str(path.relative_to(ROOT)), node.lineno, name.split(".")[0]) for name in names]
    return found


def test_sandbox_imports_only_the_standard_library():
    allowed = set(sys.stdlib_module_names) | {"sandbox"}
    bad = [hit for hit in imports("sandbox", top_level_only=False)
           if hit[2] not in allowed and not (hit[2] == "docker" and hit[0] == "sandbox/backends/docker.py")]
    assert bad == []
    docker_top = [hit for hit in imports("sandbox", top_level_only=True) if hit[2] == "docker"]
    assert docker_top == []  # the docker SDK only inside functions


def test_distil_envs_imports_no_heavy_package_and_never_agents_or_leaderboard():
    heavy = {"torch", "transformers", "datasets", "vllm", "ray"}
    assert [hit for hit in imports("distil_envs", top_level_only=True) if hit[2] in heavy] == []
    assert [hit for hit in imports("distil_envs", top_level_only=False) if hit[2] in ("agents", "leaderboard")] == []


def test_agents_never_import_leaderboard():
    assert [hit for hit in imports("agents", top_level_only=False) if hit[2] == "leaderboard"] == []


@pytest.mark.parametrize("module", ["distil_envs", "distil_envs.math", "distil_envs.science", "distil_envs.code",
                                    "distil_envs.cli", "sandbox"])
def test_importing_loads_nothing_heavy(module):
    """Every env module is imported too (through its registered entry point)."""
    code = (f"import sys, json, {module}, distil_envs\n"
            "for env_id in distil_envs.env_ids():\n"
            "    distil_envs.env_class(env_id)\n"
            "print(json.dumps(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    loaded = set(json.loads(out.stdout))
    assert loaded & {"torch", "transformers", "datasets", "vllm", "agents", "leaderboard", "ray", "docker"} == set()
