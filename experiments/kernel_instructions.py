"""Instructions per hot kernel of one config, counted under valgrind's callgrind (deterministic, load-independent).

    python -m experiments.kernel_instructions [--config fast] [--kernels fhog,mean_shift] [--models DIR]

One pass over each kernel's generated cases with the instrumentation switched on around
that loop only (:func:`aubench.harness.kernel_instructions.measure`, what ``aubench gate``
counts for both of its arms), Numba compiled for a generic x86-64 as in the gate. Prints
``{kernel: instructions}`` as JSON. Needs valgrind and gcc.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from aubench.harness.kernel_instructions import measure
from aubench.harness.paths import REPO


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m experiments.kernel_instructions", description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", default="fast",
                    help="preset or TOML whose variants are counted (default: fast; reference for plain NumPy)")
    ap.add_argument("--models", default=os.environ.get("AUBENCH_MODELS", ""), help="OpenFace model folder")
    ap.add_argument("--kernels", default="", help="comma-separated kernel names (default: all)")
    args = ap.parse_args(argv)
    only = [k for k in args.kernels.split(",") if k]
    env = dict(os.environ, NUMBA_CPU_NAME="generic", PYTHONHASHSEED="0", OPENBLAS_NUM_THREADS="1",
               OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    try:
        with tempfile.TemporaryDirectory(prefix="aubench-kir-") as tmp:
            counts = measure(REPO, env, args.config, Path(args.models), Path(tmp), only or None)
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(counts, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
