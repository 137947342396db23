"""The static leaderboard page in headless Chromium: loads cleanly, one row per run, sorting works."""

from __future__ import annotations

import json
import os

import pytest

from lb_cdp import Browser, find_chromium
from leaderboard.render import render_site

CHROMIUM = find_chromium()
needs_chromium = pytest.mark.skipif(CHROMIUM is None and os.environ.get("CI") != "true",
                                    reason="chromium is not installed (apt-get install chromium)")


def fake_summary(run: str, overall: float, math: float) -> dict:
    cell = lambda m: {"mean": m, "ci": [max(m - 0.1, 0), min(m + 0.1, 1)]}  # noqa: E731
    block = lambda m: {"tasks": 4, "samples": 16, "avg@4": cell(m), "pass@1": cell(m), "pass@4": cell(min(1, m + .2))}  # noqa: E731
    return {"run": run, "model": f"model-{run}", "algorithm": "distil",
            "suite": {"name": "quick", "version": 1, "envs": []},
            "config": {"ks": [1, 4], "n": 4, "attempts": 1},
            "metrics": {"overall": block(overall), "domains": {"math": block(math), "science": block(overall)},
                        "envs": {}},
            "num_samples": 16}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    runs = []
    for run, overall, math in (("alpha", 0.30, 0.9), ("beta", 0.80, 0.1), ("gamma", 0.55, 0.5)):
        (root / run).mkdir()
        (root / run / "summary.json").write_text(json.dumps(fake_summary(run, overall, math)))
        runs.append(root / run)
    out = root / "site"
    render_site(runs, out)
    return out


@needs_chromium
def test_page_loads_without_errors_and_sorts(site):
    browser = Browser(CHROMIUM)
    try:
        browser.call("Runtime.enable")
        browser.call("Log.enable")
        browser.call("Page.enable")
        browser.call("Page.navigate", url=(site / "index.html").as_uri())
        browser.wait_for("Page.loadEventFired")
        runs = lambda: browser.evaluate(  # noqa: E731
            "Array.from(document.querySelectorAll('#runs tbody tr.run')).map(r => r.dataset.run)")
        assert browser.errors() == []
        assert sorted(runs()) == ["alpha", "beta", "gamma"]  # one row per run
        assert browser.evaluate("document.querySelectorAll('tr.published').length") > 0
        assert "published, not reproduced here" in browser.evaluate("document.body.innerText")
        assert browser.evaluate("document.querySelectorAll('.plots img').length") == 2

        overall = "document.querySelector('#runs th[data-key=overall]')"
        browser.evaluate(f"{overall}.click()")  # first click: descending
        assert runs() == ["beta", "gamma", "alpha"]
        browser.evaluate(f"{overall}.click()")  # second click: ascending
        assert runs() == ["alpha", "gamma", "beta"]
        browser.evaluate("document.querySelector('#runs th[data-key=math]').click()")
        assert runs() == ["alpha", "gamma", "beta"]  # math descending: 0.9, 0.5, 0.1
        browser.evaluate("document.querySelector('#runs th[data-key=run]').click()")
        assert runs() == ["gamma", "beta", "alpha"]  # text descending

        # The URL hash sorts on load (for links and for --dump-dom).
        browser.events.clear()
        browser.call("Page.navigate", url=(site / "index.html").as_uri() + "?v=2#sort=overall&dir=asc")
        browser.wait_for("Page.loadEventFired")
        assert browser.evaluate("document.body.dataset.sortedBy") == "overall:asc"
        assert runs() == ["alpha", "gamma", "beta"]
        assert browser.errors() == []

        # The error check itself can fail: a console error is seen.
        browser.evaluate("console.error('probe')")
        browser.evaluate("1")
        assert any("probe" in e for e in browser.errors())
    finally:
        browser.close()
