"""How far the BLAS-sensitive trace comparisons move with OpenBLAS's kernel family.

OpenBLAS picks its sgemm/LAPACK kernels by CPU when it loads (``OPENBLAS_CORETYPE``
overrides it) and the kernels sum in different orders, so iterative fits that call
them (``PDM::CalcParams``' Gauss-Newton, CLNF's NU-RLMS over scales, the tracker)
land a few float32 ulps apart on different CPUs. C++ OpenFace does the same
(``../shared/reference/cpu_spread``). The tests' tolerances for these comparisons
(``tests/tolerances.py``) come from this measurement, not from one machine::

    python -m experiments.blas_spread [-o out/blas_spread.json]

runs the tests marked ``blas`` once per kernel family this CPU can load (each in its
own process: the kernel is chosen at load time) with ``AUBENCH_RECORD_DEVIATIONS``
set, so every named comparison records its deviation, and prints per name the
largest deviation under each family, the tolerance, and whether the tolerance is at
least ``MARGIN`` times the largest (``tests.tolerances.MARGIN``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Every family of NumPy's OpenBLAS for x86-64 that a current CPU may get; one this CPU cannot
# run fails to start or falls back, and is reported with the kernel it actually loaded.
FAMILIES = ("auto", "Haswell", "SkylakeX", "Cooperlake", "Sandybridge", "Zen")


def _run_family(family: str) -> dict:
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    env.pop("OPENBLAS_CORETYPE", None)
    if family != "auto":
        env["OPENBLAS_CORETYPE"] = family
    kernel = subprocess.run([sys.executable, "-c", "from aubench.harness.results import blas_kernel; "
                             "print(blas_kernel())"], env=env, capture_output=True, text=True, cwd=REPO)
    with tempfile.NamedTemporaryFile(prefix="aubench-dev-", suffix=".jsonl", delete=False) as fh:
        record = fh.name
    env["AUBENCH_RECORD_DEVIATIONS"] = record
    proc = subprocess.run([sys.executable, "-m", "pytest", "-m", "blas", "-q", "-p", "no:cacheprovider",
                           "-p", "no:randomly", "tests"], env=env, capture_output=True, text=True, cwd=REPO)
    worst: dict[str, float] = {}
    for line in Path(record).read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        worst[row["name"]] = max(worst.get(row["name"], 0.0), row["deviation"])
    os.unlink(record)
    last = (proc.stdout.strip().splitlines() or ["?"])[-1]
    return {"kernel": kernel.stdout.strip() or None, "deviations": worst, "pytest": last,
            "passed": proc.returncode == 0}


def measure(families=FAMILIES) -> dict[str, dict]:
    """{family: {"kernel", "deviations": {name: largest}, "pytest": summary line, "passed"}}."""
    results = {}
    for fam in families:
        results[fam] = _run_family(fam)
        print(f"  {fam}: OpenBLAS {results[fam]['kernel']}, {results[fam]['pytest']}", file=sys.stderr)
    return results


def table(results: dict[str, dict]) -> str:
    from tests.tolerances import MARGIN, TOLERANCES

    fams = list(results)
    head = f"{'comparison':<30}" + "".join(f"{f[:11]:>12}" for f in fams) + f"{'max':>10}{'tolerance':>11}  ok"
    lines = [head]
    bad = 0
    for name, (tol, _, _) in TOLERANCES.items():
        vals = [results[f]["deviations"].get(name) for f in fams]
        seen = [v for v in vals if v is not None]
        top = max(seen) if seen else None
        ok = top is not None and tol >= MARGIN * top
        bad += not ok
        lines.append(f"{name:<30}" + "".join(f"{'-' if v is None else format(v, '.3g'):>12}" for v in vals)
                     + f"{'-' if top is None else format(top, '.3g'):>10}{tol:>11.3g}  "
                     + ("yes" if ok else f"NO (needs >= {MARGIN:g} x max)" if top is not None else "not measured"))
    lines.append("kernels loaded: " + ", ".join(f"{f}={r['kernel']}" for f, r in results.items()))
    lines.append(f"{len(TOLERANCES) - bad}/{len(TOLERANCES)} tolerances are at least {MARGIN:g} x the largest "
                 "deviation measured")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--families", default=",".join(FAMILIES),
                    help=f"comma-separated OPENBLAS_CORETYPE values (default: {','.join(FAMILIES)})")
    ap.add_argument("-o", "--output", metavar="JSON", help="write the measurement here")
    args = ap.parse_args(argv)
    results = measure(tuple(f for f in args.families.split(",") if f))
    print(table(results))
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
