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
    if not p:
        return "-"
    failed = [c for c in p["checks"] if not c["passed"]]
    f = p["figures"]
    bits = []
    if "landmarks" in f:
        lm = f["landmarks"]
        fine = (f" (unrounded {_fmt(lm['unrounded_error_median_px'], '.3f')})"
                if "unrounded_error_median_px" in lm else "")
        bits.append(f"lmk median {_fmt(lm['error_median_px'], '.2f')} px{fine}")
    if "au" in f:
        bits.append(f"min AU r {_fmt(f['au'].get('intensity_r_min'), '.3f')}")
    verdict = "PASS" if not failed else f"{len(failed)} FAIL"
    return verdict + (f" ({', '.join(bits)})" if bits else "")


# --------------------------------------------------------------------------- rows

def cpp_runs(docs: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """C++ OpenFace's whole runs measured side by side on this machine, by clip name.

    From the whole-run A/B results with a C++ arm (``aubench ab cpp:BUILD CONFIG CLIP``): the median
    wall seconds of its runs, the frames it wrote and which result it came from. Never a figure from
    another machine: a clip without such a result here has no "vs C++".
    """
    out: dict[str, dict[str, Any]] = {}
    for doc in docs:
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
                arms.append((a["label"], a["timing"], a.get("parity"), f"A/B arm {arm.upper()}"))
        elif doc.get("timing") and doc["kind"] != "parity":
            arms.append((doc.get("config", {}).get("name", doc["label"]), doc["timing"], doc.get("parity"),
                         doc["kind"]))
        for k, (label, timing, par, source) in enumerate(arms):
            wid = _workload_id(doc)
            par = par or parity_of.get((label, wid))
            # an A/B experiment is its own baseline: arm B's speedup is its paired estimate, 1 / median(B/A)
            paired = None if doc["kind"] != "ab" else (1.0 if k == 0 else 1.0 / doc["ab"]["comparison"]["ratio"])
            rows.append({"label": label, "workload": _workload_text(doc), "wid": wid, "paired": paired,
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
        jit = r.get("jit") or 0.0
        r["vs_cpp_run_nojit"] = (cpp["wall_s"] / (r["wall"] - jit) if cpp and r.get("wall") and r["wall"] > jit
                                 else None)
        r["vs_cpp_source"] = cpp["source"] if cpp else None
    return rows


# --------------------------------------------------------------------------- plots

class _Plots:
    def __init__(self, out_dir: Path):
        self.out_dir = out_dir
        self.files: list[Path] = []

    def save(self, fig, name: str) -> Path:
        path = self.out_dir / f"{name}.png"
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        self.files.append(path)
        return path


def _stage_plot(plots: _Plots, docs: Sequence[dict[str, Any]]) -> Path | None:
    entries = []
    for i, doc in enumerate(docs):
        t = doc.get("timing")
        if t and t.get("stages"):
            top = {k: v.get("mean", 0.0) for k, v in t["stages"].items() if "." not in k}
            entries.append((f"{i + 1}. {doc.get('config', {}).get('name', doc['label'])} ({doc['kind']})", top,
                            t.get("ms_per_frame_mean") or t.get("ms_per_frame") or 0.0))
    if not entries:
        return None
    stages = sorted({s for _, top, _ in entries for s in top})
    fig, ax = plt.subplots(figsize=(9, 0.6 * len(entries) + 1.6))
    left = np.zeros(len(entries))
    colors = plt.cm.tab20(np.linspace(0, 1, max(len(stages), 2)))
    for s, c in zip(stages, colors):
        vals = np.array([top.get(s, 0.0) for _, top, _ in entries])
        ax.barh(range(len(entries)), vals, left=left, color=c, label=s)
        left += vals
    other = np.array([max(total - used, 0.0) for (_, _, total), used in zip(entries, left)])
    ax.barh(range(len(entries)), other, left=left, color="#dddddd", label="outside any stage")
    ax.set_yticks(range(len(entries)), [e[0] for e in entries])
    ax.invert_yaxis()
    ax.set_xlabel("ms per frame (mean, first frame apart)")
    ax.set_title("Stage breakdown")
    ax.legend(fontsize=8, loc="lower right", ncol=2)
    return plots.save(fig, "stages")


def _au_plots(plots: _Plots, idx: int, doc: dict[str, Any]) -> list[Path]:
    out = []
    p = doc.get("parity") or {}
    f = p.get("figures", {})
    au = f.get("au")
    thresholds = doc.get("config", {}).get("data", {}).get("parity", {})
    if au and au.get("intensity"):
        names = list(au["intensity"])
        r = [au["intensity"][a]["r"] if au["intensity"][a]["r"] is not None else np.nan for a in names]
        mae = [au["intensity"][a]["mae"] for a in names]
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.4))
        a1.bar(names, r, color=["#3a7" if (x == x and x >= thresholds.get("au_intensity_r_min", 0.99)) else "#c44"
                                for x in r])
        a1.axhline(thresholds.get("au_intensity_r_min", 0.99), color="k", ls="--", lw=1)
        r_min = thresholds.get("au_intensity_r_min", 0.99)
        finite = np.asarray(r, dtype=float)[np.isfinite(np.asarray(r, dtype=float))]
        low = min(r_min - 0.02, float(finite.min()) - 0.01) if finite.size else 0.0
        a1.set_ylim(max(low, -1.0), 1.005)
        a1.set_title("AU intensity r against C++")
        a2.bar(names, mae, color="#47a")
        a2.axhline(thresholds.get("au_intensity_mae_max", 0.05), color="k", ls="--", lw=1)
        a2.set_ylim(0, max(max(mae, default=0.0), thresholds.get("au_intensity_mae_max", 0.05)) * 1.15)
        a2.set_title("AU intensity MAE")
        for a in (a1, a2):
            a.tick_params(axis="x", rotation=60, labelsize=8)
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

    def table(self, head: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        self.md.append("| " + " | ".join(head) + " |")
        self.md.append("|" + "---|" * len(head))
        self.md.extend("| " + " | ".join(str(c) for c in r) + " |" for r in rows)
        self.md.append("")
        cells = "".join(f"<th>{html.escape(h)}</th>" for h in head)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
        self.html.append(f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>")

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
pre{background:#f7f7f7;padding:8px;overflow-x:auto;font-size:12px}h2{border-bottom:1px solid #ddd;padding-bottom:4px}"""


def render(docs: Sequence[dict[str, Any]], out_dir: str | Path, title: str = "aubench report") -> tuple[Path, Path]:
    """Write ``out_dir/report.html`` (self-contained) and ``out_dir/report.md`` (+ PNGs); return both paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    plots = _Plots(out_dir)
    d = _Doc()
    d.heading(title, 1)
    d.para(f"{len(docs)} result file(s): " + ", ".join(
        f"{i + 1}. {doc['kind']} {doc['label']} ({_workload_text(doc)}, {doc['created']})" for i, doc in enumerate(docs)))

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
        who = f"{doc['ab']['b']['label']} (A/B arm B" if doc["kind"] == "ab" else f"{doc['label']} ({doc['kind']}"
        d.heading(f"Parity: {who}, {_workload_text(doc)})")
        f = p["figures"]
        d.para(f"{f['frames']['compared']} frames compared, {f['frames']['both_successful']} successful in both; "
               f"reference {f.get('reference')}.")
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
               f"{len(failed)} of {len(p['checks'])} checks fail: " + "; ".join(
                   f"{c['name']} = {_fmt(c['value'], '.4g')} (needs {c['op']} {c['threshold']})" for c in failed[:20]))
        for png in _au_plots(plots, i, doc):
            d.image(png, png.stem)

    ab_png = _ab_plot(plots, docs)
    if ab_png:
        d.heading("A/B experiments")
        d.image(ab_png, "A/B ratios")
        d.table(["experiment", "workload", "pairs", "B/A ratio", "95% CI", "verdict", "parity A", "parity B"],
                [[doc["label"], _workload_text(doc), doc["ab"]["pairs"], _fmt(doc["ab"]["comparison"]["ratio"], ".3f"),
                  f"[{_fmt(doc['ab']['comparison']['ci_low'], '.3f')}, {_fmt(doc['ab']['comparison']['ci_high'], '.3f')}]",
                  doc["ab"]["comparison"]["verdict"], _parity_text(doc["ab"]["a"].get("parity")),
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
