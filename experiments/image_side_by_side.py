"""Image mode against C++ FaceLandmarkImg on this machine, side by side: whole runs on sample1-6.

    python -m experiments.image_side_by_side --cpp /path/to/ofcpp [--pairs 6] [-o out/image_speed.json]

Each side is one fresh process over the six images, pinned to one core with one thread, start-up
included (as :mod:`experiments.cpp_side_by_side`, whose timing it reuses), in ``--pairs``
interleaved pairs (C++ first in odd pairs):

- C++: ``fli.sh sample1.jpg OUT -f sample2.jpg ... -f sample6.jpg`` (the reference flags;
  OpenBLAS's own kernel choice unless ``--cpp-blas`` names one);
- aubench: :func:`aubench.pipeline.images.run_images` with the ``fast`` preset plus
  ``hogalign``/``simalign`` (the reference flags), called from a fresh interpreter (the CLI
  does not reach it yet). Its JIT warm-up (Numba loading its cache) is reported apart.

Prints the median wall and CPU seconds of each side and the median ratio C++ / aubench with its
bootstrap 95 % CI.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from aubench.harness import results, stats
from aubench.harness.paths import shared_dir
from experiments.cpp_side_by_side import _env, _timed

IMAGES = tuple(f"sample{i}.jpg" for i in range(1, 7))
_RUNNER = ("import json, sys; from aubench.pipeline.config import preset, with_overrides; "
           "from aubench.pipeline.images import run_images; "
           "r = run_images(sys.argv[1:-1], sys.argv[-1], with_overrides(preset('fast'), "
           "output={'hogalign': True, 'simalign': True}), progress=False); "
           "open(sys.argv[-1] + '/timing.json', 'w').write(json.dumps({'faces': r.faces, 'jit_s': r.jit_s, "
           "'run_s': r.wall_s}))")


def side_by_side(cpp_dir: Path, pairs: int, core: int, cpp_blas: str, work: Path) -> dict:
    env = _env()
    cpp_env = dict(env, FE_BLAS_CORE=cpp_blas)
    media = shared_dir() / "media"
    inputs = [str(media / name) for name in IMAGES]
    cpp = [str(cpp_dir / "fli.sh"), inputs[0]]
    cpp_rest = [a for path in inputs[1:] for a in ("-f", path)]
    aub = [sys.executable, "-c", _RUNNER, *inputs]
    _timed(aub + [str(work / "warm")], env, core)  # Numba's cache filled before the pairs
    runs: dict[str, list[dict]] = {"cpp": [], "aubench": []}
    for i in range(pairs):
        for who in (("cpp", "aubench") if i % 2 == 0 else ("aubench", "cpp")):
            out = work / who
            shutil.rmtree(out, ignore_errors=True)
            if who == "cpp":
                runs[who].append(_timed(cpp + [str(out)] + cpp_rest, cpp_env, core))
            else:
                runs[who].append(_timed(aub + [str(out)], env, core))
                runs[who][-1].update(json.loads((out / "timing.json").read_text()))
        print(f"  pair {i + 1}/{pairs}: C++ {runs['cpp'][-1]['wall_s']:.2f} s, "
              f"aubench {runs['aubench'][-1]['wall_s']:.2f} s", file=sys.stderr, flush=True)
    doc: dict = {"pairs": pairs, "cpp_blas": cpp_blas, "runs": runs}
    for key in ("wall_s", "cpu_s"):
        ratios = [c[key] / a[key] for c, a in zip(runs["cpp"], runs["aubench"])]
        doc[key] = {"cpp_median": stats.summary([r[key] for r in runs["cpp"]])["median"],
                    "aubench_median": stats.summary([r[key] for r in runs["aubench"]])["median"],
                    "comparison": stats.compare_ratios(ratios).as_dict()}
    return doc


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cpp", type=Path, required=True, help="C++ build folder holding fli.sh")
    ap.add_argument("--pairs", type=int, default=6)
    ap.add_argument("--core", type=int, default=None, help="core to pin both to (default: the last one)")
    ap.add_argument("--cpp-blas", default="auto", help="OPENBLAS_CORETYPE for C++ (default auto)")
    ap.add_argument("-o", "--output", type=Path, help="JSON result")
    args = ap.parse_args(argv)
    if not (args.cpp / "fli.sh").is_file():
        ap.error(f"{args.cpp}: no fli.sh; give the C++ build folder")
    core = args.core if args.core is not None else sorted(os.sched_getaffinity(0))[-1]
    with tempfile.TemporaryDirectory(prefix="aubench-img-") as tmp:
        doc = side_by_side(args.cpp.resolve(), args.pairs, core, args.cpp_blas, Path(tmp))
    doc["machine"] = results.machine_metadata()
    doc["load_after"] = os.getloadavg()
    w, cpu = doc["wall_s"], doc["cpu_s"]
    jit = [r["jit_s"] for r in doc["runs"]["aubench"]]
    print(f"sample1-6 (17 faces), core {core}, one thread each; wall as /usr/bin/time, start-up included")
    for key, d in (("wall s", w), ("CPU s", cpu)):
        cm = d["comparison"]
        print(f"{key:<7} C++ {d['cpp_median']:.2f}  aubench {d['aubench_median']:.2f}  C++/aubench {cm['ratio']:.2f} "
              f"[{cm['ci_low']:.2f}, {cm['ci_high']:.2f}]")
    print(f"aubench JIT warm-up (Numba loading its cache), median {stats.summary(jit)['median']:.2f} s per run; "
          f"faces {doc['runs']['aubench'][-1]['faces']}")
    if args.output:
        results.save(doc, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
