"""``aubench history``: speed and parity over the project's commits, with the steps found in each series.

One workload (clip, config, frame count) is run on a list or range of git revisions, each exported
with ``git archive`` and run with this environment's interpreter and its own Numba cache (as the gate
runs its baseline, :mod:`aubench.harness.gate`). Each revision gives one result file, stored per
machine and workload (``<store>/<machine>/<workload>/<commit>.json``): series from different
machines are never mixed, and a later call only runs the revisions not stored yet, so results
accumulate as commits land.

Per revision: the whole run's CPU time (child process pinned to one core, one thread; median of
``repeats`` runs after a warm-up apart), optionally its instruction count under cachegrind
(deterministic, machine load does not move it), and its parity against the shared C++ reference
(landmark error, success agreement, AU intensity r and MAE over the frames run; a partial clip's AU
figures are the online values, C++'s are post-processed over the whole clip, so only their changes
mean something).

Steps in each series are found with asv's step detection (``asv.step_detect.detect_steps``: a
piecewise-constant fit with an L1 cost and a penalty per step, Friedrich et al. 2008), asv's own
method for finding regressions in noisy benchmark histories, used as a library.

A revision that does not run in this environment (its code predates a command, or needs other
dependencies) is stored with its one-line error and left out of the series; running each revision in
an environment of its own is not done.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from aubench.harness import gate, parity, results, stats
from aubench.pipeline.errors import ConfigError, InputError

SERIES = {  # figure -> (label, unit, lower is better)
    "ms_per_frame": ("CPU time per frame (start-up apart)", "ms", True),
    "startup_cpu_s": ("CPU time of start-up (imports, models, Numba cache)", "s", True),
    "instructions_per_frame": ("instructions per frame (start-up apart)", "instructions", True),
    "landmark_error_median_px": ("landmark error median vs C++", "px", True),
    "au_mae_mean": ("AU intensity MAE, mean over AUs, vs C++", "", True),
}


@dataclass(frozen=True)
class Revision:
    commit: str
    date: str
    subject: str


# --------------------------------------------------------------------------- where results live

def machine_key() -> tuple[str, str]:
    """(key, description) of this machine: CPU model, logical cores, BLAS kernel and host name.

    Results are only ever compared within one key."""
    m = results.machine_metadata()
    blas = (m.get("blas") or {}).get("kernel") or "-"
    text = f"{m.get('cpu_model', '?')} | {m.get('cpu_count', '?')} cpus | BLAS {blas} | {m.get('hostname', '?')}"
    return hashlib.sha1(text.encode()).hexdigest()[:12], text


def workload_key(clip: Path, config: str, frames: int | None) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{clip.stem}-{config}-{frames or 'all'}f")


def store_dir(explicit: Path | None = None) -> Path:
    if explicit is not None:
        return explicit
    from aubench.pipeline.cache import cache_dir

    base = cache_dir()
    return (base if base else Path(tempfile.gettempdir()) / "aubench-cache") / "history"


# --------------------------------------------------------------------------- which revisions

def _git(*args: str) -> str:
    proc = subprocess.run(["git", "-C", str(results.REPO), *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise InputError(f"git {' '.join(args)}: {proc.stderr.strip() or 'failed'}; give revisions of this repository")
    return proc.stdout.strip()


def revisions(specs: Sequence[str] = (), max_count: int | None = 40) -> list[Revision]:
    """The revisions to run, oldest first.

    ``specs``: nothing (the first-parent history of HEAD), ``A..B`` ranges (first-parent, A excluded)
    and single revisions, in any mix. With more than ``max_count`` revisions, an even sample that
    keeps the first and the last.
    """
    commits: list[str] = []
    if not specs:
        commits = _git("rev-list", "--first-parent", "--reverse", "HEAD").split()
    for spec in specs:
        if ".." in spec:
            commits += _git("rev-list", "--first-parent", "--reverse", spec).split()
        else:
            commits.append(_git("rev-parse", "--verify", f"{spec}^{{commit}}"))
    seen: set[str] = set()
    commits = [c for c in commits if not (c in seen or seen.add(c))]
    if not commits:
        raise InputError(f"{' '.join(specs) or 'HEAD'}: no revisions; give a range such as main~20..main")
    if max_count and len(commits) > max_count:
        step = (len(commits) - 1) / (max_count - 1)
        commits = [commits[int(i * step + 0.5)] for i in range(max_count)]
    out = []
    for c in commits:
        date, subject = _git("show", "-s", "--format=%cI%x00%s", c).split("\x00", 1)
        out.append(Revision(c, date, subject))
    return out


# --------------------------------------------------------------------------- one revision

def _config_argument(tree: Path, config: str) -> str:
    """What the tree's CLI takes for ``config``: a preset name where it ships presets, else its TOML file."""
    if (tree / "aubench" / "presets" / f"{config}.toml").is_file() or Path(config).is_file():
        return config
    for old in (tree / "experiments" / f"{config}.toml", tree / "pipeline" / "presets" / f"{config}.toml"):
        if old.is_file():
            return str(old)
    raise InputError(f"no config {config!r} in this revision")


