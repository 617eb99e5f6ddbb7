"""``aubench report RESULTS... -o DIR``: one HTML page and one Markdown file from result JSONs.

The page holds, for whatever the results contain:

- the phase table (the seed report's): each configuration's ms/frame, speedup
  over the baseline (the ``reference`` config, else the first) on the same
  workload, FPS, first frame apart, and its parity verdict;
- stage-breakdown bars (ms/frame per top-level stage);
- parity: per-AU r and MAE bars, our AU intensities against C++'s, landmark
  error over frames, and the failed checks;
- A/B experiments: the median B/A ratio with its bootstrap interval and the
  per-pair ratios; gate verdicts;
- the machine and code each result was measured on.

Plots are PNG files in DIR (the Markdown links them); the HTML embeds the same
PNGs as base64, so the page is one self-contained file.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402

from aubench.harness import results  # noqa: E402


def _fmt(value: Any, spec: str = ".2f", none: str = "-") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return none
    return format(value, spec)


def _workload_id(doc: dict[str, Any]) -> tuple:
    w = doc.get("workload", {})
    return (Path(str(w.get("input", ""))).name, w.get("frames"),
            Path(str(w["landmarks_from"])).name if w.get("landmarks_from") else None)


def _workload_text(doc: dict[str, Any]) -> str:
    name, frames, lm = _workload_id(doc)
    return name + (f", {frames} frames" if frames else "") + (", landmarks from CSV" if lm else "")


def _parity_text(p: dict[str, Any] | None) -> str:
    """A parity verdict in a few words (the details are in the parity section): PASS, or how many checks fail."""
    if not p:
        return "-"
    failed = [c for c in p["checks"] if not c["passed"]]
    if not failed:
        return "PASS"
    if _partial(p) and all(_is_au_check(c["name"]) for c in failed):  # AU checks a partial run cannot pass
        return f"PARTIAL {len(failed)}/{len(p['checks'])}"
    return f"FAIL {len(failed)}/{len(p['checks'])}"


def _partial(p: dict[str, Any]) -> tuple[int, int] | None:
    """(frames of ours, frames of the reference) when ours is a partial clip, else None."""
    fr = p.get("figures", {}).get("frames", {})
    ours, ref = fr.get("ours_rows"), fr.get("reference_rows")
    return (ours, ref) if ours and ref and ours < ref else None


def _is_au_check(name: str) -> bool:
    return name.startswith("AU") and name.rsplit(" ", 1)[-1] in ("r", "MAE", "agreement")


def _failed_text(checks: Sequence[dict[str, Any]], limit: int = 6) -> str:
    bad = [c for c in checks if not c["passed"]]
    shown = [f"{c['name']} {_fmt(c['value'], '.4g')} (needs {c['op']} {_fmt(c['threshold'], '.4g')})" for c in bad[:limit]]
    return "; ".join(shown) + (f"; and {len(bad) - limit} more" if len(bad) > limit else "")


# --------------------------------------------------------------------------- rows

def cpp_runs(docs: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """C++ OpenFace's whole runs measured side by side on this machine, by clip name.

    From the whole-run A/B results with a C++ arm (``aubench ab cpp:BUILD CONFIG CLIP``): the median
    wall seconds of its runs, the frames it wrote and which result it came from. Never a figure from
    another machine: a clip without such a result here has no "vs C++".
    """
    out: dict[str, dict[str, Any]] = {}
    for doc in docs:
        w = doc.get("whole_run")
        if doc.get("kind") == "profile" and w and w.get("kind") == "cpp" and w.get("wall_s", {}).get("median"):
            out[_workload_id(doc)[0]] = {"wall_s": w["wall_s"]["median"], "frames": w.get("frames"),
                                         "source": f"profile {doc['label']}"}
        ab = doc.get("ab") if doc.get("kind") == "ab" else None
        if not ab or ab.get("mode") != "whole_run":
            continue
        for arm in ("a", "b"):
            a = ab[arm]
            if a.get("kind") == "cpp" and a.get("wall_s", {}).get("median"):
                out[_workload_id(doc)[0]] = {"wall_s": a["wall_s"]["median"], "frames": a.get("frames"),
                                             "source": doc["label"]}
    return out


def phase_rows(docs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per measured configuration; speedup against the baseline of the same workload.

    Rows come from profile, A/B and gate results; an A/B experiment's arms get
    its paired speedup estimate, other rows the ratio to the reference row of
    the same workload (parity runs also write HOG and
    aligned faces, so their timings are not the same work); a row without its
    own parity takes that of a parity result of the same config name and workload.
    "vs C++" is given only for whole-clip runs of the whole pipeline, and only from C++ runs measured
    beside them on this machine (:func:`cpp_runs`).
    """
    parity_of = {(d.get("config", {}).get("name"), _workload_id(d)): d["parity"]
                 for d in docs if d["kind"] == "parity" and d.get("parity")}
    cpp_of = cpp_runs(docs)
    rows = []
    for doc in docs:
        arms = []
        if doc["kind"] == "ab":
            for arm in ("a", "b"):
                a = doc["ab"][arm]
                if a.get("timing"):  # a result written before arms had one is shown in the A/B section only
                    arms.append((a["label"], a["timing"], a.get("parity"), f"A/B arm {arm.upper()}"))
        elif doc.get("timing") and doc["kind"] != "parity":
            arms.append((doc.get("config", {}).get("name", doc["label"]), doc["timing"], doc.get("parity"),
                         doc["kind"]))
        for k, (label, timing, par, source) in enumerate(arms):
            wid = _workload_id(doc)
            par = par or parity_of.get((label, wid))
            # an A/B experiment is its own baseline: arm B's speedup is its paired estimate, 1 / median(B/A)
            paired = None if doc["kind"] != "ab" else (1.0 if k == 0 else 1.0 / doc["ab"]["comparison"]["ratio"])
            # a whole-run A/B with C++ as one arm: each arm's "vs C++" is the experiment's own paired estimate
            paired_cpp = None
            if doc["kind"] == "ab" and doc["ab"].get("mode") == "whole_run":
                kinds = [doc["ab"][a].get("kind") for a in ("a", "b")]
                if "cpp" in kinds:
                    r_ba = doc["ab"]["comparison"]["ratio"]  # B/A time
                    mine, other = kinds[k], kinds[1 - k]
                    paired_cpp = 1.0 if mine == "cpp" else ((1.0 / r_ba) if k == 1 else r_ba) if other == "cpp" else None
            rows.append({"label": label, "workload": _workload_text(doc), "wid": wid, "paired": paired,
                         "paired_cpp": paired_cpp,
                         "ms": timing.get("ms_per_frame_mean") or timing.get("ms_per_frame"),
                         "median": timing.get("ms_per_frame"),
                         "fps": timing.get("throughput_fps") or timing.get("fps"),
                         "first": timing.get("first_frame_ms"), "frames": timing.get("frames"),
                         "wall": timing.get("wall_s"), "jit": timing.get("jit_s"),
                         "parity": _parity_text(par), "source": source})
    by_workload: dict[tuple, float] = {}
    alone = [r for r in rows if r["paired"] is None]
    for r in alone:
        if r["label"] == "reference" and r["ms"]:
            by_workload.setdefault(r["wid"], r["ms"])
    for r in alone:
        if r["ms"]:
            by_workload.setdefault(r["wid"], r["ms"])
    first_seen = {}
    for r in rows:
        first_seen.setdefault(r["wid"], len(first_seen))
    rows.sort(key=lambda r: first_seen[r["wid"]])  # rows of one workload together, in the given order
    for r in rows:
        base = by_workload.get(r["wid"])
        r["speedup"] = r["paired"] if r["paired"] is not None else (base / r["ms"] if base and r["ms"] else None)
        whole_pipeline = r["wid"][1] is None and r["wid"][2] is None
        cpp = cpp_of.get(r["wid"][0]) if whole_pipeline else None
        if cpp and cpp.get("frames") not in (None, r["frames"]):
            cpp = None  # not the same work (a run that stopped early)
        # whole runs: C++'s run time over ours; the run's JIT warm-up (Numba compiling or loading its cache) apart
        r["vs_cpp_run"] = cpp["wall_s"] / r["wall"] if cpp and r.get("wall") else None
        if r.get("paired_cpp") is not None:  # measured against C++ in the same pairs: that estimate, not medians
            r["vs_cpp_run"] = r["paired_cpp"]
            r["vs_cpp_run_nojit"] = None  # a whole run's JIT is not measured apart
        jit = r.get("jit") or 0.0
        r["vs_cpp_run_nojit"] = (cpp["wall_s"] / (r["wall"] - jit) if cpp and r.get("wall") and r["wall"] > jit
                                 else None)
        r["vs_cpp_source"] = cpp["source"] if cpp else None
    return rows


