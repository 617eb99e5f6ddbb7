"""Running the pipeline as a measured workload, through its public entry point.

Every harness command runs the pipeline the same way a user does:
``aubench.pipeline.extract.run(input, out_dir, config, timer=..., ...)`` (what ``aubench
run`` calls), with a :class:`HarnessTimer` that the stages fill through their
``timer`` argument. The harness adds the wall time of every frame (from one
``timer.next_frame()`` to the next, so decoding and writing count too), the
first frame apart (model loading, JIT compilation), and peak memory.

Fault injection, for testing that the gate catches what it should (nothing
else reads these): ``AUBENCH_INJECT_SLEEP_MS=<ms>`` makes every frame that much
slower (a busy wait inside the frame); ``AUBENCH_INJECT_AU_OFFSET=<x>`` adds ``x`` to
every ``AUxx_r`` value of the CSV a run wrote (a parity drop).
"""

from __future__ import annotations

import os
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from aubench.harness.stats import summary
from aubench.pipeline import config as config_mod
from aubench.pipeline.errors import AubenchError, InputError
from aubench.pipeline.timing import StageTimer

INJECT_SLEEP_ENV = "AUBENCH_INJECT_SLEEP_MS"
INJECT_AU_OFFSET_ENV = "AUBENCH_INJECT_AU_OFFSET"
# The entry point's keyword for each harness option, in order of preference.


class HarnessTimer(StageTimer):
    """A StageTimer that also records each frame's wall time (ms) between ``next_frame`` calls."""

    def __init__(self, inject_sleep_ms: float = 0.0) -> None:
        super().__init__()
        self.frame_ms: list[float] = []
        self.frame_cpu_ms: list[float] = []  # process CPU time (all threads): steadier than wall on a busy machine
        self.inject_sleep_ms = inject_sleep_ms
        self.start()

    def start(self) -> None:
        self._mark = time.perf_counter()
        self._cpu_mark = time.process_time()

    def next_frame(self) -> None:
        if self.inject_sleep_ms > 0:
            with self("injected_sleep"):
                _busy_wait(self.inject_sleep_ms / 1000.0)
        super().next_frame()
        now, cpu = time.perf_counter(), time.process_time()
        self.frame_ms.append((now - self._mark) * 1000.0)
        self.frame_cpu_ms.append((cpu - self._cpu_mark) * 1000.0)
        self._mark, self._cpu_mark = now, cpu


