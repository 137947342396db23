"""Finding the final answer in a completion.

Shared by every suite: the last `\\boxed{...}` (nested braces allowed), else an
"Answer: ..." line. Checking (numbers, symbolic math) is built on top of these.
"""

from __future__ import annotations

import re

_ANSWER_LINE = re.compile(r"(?im)^\s*(?:\*\*)?(?:final\s+)?answer\s*(?:is)?\s*(?:\*\*)?\s*[:=]\s*(?:\*\*)?\s*(.+?)\s*$")


def extract_boxed(text: str) -> str | None:
    """Content of the last complete `\\boxed{...}` (or `\\fbox{...}`), braces balanced; None if absent."""
    best = None
    for match in re.finditer(r"\\(?:boxed|fbox)\s*\{", text):
        depth, start = 1, match.end()
        for i in range(start, len(text)):
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
                if depth == 0:
                    best = text[start:i]
                    break
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