def verdict_rows(docs: Sequence[dict[str, Any]]) -> list[list[str]]:
    """The report's first table: per result, its verdict, what it was judged against and what failed."""
    rows = []
    for i, doc in enumerate(docs):
        kind, label = doc["kind"], doc["label"]
        what = f"{i + 1}. {kind} {label} ({_workload_text(doc)})"
        if kind == "gate" and "gate" in doc:
            g = doc["gate"]
            rows.append([what, "PASS" if g.get("passed") else "FAIL",
                         f"baseline {str(g.get('baseline', {}).get('commit', '-'))[:12]}: time ratio significant and "
                         ">= 1.10, instructions/frame +1 %, start-up +3 %, kernels +3 %, parity",
                         "; ".join(g.get("failures", [])) or "-"])
            continue
        if kind == "ab":
            ab = doc["ab"]
            la, lb = ab["a"]["label"], ab["b"]["label"]
            cmp = ab["comparison"]
            word = {"faster": f"B ({lb}) faster", "slower": f"A ({la}) faster"}.get(cmp["verdict"], "no change")
            parity_bits = [f"{arm} {_parity_text(ab[arm.lower()].get('parity'))}" for arm in ("A", "B")
                           if ab[arm.lower()].get("parity")]
            rows.append([what, word, f"significant (95% CI) and beyond {cmp.get('min_effect', 0.05):.0%}; "
                         f"B/A time {_fmt(cmp['ratio'], '.3f')} [{_fmt(cmp['ci_low'], '.3f')}, "
                         f"{_fmt(cmp['ci_high'], '.3f')}]", "; ".join(parity_bits) or "-"])
            continue
        p = doc.get("parity")
        if not p:
            rows.append([what, "-", "timing only (no parity in this result)", "-"])
            continue
        failed = [c for c in p["checks"] if not c["passed"]]
        rule = ("C++'s own cross-CPU spread x " + f"{p['spread']['rule']['factor']:g} + slack" if p.get("spread")
                else "the config's [parity] thresholds")
        partial = _partial(p)
        note = _failed_text(p["checks"]) or "-"
        verdict = "PASS" if not failed else "FAIL"
        if partial and failed and all(_is_au_check(c["name"]) for c in failed):
            verdict = "PARTIAL"
            note = (f"partial run ({partial[0]} of {partial[1]} frames): C++ post-processes AUs over the whole clip, "
                    f"so these AU checks cannot pass on part of it: {note}")
        rows.append([what, verdict, rule, note])
    return rows


