"""``aubench gate``: fail CI when a change makes aubench slower or less faithful.

A verdict must mean the same on every machine, so nothing here is compared with a
number stored from another machine. The gate measures, in one job on one machine:

1. **The baseline revision and the candidate side by side.** The baseline is a git
   revision (``--baseline-rev``; default: the merge base with ``main`` when the
   candidate is not ``main`` itself, else the revision pinned in
   ``reports/gate.toml``), exported with ``git archive`` into a folder and run with
   this environment's interpreter; the candidate is the working tree (or
   ``--candidate-rev``). Both run the same command, ``aubench run CLIP --config
   fast``, each with its own Numba and derived-array caches, warmed first (warm-up
   is reported apart).
2. **Time, interleaved.** ``--pairs`` pairs of whole runs, in A B B A order, each
   pinned to one core, timed by the child's CPU time. The figure is the median of
   the per-pair ratios candidate / baseline with its bootstrap 95 % interval
   (:func:`aubench.harness.stats.compare_ratios`); it fails only when the
   slowdown is both significant and at least ``max_time_ratio`` (time on a shared
   VM moves by several per cent run to run: the deterministic figure below is
   the one that catches small regressions).
3. **Instructions, deterministic.** Each revision runs under ``valgrind
   --tool=cachegrind --cache-sim=no`` on ``ir_frames[0]`` and ``ir_frames[1]``
   frames; the difference is the per-frame instruction count of tracked frames,
   the rest the start-up's. Instruction counts do not move with machine load (the
   approach CodSpeed takes), so a few per cent of added work shows as a few per
   cent, every time. Numba code is compiled for a generic x86-64 CPU in these runs
   (``NUMBA_CPU_NAME=generic``): valgrind does not run AVX-512, and with the CPU
   named the cache is compiled once natively instead of under valgrind.
   Each hot kernel is also counted on its own: one pass over its generated cases
   with callgrind's instrumentation switched on around that loop only
   (:mod:`aubench.harness.kernel_instructions`).
4. **Parity against C++'s own spread.** The candidate's CSV of the last timed run
   against the C++ reference, judged by the spread rule of ``aubench parity
   --spread`` (``../shared/reference/cpu_spread/<clip>.csv``), the baseline's
   beside it.

The gate fails on any of: a significant time ratio >= ``max_time_ratio``, a
per-frame instruction ratio > ``1 + max_ir_increase``, a start-up instruction
ratio > ``1 + max_startup_ir_increase``, a kernel's instruction ratio >
``1 + max_kernel_ir_increase``, a parity figure that fails the spread
rule, or a run that does not finish. ``aubench gate --inject-work KERNEL:N``
makes the candidate compute every N-th call of a kernel twice (real work, same
results: :data:`aubench.pipeline.registry.INJECT_WORK_ENV`), the self-test of its
sensitivity.
"""

from __future__ import annotations

import math
import os
import re
import resource
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from aubench.harness import parity, results, stats
from aubench.harness.paths import shared_dir
from aubench.pipeline.errors import InputError

GATE_FILE = results.REPO / "reports" / "gate.toml"
DEFAULTS = {
    "config": "fast",
    "input": "media/default.wmv",
    "pairs": 5,
    "ir_frames": [4, 16],
    # Time: a slowdown must be significant and at least this large (5 pairs on a loaded 2-core VM
    # spread by a few per cent; the instruction figures below catch the smaller ones).
    "max_time_ratio": 1.10,
    # Instructions: identical code counts within 0.01 % run to run (RESULTS.md, section 000);
    # 1 % per tracked frame is a third of the smallest slowdown the gate must catch (3 %).
    "max_ir_increase": 0.01,
    "max_startup_ir_increase": 0.03,
    # Per kernel (one pass over its generated cases, aubench/harness/kernel_instructions.py):
    # deterministic to the instruction run to run (RESULTS.md, section 000).
    "max_kernel_ir_increase": 0.03,
}


# --------------------------------------------------------------------------- settings

