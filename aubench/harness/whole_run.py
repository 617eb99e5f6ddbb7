"""Whole runs as a user runs them, C++ OpenFace as an arm: ``aubench ab cpp:PATH fast CLIP``.

The in-process A/B (:mod:`aubench.harness.ab`) times frames inside one Python process; C++
OpenFace cannot be timed that way, and a user's figure is the whole run anyway (start-up, model
loading, JIT cache, every frame, writing). Here each arm is a fresh process, pinned to one core
with one thread (BLAS, OpenMP, Numba; an aubench config with ``[runtime] pipeline``, one video on
two cores, gets that core and the one before it), into a fresh output folder, timed by wall clock (as
``/usr/bin/time``) and by the child's own CPU time (``os.wait4``), with its peak RSS. The arms
alternate who goes first, after one warm-up run of each that is reported apart (file cache,
aubench's Numba cache). Parity of each arm's CSV against the shared C++ reference stands beside
the speed, and the two arms' CSVs are compared with each other: with C++ as one arm that is
aubench against C++ on this very machine.

An arm is ``cpp:PATH`` (C++ ``FeatureExtraction`` built by ``../shared/tools/build_openface_cpp.sh``:
PATH is the binary, its ``bin/`` folder or the build folder; run with the reference flags,
``model/`` and ``AU_predictors/`` next to the binary) or an aubench config (preset name or TOML
file; run as ``aubench run CLIP -o DIR --config X --hogalign --simalign``, the same outputs).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aubench.harness import parity, results, stats
from aubench.pipeline import config as config_mod
from aubench.pipeline.errors import ConfigError, InputError

CPP_PREFIX = "cpp:"
# the flags C++ made ../shared/reference with (reference/README.md, "Flags")
CPP_REFERENCE_FLAGS = ("-mloc", "model/main_clnf_general.txt", "-2Dfp", "-3Dfp", "-pdmparams", "-pose", "-aus",
                       "-gaze", "-hogalign", "-simalign", "-nobadaligned")
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


@dataclass(frozen=True)
class Arm:
    """One side of a whole-run comparison: how to run it on a clip."""

    spec: str  # what the user wrote: "cpp:/path" or a preset / TOML
    label: str  # e.g. "C++ FeatureExtraction" or "fast"
    kind: str  # "cpp" or "aubench"
    binary: Path | None = None  # cpp: the FeatureExtraction executable
    config: config_mod.Config | None = None  # aubench: the configuration
    env: dict[str, str] = field(default_factory=dict)  # extra environment (e.g. OPENBLAS_CORETYPE for C++)

    def argv(self, clip: Path, out_dir: Path, frames: int | None = None) -> list[str]:
        if self.kind == "cpp":
            return [str(self.binary), "-f", str(clip), *CPP_REFERENCE_FLAGS, "-out_dir", str(out_dir)]
        argv = [sys.executable, "-m", "aubench.cli", "run", str(clip), "-o", str(out_dir), "--config",
                self.config.source or self.config.name, "--hogalign", "--simalign", "--quiet"]
        for kernel, variant in self.config.variants:
            argv += ["--variant", f"{kernel}={variant}"]
        return argv + (["--frames", str(frames)] if frames else [])

    @property
    def cwd(self) -> Path | None:
        return self.binary.parent if self.kind == "cpp" else None  # C++ finds its models beside itself


def is_cpp(spec: str) -> bool:
    return str(spec).startswith(CPP_PREFIX)


def cpp_binary(path: str | Path, program: str = "FeatureExtraction") -> Path:
    """The C++ executable ``program`` given its path, its folder or the build folder (holding ``bin/``)."""
    path = Path(path).expanduser()
    for candidate in (path, path / program, path / "bin" / program):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            if not (candidate.parent / "model").is_dir() or not (candidate.parent / "AU_predictors").is_dir():
                raise ConfigError(f"{candidate}: no model/ and AU_predictors/ beside it; C++ OpenFace finds its models "
                                  "there (build_openface_cpp.sh links them into bin/)")
            return candidate.resolve()
    raise ConfigError(f"cpp:{path}: no C++ OpenFace {program} there; build it with "
                      "../shared/tools/build_openface_cpp.sh and give cpp:BUILD_DIR (or the binary's path)")


def parse_arm(spec: str, *, cpp_blas: str = "auto") -> Arm:
    """``cpp:PATH`` or an aubench config (preset name or TOML file)."""
    if is_cpp(spec):
        binary = cpp_binary(spec[len(CPP_PREFIX):])
        env = {} if cpp_blas == "auto" else {"OPENBLAS_CORETYPE": cpp_blas}
        return Arm(spec, f"C++ {binary.name}", "cpp", binary=binary, env=env)
    cfg = config_mod.load_any(spec)
    return Arm(spec, cfg.name, "aubench", config=cfg)


def _pin(core: int | None, cores: int = 1):
    """Pin a child to ``core``, or to ``cores`` cores ending at it (an arm that runs one video on two cores)."""
    if core is None or not hasattr(os, "sched_setaffinity"):
        return None
    allowed = sorted(os.sched_getaffinity(0))
    chosen = set(allowed[max(0, allowed.index(core) - cores + 1): allowed.index(core) + 1]) if core in allowed \
        else {core}
    return lambda: os.sched_setaffinity(0, chosen)


def cores_of(arm: Arm) -> int:
    """Cores an arm's run uses: 2 for a config with ``[runtime] pipeline``, else 1."""
    cfg = getattr(arm, "config", None)
    return 2 if cfg is not None and cfg.runtime.pipeline else 1