# --------------------------------------------------------------------------- plots

class _Plots:
    def __init__(self, out_dir: Path):
        self.out_dir = out_dir
        self.files: list[Path] = []

    def save(self, fig, name: str) -> Path:
        path = self.out_dir / f"{name}.png"
        if not getattr(fig, "laid_out", False):
            fig.tight_layout()
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
        self.files.append(path)
        return path


def _stage_plot(plots: _Plots, docs: Sequence[dict[str, Any]]) -> Path | None:
    entries = []
    for i, doc in enumerate(docs):
        # an A/B result: both arms (each its own timing), else the result's own
        timings = ([(f"arm {a.upper()} {doc['ab'][a]['label']}", doc["ab"][a].get("timing")) for a in ("a", "b")]
                   if doc["kind"] == "ab" else [(doc.get("config", {}).get("name", doc["label"]), doc.get("timing"))])
        for name, t in timings:
            if t and t.get("stages"):
                top = {k: v.get("mean", 0.0) for k, v in t["stages"].items() if "." not in k}
                entries.append((f"{i + 1}. {name} ({doc['kind']})", top,
                                t.get("ms_per_frame_mean") or t.get("ms_per_frame") or 0.0))
    if not entries:
        return None
    stages = sorted({s for _, top, _ in entries for s in top})
    totals = np.array([max(total, sum(top.values())) for _, top, total in entries])
    # two panels: each stage's share of the frame (stacked to 100 %, readable whatever the totals), and the
    # totals themselves on a log axis when they span more than a decade (10 ms beside 400 ms is no sliver)
    fig, (ax, axt) = plt.subplots(1, 2, figsize=(11.5, 0.6 * len(entries) + 1.9), sharey=True,
                                  gridspec_kw={"width_ratios": [3, 2]})
    left = np.zeros(len(entries))
    colors = plt.cm.tab20(np.linspace(0, 1, max(len(stages), 2)))
    for st, c in zip(stages, colors):
        vals = np.array([top.get(st, 0.0) for _, top, _ in entries]) / np.where(totals > 0, totals, 1) * 100
        ax.barh(range(len(entries)), vals, left=left, color=c, label=st)
        left += vals
    ax.barh(range(len(entries)), np.clip(100 - left, 0, None), left=left, color="#dddddd", label="outside any stage")
    ax.set_yticks(range(len(entries)), [e[0] for e in entries])
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("share of the frame's wall time (%)")
    ax.set_title("Where a frame's time goes")
    axt.barh(range(len(entries)), totals, color="#47a")
    for k, v in enumerate(totals):
        axt.text(v, k, f" {v:.1f} ms", va="center", fontsize=8)
    if totals.min() > 0 and totals.max() / totals.min() > 10:
        axt.set_xscale("log")
        axt.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
        axt.set_xlabel("ms per frame (mean, first frame apart; log scale)")
        axt.set_xlim(totals.min() / 2, totals.max() * 4)
    else:
        axt.set_xlabel("ms per frame (mean, first frame apart)")
        axt.set_xlim(0, totals.max() * 1.3)
    axt.set_title("Frame time")
    fig.legend(*ax.get_legend_handles_labels(), fontsize=8, loc="lower center", ncol=min(len(stages) + 1, 9),
               bbox_to_anchor=(0.5, 0.0), frameon=False)  # below both panels, never over a bar
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    fig.laid_out = True
    return plots.save(fig, "stages")