def _run(arm: gate.Arm, clip: Path, out: Path, config: str, frames: int | None, instructions: Path | None = None
         ) -> dict[str, Any]:
    try:
        if instructions is not None:
            return {"instructions": gate.instruction_count(arm, clip, instructions, config, frames or 0)}
        return gate.run_once(arm, clip, out, config, frames)
    except InputError as exc:
        raise InputError(" ".join(str(exc).split())[-300:]) from None


def export_for_numba(commit: str, dest: Path) -> Path:
    """``commit``'s tree at ``dest`` (one path for every revision), each file's mtime derived from its content.

    Numba's cache is keyed by the source file's path and mtime: at one path, with a file's mtime a
    function of its bytes, a kernel unchanged between two revisions is compiled once, not once per
    revision (minutes each)."""
    import os
    import shutil

    stamp = dest / ".aubench-history-rev"
    if stamp.is_file() and stamp.read_text().strip() == commit:
        return dest
    if dest.exists():
        shutil.rmtree(dest)
    gate.export_revision(commit, dest)
    for path in dest.rglob("*"):
        if path.is_file():
            t = 1_000_000_000 + int(hashlib.sha1(path.read_bytes()).hexdigest()[:7], 16)
            os.utime(path, (t, t))
    stamp.write_text(commit + "\n")
    return dest


def _cpu(arm: gate.Arm, clip: Path, work: Path, cfg: str, frames: int | None, repeats: int, tag: str
         ) -> tuple[list[float], list[float], Path]:
    runs = [_run(arm, clip, work / f"{tag}{i}", cfg, frames) for i in range(repeats)]
    return [r["cpu_s"] for r in runs], [r["wall_s"] for r in runs], runs[-1]["csv"]


SHORT_FRAMES = 5  # the short run: start-up and 5 frames; the long run minus it is the per-frame cost


