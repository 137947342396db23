"""Finding the program in a completion.

Models answer in many shapes: a ```python block after some prose, several blocks
(drafts, then the final one), a block cut off by the token limit, or bare code with
no fence at all (HumanEval-style body continuations included). `extract_code`
returns the program to run, or None when nothing runnable is there; the env turns
None into format-error feedback (`NO_CODE_MESSAGE`).

Order of preference:
1. the last complete block tagged python / py / python3;
2. the last complete untagged block;
3. the content of a final fence that was never closed (a truncated answer);
4. the last complete block in another language that parses as Python;
5. bare code: the whole text if it parses as Python and is more than a lone
   name or constant, else the longest parseable stretch that starts at a
   `def` / `class` / `import` / `from` / `@` line.

Syntax is only used to *find* bare code; a fenced block is returned as written, so a
syntax error in it becomes compile-error feedback with a line number, not a format error.
"""

from __future__ import annotations

import ast
import re
import textwrap
import warnings

NO_CODE_MESSAGE = "no code found: put your solution in a ```python block"

PYTHON_TAGS = frozenset({"python", "py", "python3", "py3", "python 3"})
_FENCE_OPEN = re.compile(r"^[ \t]{0,8}(```+|~~~+)[ \t]*([\w+#. -]*?)[ \t]*(?:\{[^}]*\})?[ \t]*$")
_CODE_START = re.compile(r"^(?:async\s+def|def|class|import|from|@)\b")
# Characters the bare-code search may parse in all: bounds its time on huge completions.
_PARSE_BUDGET = 2_000_000


def _blocks(text: str) -> tuple[list[tuple[str, str]], str | None]:
    """Complete fenced blocks as (language tag, body), and the body of an unclosed final fence."""
    blocks: list[tuple[str, str]] = []
    lines = text.split("\n")
    fence, tag, body = None, "", []  # the open fence's marker, its tag, its lines
    for line in lines:
        if fence is None:
            match = _FENCE_OPEN.match(line)
            if match:
                fence, tag, body = match.group(1), match.group(2).strip().lower(), []
            continue
        stripped = line.strip()
        if stripped.startswith(fence[0] * 3) and stripped.strip(fence[0]) == "" and len(stripped) >= len(fence):
            blocks.append((tag, "\n".join(body)))
            fence = None
        else:
            body.append(line)
    unclosed = "\n".join(body) if fence is not None else None
    return blocks, unclosed


def _parse(code: str) -> ast.Module | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning for odd escapes in prose
            return ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _is_program(code: str) -> bool:
    """Parses as Python and does something: not empty, not a lone name or constant ("hello", "42")."""
    tree = _parse(textwrap.dedent(code))
    if tree is None:
        return False
    return any(not (isinstance(node, ast.Expr) and isinstance(node.value, (ast.Name, ast.Constant)))
               for node in tree.body)


def _bare_code(text: str) -> str | None:
    if _is_program(text):
        # Keep an indented body continuation as written: the env decides where it goes.
        return text if text[:1] in (" ", "\t") else text.strip("\n")
    lines = text.split("\n")
    best, best_end, budget = None, -1, _PARSE_BUDGET
    for start in (i for i, line in enumerate(lines) if _CODE_START.match(line)):
        if start < best_end or budget <= 0:
            continue
        end = len(lines)
        while end > start and budget > 0:
            candidate = "\n".join(lines[start:end]).rstrip()
            budget -= len(candidate)
            error_line = _syntax_error_line(candidate)
            if error_line is None:
                if _is_program(candidate) and (best is None or len(candidate) > len(best)):
                    best, best_end = candidate, end
                break
            # Cut the trailing prose at the line the parser stopped on (or one line, at least).
            end = min(end - 1, start + error_line - 1) if error_line > 1 else end - 1
            while end > start and not lines[end - 1].strip():
                end -= 1
    return best


def _syntax_error_line(code: str) -> int | None:
    """None when `code` parses, else the 1-based line of the syntax error (0 if unknown)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(code)
        return None
    except SyntaxError as error:
        return error.lineno or 0
    except (ValueError, RecursionError, MemoryError):
        return 0


def extract_code(completion: str) -> str | None:
    """The program in `completion`, or None when there is nothing runnable."""
    if not isinstance(completion, str) or not completion.strip():
        return None
    # Reasoning models: code drafted while thinking is not the answer when an answer follows.
    if "</think>" in completion:
        after = completion.rsplit("</think>", 1)[1]
        if after.strip():
            completion = after
    blocks, unclosed = _blocks(completion)
    python = [body for tag, body in blocks if tag in PYTHON_TAGS and body.strip()]
    if python:
        return python[-1].strip("\n")
    untagged = [body for tag, body in blocks if not tag and body.strip()]
    if untagged:
        return untagged[-1].strip("\n")
    if unclosed is not None and unclosed.strip():
        return unclosed.strip("\n")
    other = [body for tag, body in blocks if body.strip() and _is_program(body)]
    if other:
        return other[-1].strip("\n")
    if blocks:
        return None  # only non-Python blocks (shell, text): do not guess from the prose around them
    return _bare_code(completion)


def defines_function(code: str, name: str) -> bool:
    """Whether `code` defines a top-level function `name` (or a class `Solution` with method `name`)."""
    tree = _parse(textwrap.dedent(code))
    if tree is None:
        return re.search(rf"^(?:async\s+)?def\s+{re.escape(name)}\s*\(", code, re.MULTILINE) is not None
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            return True
        if isinstance(node, ast.ClassDef) and node.name == "Solution":
            if any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name for n in node.body):
                return True
    return False
