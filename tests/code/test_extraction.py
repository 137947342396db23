"""Code extraction: one table of completion shapes and what must come out of them."""

import pytest

from distil_envs.code.extraction import defines_function, extract_code

F = "```"
CASES = [
    # (name, completion, expected program or None)
    ("python block", f"Here you go:\n{F}python\ndef f(x):\n    return x\n{F}\nDone.", "def f(x):\n    return x"),
    ("py tag", f"{F}py\nprint(1)\n{F}", "print(1)"),
    ("last python block wins", f"{F}python\ndef f(): return 1\n{F}\nBetter:\n{F}python\ndef f(): return 2\n{F}",
     "def f(): return 2"),
    ("python tag preferred over a later untagged block",
     f"{F}python\ndef f(): return 1\n{F}\nOutput:\n{F}\n1\n{F}", "def f(): return 1"),
    ("untagged block", f"{F}\nx = 1\nprint(x)\n{F}", "x = 1\nprint(x)"),
    ("tilde fence", "~~~python\nprint(2)\n~~~", "print(2)"),
    ("indented fence in a list", f"1. Code:\n   {F}python\n   print(3)\n   {F}", "   print(3)"),
    ("truncated fence", f"Sure.\n{F}python\ndef f(x):\n    return x +", "def f(x):\n    return x +"),
    ("complete block preferred over a truncated redraft",
     f"{F}python\ndef f(): return 1\n{F}\nAgain:\n{F}python\ndef f(): re", "def f(): return 1"),
    ("syntax error kept for compile feedback", f"{F}python\ndef f(:\n    pass\n{F}", "def f(:\n    pass"),
    ("bare function", "def f(x):\n    return 2 * x\n", "def f(x):\n    return 2 * x"),
    ("bare code after prose", "The answer is below.\n\ndef f(x):\n    return x\n\nThis works because reasons.",
     "def f(x):\n    return x"),
    ("body continuation keeps its indent", "    return sorted(xs)\n", "    return sorted(xs)\n"),
    ("code after a think block", f"<think>{F}python\ndraft()\n{F}</think>\n{F}python\nfinal()\n{F}", "final()"),
    ("non-python block that is python", f"{F}python3\nprint(4)\n{F}", "print(4)"),
    ("other language parsing as python", f"{F}text\nprint(5)\n{F}", "print(5)"),
    ("only a shell block", f"{F}bash\nls -la /\n{F}", None),
    ("prose", "I am not sure how to solve this.", None),
    ("lone word", "hello", None),
    ("lone number", "42", None),
    ("boxed answer", "\\boxed{0}", None),
    ("empty", "", None),
    ("whitespace", "  \n\t", None),
    ("empty block", f"{F}python\n\n{F}", None),
    ("brackets garbage", "}{" * 1000, None),
    ("signature without a body", "Write\n\n    def f(x: int) -> int:\n\nthat returns x.", None),
]


@pytest.mark.parametrize("name,completion,expected", CASES, ids=[c[0] for c in CASES])
def test_extract_code(name, completion, expected):
    assert extract_code(completion) == expected


def test_huge_bare_text_is_fast_and_none():
    assert extract_code("word " * 40_000 + "\n" + "def f(:\n" * 2000) is None


@pytest.mark.parametrize("code,name,expected", [
    ("def f(x):\n    return x", "f", True),
    ("class Solution:\n    def f(self, x):\n        return x", "f", True),
    ("def g(x):\n    def f(y): return y\n    return f", "f", False),
    ("    return x", "f", False),
    ("def f(:\n", "f", True),  # unparseable: a regex decides
])
def test_defines_function(code, name, expected):
    assert defines_function(code, name) is expected