def load_settings(path: Path = GATE_FILE) -> dict[str, Any]:
    """``reports/gate.toml``: the pinned baseline revision and the gate's limits (DEFAULTS otherwise)."""
    from aubench.pipeline.config import tomllib

    out = dict(DEFAULTS)
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"{path}: not valid TOML ({exc})") from None
        unknown = set(data) - set(DEFAULTS) - {"baseline_rev"}
        if unknown:
            raise InputError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}; valid: baseline_rev, "
                             + ", ".join(DEFAULTS))
        out.update(data)
    return out


# --------------------------------------------------------------------------- revisions and arms

def _git(*args: str, check: bool = True) -> str:
    proc = subprocess.run(["git", "-C", str(results.REPO), *args], capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise InputError(f"git {' '.join(args)}: {proc.stderr.strip() or 'failed'}")
    return proc.stdout.strip()


def resolve_baseline_rev(explicit: str | None, settings: dict[str, Any]) -> tuple[str, str]:
    """(commit, how it was chosen)."""
    if explicit:
        return _git("rev-parse", "--verify", f"{explicit}^{{commit}}"), f"--baseline-rev {explicit}"
    head = _git("rev-parse", "HEAD")
    if _git("rev-parse", "--verify", "--quiet", "main^{commit}", check=False):
        base = _git("merge-base", "HEAD", "main", check=False)
        if base and base != head:
            return base, "merge base with main"
    pinned = settings.get("baseline_rev")
    if not pinned:
        raise InputError(f"{GATE_FILE}: no baseline_rev, and HEAD is main itself; pin one there or give --baseline-rev")
    commit = _git("rev-parse", "--verify", "--quiet", f"{pinned}^{{commit}}", check=False)
    if not commit and _git("rev-parse", "--is-shallow-repository", check=False) == "true":
        # a shallow clone lacks the history: compare HEAD with itself (time and instructions then only
        # check the gate's own noise) and still judge parity, rather than fail for want of history
        return head, f"HEAD itself: baseline_rev {pinned} is not in this shallow clone (clone with history to compare)"
    if not commit:
        raise InputError(f"{GATE_FILE}: baseline_rev {pinned} is not a commit of this repository; "
                         "pin an existing one or give --baseline-rev")
    return commit, f"baseline_rev of {GATE_FILE.name}"


@dataclass
class Arm:
    """One side of the comparison: a source tree and its own caches."""

    name: str                 # "baseline" or "candidate"
    label: str                # commit or "working tree"
    tree: Path
    state: Path
    env: dict[str, str] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)

    def command(self, *args: str) -> list[str]:
        # the namespace the tree's CLI lives in (older revisions: pipeline/)
        module = "aubench.cli" if (self.tree / "aubench" / "cli.py").is_file() else "pipeline.cli"
        return [sys.executable, "-m", module, *args]

    def environ(self, generic_cpu: bool = False) -> dict[str, str]:
        env = dict(os.environ)
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
            env[var] = "1"
        env["PYTHONPATH"] = str(self.tree) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        env["PYTHONHASHSEED"] = "0"
        env["AUBENCH_CACHE_DIR"] = str(self.state / "derived")
        env["NUMBA_CACHE_DIR"] = str(self.state / ("numba-generic" if generic_cpu else "numba"))
        env.pop("NUMBA_CPU_NAME", None)
        env.pop("NUMBA_CPU_FEATURES", None)
        if generic_cpu:
            env["NUMBA_CPU_NAME"] = "generic"
        env.update(self.extra_env)
        return env


def export_revision(rev: str, dest: Path) -> Path:
    """The tree of ``rev`` in ``dest`` (``git archive``; reused when already there)."""
    stamp = dest / ".aubench-gate-rev"
    if stamp.is_file() and stamp.read_text().strip() == rev:
        return dest
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    with tempfile.TemporaryFile() as tar:
        subprocess.run(["git", "-C", str(results.REPO), "archive", "--format=tar", rev], stdout=tar, check=True)
        tar.seek(0)
        with tarfile.open(fileobj=tar) as tf:
            tf.extractall(dest, filter="data") if sys.version_info >= (3, 12) else tf.extractall(dest)
    stamp.write_text(rev + "\n")
    return dest