def measure_revision(rev: Revision, clip: Path, config: str, frames: int | None, repeats: int, instructions: bool,
                     state: Path, reference: Path | None) -> dict[str, Any]:
    """One revision's result document (``error`` set when it does not run here).

    CPU time per frame is the difference between a run of ``frames`` and one of 5 frames, over the
    frame difference (median of ``repeats`` each): start-up (interpreter, imports, models, the Numba
    cache) apart, given as ``startup_cpu_s``."""
    doc: dict[str, Any] = {"commit": rev.commit, "date": rev.date, "subject": rev.subject, "frames": frames,
                           "config": config, "clip": clip.name, "repeats": repeats, "error": None}
    tree = export_for_numba(rev.commit, state / "tree")
    arm = gate.Arm("history", rev.commit[:12], tree, state / "caches")
    arm.state.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="aubench-history-"))
    try:
        cfg = _config_argument(tree, config)
        doc["config_argument"] = cfg
        t0 = _run(arm, clip, work / "warm", cfg, 3)  # Numba's cache for this revision: warm-up, apart
        doc["warmup_s"] = t0["wall_s"]
        long_cpu, long_wall, csv = _cpu(arm, clip, work, cfg, frames, repeats, "long")
        short_cpu, _, short_csv = _cpu(arm, clip, work, cfg, SHORT_FRAMES, repeats, "short")
        with open(csv, encoding="utf-8") as fh:
            n = sum(1 for _ in fh) - 1
        with open(short_csv, encoding="utf-8") as fh:
            n_short = sum(1 for _ in fh) - 1
        doc["frames_written"] = n
        doc["cpu_s"], doc["wall_s"], doc["short_cpu_s"] = long_cpu, long_wall, short_cpu
        med_long, med_short = stats.summary(long_cpu)["median"], stats.summary(short_cpu)["median"]
        if n > n_short and med_long > med_short:
            doc["ms_per_frame"] = (med_long - med_short) * 1000.0 / (n - n_short)
            doc["startup_cpu_s"] = med_short - n_short * doc["ms_per_frame"] / 1000.0
        elif n > n_short:  # the frames cost less than the start-up's noise: no per-frame figure, said why
            doc["ms_per_frame"] = None
            doc["startup_cpu_s"] = med_short
            doc["note"] = (f"{n} frames cost less CPU than the noise of start-up ({med_long:.3f} s against "
                           f"{med_short:.3f} s for {n_short}); use more --frames or --repeats")
        else:
            doc["ms_per_frame"] = med_long * 1000.0 / max(n, 1)
        if instructions:
            doc["instructions_per_frame"] = (
                _run(arm, clip, work, cfg, frames, instructions=work)["instructions"]
                - _run(arm, clip, work, cfg, SHORT_FRAMES, instructions=work)["instructions"]) / max(n - n_short, 1)
        if reference is not None:
            figs = parity.compare(csv, reference, series=False)
            au = figs.get("au", {})
            maes = [v["mae"] for v in au.get("intensity", {}).values() if v.get("mae") is not None]
            doc["parity"] = {"landmark_error_median_px": figs.get("landmarks", {}).get("error_median_px"),
                             "landmark_error_p95_px": figs.get("landmarks", {}).get("error_p95_px"),
                             "success_agreement": figs.get("success_agreement"),
                             "au_r_min": au.get("intensity_r_min"),
                             "au_mae_mean": sum(maes) / len(maes) if maes else None}
    except InputError as exc:
        doc["error"] = str(exc)
    except Exception as exc:  # an old revision's own crash: recorded, the others go on
        doc["error"] = f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
    finally:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    return doc


def run_history(revs: Sequence[Revision], clip: Path, config: str = "fast", frames: int | None = None, repeats: int = 2,
                instructions: bool = False, store: Path | None = None, force: bool = False,
                progress: bool = True) -> tuple[Path, list[dict[str, Any]]]:
    """Measure every revision of ``revs`` not stored yet for this machine and workload; all their results."""
    if repeats < 1:
        raise ConfigError(f"--repeats {repeats}: expected at least 1")
    if frames is not None and frames < 3 * SHORT_FRAMES:
        raise ConfigError(f"--frames {frames}: expected at least {3 * SHORT_FRAMES}; the per-frame cost is the "
                          f"difference with a {SHORT_FRAMES}-frame run, which a few frames leave to noise")
    clip = Path(clip).resolve()
    if not clip.is_file():
        raise InputError(f"{clip}: no such clip; give a video (e.g. ../shared/media/default.wmv)")
    key, described = machine_key()
    folder = store_dir(store) / key / workload_key(clip, config, frames)
    folder.mkdir(parents=True, exist_ok=True)
    (folder.parent / "machine.txt").write_text(described + "\n", encoding="utf-8")
    reference = parity.find_reference(clip)
    state = store_dir(store) / "state"
    from tqdm import tqdm

    docs = []
    with tqdm(total=len(revs), desc="aubench history", unit="rev", disable=not progress) as bar:
        for rev in revs:
            path = folder / f"{rev.commit}.json"
            if path.is_file() and not force:
                doc = json.loads(path.read_text(encoding="utf-8"))
                if not instructions or "instructions_per_frame" in doc or doc.get("error"):
                    docs.append(doc)
                    bar.update(1)
                    continue
            bar.set_postfix_str(f"{rev.commit[:8]} {rev.subject[:40]}", refresh=True)
            doc = measure_revision(rev, clip, config, frames, repeats, instructions, state, reference)
            doc["machine"] = {"key": key, "description": described}
            path.write_text(json.dumps(doc, indent=1, default=float) + "\n", encoding="utf-8")
            docs.append(doc)
            bar.update(1)
    return folder, docs


