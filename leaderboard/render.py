"""`distil leaderboard`: run summaries -> leaderboard.json, leaderboard.md, index.html.

The page is one self-contained file (inline CSS, JS and plots; no CDN, works from
file://): a sortable table with one row per run (click a header; `#sort=KEY&dir=asc`
in the URL sorts on load), the plots (pass@k against k, per-domain score with 95%
bootstrap intervals; matplotlib PNGs inlined as base64), and the paper's published
numbers from `published.json`, marked as published, not reproduced here.
"""

from __future__ import annotations

import base64
import html
import io
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from leaderboard.store import atomic_write_json, atomic_write_text

DOMAINS = ("math", "science", "code")
PUBLISHED = Path(__file__).with_name("published.json")


def load_summaries(paths: Iterable[str | Path]) -> list[dict[str, Any]]:
    """Summaries of the given run directories (or summary.json files), in the given order."""
    summaries = []
    for path in paths:
        path = Path(path)
        file = path / "summary.json" if path.is_dir() else path
        if not file.is_file():
            raise FileNotFoundError(f"{path}: no summary.json; finish the run with `distil eval --out {path}` first")
        summaries.append(json.loads(file.read_text(encoding="utf-8")))
    return summaries


def headline_metric(summary: Mapping[str, Any]) -> str:
    return f"avg@{max(summary['config']['ks'])}"


def _cell(block: Mapping[str, Any] | None, metric: str) -> dict[str, Any] | None:
    if not block or metric not in block:
        return None
    return {"mean": block[metric]["mean"], "ci": block[metric]["ci"], "tasks": block.get("tasks")}


def run_row(summary: Mapping[str, Any], metric: str | None = None) -> dict[str, Any]:
    """One leaderboard row: headline metric per domain and overall, plus the pass@k curve."""
    metric = metric or headline_metric(summary)
    metrics = summary["metrics"]
    ks = sorted(summary["config"]["ks"])
    row = {
        "run": summary.get("run", ""), "model": summary.get("model", ""), "algorithm": summary.get("algorithm", ""),
        "suite": f"{summary['suite']['name']} v{summary['suite']['version']}", "n": summary["config"]["n"],
        "attempts": summary["config"].get("attempts", 1), "metric": metric,
        "overall": _cell(metrics["overall"], metric),
        "domains": {d: _cell(metrics["domains"].get(d), metric) for d in DOMAINS},
        "pass_at_k": {str(k): metrics["overall"][f"pass@{k}"]["mean"] for k in ks if f"pass@{k}" in metrics["overall"]},
        "samples": summary.get("num_samples", 0),
        # Multi-turn runs (--attempts K): the share of samples solved within j attempts.
        "solved_within": {key.split("@")[1]: value["mean"] for key, value in metrics["overall"].items()
                          if key.startswith("solved@")},
    }
    code = metrics["domains"].get("code")
    row["code_accuracy"] = _cell(code, "accuracy")
    return row


def headline(summary: Mapping[str, Any]) -> str:
    """A one-paragraph text summary for the terminal."""
    row = run_row(summary)
    parts = [f"{row['run']}: {row['metric']} overall {_fmt(row['overall'])}"]
    parts += [f"{d} {_fmt(c)}" for d, c in row["domains"].items() if c]
    parts += [f"pass@{k} {v:.3f}" for k, v in row["pass_at_k"].items()]
    return ", ".join(parts)


def _fmt(cell: Mapping[str, Any] | None, digits: int = 3) -> str:
    if not cell:
        return "–"
    low, high = cell["ci"]
    return f"{cell['mean']:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def published_rows() -> dict[str, Any]:
    return json.loads(PUBLISHED.read_text(encoding="utf-8"))