def _au_plots(plots: _Plots, idx: int, doc: dict[str, Any]) -> list[Path]:
    out = []
    p = doc.get("parity") or {}
    f = p.get("figures", {})
    au = f.get("au")
    thresholds = doc.get("config", {}).get("data", {}).get("parity", {})
    if au and (au.get("intensity") or au.get("occurrence")):
        checks = {c["name"]: c for c in p.get("checks", [])}
        panels = [("r", "AU intensity r against C++", au.get("intensity", {}), "r", "au_intensity_r_min", 0.99),
                  ("MAE", "AU intensity MAE", au.get("intensity", {}), "mae", "au_intensity_mae_max", 0.05),
                  ("agreement", "AU occurrence agreement", au.get("occurrence", {}), "agreement",
                   "au_occurrence_agreement_min", 0.99)]
        panels = [x for x in panels if x[2]]
        fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.6))
        for ax, (suffix, title, table, key, tkey, tdefault) in zip(np.atleast_1d(axes), panels):
            names = list(table)
            vals = np.array([np.nan if table[a].get(key) is None else table[a][key] for a in names], dtype=float)
            bounds = np.array([checks[f"{a} {suffix}"]["threshold"] if f"{a} {suffix}" in checks
                               else thresholds.get(tkey, tdefault) for a in names], dtype=float)
            ok = [checks[f"{a} {suffix}"]["passed"] if f"{a} {suffix}" in checks else True for a in names]
            ax.bar(names, np.nan_to_num(vals), color=["#3a7" if good else "#c44" for good in ok])
            ax.scatter(names, bounds, marker="_", s=160, color="k", zorder=3, label="bound")
            finite = np.concatenate([vals[np.isfinite(vals)], bounds[np.isfinite(bounds)]])
            if key == "mae":
                ax.set_ylim(0, max(float(finite.max()) if finite.size else 0.05, 0.01) * 1.15)
            else:
                low = float(finite.min()) if finite.size else 0.9
                ax.set_ylim(max(low - 0.01, -1.0), 1.003)
            bad = sum(not x for x in ok)
            ax.set_title(f"{title}: " + ("all pass" if not bad else f"{bad} fail (red)"), fontsize=10)
            ax.tick_params(axis="x", rotation=60, labelsize=8)
            ax.legend(fontsize=7, loc="lower left" if key != "mae" else "upper left")
        out.append(plots.save(fig, f"au_bars_{idx}"))
    ser = f.get("series", {})
    if ser.get("au_ours"):
        fig, ax = plt.subplots(figsize=(4.6, 4.4))
        for a in ser["au_ours"]:
            ax.scatter(ser["au_ref"][a], ser["au_ours"][a], s=5, alpha=0.5, label=a)
        ax.plot([0, 5], [0, 5], "k--", lw=1)
        ax.set_xlabel("C++ OpenFace AUxx_r")
        ax.set_ylabel("aubench AUxx_r")
        ax.set_title("AU intensities, every frame")
        ax.legend(fontsize=6, ncol=3, markerscale=2)
        out.append(plots.save(fig, f"au_scatter_{idx}"))
    if ser.get("landmark_error_px"):
        err = np.array([np.nan if v is None else v for v in ser["landmark_error_px"]], dtype=float)
        fig, ax = plt.subplots(figsize=(9, 2.8))
        ax.plot(ser["frame"], err, lw=1)
        ax.axhline(thresholds.get("landmark_error_median_px", 0.3), color="k", ls="--", lw=1, label="median limit")
        ax.set_xlabel("frame")
        ax.set_ylabel("mean landmark error (px)")
        ax.set_title("Landmark error over frames (frames successful in both)")
        ax.legend(fontsize=8)
        out.append(plots.save(fig, f"landmark_error_{idx}"))
    return out