def load_series(folder: Path, order: Sequence[Revision] | None = None) -> list[dict[str, Any]]:
    """Every stored result of one machine and workload, in ``order`` (else by commit date)."""
    docs = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]
    if order is not None:
        rank = {r.commit: i for i, r in enumerate(order)}
        docs = [d for d in docs if d["commit"] in rank]
        return sorted(docs, key=lambda d: rank[d["commit"]])
    return sorted(docs, key=lambda d: d["date"])


# --------------------------------------------------------------------------- steps

def comparable(doc: dict[str, Any]) -> bool:
    """Whether a revision's figures belong in the series: it ran here and tracked a face (a revision whose
    pipeline was not complete yet writes rows without landmarks; its speed is not the same work)."""
    if doc.get("error"):
        return False
    lm = (doc.get("parity") or {}).get("landmark_error_median_px", 0.0)
    return lm is not None and math.isfinite(float(lm))


def series_values(docs: Sequence[dict[str, Any]], figure: str) -> list[float | None]:
    out = []
    for d in docs:
        if not comparable(d):
            out.append(None)
            continue
        v = d.get(figure) if figure in ("ms_per_frame", "startup_cpu_s", "instructions_per_frame") else (
            d.get("parity") or {}).get(figure)
        out.append(None if d.get("error") or v is None or not math.isfinite(float(v)) else float(v))
    return out


MIN_STEP = 0.05  # a level change smaller than 5 % is merged: noise on a shared machine, not a step to report


def detect_steps(values: Sequence[float | None], min_step: float = MIN_STEP) -> list[dict[str, Any]]:
    """Steps of a series: asv's step detection, then levels closer than ``min_step`` merged.

    Each step: the index where the new level starts, both levels (medians of their segments) and
    their ratio. Missing values (revisions that did not run) are skipped. With 8 or more revisions a
    level, a 2-3x step in 2 % noise is found exactly (400 of 400 series); with 5 a level about 1 series
    in 80 is split once more, with 3 about 1 in 10 (tests/harness/test_history.py measures it).
    """
    from asv.step_detect import detect_steps as asv_detect_steps

    idx = [i for i, v in enumerate(values) if v is not None]
    ys = [float(values[i]) for i in idx]
    if len(ys) < 2:
        return []
    segments = [[left, right] for left, right, *_ in asv_detect_steps(ys)]  # [left, right) in ys's indices
    merged = [segments[0]]
    for seg in segments[1:]:
        level = float(np.median(ys[merged[-1][0]:merged[-1][1]]))
        new = float(np.median(ys[seg[0]:seg[1]]))
        if level > 0 and new > 0 and abs(math.log(new / level)) < math.log1p(min_step):
            merged[-1][1] = seg[1]
        else:
            merged.append(seg)
    steps = []
    for prev, nxt in zip(merged, merged[1:]):
        before, after = float(np.median(ys[prev[0]:prev[1]])), float(np.median(ys[nxt[0]:nxt[1]]))
        steps.append({"index": idx[nxt[0]], "last_before": idx[prev[1] - 1], "before": before, "after": after,
                      "ratio": after / before if before else math.inf})
    return steps


# --------------------------------------------------------------------------- the page