def timed_run(arm: Arm, clip: Path, out_dir: Path, *, core: int | None, frames: int | None = None) -> dict[str, float]:
    """Run ``arm`` once on ``clip`` into ``out_dir``: wall s, CPU s (user + system), peak RSS MiB, frames written."""
    env = {**os.environ, **{v: "1" for v in THREAD_VARS}, **arm.env}
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    proc = subprocess.Popen(arm.argv(clip, out_dir, frames), cwd=arm.cwd, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, preexec_fn=_pin(core, cores_of(arm)))
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    csv = out_dir / f"{clip.stem}.csv"
    if proc.returncode != 0 or not csv.is_file():
        last = (err.strip().splitlines() or ["(nothing on stderr)"])[-1]
        raise InputError(f"{arm.label} on {clip}: exit {proc.returncode}, {'no ' + csv.name if not csv.is_file() else ''} "
                         f"({last}); run `{' '.join(arm.argv(clip, out_dir, frames))}` to see why")
    with open(csv, encoding="utf-8") as fh:
        rows = sum(1 for _ in fh) - 1
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "max_rss_mb": usage.ru_maxrss / 1024.0,
            "frames": rows}


def default_core() -> int | None:
    """The last core this process may use (both arms are pinned to it)."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    return sorted(os.sched_getaffinity(0))[-1]


def _arm_section(arm: Arm, runs: list[dict[str, float]]) -> dict[str, Any]:
    frames = runs[-1]["frames"] if runs else 0
    walls = [r["wall_s"] for r in runs]
    section: dict[str, Any] = {
        "label": arm.label, "kind": arm.kind, "spec": arm.spec,
        "command": " ".join(arm.argv(Path("CLIP"), Path("OUT"))), "runs": runs,
        "wall_s": stats.summary(walls), "cpu_s": stats.summary([r["cpu_s"] for r in runs]),
        "max_rss_mb": max((r["max_rss_mb"] for r in runs), default=0.0), "frames": frames,
        # whole-run ms per frame (start-up included), so tables that show ms/frame can show this arm too
        "ms_per_frame": stats.summary([w * 1000.0 / frames for w in walls] if frames else []),
        "ms_per_frame_runs": [w * 1000.0 / frames for w in walls] if frames else [],
    }
    med = section["wall_s"].get("median")
    # what the report's phase table reads from an arm: here per whole run, start-up included
    section["timing"] = {"ms_per_frame": section["ms_per_frame"].get("median"),
                         "ms_per_frame_mean": section["ms_per_frame"].get("median"), "frames": frames,
                         "wall_s": med, "fps": frames / med if med else None, "whole_run": True}
    if arm.kind == "aubench":
        section["config_hash"] = config_mod.config_hash(arm.config)
    return section


def run_whole_ab(arm_a: Arm, arm_b: Arm, clip: Path, *, pairs: int = 3, core: int | None = None,
                 frames: int | None = None, reference: Path | None = None,
                 min_effect: float = stats.DEFAULT_MIN_EFFECT, progress: bool = True) -> dict[str, Any]:
    """Interleaved whole runs of two arms on ``clip``; the ``ab`` result document (``ab.mode = "whole_run"``).

    ``ratios`` are B/A wall times per pair (below 1: B is faster); ``speedup`` says which arm is
    faster and by what factor, as a sentence naming both.
    """
    if pairs < 1:
        raise ConfigError(f"--pairs {pairs}: expected at least 1 (3 or more for a verdict)")
    clip = Path(clip).resolve()
    if not clip.is_file():
        raise InputError(f"{clip}: no such clip; give a video file")
    if frames is not None and "cpp" in (arm_a.kind, arm_b.kind):
        raise ConfigError("--frames: C++ FeatureExtraction has no frame limit, so a C++ arm runs whole clips; "
                          "drop --frames (or cut the clip)")
    core = default_core() if core is None else core
    cfg = arm_b.config or arm_a.config or config_mod.Config()
    doc = results.new_result("ab", cfg, {"input": str(clip), "frames": frames, "landmarks_from": None},
                             label=f"{arm_a.label} vs {arm_b.label}")
    from aubench.harness.workload import run_bar

    bar = run_bar(2 * pairs + 2, "ab (whole runs)", enabled=progress)
    runs: dict[str, list[dict[str, float]]] = {"a": [], "b": []}
    arms = {"a": arm_a, "b": arm_b}
    with bar, tempfile.TemporaryDirectory(prefix="aubench-ab-") as tmp:
        warm = {}
        for key, arm in arms.items():  # file cache, aubench's Numba cache: reported apart
            warm[key.upper()] = timed_run(arm, clip, Path(tmp, f"warm-{key}"), core=core, frames=frames)
            bar.set_postfix_str(f"warm-up {arm.label}: {warm[key.upper()]['wall_s']:.1f} s", refresh=False)
            bar.update(1)
        for i in range(pairs):
            for key in (("a", "b") if i % 2 == 0 else ("b", "a")):  # who goes first alternates
                out = Path(tmp, key)
                for old in out.glob("*.csv"):
                    old.unlink()
                runs[key].append(timed_run(arms[key], clip, out, core=core, frames=frames))
                bar.set_postfix_str(f"pair {i + 1} {arms[key].label}: {runs[key][-1]['wall_s']:.1f} s", refresh=False)
                bar.update(1)
        ratios = [b["wall_s"] / a["wall_s"] for a, b in zip(runs["a"], runs["b"])]
        cpu_ratios = [b["cpu_s"] / a["cpu_s"] for a, b in zip(runs["a"], runs["b"])]
        comparison = stats.compare_ratios(ratios, min_effect=min_effect)
        cpu_comparison = stats.compare_ratios(cpu_ratios, min_effect=min_effect)
        section = {
            "mode": "whole_run", "pairs": pairs, "core": core,
            "order": "whole runs in fresh processes pinned to one core (a [runtime] pipeline arm: two), one "
                     "BLAS thread; who goes first alternates; "
                     "one warm-up run of each first",
            "warmup": warm, "a": _arm_section(arm_a, runs["a"]), "b": _arm_section(arm_b, runs["b"]),
            "ratios": ratios, "comparison": comparison.as_dict(), "cpu_ratios": cpu_ratios,
            "cpu_comparison": cpu_comparison.as_dict(),
            "summary": describe_speedup(arm_a.label, arm_b.label, comparison, "wall"),
            "cpu_summary": describe_speedup(arm_a.label, arm_b.label, cpu_comparison, "CPU"),
        }
        reference = reference or parity.find_reference(clip)
        csv_a, csv_b = Path(tmp, "a", f"{clip.stem}.csv"), Path(tmp, "b", f"{clip.stem}.csv")
        if reference is not None:
            section["reference"] = str(reference)
            # judged by C++'s own cross-CPU spread where it was measured (C++ here is such another CPU too)
            spread = Path(reference).parent.parent / "cpu_spread" / f"{clip.stem}.csv"
            spread = spread if spread.is_file() else None
            for key, csv, arm in (("a", csv_a, arm_a), ("b", csv_b, arm_b)):  # each arm by its own thresholds
                section[key]["parity"] = parity.parity_section(csv, reference, (arm.config or cfg).parity,
                                                               spread_csv=spread)
        cmp = parity.compare(csv_b, csv_a, series=False)
        section["b_vs_a"] = {"landmark_error_median_px": cmp["landmarks"]["error_median_px"],
                             "au_r_min": cmp["au"]["intensity_r_min"],
                             "occurrence_agreement_min": cmp["au"]["occurrence_agreement_min"]}
    doc["ab"] = section
    if "parity" in section["b"]:
        doc["parity"] = section["b"]["parity"]
    return doc


def profile_arm(arm: Arm, clip: Path, *, runs: int = 3, core: int | None = None, frames: int | None = None,
                reference: Path | None = None, progress: bool = True) -> dict[str, Any]:
    """``aubench profile CLIP --config cpp:BUILD``: whole runs of one arm (one warm-up apart), a ``profile`` result.

    C++ has no stage timers to read, so its profile is its whole-run time, CPU time, peak RSS and
    frames, with the parity of its CSV against the shared reference (judged by the cross-CPU spread:
    C++ on this machine is such another CPU).
    """
    if runs < 1:
        raise ConfigError(f"--runs {runs}: expected at least 1")
    clip = Path(clip).resolve()
    if not clip.is_file():
        raise InputError(f"{clip}: no such clip; give a video file")
    if frames is not None and arm.kind == "cpp":
        raise ConfigError("--frames: C++ FeatureExtraction has no frame limit; drop --frames (or cut the clip)")
    core = default_core() if core is None else core
    cfg = arm.config or config_mod.Config()
    doc = results.new_result("profile", cfg, {"input": str(clip), "frames": frames, "landmarks_from": None},
                             label=arm.label)
    from aubench.harness.workload import run_bar

    bar = run_bar(runs + 1, f"profile {arm.label} (whole runs)", enabled=progress)
    measured = []
    with bar, tempfile.TemporaryDirectory(prefix="aubench-profile-") as tmp:
        warm = timed_run(arm, clip, Path(tmp, "warm"), core=core, frames=frames)
        bar.update(1)
        for _ in range(runs):
            out = Path(tmp, "run")
            for old in out.glob("*.csv"):
                old.unlink()
            measured.append(timed_run(arm, clip, out, core=core, frames=frames))
            bar.update(1)
        section = _arm_section(arm, measured)
        section["warmup"] = warm
        section["core"] = core
        reference = reference or parity.find_reference(clip)
        if reference is not None:
            spread = Path(reference).parent.parent / "cpu_spread" / f"{clip.stem}.csv"
            doc["parity"] = parity.parity_section(Path(tmp, "run", f"{clip.stem}.csv"), reference, cfg.parity,
                                                  spread_csv=spread if spread.is_file() else None)
    # the report reads a profile's "timing"; an arm of kind cpp makes it a side-by-side C++ figure
    doc["config"] = {**doc["config"], "name": arm.label} if arm.kind == "cpp" else doc["config"]
    doc["timing"] = section["timing"]
    doc["whole_run"] = section
    return doc


def format_profile(doc: dict[str, Any]) -> str:
    w = doc["whole_run"]
    walls = ", ".join(f"{r['wall_s']:.2f}" for r in w["runs"])
    lines = [f"{w['label']} on core {w['core']}, whole runs (start-up included), one warm-up apart "
             f"({w['warmup']['wall_s']:.2f} s):",
             f"  wall s: median {w['wall_s']['median']:.2f} (runs {walls}); CPU s: median {w['cpu_s']['median']:.2f}; "
             f"{w['frames']} frames, {w['timing']['fps']:.1f} fps; peak RSS {w['max_rss_mb']:.0f} MiB"]
    p = doc.get("parity")
    if p is not None:
        failed = [c for c in p["checks"] if not c["passed"]]
        rule = "C++'s cross-CPU spread" if p.get("spread") else "the [parity] thresholds"
        lines.append(f"  parity against the shared reference (judged by {rule}): "
                     + ("PASS" if not failed else f"{len(failed)} of {len(p['checks'])} checks fail"))
    return "\n".join(lines)


def describe_speedup(label_a: str, label_b: str, comparison: stats.Comparison, what: str) -> str:
    """One sentence naming both arms: which is faster, by what factor, with the interval and the verdict."""
    r, lo, hi = comparison.ratio, comparison.ci_low, comparison.ci_high
    if r <= 1:
        head = f"B ({label_b}) is {1 / r:.2f}x as fast as A ({label_a}) ({what} time; 95% CI {1 / hi:.2f}-{1 / lo:.2f}x)"
    else:
        head = f"A ({label_a}) is {r:.2f}x as fast as B ({label_b}) ({what} time; 95% CI {lo:.2f}-{hi:.2f}x)"
    return f"{head}; verdict: {comparison.verdict_text(label_a, label_b)}"


def format_whole_ab(doc: dict[str, Any]) -> str:
    ab = doc["ab"]
    lines = [f"{'arm':<4}{'':<28}{'whole run s (median)':>22}{'CPU s':>8}{'frames':>8}{'peak MiB':>10}{'parity':>10}"]
    for key in ("a", "b"):
        s = ab[key]
        p = s.get("parity")
        ptxt = "-" if p is None else ("PASS" if p["passed"] else f"{sum(not c['passed'] for c in p['checks'])} FAIL")
        lines.append(f"{key.upper():<4}{s['label'][:27]:<28}{s['wall_s'].get('median', float('nan')):>22.2f}"
                     f"{s['cpu_s'].get('median', float('nan')):>8.2f}{s['frames']:>8}{s['max_rss_mb']:>10.0f}{ptxt:>10}")
    lines.append("warm-up runs (apart): " + ", ".join(f"{k} {v['wall_s']:.2f} s" for k, v in ab["warmup"].items()))
    lines.append("per-pair B/A wall ratios: " + ", ".join(f"{r:.3f}" for r in ab["ratios"]))
    lines.append(ab["summary"])
    lines.append(ab["cpu_summary"])
    v = ab["b_vs_a"]
    lines.append(f"B against A on this machine: landmarks median {v['landmark_error_median_px']:.3f} px, AU r min "
                 f"{v['au_r_min']:.3f}, occurrence agreement min {v['occurrence_agreement_min']:.3f}")
    return "\n".join(lines)