def _busy_wait(seconds: float) -> None:
    """Burn CPU for ``seconds`` (an injected slowdown must show in CPU time too, unlike a sleep)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


@dataclass
class Workload:
    """What to run: an input, a configuration, optionally a frame limit and a landmarks CSV."""

    input: Path
    config: config_mod.Config
    frames: int | None = None
    landmarks_from: Path | None = None
    reference: Path | None = None  # the C++ CSV to check parity against (None: the shared one, if any)

    def describe(self) -> dict[str, Any]:
        return {"input": str(self.input), "frames": self.frames,
                "landmarks_from": str(self.landmarks_from) if self.landmarks_from else None}


@dataclass
class RunOutcome:
    """One measured run: the CSV it wrote and its timings."""

    csv: Path
    out_dir: Path
    wall_s: float
    timer: HarnessTimer
    peak_rss_mb: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def frames(self) -> int:
        return len(self.timer.frame_ms)


def run_bar(total: int, what: str, enabled: bool = True) -> tqdm:
    """A tqdm bar on stderr counting the runs of a multi-run command (elapsed and ETA are tqdm's).

    :func:`run_done` advances it by one run and shows that run's label and speed.
    """
    return tqdm(total=total, desc=what, unit="run", file=sys.stderr, disable=not enabled)


def run_done(bar: tqdm, label: str, outcome: RunOutcome) -> None:
    fps = outcome.frames / outcome.wall_s if outcome.wall_s > 0 else float("nan")
    bar.set_postfix_str(f"{label}: {outcome.frames} frames, {fps:.1f} fps", refresh=False)
    bar.update(1)


def entry_point():
    """The function the harness runs: :func:`aubench.pipeline.extract.run` (a seam the harness's own
    tests replace with a stand-in pipeline)."""
    from aubench.pipeline.extract import run as extract_run

    return extract_run


def run(workload: Workload, out_dir: str | Path, progress: bool | None = None,
        inject_sleep_ms: float | None = None) -> RunOutcome:
    """Run the pipeline once on ``workload``, writing into ``out_dir``; return its timings."""
    if not workload.input.exists():
        raise InputError(f"{workload.input}: no such file or folder; give a video, an image or a folder of images")
    if workload.landmarks_from is not None and not Path(workload.landmarks_from).is_file():
        raise InputError(f"{workload.landmarks_from}: no such CSV for --landmarks-from; give an OpenFace CSV")
    fn = entry_point()
    kwargs: dict[str, Any] = {"frames": workload.frames}
    if workload.landmarks_from is not None:
        kwargs["landmarks_from"] = Path(workload.landmarks_from)
    if progress is not None:
        kwargs["progress"] = progress
    if inject_sleep_ms is None:
        inject_sleep_ms = float(os.environ.get(INJECT_SLEEP_ENV, "0") or 0)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    timer = HarnessTimer(inject_sleep_ms)
    start = time.perf_counter()
    timer.start()
    returned = fn(Path(workload.input), out_dir, workload.config, timer=timer, **kwargs)
    wall = time.perf_counter() - start
    csv = _find_csv(out_dir, Path(workload.input), returned)
    offset = float(os.environ.get(INJECT_AU_OFFSET_ENV, "0") or 0)
    if offset:
        _offset_au_columns(csv, offset)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1024.0 if sys.platform != "darwin" else 1024.0 ** 2)
    extra = {"stages_ran": list(getattr(returned, "stages_ran", []) or []),
             "postprocess_ms": getattr(returned, "postprocess_ms", None),
             "jit_s": getattr(returned, "jit_s", None)}
    return RunOutcome(csv=csv, out_dir=out_dir, wall_s=wall, timer=timer, peak_rss_mb=rss, extra=extra)


def _find_csv(out_dir: Path, src: Path, returned: Any) -> Path:
    for candidate in (returned, getattr(returned, "csv", None), getattr(returned, "csv_path", None)):
        if isinstance(candidate, (str, Path)) and str(candidate).endswith(".csv") and Path(candidate).is_file():
            return Path(candidate)
    expected = out_dir / f"{src.stem}.csv"
    if expected.is_file():
        return expected
    found = sorted(out_dir.glob("*.csv"))
    if len(found) == 1:
        return found[0]
    raise AubenchError(f"{out_dir}: the pipeline wrote no {expected.name}; expected OUTDIR/<input stem>.csv")


def _offset_au_columns(csv: Path, offset: float) -> None:
    """Fault injection: add ``offset`` to every AU intensity value of a written CSV."""
    lines = csv.read_text(encoding="utf-8").splitlines()
    names = [h.strip() for h in lines[0].split(",")]
    cols = [i for i, n in enumerate(names) if n.startswith("AU") and n.endswith("_r")]
    out = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        for i in cols:
            cells[i] = f"{float(cells[i]) + offset:.2f}"
        out.append(",".join(cells))
    csv.write_text("\n".join(out) + "\n", encoding="utf-8")


def timing_section(outcome: RunOutcome, per_frame: bool = True) -> dict[str, Any]:
    """The ``timing`` section of a result: per-frame wall times, stages, counters.

    Frames after the first only (the first carries model loading and JIT
    compilation, reported apart as ``first_frame_ms``): ``ms_per_frame_mean``
    is their total time over their number (periodic work such as the running
    median updates counts, so speed claims use it; ``throughput_fps`` is its
    inverse); ``ms_per_frame`` is their median (a typical frame; ``fps`` its
    inverse); ``cpu_ms_per_frame`` is the mean process CPU time.
    """
    frame_ms = np.asarray(outcome.timer.frame_ms, dtype=float)
    cpu_ms = np.asarray(outcome.timer.frame_cpu_ms, dtype=float)[1:]
    steady = frame_ms[1:] if len(frame_ms) > 1 else frame_ms
    stages = outcome.timer.per_frame()
    med = float(np.median(steady)) if len(steady) else float("nan")
    sec: dict[str, Any] = {
        "frames": int(len(frame_ms)),
        "wall_s": outcome.wall_s,
        "first_frame_ms": float(frame_ms[0]) if len(frame_ms) else None,
        "ms_per_frame": med,
        # a low quantile: on a shared machine interference adds time to some frames, rarely removes it
        "ms_per_frame_mean": float(steady.mean()) if len(steady) else None,
        "cpu_ms_per_frame": float(cpu_ms.mean()) if len(cpu_ms) else None,
        "fps": 1000.0 / med if med and np.isfinite(med) and med > 0 else None,
        "throughput_fps": (len(steady) / (steady.sum() / 1000.0)) if len(steady) and steady.sum() > 0 else None,
        "frame_ms": summary(steady),
        "peak_rss_mb": outcome.peak_rss_mb,
        **outcome.extra,
        "stages": {name: {**summary(v[1:] if len(v) > 1 else v), "total_ms": float(np.sum(v)),
                          "first_frame_ms": float(v[0]) if v else None}
                   for name, v in stages.items()},
        "counters": {name: {**summary(v), "sum": float(np.sum(v))}
                     for name, v in sorted(outcome.timer.counters.items())},
    }
    if per_frame:
        sec["per_frame"] = {"frame_ms": frame_ms.tolist(), **{k: list(v) for k, v in stages.items()}}
    return sec


def format_stage_table(timing: dict[str, Any]) -> str:
    """Component, ms/frame median and mean, share of the frame's mean, sub-stages nested by dotted name.

    Shares are of means (means add up, medians do not: a stage that runs every
    tenth frame has a median of 0 and a real mean).
    """
    total_med = timing.get("ms_per_frame") or float("nan")
    total = timing.get("ms_per_frame_mean") or total_med
    stages = timing.get("stages", {})
    rows = [("frame (wall, after the first)", total_med, total, 0)]
    depth_of: dict[str, int] = {}
    for name in sorted(stages, key=lambda n: n.split(".")):
        st = stages[name]
        # nest under the nearest timed ancestor; untimed levels stay in the label ("main.scale0.response")
        parts = name.split(".")
        parent = next((".".join(parts[:i]) for i in range(len(parts) - 1, 0, -1) if ".".join(parts[:i]) in stages),
                      None)
        depth = depth_of[parent] + 1 if parent else 1
        depth_of[name] = depth
        label = name[len(parent) + 1:] if parent else name
        rows.append((label, st.get("median", float("nan")), st.get("mean", float("nan")), depth))
    if stages and total == total:
        other = total - sum(stages[n].get("mean", 0.0) for n in stages if "." not in n)
        rows.append(("(outside any stage)", float("nan"), other, 1))
    width = max(len("  " * d + lab) for lab, _, _, d in rows) + 2
    lines = [f"{'component':<{width}}{'median ms':>10}{'mean ms':>10}{'share':>9}"]
    for label, med, mean, depth in rows:
        share = mean / total if total and total > 0 else float("nan")
        med_txt = f"{med:>10.2f}" if med == med else f"{'':>10}"
        share_txt = f"{share:>8.1%}" if share == share else f"{'-':>8}"
        lines.append(f"{'  ' * depth + label:<{width}}{med_txt}{mean:>10.2f} {share_txt}")
    if timing.get("postprocess_ms") is not None:
        lines.append(f"offline post-processing after the last frame: {timing['postprocess_ms']:.1f} ms (once per clip)")
    first = timing.get("first_frame_ms")
    tput = timing.get("throughput_fps")
    lines.append(f"{timing.get('frames', 0)} frames in {timing.get('wall_s', 0):.2f} s; first frame "
                 f"{first if first is None else format(first, '.1f')} ms (model loading, JIT) reported apart; "
                 f"{tput if tput is None else format(tput, '.1f')} fps after it; "
                 f"peak RSS {timing.get('peak_rss_mb', 0):.0f} MiB")
    return "\n".join(lines)


def format_counters(timing: dict[str, Any]) -> str:
    """Convergence statistics (``timer.count`` values): n, mean, median, min, max per counter."""
    counters = timing.get("counters", {})
    if not counters:
        return "no convergence statistics recorded (the stages called timer.count for nothing)"
    width = max(len(n) for n in counters) + 2
    lines = [f"{'statistic':<{width}}{'n':>7}{'mean':>10}{'median':>10}{'min':>10}{'max':>10}"]
    for name, s in counters.items():
        if not s.get("n"):
            continue
        lines.append(f"{name:<{width}}{s['n']:>7}{s['mean']:>10.3f}{s['median']:>10.3f}{s['min']:>10.3f}{s['max']:>10.3f}")
    return "\n".join(lines)