def render(docs: Sequence[dict[str, Any]], out_dir: Path, title: str) -> tuple[Path, Path, list[dict[str, Any]]]:
    """``history.png`` (one panel per series, detected steps marked), ``history.md`` and ``history.html``."""
    import base64
    import html as html_mod

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    figures = [f for f in SERIES if any(v is not None for v in series_values(docs, f))]
    if not figures:
        raise InputError("no revision ran in this environment; nothing to plot (see each result's error)")
    fig, axes = plt.subplots(len(figures), 1, figsize=(12, 2.6 * len(figures) + 1.2), sharex=True)
    axes = list(getattr(axes, "flat", [axes]))
    step_rows = []
    for ax, figure in zip(axes, figures):
        label, unit, _ = SERIES[figure]
        values = series_values(docs, figure)
        pts = [(i, v) for i, v in enumerate(values) if v is not None]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", ms=3, lw=1, color="#47a")
        failed = [i for i, d in enumerate(docs) if not comparable(d)]
        for i in failed:
            ax.axvspan(i - 0.4, i + 0.4, color="#eee", zorder=0)
        positive = [v for _, v in pts if v > 0]
        if positive and max(positive) / min(positive) > 8:
            ax.set_yscale("log")
        for s in detect_steps(values):
            better = (s["ratio"] < 1) == SERIES[figure][2]
            color = "#2a7" if better else "#c33"
            ax.axvline(s["index"] - 0.5, color=color, ls="--", lw=1.2)
            ax.text(s["index"] - 0.4, 0.9, f"x{s['ratio']:.2f}", transform=ax.get_xaxis_transform(), fontsize=8,
                    color=color, va="top")  # inside the panel, whatever the level
            d = docs[s["index"]]
            step_rows.append([label, d["commit"][:10], d["subject"][:70], f"{s['before']:.4g}", f"{s['after']:.4g}",
                              f"x{s['ratio']:.3f}", "better" if better else "worse"])
        ax.set_ylabel(f"{unit}" if unit else "value", fontsize=8)
        ax.set_title(label + " (steps: asv step detection; grey: did not run here, or tracked no face)", fontsize=9)
    ticks = list(range(0, len(docs), max(1, len(docs) // 20)))
    axes[-1].set_xticks(ticks, [docs[i]["commit"][:7] for i in ticks], rotation=60, fontsize=7)
    axes[-1].set_xlabel("revision (oldest first)")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    png = out_dir / "history.png"
    fig.savefig(png, dpi=110)
    plt.close(fig)

    head = ["series", "commit", "subject", "before", "after", "ratio", ""]
    rows = [[str(i), d["commit"][:10], d["date"][:16], d["subject"][:70],
             _fmt(d.get("ms_per_frame"), ".2f"), _fmt(d.get("instructions_per_frame"), ".4g"),
             _fmt((d.get("parity") or {}).get("landmark_error_median_px"), ".3f"),
             _fmt((d.get("parity") or {}).get("au_mae_mean"), ".4f"),
             d.get("error") or ("" if comparable(d) else "tracked no face: left out of the series")]
            for i, d in enumerate(docs)]
    rhead = ["#", "commit", "date", "subject", "CPU ms/frame", "instructions/frame", "landmark px", "AU MAE", "error"]
    md = [f"# {title}\n", f"![history]({png.name})\n", "## Steps found\n"]
    md += _md_table(head, step_rows) if step_rows else ["No steps found.\n"]
    md += ["## Revisions\n"] + _md_table(rhead, rows)
    md_path = out_dir / "history.md"
    md_path.write_text("\n".join(md) + "\n", encoding="utf-8")
    data = base64.b64encode(png.read_bytes()).decode()
    page = [f"<h1>{html_mod.escape(title)}</h1>", f'<img alt="history" src="data:image/png;base64,{data}">',
            "<h2>Steps found</h2>", _html_table(head, step_rows) if step_rows else "<p>No steps found.</p>",
            "<h2>Revisions</h2>", _html_table(rhead, rows)]
    html_path = out_dir / "history.html"
    html_path.write_text("<!DOCTYPE html><html><head><meta charset='utf-8'><title>history</title><style>"
                         "body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto}img{max-width:100%}"
                         "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px}"
                         "td.better{background:#e3f4e8}td.worse{background:#fbe3e3}</style></head><body>"
                         + "".join(page) + "</body></html>\n", encoding="utf-8")
    return html_path, md_path, [dict(zip(head, r)) for r in step_rows]


def _fmt(v: Any, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def _md_table(head: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + [
        "| " + " | ".join(c.replace("|", "/") for c in r) + " |" for r in rows] + [""]


def _html_table(head: list[str], rows: list[list[str]]) -> str:
    import html as html_mod

    def cell(c: str) -> str:
        klass = f' class="{c}"' if c in ("better", "worse") else ""
        return f"<td{klass}>{html_mod.escape(c)}</td>"

    return ("<table><thead><tr>" + "".join(f"<th>{html_mod.escape(h)}</th>" for h in head) + "</tr></thead><tbody>"
            + "".join("<tr>" + "".join(cell(c) for c in r) + "</tr>" for r in rows) + "</tbody></table>")