def to_markdown(rows: Sequence[Mapping[str, Any]], published: Mapping[str, Any]) -> str:
    lines = ["# distil-envs leaderboard", "",
             "Mean over tasks with 95% bootstrap confidence intervals (tasks resampled). Code is scored by "
             "`score` (all tests pass); `code acc.` is the fraction of tests passed.", "",
             "| run | model | algorithm | suite | metric | math | science | code | code acc. | overall |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        d = r["domains"]
        lines.append(f"| {r['run']} | {r['model']} | {r['algorithm'] or '–'} | {r['suite']} | {r['metric']} | "
                     f"{_fmt(d['math'])} | {_fmt(d['science'])} | {_fmt(d['code'])} | {_fmt(r['code_accuracy'])} | "
                     f"{_fmt(r['overall'])} |")
    lines += ["", "## Published in the paper (not reproduced here)", "", published["note"], "",
              "| model | method | benchmark | metric | setting | value (%) |", "| --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {p['model']} | {p['method']} | {p['benchmark']} | {p['metric']} | {p['setting']} | {p['value']:.1f} |"
              for p in published["rows"]]
    lines += ["", f"Source: {published['source']}.", ""]
    return "\n".join(lines)


# ---------------------------------------------------------------------------- plots
def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def plots(rows: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """{"pass_at_k": data URI, "domains": data URI}; empty when matplotlib is missing."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return {}
    out = {}
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for r in rows:
        ks = sorted(int(k) for k in r["pass_at_k"])
        if ks:
            ax.plot(ks, [r["pass_at_k"][str(k)] for k in ks], marker="o", label=r["run"])
    ax.set_xscale("log", base=2)
    all_ks = sorted({int(k) for r in rows for k in r["pass_at_k"]})
    if all_ks:
        ax.set_xticks(all_ks, [str(k) for k in all_ks])
        ax.minorticks_off()
    ax.set_xlabel("k")
    ax.set_ylabel("pass@k (overall)")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("pass@k against k")
    out["pass_at_k"] = _png(fig)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 3.6))
    width = 0.8 / max(len(rows), 1)
    for i, r in enumerate(rows):
        xs, means, errs = [], [], [[], []]
        for j, d in enumerate(DOMAINS):
            cell = r["domains"].get(d)
            if cell:
                xs.append(j + (i - (len(rows) - 1) / 2) * width)
                means.append(cell["mean"])
                errs[0].append(max(cell["mean"] - cell["ci"][0], 0))
                errs[1].append(max(cell["ci"][1] - cell["mean"], 0))
        ax.bar(xs, means, width=width, yerr=errs, capsize=3, label=r["run"])
    ax.set_xticks(range(len(DOMAINS)), DOMAINS)
    ax.set_ylabel(rows[0]["metric"] if rows else "score")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=8)
    ax.set_title("per-domain score (95% bootstrap CI)")
    out["domains"] = _png(fig)
    plt.close(fig)
    return out


# ---------------------------------------------------------------------------- HTML
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#1d2433;background:#fafbfc}
h1{margin-bottom:.2rem}p.note{color:#5a6270;max-width:60rem}
table{border-collapse:collapse;margin:1rem 0;background:#fff;box-shadow:0 1px 3px rgba(0,0,0,.08)}
th,td{padding:.45rem .7rem;border-bottom:1px solid #e4e7eb;text-align:left;font-size:.9rem;white-space:nowrap}
th{background:#eef1f5;position:sticky;top:0}
table.sortable th{cursor:pointer;user-select:none}table.sortable th:hover{background:#dde3ea}
th.asc::after{content:" \\25B2"}th.desc::after{content:" \\25BC"}
td.num{text-align:right;font-variant-numeric:tabular-nums}td .ci{color:#8a919c;font-size:.8rem}
tr.published td{color:#5a4a00;background:#fffbe6}
.badge{display:inline-block;padding:.1rem .4rem;border-radius:.3rem;background:#f0c000;color:#3a3000;font-size:.75rem;font-weight:600}
.plots img{max-width:48%;margin-right:1%;border:1px solid #e4e7eb;background:#fff}
"""

_JS = """
(function(){
  function sortTable(table, key, dir){
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var col = -1, ths = table.tHead.rows[0].cells;
    for (var i = 0; i < ths.length; i++){ ths[i].classList.remove('asc','desc'); if (ths[i].dataset.key === key) col = i; }
    if (col < 0) return;
    ths[col].classList.add(dir);
    var numeric = ths[col].dataset.type === 'num';
    rows.sort(function(a, b){
      var x = a.cells[col].dataset.value, y = b.cells[col].dataset.value;
      if (numeric){ x = x === '' ? -Infinity : parseFloat(x); y = y === '' ? -Infinity : parseFloat(y); }
      var c = x < y ? -1 : x > y ? 1 : 0;
      return dir === 'asc' ? c : -c;
    });
    rows.forEach(function(r){ body.appendChild(r); });
    document.body.dataset.sortedBy = key + ':' + dir;
  }
  var table = document.getElementById('runs');
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function(th){
    th.addEventListener('click', function(){
      var dir = th.classList.contains('desc') ? 'asc' : 'desc';
      sortTable(table, th.dataset.key, dir);
    });
  });
  var params = new URLSearchParams(location.hash.replace(/^#/, ''));
  if (params.get('sort')) sortTable(table, params.get('sort'), params.get('dir') === 'asc' ? 'asc' : 'desc');
  window.sortRuns = function(key, dir){ sortTable(table, key, dir); };
})();
"""


def _td(cell: Mapping[str, Any] | None) -> str:
    if not cell:
        return '<td class="num" data-value="">–</td>'
    low, high = cell["ci"]
    return (f'<td class="num" data-value="{cell["mean"]:.6f}">{cell["mean"]:.3f} '
            f'<span class="ci">[{low:.3f}, {high:.3f}]</span></td>')


def _text_td(value: Any) -> str:
    text = html.escape(str(value))
    return f'<td data-value="{text}">{text}</td>'


def to_html(rows: Sequence[Mapping[str, Any]], published: Mapping[str, Any], images: Mapping[str, str],
            generated: str) -> str:
    headers = [("run", "run", "text"), ("model", "model", "text"), ("algorithm", "algorithm", "text"),
               ("suite", "suite", "text"), ("metric", "metric", "text"), ("math", "math", "num"),
               ("science", "science", "num"), ("code", "code (score)", "num"),
               ("code_accuracy", "code accuracy", "num"), ("overall", "overall", "num")]
    head = "".join(f'<th data-key="{k}" data-type="{t}">{html.escape(label)}</th>' for k, label, t in headers)
    body = []
    for r in rows:
        cells = [_text_td(r["run"]), _text_td(r["model"]), _text_td(r["algorithm"] or "–"), _text_td(r["suite"]),
                 _text_td(r["metric"]), _td(r["domains"]["math"]), _td(r["domains"]["science"]),
                 _td(r["domains"]["code"]), _td(r["code_accuracy"]), _td(r["overall"])]
        body.append(f'<tr class="run" data-run="{html.escape(r["run"])}">{"".join(cells)}</tr>')
    pub = "".join(
        f'<tr class="published"><td><span class="badge">published, not reproduced here</span></td>'
        f"<td>{html.escape(p['model'])}</td><td>{html.escape(p['method'])}</td><td>{html.escape(p['benchmark'])}</td>"
        f"<td>{html.escape(p['metric'])}</td><td>{html.escape(p['setting'])}</td>"
        f'<td class="num">{p["value"]:.1f}</td></tr>' for p in published["rows"])
    figures = "".join(f'<img alt="{html.escape(name)}" src="{uri}">' for name, uri in images.items()) \
        or "<p class='note'>Plots need matplotlib (pip install 'distil-envs[plot]').</p>"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>distil-envs leaderboard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,"><style>{_CSS}</style></head>
<body>
<h1>distil-envs leaderboard</h1>
<p class="note">Generated {html.escape(generated)}. Each cell: mean over tasks of the run's headline metric,
with a 95% bootstrap interval (tasks resampled). Code is scored by <b>score</b> (all tests pass);
<b>code accuracy</b> is the fraction of tests passed. Click a header to sort.</p>
<table id="runs" class="sortable"><thead><tr>{head}</tr></thead><tbody>
{"".join(body)}
</tbody></table>
<h2>Plots</h2><div class="plots">{figures}</div>
<h2>Published in the paper <span class="badge">published, not reproduced here</span></h2>
<p class="note">{html.escape(published["note"])}<br>Source: {html.escape(published["source"])}.</p>
<table id="published"><thead><tr><th>status</th><th>model</th><th>method</th><th>benchmark</th><th>metric</th>
<th>setting</th><th>value (%)</th></tr></thead><tbody>{pub}</tbody></table>
<script>{_JS}</script>
</body></html>
"""


def render_site(runs: Iterable[str | Path], out: str | Path, *, metric: str | None = None) -> list[Path]:
    """Write leaderboard.json, leaderboard.md and index.html into `out`; returns their paths."""
    out = Path(out)
    summaries = load_summaries(runs)
    rows = [run_row(s, metric) for s in summaries]
    published = published_rows()
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    paths = [out / "leaderboard.json", out / "leaderboard.md", out / "index.html"]
    atomic_write_json(paths[0], {"generated": generated, "runs": rows, "published": published})
    atomic_write_text(paths[1], to_markdown(rows, published))
    atomic_write_text(paths[2], to_html(rows, published, plots(rows), generated))
    return paths