def _ab_plot(plots: _Plots, docs: Sequence[dict[str, Any]]) -> Path | None:
    abs_ = [d for d in docs if d["kind"] == "ab"]
    if not abs_:
        return None
    fig, ax = plt.subplots(figsize=(8, 0.7 * len(abs_) + 1.5))
    for i, d in enumerate(abs_):
        c = d["ab"]["comparison"]
        ax.errorbar([c["ratio"]], [i], xerr=[[c["ratio"] - c["ci_low"]], [c["ci_high"] - c["ratio"]]],
                    fmt="o", color={"faster": "#3a7", "slower": "#c44"}.get(c["verdict"], "#777"), capsize=4)
        ax.scatter(d["ab"]["ratios"], [i + 0.15] * len(d["ab"]["ratios"]), s=10, color="#999")
    ax.axvline(1.0, color="k", lw=1)
    ax.set_xscale("log")  # ratios are multiplicative: 0.5 and 2 sit at the same distance from 1
    ax.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    ax.set_yticks(range(len(abs_)), [d["label"] for d in abs_])
    ax.invert_yaxis()
    ax.set_xlabel("time ratio B/A (median of pairs, 95% bootstrap CI; dots: pairs)")
    ax.set_title("A/B experiments")
    return plots.save(fig, "ab")


# --------------------------------------------------------------------------- documents

def _verdict_class(cell: Any) -> str:
    """A table cell's colour: green for a pass, red for a failure, amber for a partial run."""
    text = str(cell)
    if text.startswith("PARTIAL") or text.endswith("(partial run)"):
        return ' class="partial"'
    if text.startswith("PASS"):
        return ' class="pass"'
    if text.startswith("FAIL"):
        return ' class="fail"'
    if text.endswith(" faster"):
        return ' class="faster"'
    return ""