def state_dir(explicit: Path | None) -> Path:
    if explicit:
        return explicit
    from aubench.pipeline.cache import cache_dir

    base = cache_dir()
    return (base if base else Path(tempfile.gettempdir()) / "aubench-cache") / "gate"


# --------------------------------------------------------------------------- measurements

def _pin_last_core() -> None:
    try:
        cores = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cores[-1]})
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        pass


def run_once(arm: Arm, clip: Path, out_dir: Path, config: str, frames: int | None = None,
             generic_cpu: bool = False, prefix: list[str] | None = None, pin: bool = True) -> dict[str, Any]:
    """One ``aubench run`` of ``arm``: CPU and wall seconds of the child, its CSV."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    argv = arm.command("run", str(clip), "-o", str(out_dir), "--config", config, "--quiet")
    if frames:
        argv += ["--frames", str(frames)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run((prefix or []) + argv, env=arm.environ(generic_cpu), cwd=arm.tree, capture_output=True,
                          text=True, preexec_fn=_pin_last_core if pin else None)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
        raise InputError(f"{arm.name} ({arm.label}): `{' '.join(argv[2:])}` failed: {tail}")
    return {"cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), "wall_s": wall,
            "csv": out_dir / f"{clip.stem}.csv", "stderr": proc.stderr}


_IR_RE = re.compile(r"^summary:\s+(\d+)", re.MULTILINE)


def instruction_count(arm: Arm, clip: Path, work: Path, config: str, frames: int) -> int:
    """Instructions executed by ``aubench run --frames N`` under cachegrind (whole process)."""
    out = work / f"cachegrind.{arm.name}.{frames}.out"
    prefix = ["valgrind", "--tool=cachegrind", "--cache-sim=no", f"--cachegrind-out-file={out}"]
    run_once(arm, clip, work / f"ir-{arm.name}-{frames}", config, frames, generic_cpu=True, prefix=prefix, pin=False)
    m = _IR_RE.search(out.read_text())
    if not m:
        raise InputError(f"{out}: no 'summary:' line; valgrind's cachegrind output changed?")
    return int(m.group(1))


def warm(arm: Arm, clip: Path, work: Path, config: str, instructions: bool) -> float:
    """Compile/load each cache the measured runs will use; seconds spent (reported apart)."""
    t0 = time.perf_counter()
    run_once(arm, clip, work / f"warm-{arm.name}", config, frames=3)
    if instructions:
        run_once(arm, clip, work / f"warm-generic-{arm.name}", config, frames=3, generic_cpu=True)
    return time.perf_counter() - t0


# --------------------------------------------------------------------------- the gate

def run_gate(baseline_rev: str | None = None, candidate_rev: str | None = None, config: str | None = None,
             input_path: Path | None = None, frames: int | None = None, pairs: int | None = None,
             ir_frames: tuple[int, int] | None = None, instructions: bool = True, spread: Path | None = None,
             inject_work: str | None = None, max_time_ratio: float | None = None,
             max_ir_increase: float | None = None, state: Path | None = None,
             progress: bool = True) -> dict[str, Any]:
    settings = load_settings()
    config = config or settings["config"]
    pairs = int(pairs or settings["pairs"])
    ir_frames = tuple(ir_frames or settings["ir_frames"])
    max_time_ratio = float(max_time_ratio or settings["max_time_ratio"])
    max_ir_increase = float(max_ir_increase if max_ir_increase is not None else settings["max_ir_increase"])
    max_startup = float(settings["max_startup_ir_increase"])
    clip = Path(input_path) if input_path else shared_dir() / settings["input"]
    if not clip.is_file():
        raise InputError(f"{clip}: no such clip; give --input CLIP")
    if instructions and shutil.which("valgrind") is None:
        raise InputError("valgrind is not installed: install it (apt-get install valgrind) or give --no-instructions")
    if pairs < 3:
        raise InputError(f"--pairs {pairs}: need at least 3 pairs for a confidence interval")
    if not (0 < ir_frames[0] < ir_frames[1]):
        raise InputError(f"--ir-frames {ir_frames[0]},{ir_frames[1]}: need 0 < first < second")
    reference = parity.find_reference(clip)
    spread = spread or (shared_dir() / "reference" / "cpu_spread" / f"{clip.stem}.csv")
    spread = spread if spread.is_file() else None

    def say(msg: str) -> None:
        if progress:
            print(f"gate: {msg}", file=sys.stderr, flush=True)

    base_commit, how = resolve_baseline_rev(baseline_rev, settings)
    root = state_dir(state)
    base = Arm("baseline", base_commit[:12], export_revision(base_commit, root / base_commit / "tree"),
               root / base_commit)
    if candidate_rev:
        cand_commit = _git("rev-parse", "--verify", f"{candidate_rev}^{{commit}}")
        cand = Arm("candidate", cand_commit[:12], export_revision(cand_commit, root / cand_commit / "tree"),
                   root / cand_commit)
    else:
        code = results.code_version()
        cand = Arm("candidate", f"working tree ({code['describe']})", results.REPO, root / "working-tree")
    if inject_work:
        from aubench.pipeline.registry import INJECT_WORK_ENV

        cand.extra_env[INJECT_WORK_ENV] = inject_work
    arms = (base, cand)
    doc = results.new_result("gate", None, {"input": str(clip), "frames": frames, "config": config})
    gate: dict[str, Any] = {"baseline": {"commit": base_commit, "chosen_by": how},
                            "candidate": {"label": cand.label, "inject_work": inject_work},
                            "config": config, "limits": {"max_time_ratio": max_time_ratio,
                                                         "max_ir_increase": max_ir_increase,
                                                         "max_startup_ir_increase": max_startup,
                                                         "max_kernel_ir_increase": float(settings["max_kernel_ir_increase"])}}
    with tempfile.TemporaryDirectory(prefix="aubench-gate-") as tmp:
        work = Path(tmp)
        for arm in arms:
            say(f"warming {arm.name} ({arm.label}): Numba and model caches")
            gate.setdefault("warmup_s", {})[arm.name] = warm(arm, clip, work, config, instructions)

        # time: A B B A ... pairs
        cpu: dict[str, list[float]] = {"baseline": [], "candidate": []}
        wall: dict[str, list[float]] = {"baseline": [], "candidate": []}
        last: dict[str, dict] = {}
        bar = tqdm(range(pairs), desc="gate: timed pairs", unit="pair", file=sys.stderr, disable=not progress)
        for i in bar:
            order = arms if i % 2 == 0 else arms[::-1]
            for arm in order:
                r = run_once(arm, clip, work / f"t-{arm.name}", config, frames)
                cpu[arm.name].append(r["cpu_s"])
                wall[arm.name].append(r["wall_s"])
                last[arm.name] = r
            bar.set_postfix_str(f"baseline {cpu['baseline'][-1]:.2f} s, candidate {cpu['candidate'][-1]:.2f} s CPU")
        ratios = [c / b for b, c in zip(cpu["baseline"], cpu["candidate"])]
        gate["time"] = {"cpu_s": cpu, "wall_s": wall, "ratios": ratios}

        # parity of both arms' last whole runs, candidate judged by the spread rule
        if reference is not None:
            from aubench.pipeline.config import ParityThresholds

            t = ParityThresholds()
            for arm in arms:
                sec = parity.parity_section(last[arm.name]["csv"], reference, t, series=False, spread_csv=spread)
                gate.setdefault("parity", {})[arm.name] = sec
            gate["parity_rule"] = "spread" if spread else "thresholds"
        else:
            gate["parity_rule"] = "none (no C++ reference for this clip)"

        # instructions: both arms, two frame counts, two valgrind processes at a time
        if instructions:
            say(f"counting instructions under valgrind ({ir_frames[0]} and {ir_frames[1]} frames, both arms)")
            jobs = [(arm, n) for n in ir_frames for arm in arms]
            with ThreadPoolExecutor(max_workers=2) as pool:
                counts = list(pool.map(lambda j: instruction_count(j[0], clip, work, config, j[1]), jobs))
            ir = {arm.name: {} for arm in arms}
            for (arm, n), c in zip(jobs, counts):
                ir[arm.name][n] = c
            n1, n2 = ir_frames
            summary = {}
            for name, by in ir.items():
                per_frame = (by[n2] - by[n1]) / (n2 - n1)
                summary[name] = {"total": by, "per_frame": per_frame, "startup": by[n1] - n1 * per_frame}
            gate["instructions"] = {"frames": list(ir_frames), **summary}
            say("counting instructions per kernel under callgrind (both arms)")
            from aubench.harness import kernel_instructions

            models = Path(os.environ.get("AUBENCH_MODELS") or shared_dir() / "openface")
            with ThreadPoolExecutor(max_workers=2) as pool:
                per_kernel = list(pool.map(
                    lambda arm: kernel_instructions.measure(arm.tree, arm.environ(generic_cpu=True), config, models,
                                                            work / f"kir-{arm.name}"), arms))
            gate["kernel_instructions"] = {arm.name: k for arm, k in zip(arms, per_kernel)}
    judge(gate)
    doc["gate"] = gate
    return doc


def judge(gate: dict[str, Any]) -> dict[str, Any]:
    """Fill ``gate["failures"]`` and ``gate["passed"]`` from its measurements and ``gate["limits"]``.

    - time: the median per-pair ratio's bootstrap CI (:func:`stats.compare_ratios`)
      says "slower" (significant and >= ``max_time_ratio``);
    - instructions: per tracked frame above ``1 + max_ir_increase`` x the baseline's,
      start-up above ``1 + max_startup_ir_increase`` x;
    - parity: any check of the candidate that fails.
    """
    limits, failures = gate["limits"], []
    t = gate.get("time")
    if t:
        cmp = stats.compare_ratios(t["ratios"], min_effect=limits["max_time_ratio"] - 1.0)
        t["comparison"] = cmp.as_dict()
        if cmp.verdict == "slower":
            failures.append(f"time: candidate/baseline CPU time {cmp.ratio:.3f} [{cmp.ci_low:.3f}, {cmp.ci_high:.3f}] "
                            f"is significantly above the limit {limits['max_time_ratio']:.2f}")
    ir = gate.get("instructions")
    if ir:
        pf = ir["candidate"]["per_frame"] / ir["baseline"]["per_frame"]
        su = ir["candidate"]["startup"] / ir["baseline"]["startup"]
        ir.update(per_frame_ratio=pf, startup_ratio=su)
        if pf > 1 + limits["max_ir_increase"]:
            failures.append(f"instructions: {pf:.4f} x the baseline's per tracked frame "
                            f"(limit {1 + limits['max_ir_increase']:.3f})")
        if su > 1 + limits["max_startup_ir_increase"]:
            failures.append(f"instructions: start-up {su:.4f} x the baseline's "
                            f"(limit {1 + limits['max_startup_ir_increase']:.3f})")
    kir = gate.get("kernel_instructions")
    if kir:
        ratios = {k: kir["candidate"][k] / kir["baseline"][k] for k in sorted(kir["candidate"])
                  if kir["baseline"].get(k)}
        kir["ratios"] = ratios
        for k, r in ratios.items():
            if r > 1 + limits.get("max_kernel_ir_increase", DEFAULTS["max_kernel_ir_increase"]):
                failures.append(f"instructions: kernel {k} {r:.4f} x the baseline's per pass over its cases "
                                f"(limit {1 + limits.get('max_kernel_ir_increase', DEFAULTS['max_kernel_ir_increase']):.3f})")
    for c in (gate.get("parity") or {}).get("candidate", {}).get("checks", []):
        if not c["passed"]:
            failures.append(f"parity: {c['name']} = {c['value']:.4g} misses {c['op']} {c['threshold']:.4g}"
                            + (f" (C++ on another CPU: {c['spread']:.4g})" if c.get("spread") is not None else ""))
    gate["failures"] = failures
    gate["passed"] = not failures
    return gate


# --------------------------------------------------------------------------- output

def format_gate(doc: dict[str, Any]) -> str:
    g = doc["gate"]
    m = doc["machine"]
    flags = m.get("cpu_flags") or {}
    lines = [f"gate: {g['config']} on {Path(doc['workload']['input']).name}; candidate {g['candidate']['label']}"
             + (f" (work injected: {g['candidate']['inject_work']})" if g["candidate"].get("inject_work") else "")
             + f" vs baseline {g['baseline']['commit'][:12]} ({g['baseline']['chosen_by']})",
             f"  machine: {m.get('cpu_model')}, "
             f"{'AVX-512' if flags.get('avx512f') else 'AVX2' if flags.get('avx2') else 'no AVX2'}, "
             f"OpenBLAS {(m.get('blas') or {}).get('kernel')}; warm-up (apart) "
             + ", ".join(f"{k} {v:.1f} s" for k, v in g.get("warmup_s", {}).items())]
    t = g.get("time")
    if t:
        c = t["comparison"]
        med = {k: sorted(v)[len(v) // 2] for k, v in t["cpu_s"].items()}
        lines.append(f"  time ({c['n']} interleaved pairs, CPU s, median): baseline {med['baseline']:.2f}, "
                     f"candidate {med['candidate']:.2f}; ratio {c['ratio']:.3f} [{c['ci_low']:.3f}, {c['ci_high']:.3f}] "
                     f"95% CI: {c['verdict']} (fails if significant and >= {g['limits']['max_time_ratio']:.2f})")
    ir = g.get("instructions")
    if ir:
        lines.append(f"  instructions (cachegrind, {ir['frames'][0]} and {ir['frames'][1]} frames): per tracked frame "
                     f"{ir['baseline']['per_frame'] / 1e6:.2f} M -> {ir['candidate']['per_frame'] / 1e6:.2f} M "
                     f"(x{ir['per_frame_ratio']:.4f}, limit x{1 + g['limits']['max_ir_increase']:.3f}); start-up "
                     f"{ir['baseline']['startup'] / 1e9:.3f} G -> {ir['candidate']['startup'] / 1e9:.3f} G "
                     f"(x{ir['startup_ratio']:.4f}, limit x{1 + g['limits']['max_startup_ir_increase']:.3f})")
    kir = g.get("kernel_instructions")
    if kir and kir.get("ratios"):
        worst = max(kir["ratios"].items(), key=lambda kv: kv[1])
        lines.append(f"  instructions per kernel (callgrind, {len(kir['ratios'])} kernels): candidate/baseline "
                     f"{min(kir['ratios'].values()):.4f}-{worst[1]:.4f} (highest {worst[0]}; limit "
                     f"x{1 + g['limits']['max_kernel_ir_increase']:.3f})")
    p = g.get("parity")
    if p:
        cs = p["candidate"]["checks"]
        bs = p["baseline"]["checks"]
        lines.append(f"  parity ({g['parity_rule']} rule): candidate {sum(c['passed'] for c in cs)}/{len(cs)} checks pass, "
                     f"baseline {sum(c['passed'] for c in bs)}/{len(bs)}")
        lm_c = p["candidate"]["figures"].get("landmarks", {})
        lm_s = (p["candidate"].get("spread") or {}).get("figures", {}).get("landmarks", {})
        if lm_c:
            lines.append(f"    landmarks median {lm_c['error_median_px']:.4f} px"
                         + (f" (C++ on another CPU {lm_s['error_median_px']:.4f})" if lm_s else "")
                         + f", AU r min {p['candidate']['figures'].get('au', {}).get('intensity_r_min', math.nan):.4f}"
                         + (f" (C++ {lm_s and p['candidate']['spread']['figures']['au']['intensity_r_min']:.4f})"
                            if lm_s else ""))
    else:
        lines.append(f"  parity: {g.get('parity_rule')}")
    lines += [f"  FAIL {f}" for f in g["failures"]]
    lines.append("gate PASSED" if g["passed"] else "gate FAILED")
    return "\n".join(lines)


def exit_code(doc: dict[str, Any]) -> int:
    return 0 if doc["gate"]["passed"] else 1
