"""aubench against C++ OpenFace 2.2 on this machine, side by side, as users run them.

Every figure against C++ is a ratio measured here, in one run: C++ timings from
another CPU (``../shared/reference/TIMING.md``) do not transfer. Build the C++
once with ``../shared/tools/build_openface_cpp.sh`` (~4 min; its header says how),
then::

    python -m experiments.cpp_side_by_side CLIP [CLIP...] --cpp /path/to/ofcpp [--pairs 3] [-o out/cpp.json]

runs, for each clip, ``--pairs`` interleaved pairs (C++ first in odd pairs, aubench
first in even ones) of

- C++ ``FeatureExtraction`` with the reference flags (``fe.sh``; OpenBLAS's own
  kernel choice, ``FE_BLAS_CORE=auto``, unless ``--cpp-blas`` names one), and
- ``aubench run CLIP -o DIR --config fast --hogalign --simalign``,

each a fresh process pinned to one core with one thread (``taskset``, BLAS/OMP/Numba
threads 1), into a fresh output folder, timed by wall clock as ``/usr/bin/time``
would (start-up included) and by the child's CPU time. aubench's Numba cache is
warmed once before the pairs (its compile time is printed apart). It prints the
per-clip medians and the median ratio C++ / aubench with its bootstrap 95 % CI,
and, as a check that both did the same work, the parity of the two CSVs of the
last pair (landmarks, AU r).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aubench.harness import parity, results, stats

REPO = Path(__file__).resolve().parents[1]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        env[var] = "1"
    return env


def _timed(argv: list[str], env: dict[str, str], core: int) -> dict[str, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(["taskset", "-c", str(core), *argv], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"cpp_side_by_side: `{' '.join(argv)}` failed (exit {proc.returncode}): "
                         + (proc.stderr.strip().splitlines() or [""])[-1])
    return {"wall_s": wall, "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)}


def side_by_side(clip: Path, cpp_dir: Path, pairs: int, core: int, cpp_blas: str, work: Path) -> dict:
    env = _env()
    cpp_env = dict(env, FE_BLAS_CORE=cpp_blas)
    aub = [sys.executable, "-m", "aubench.cli", "run", str(clip), "--config", "fast", "--hogalign", "--simalign",
           "--quiet"]
    t0 = time.perf_counter()
    _timed(aub + ["-o", str(work / "warm"), "--frames", "3"], env, core)
    warm = time.perf_counter() - t0
    runs: dict[str, list[dict]] = {"cpp": [], "aubench": []}
    for i in range(pairs):
        order = ("cpp", "aubench") if i % 2 == 0 else ("aubench", "cpp")
        for who in order:
            out = work / who
            shutil.rmtree(out, ignore_errors=True)
            argv = ([str(cpp_dir / "fe.sh"), str(clip), str(out)] if who == "cpp" else aub + ["-o", str(out)])
            runs[who].append(_timed(argv, cpp_env if who == "cpp" else env, core))
        print(f"  {clip.name} pair {i + 1}/{pairs}: C++ {runs['cpp'][-1]['wall_s']:.2f} s, "
              f"aubench {runs['aubench'][-1]['wall_s']:.2f} s", file=sys.stderr, flush=True)
    out: dict = {"clip": clip.name, "pairs": pairs, "aubench_warmup_s": warm, "cpp_blas": cpp_blas, "runs": runs}
    for key in ("wall_s", "cpu_s"):
        ratios = [c[key] / a[key] for c, a in zip(runs["cpp"], runs["aubench"])]
        out[key] = {"cpp_median": stats.summary([r[key] for r in runs["cpp"]])["median"],
                    "aubench_median": stats.summary([r[key] for r in runs["aubench"]])["median"],
                    "ratios_cpp_over_aubench": ratios,
                    # compare_ratios speaks of B/A time; here B = C++, A = aubench: above 1, aubench is faster
                    "comparison": stats.compare_ratios(ratios).as_dict()}
    cmp = parity.compare(work / "aubench" / f"{clip.stem}.csv", work / "cpp" / f"{clip.stem}.csv", series=False)
    out["parity_aubench_vs_this_cpp"] = {"landmark_error_median_px": cmp["landmarks"]["error_median_px"],
                                         "au_r_min": cmp["au"]["intensity_r_min"],
                                         "occurrence_agreement_min": cmp["au"]["occurrence_agreement_min"]}
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("clips", nargs="+", type=Path, help="videos (e.g. ../shared/media/default.wmv)")
    ap.add_argument("--cpp", type=Path, required=True, help="build folder of build_openface_cpp.sh (holds fe.sh)")
    ap.add_argument("--pairs", type=int, default=3, help="interleaved pairs per clip (default 3)")
    ap.add_argument("--core", type=int, default=None, help="core to pin both to (default: the last one)")
    ap.add_argument("--cpp-blas", default="auto",
                    help="OPENBLAS_CORETYPE for C++ (default auto: OpenBLAS's own choice, as a user gets)")
    ap.add_argument("-o", "--output", type=Path, help="JSON result")
    args = ap.parse_args(argv)
    if not (args.cpp / "fe.sh").is_file():
        ap.error(f"{args.cpp}: no fe.sh; build C++ OpenFace with ../shared/tools/build_openface_cpp.sh first")
    core = args.core if args.core is not None else sorted(os.sched_getaffinity(0))[-1]
    doc = {"machine": results.machine_metadata(), "code": results.code_version(), "clips": []}
    with tempfile.TemporaryDirectory(prefix="aubench-cpp-") as tmp:
        for clip in args.clips:
            if not clip.is_file():
                ap.error(f"{clip}: no such clip")
            work = Path(tmp) / clip.stem
            work.mkdir()
            doc["clips"].append(side_by_side(clip.resolve(), args.cpp.resolve(), args.pairs, core, args.cpp_blas, work))
    m = doc["machine"]
    print(f"{m['cpu_model']}, OpenBLAS {(m.get('blas') or {}).get('kernel')} (aubench), C++ OPENBLAS_CORETYPE="
          f"{args.cpp_blas}; pinned to core {core}, one thread each; wall = as /usr/bin/time, start-up included")
    print(f"{'clip':<26}{'C++ s':>8}{'aubench s':>11}{'C++/aubench':>13}{'95% CI':>18}{'CPU ratio':>11}"
          f"{'warm-up s':>11}{'lm px':>8}{'AU r min':>10}")
    for c in doc["clips"]:
        w, cpu, p = c["wall_s"], c["cpu_s"], c["parity_aubench_vs_this_cpp"]
        cm = w["comparison"]
        print(f"{c['clip']:<26}{w['cpp_median']:>8.2f}{w['aubench_median']:>11.2f}{cm['ratio']:>13.2f}"
              f"{'[' + format(cm['ci_low'], '.2f') + ', ' + format(cm['ci_high'], '.2f') + ']':>18}"
              f"{cpu['comparison']['ratio']:>11.2f}{c['aubench_warmup_s']:>11.1f}"
              f"{p['landmark_error_median_px']:>8.3f}{p['au_r_min']:>10.3f}")
    if args.output:
        results.save(doc, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