class _Doc:
    """Builds the Markdown and HTML bodies side by side."""

    def __init__(self):
        self.md: list[str] = []
        self.html: list[str] = []

    def heading(self, text: str, level: int = 2) -> None:
        self.md.append(f"{'#' * level} {text}\n")
        self.html.append(f"<h{level}>{html.escape(text)}</h{level}>")

    def para(self, text: str) -> None:
        self.md.append(text + "\n")
        self.html.append(f"<p>{html.escape(text)}</p>")

    def table(self, head: Sequence[str], rows: Sequence[Sequence[str]], css: str = "") -> None:
        self.md.append("| " + " | ".join(head) + " |")
        self.md.append("|" + "---|" * len(head))
        self.md.extend("| " + " | ".join(str(c) for c in r) + " |" for r in rows)
        self.md.append("")
        cells = "".join(f"<th>{html.escape(h)}</th>" for h in head)
        body = "".join("<tr>" + "".join(f"<td{_verdict_class(c)}>{html.escape(str(c))}</td>" for c in r) + "</tr>"
                       for r in rows)
        klass = f' class="{css}"' if css else ""
        self.html.append(f"<table{klass}><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>")

    def image(self, path: Path, alt: str) -> None:
        self.md.append(f"![{alt}]({path.name})\n")
        data = base64.b64encode(path.read_bytes()).decode()
        self.html.append(f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">')

    def pre(self, text: str) -> None:
        self.md.append("```\n" + text + "\n```\n")
        self.html.append(f"<pre>{html.escape(text)}</pre>")


_CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:14px}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
th{background:#f2f2f2}td:first-child,th:first-child{text-align:left}img{max-width:100%;display:block;margin:1em 0}
pre{background:#f7f7f7;padding:8px;overflow-x:auto;font-size:12px}h2{border-bottom:1px solid #ddd;padding-bottom:4px}
td.pass{background:#e3f4e8;color:#175c2c;font-weight:600}td.fail{background:#fbe3e3;color:#8a1c1c;font-weight:600}
td.partial{background:#fff4d6;color:#6b4e00;font-weight:600}td.faster{background:#e8f0fb;color:#1c3f8a;font-weight:600}
td{vertical-align:top}.wide td,.wide th{text-align:left}.wide td:last-child{max-width:520px}
td.pass,td.fail,td.partial{white-space:nowrap}
@media (max-width:700px){body{margin:1em}table{font-size:12px;display:block;overflow-x:auto}}"""


def render(docs: Sequence[dict[str, Any]], out_dir: str | Path, title: str = "aubench report") -> tuple[Path, Path]:
    """Write ``out_dir/report.html`` (self-contained) and ``out_dir/report.md`` (+ PNGs); return both paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for pattern in ("au_bars_*.png", "au_scatter_*.png", "landmark_error_*.png", "ab.png", "stages.png"):
        for stale in out_dir.glob(pattern):  # an earlier report's plots: the Markdown must not sit beside them
            stale.unlink()
    plots = _Plots(out_dir)
    d = _Doc()
    d.heading(title, 1)
    d.para(f"{len(docs)} result file(s): " + ", ".join(
        f"{i + 1}. {doc['kind']} {doc['label']} ({_workload_text(doc)}, {doc['created']})" for i, doc in enumerate(docs)))

    d.heading("Verdicts")
    d.para("Each result's verdict, what it was judged against, and what failed (value and the bound it missed).")
    d.table(["result", "verdict", "judged against", "failed checks / notes"], verdict_rows(docs), css="wide")

    rows = phase_rows(docs)
    if rows:
        d.heading("Phase table")
        sources = sorted({r["vs_cpp_source"] for r in rows if r.get("vs_cpp_source")})
        d.para("ms/frame: mean wall time per frame after the first (the first frame, with model loading and JIT "
               "compilation, is reported apart; periodic work such as the running-median updates counts), FPS its "
               "inverse; median: a typical frame. Whole-run A/B arms (fresh processes, start-up included) show "
               "their run time per frame instead. Speedup: for A/B arms, the experiment's paired estimate "
               "(1 / median of per-pair B/A ratios, arm A = 1); otherwise against the reference configuration (else "
               "the first row) on the same workload, measured separately, so only large differences mean anything "
               "on a busy machine. vs C++, run: C++ OpenFace FeatureExtraction's whole-run time (measured on this "
               "machine beside ours: " + (", ".join(sources) if sources else "none in these results; run "
               "`aubench ab cpp:BUILD_DIR fast CLIP -o cpp.json` and add it") + ") over ours (run s: models, JIT "
               "cache, every frame; an in-process run leaves out the interpreter start, ~0.4 s); JIT s: the part of "
               "run s spent in Numba (compiling or loading its cache), reported apart, and vs C++ without it; "
               "whole-clip runs of the whole pipeline only (not with replayed landmarks or a frame limit).")
        d.table(["configuration", "from", "workload", "frames", "ms/frame", "median", "speedup", "FPS",
                 "run s", "vs C++, run", "JIT s", "vs C++, run w/o JIT", "first frame ms", "parity"],
                [[r["label"], r["source"], r["workload"], r["frames"], _fmt(r["ms"]), _fmt(r["median"]),
                  _fmt(r["speedup"], ".2f") + "x"
                  if r["speedup"] else "-", _fmt(r["fps"], ".1f"),
                  _fmt(r["wall"], ".2f") if r.get("wall") else "-",
                  _fmt(r["vs_cpp_run"], ".2f") + "x" if r["vs_cpp_run"] else "-",
                  _fmt(r["jit"], ".2f") if r.get("jit") is not None else "-",
                  _fmt(r["vs_cpp_run_nojit"], ".2f") + "x" if r["vs_cpp_run_nojit"] else "-",
                  _fmt(r["first"], ".0f"), r["parity"]]
                 for r in rows])

    stage_png = _stage_plot(plots, docs)
    if stage_png:
        d.heading("Stage breakdown")
        d.image(stage_png, "stage breakdown")
        for i, doc in enumerate(docs):
            t = doc.get("timing")
            if t and t.get("stages"):
                from aubench.harness.workload import format_counters, format_stage_table

                arm = " (arm B)" if doc["kind"] == "ab" else ""
                d.para(f"{i + 1}. {doc['label']} ({doc['kind']}){arm}:")
                d.pre(format_stage_table(t) + "\n\n" + format_counters(t))

    for i, doc in enumerate(docs):
        p = doc.get("parity")
        if not p:
            continue
        who = (f"{doc['ab']['b']['label']} (A/B arm B" if doc["kind"] == "ab"
               else f"{doc.get('config', {}).get('name', doc['label'])} ({doc['kind']}")
        d.heading(f"Parity of result {i + 1}: {who}, {_workload_text(doc)})")
        f = p["figures"]
        made = doc.get("ours_from")
        d.para((f"CSV {made}, made with config {doc.get('config', {}).get('name')} "
                f"({doc.get('config', {}).get('hash')}). " if made else "")
               + f"{f['frames']['compared']} frames compared, {f['frames']['both_successful']} successful in both; "
               f"reference {f.get('reference')}.")
        partial = _partial(p)
        if partial:
            d.para(f"Partial run: {partial[0]} of the reference's {partial[1]} frames. C++ post-processes the AU "
                   "values over the whole clip (person calibration, smoothing), so the AU checks of a partial run "
                   "are not expected to pass; they are shown and labelled, not a defect.")
        failed = [c for c in p["checks"] if not c["passed"]]
        summary_rows = []
        for key, label, unit in (("landmarks", "landmark error median / p95", "px"),
                                 ("pose", "rotation error median", "deg"), ("gaze", "gaze error median", "deg"),
                                 ("hog", "HOG correlation min", ""), ("aligned", "aligned mean abs diff max", "grey")):
            if key in f:
                sec = f[key]
                value = {"landmarks": f"{_fmt(sec.get('error_median_px'), '.3f')} / {_fmt(sec.get('error_p95_px'), '.3f')}",
                         "pose": _fmt(sec.get("rotation_error_median_deg"), ".3f"),
                         "gaze": _fmt(sec.get("error_median_deg"), ".3f"),
                         "hog": _fmt(sec.get("correlation_min"), ".5f"),
                         "aligned": _fmt(sec.get("mean_abs_diff_max"), ".3f")}[key]
                summary_rows.append([label, value, unit])
        if "unrounded_error_median_px" in f.get("landmarks", {}):
            lm = f["landmarks"]
            summary_rows.insert(1, ["landmark error median / p95, unrounded shapes",
                                    f"{_fmt(lm['unrounded_error_median_px'], '.4f')} / "
                                    f"{_fmt(lm['unrounded_error_p95_px'], '.4f')}", "px"])
        summary_rows.append(["success agreement", _fmt(f.get("success_agreement"), ".4f"), ""])
        if "au" in f:
            summary_rows.append(["AU intensity r min / MAE max",
                                 f"{_fmt(f['au'].get('intensity_r_min'), '.4f')} / "
                                 f"{_fmt(f['au'].get('intensity_mae_max'), '.4f')}", ""])
            summary_rows.append(["AU occurrence agreement min", _fmt(f["au"].get("occurrence_agreement_min"), ".4f"), ""])
        d.table(["figure", "value", "unit"], summary_rows)
        if p.get("spread"):
            rule = p["spread"]["rule"]
            d.para(f"Judged against C++ OpenFace on another CPU ({Path(p['spread']['csv']).name}): a figure passes when "
                   f"ours is no farther from the reference than {rule['factor']:g} x C++'s distance plus the figure's "
                   "slack; both distances side by side.")
            d.table(["figure", "ours", "C++ on another CPU", "bound", "result"],
                    [[c["name"], _fmt(c["value"], ".4g"), _fmt(c.get("spread"), ".4g"),
                      f"{c['op']} {_fmt(c['threshold'], '.4g')}", "PASS" if c["passed"] else "FAIL"]
                     for c in p["checks"]])
        d.para("All checks pass." if not failed else
               f"{len(failed)} of {len(p['checks'])} checks fail: " + _failed_text(p["checks"], limit=20))
        for png in _au_plots(plots, i, doc):
            d.image(png, png.stem)

    ab_png = _ab_plot(plots, docs)
    if ab_png:
        d.heading("A/B experiments")
        d.image(ab_png, "A/B ratios")
        d.table(["experiment", "workload", "pairs", "B/A ratio", "95% CI", "verdict", "parity A", "parity B"],
                [[doc["label"], _workload_text(doc), doc["ab"]["pairs"], _fmt(doc["ab"]["comparison"]["ratio"], ".3f"),
                  f"[{_fmt(doc['ab']['comparison']['ci_low'], '.3f')}, {_fmt(doc['ab']['comparison']['ci_high'], '.3f')}]",
                  {"faster": f"B ({doc['ab']['b']['label']}) faster", "slower": f"A ({doc['ab']['a']['label']}) faster"}
                  .get(doc["ab"]["comparison"]["verdict"], "no change"), _parity_text(doc["ab"]["a"].get("parity")),
                  _parity_text(doc["ab"]["b"].get("parity"))] for doc in docs if doc["kind"] == "ab"])

    gates = [doc for doc in docs if doc["kind"] == "gate" and "time" in doc.get("gate", {})]
    if gates:
        d.heading("Gate")
        rows = []
        for g in gates:
            gg = g["gate"]
            cmp = gg["time"].get("comparison", {})
            ir = gg.get("instructions") or {}
            inject = gg["candidate"].get("inject_work")
            rows.append([gg["config"], f"{gg['candidate']['label']}" + (f" + injected {inject}" if inject else "")
                         + f" vs {gg['baseline']['commit'][:12]}",
                         f"{_fmt(cmp.get('ratio'), '.3f')} [{_fmt(cmp.get('ci_low'), '.3f')}, {_fmt(cmp.get('ci_high'), '.3f')}]",
                         _fmt(ir.get("per_frame_ratio"), ".4f"), _fmt(ir.get("startup_ratio"), ".4f"),
                         gg.get("parity_rule", "-"),
                         "PASSED" if gg["passed"] else "FAILED: " + "; ".join(gg["failures"])])
        d.table(["config", "candidate vs baseline", "CPU time ratio [95% CI]", "instructions/frame ratio",
                 "start-up instructions ratio", "parity rule", "verdict"], rows)

    d.heading("Machine and code")
    d.table(["#", "result", "config (hash)", "measured on"],
            [[i + 1, f"{doc['kind']} {doc['label']}",
              f"{doc.get('config', {}).get('name', '-')} ({doc.get('config', {}).get('hash', '-')})",
              results.describe_environment_line(doc)] for i, doc in enumerate(docs)])

    md_path, html_path = out_dir / "report.md", out_dir / "report.html"
    md_path.write_text("\n".join(d.md) + "\n", encoding="utf-8")
    html_path.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
                         f"<style>{_CSS}</style></head><body>{''.join(d.html)}</body></html>\n", encoding="utf-8")
    return html_path, md_path
