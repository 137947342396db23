"""Finding the final answer in a completion.

Shared by every suite: the last `\\boxed{...}` (nested braces allowed), else an
"Answer: ..." line. Checking (numbers, symbolic math) is built on top of these.
"""

from __future__ import annotations

import re

_BOXED_OPEN = re.compile(r"\\(?:boxed|fbox)\s*\{")
_BRACE = re.compile(r"[{}]")
_ANSWER_LINE = re.compile(r"(?im)^\s*(?:\*\*)?(?:final\s+)?answer\s*(?:is)?\s*(?:\*\*)?\s*[:=]\s*(?:\*\*)?\s*(.+?)\s*$")


def extract_boxed(text: str) -> str | None:
    """Content of the last complete `\\boxed{...}` (or `\\fbox{...}`), braces balanced; None if absent.

    One pass over the braces (linear time: "\\boxed{" * 5000 must not take seconds)."""
    openers = {match.end() - 1 for match in _BOXED_OPEN.finditer(text)}
    if not openers:
        return None
    stack: list[int] = []
    best_start, best = -1, None
    for match in _BRACE.finditer(text):
        position = match.start()
        if text[position] == "{":
            stack.append(position)
        elif stack:
            opened = stack.pop()
            if opened in openers and opened > best_start:
                best_start, best = opened, text[opened + 1:position]
    return best.strip() if best is not None else None


def extract_answer_line(text: str) -> str | None:
    """The last "Answer: ..." / "Final answer: ..." line's value, or None."""
    matches = _ANSWER_LINE.findall(text)
    return matches[-1].strip().rstrip(".").strip() if matches else None


def extract_final(text: str) -> str | None:
    """The boxed answer, else the answer line, else None."""
    boxed = extract_boxed(text)
    if boxed is not None:
        return boxed
    return extract_answer_line(text)
