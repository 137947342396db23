"""`make demo` end to end, with the warm start replaced by the untrained tiny model (the real
warm start takes minutes and is covered by test_sft.py)."""

import json


def test_demo_prints_before_and_after_with_the_run_and_plot(tmp_path, tiny_path, monkeypatch, capsys):
    import agents.sft
    from agents import demo

    monkeypatch.setattr(agents.sft, "warm_start", lambda cfg, log=print: tiny_path)
    out = tmp_path / "demo"
    demo.main(["--steps", "2", "--eval-tasks", "3", "--out-dir", str(out)])
    printed = capsys.readouterr().out
    assert "self-teacher (correction feedback), distil/math-linear-v0" in printed
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    before, after = rows[0], rows[-1]
    table = [line.split() for line in printed.splitlines() if line.strip().startswith(("avg@4", "pass@4"))]
    assert table == [["avg@4", f"{before['eval/avg@4']:.3f}", f"{after['eval/avg@4']:.3f}"],
                     ["pass@4", f"{before['eval/pass@4']:.3f}", f"{after['eval/pass@4']:.3f}"]]
    assert f"plot: {out / 'curves.png'}" in printed and (out / "curves.png").exists()
    assert (out / "final" / "config.json").exists()
    assert json.loads((out / "config.json").read_text())["feedback"] == "correction"
