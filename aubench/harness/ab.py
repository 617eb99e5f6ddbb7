"""``aubench ab``: is configuration B faster than A, and what does it cost in parity?

Both arms run in the same job, interleaved (A B A B ...), so a slow drift of the
machine hits both alike; one warm-up run of each comes first and is reported
apart (model loading, JIT compilation, caches). Each pair gives one time ratio
B/A of the mean ms/frame (every frame after the first: periodic work counts); the verdict comes from
:func:`aubench.harness.stats.compare_ratios` (significant **and** beyond
the minimum effect). Parity of each arm against the C++ reference stands
beside the speed.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from aubench.harness import parity, results, stats
from aubench.harness import workload as workload_mod
from aubench.pipeline import config as config_mod


def arm_summary(outcomes: list[workload_mod.RunOutcome]) -> dict[str, Any]:
    per_run = [workload_mod.timing_section(o, per_frame=False)["ms_per_frame_mean"] for o in outcomes]
    return {"ms_per_frame_runs": per_run, "ms_per_frame": stats.summary(per_run)}


def run_ab(config_a: config_mod.Config, config_b: config_mod.Config, input_path: Path, pairs: int = 5,
           frames: int | None = None, landmarks_from: Path | None = None, reference: Path | None = None,
           min_effect: float = stats.DEFAULT_MIN_EFFECT, progress: bool = True) -> dict[str, Any]:
    """Interleaved A/B runs; returns the ``ab`` result document."""
    if pairs < 1:
        raise ValueError("pairs must be at least 1")
    wl_a = workload_mod.Workload(Path(input_path), config_a, frames, landmarks_from)
    wl_b = replace(wl_a, config=config_b)
    label_a, label_b = f"A {config_a.name}", f"B {config_b.name}"
    doc = results.new_result("ab", config_b, wl_a.describe(), label=f"{config_a.name} vs {config_b.name}")
    doc["config_a"] = results.config_section(config_a)
    doc["variants_a"] = results.variant_hashes(config_a.variant_selection)
    doc["config_b"] = doc["config"]
    bar = workload_mod.run_bar(2 * pairs + 2, "ab", enabled=progress)
    with bar, tempfile.TemporaryDirectory(prefix="aubench-ab-") as tmp:
        out_a, out_b = Path(tmp, "a"), Path(tmp, "b")
        warm = {}
        for label, wl, out in ((label_a, wl_a, out_a), (label_b, wl_b, out_b)):
            o = workload_mod.run(wl, out, progress=False)
            warm[label[0]] = {"wall_s": o.wall_s, "first_frame_ms": o.timer.frame_ms[0] if o.frames else None,
                              "ms_per_frame": workload_mod.timing_section(o, per_frame=False)["ms_per_frame_mean"]}
            workload_mod.run_done(bar, f"warm-up {label}", o)
        runs_a, runs_b = [], []
        for i in range(pairs):
            for label, wl, out, bucket in ((label_a, wl_a, out_a, runs_a), (label_b, wl_b, out_b, runs_b)):
                o = workload_mod.run(wl, out, progress=False)
                bucket.append(o)
                workload_mod.run_done(bar, f"pair {i + 1} {label}", o)
        ms_a = [workload_mod.timing_section(o, per_frame=False)["ms_per_frame_mean"] for o in runs_a]
        ms_b = [workload_mod.timing_section(o, per_frame=False)["ms_per_frame_mean"] for o in runs_b]
        ratios = [b / a for a, b in zip(ms_a, ms_b)]
        # process CPU time beside wall time: on a loaded machine it shows whether a change is in the work done
        cpu_a = [workload_mod.timing_section(o, per_frame=False)["cpu_ms_per_frame"] for o in runs_a]
        cpu_b = [workload_mod.timing_section(o, per_frame=False)["cpu_ms_per_frame"] for o in runs_b]
        cpu_ratios = [b / a for a, b in zip(cpu_a, cpu_b)]
        cpu_comparison = stats.compare_ratios(cpu_ratios, min_effect=min_effect)
        results.record_stages(doc, runs_b[-1].extra["stages_ran"])
        comparison = stats.compare_ratios(ratios, min_effect=min_effect)
        doc["ab"] = {
            "pairs": pairs, "order": "A B interleaved, one warm-up run of each first",
            "warmup": warm,
            "a": {"label": config_a.name, "config_hash": doc["config_a"]["hash"], **arm_summary(runs_a),
                  "timing": workload_mod.timing_section(runs_a[-1])},
            "b": {"label": config_b.name, "config_hash": doc["config_b"]["hash"], **arm_summary(runs_b),
                  "timing": workload_mod.timing_section(runs_b[-1])},
            "ratios": ratios,
            "comparison": comparison.as_dict(),
            "summary": comparison.describe(config_a.name, config_b.name),
            "cpu_ratios": cpu_ratios,
            "cpu_comparison": cpu_comparison.as_dict(),
            "cpu_summary": "process CPU time: " + cpu_comparison.describe(config_a.name, config_b.name),
        }
        reference = reference or parity.find_reference(input_path)
        if reference is not None:
            doc["ab"]["reference"] = str(reference)
            doc["ab"]["a"]["parity"] = parity.parity_section(runs_a[-1].csv, reference, config_a.parity)
            doc["ab"]["b"]["parity"] = parity.parity_section(runs_b[-1].csv, reference, config_b.parity)
    # The document's own "timing" is arm B's (the candidate), so reports can place it in a phase table.
    doc["timing"] = doc["ab"]["b"]["timing"]
    if "parity" in doc["ab"]["b"]:
        doc["parity"] = doc["ab"]["b"]["parity"]
    return doc


def format_ab(doc: dict[str, Any]) -> str:
    ab = doc["ab"]
    lines = [f"{'arm':<4}{'config':<20}{'mean ms/frame (median of runs)':>32}{'runs':>6}{'parity':>10}"]
    for arm in ("a", "b"):
        s = ab[arm]
        p = s.get("parity")
        ptxt = "-" if p is None else ("PASS" if p["passed"] else
                                      f"{sum(not c['passed'] for c in p['checks'])} FAIL")
        lines.append(f"{arm.upper():<4}{s['label']:<20}{s['ms_per_frame'].get('median', float('nan')):>32.2f}"
                     f"{s['ms_per_frame'].get('n', 0):>6}{ptxt:>10}")
    w = ab["warmup"]
    lines.append("warm-up (apart): " + ", ".join(f"{k} first frame {v['first_frame_ms']:.0f} ms, {v['wall_s']:.2f} s"
                                                 for k, v in w.items() if v.get("first_frame_ms") is not None))
    lines.append("per-pair B/A ratios: " + ", ".join(f"{r:.3f}" for r in ab["ratios"]))
    lines.append(ab["summary"])
    if "cpu_summary" in ab:
        lines.append(ab["cpu_summary"])
    return "\n".join(lines)
