"""Instructions per hot kernel, counted under valgrind's callgrind: deterministic, load-independent.

For each kernel of a config's variant selection, the kernel's own generated cases
(``Kernel.cases``, the inputs of the registry-driven test) are run once to warm
them (Numba compile or cache load), then once more with callgrind's instrumentation
switched on around exactly that loop. The switch is callgrind's client requests
(``valgrind/callgrind.h``), reached from Python through a ten-line C helper compiled
here with gcc; natively its calls are no-ops. Everything else in the process (the
interpreter, imports, model loading) runs uninstrumented.

This file runs as a script inside the measured tree (``PYTHONPATH=<tree>``, so
``aubench.pipeline`` is that revision's) and imports nothing from ``experiments``: the
gate uses it on a baseline revision that may not have it. :func:`measure` is the
parent side; ``aubench gate`` calls it for both arms, ``python -m
experiments.kernel_instructions`` for one config.
"""

from __future__ import annotations

import ctypes
import re
import subprocess
import sys
from pathlib import Path

HELPER_C = r"""
#include <valgrind/callgrind.h>
void aub_start(void) { CALLGRIND_ZERO_STATS; CALLGRIND_START_INSTRUMENTATION; }
void aub_stop(const char *name) { CALLGRIND_STOP_INSTRUMENTATION; CALLGRIND_DUMP_STATS_AT(name); }
"""


def build_helper(work: Path) -> Path:
    """Compile the client-request helper; an OSError names what is missing."""
    header = Path("/usr/include/valgrind/callgrind.h")
    if not header.is_file():
        raise OSError(f"{header} is missing: install valgrind (apt-get install valgrind)")
    src, lib = work / "aub_cg.c", work / "libaub_cg.so"
    src.write_text(HELPER_C)
    proc = subprocess.run(["gcc", "-O1", "-shared", "-fPIC", str(src), "-o", str(lib)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise OSError(f"gcc could not build the callgrind helper: {proc.stderr.strip()[-300:]}")
    return lib


def _child(config: str, lib_path: str, models: str, only: list[str]) -> None:
    """Inside the measured process: warm each kernel's cases, then count one pass over them."""
    import numpy as np

    from aubench.pipeline import config as config_mod
    from aubench.pipeline import registry

    lib = ctypes.CDLL(lib_path)
    lib.aub_stop.argtypes = [ctypes.c_char_p]
    cfg = config_mod.load_any(config)
    selection = dict(cfg.variant_selection)
    for name, kernel in sorted(registry.kernels().items()):
        if only and name not in only:
            continue
        fn = kernel.variants[selection.get(name, registry.REFERENCE)].load()
        cases = list(kernel.cases(np.random.default_rng(0), Path(models)))
        for case in cases:  # warm: compile or load the Numba cache, fill lazy tables
            fn(*case.args, **dict(case.kwargs))
        lib.aub_start()
        for case in cases:
            fn(*case.args, **dict(case.kwargs))
        lib.aub_stop(name.encode())


_DESC = re.compile(r"^desc: Trigger: Client Request: (\S+)", re.MULTILINE)
_TOTAL = re.compile(r"^totals:\s+(\d+)", re.MULTILINE)


def measure(tree: Path, env: dict[str, str], config: str, models: Path, work: Path,
            kernels: list[str] | None = None) -> dict[str, int]:
    """{kernel: instructions for one pass over its cases} for the variant ``config`` selects, in ``tree``."""
    work.mkdir(parents=True, exist_ok=True)
    lib = build_helper(work)
    argv = [sys.executable, str(Path(__file__).resolve()), config, str(lib), str(models)] + (
        [",".join(kernels)] if kernels else [])
    # natively first: the Numba cache (NUMBA_CPU_NAME from env) is compiled outside valgrind
    native = subprocess.run(argv, env=env, cwd=tree, capture_output=True, text=True)
    if native.returncode != 0:
        raise OSError("kernel cases failed: " + (native.stderr.strip().splitlines() or ["?"])[-1])
    out = work / "callgrind.out"
    proc = subprocess.run(["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
                           *argv], env=env, cwd=tree, capture_output=True, text=True)
    if proc.returncode != 0:
        raise OSError("callgrind run failed: " + (proc.stderr.strip().splitlines() or ["?"])[-1])
    counts: dict[str, int] = {}
    for dump in sorted(work.glob("callgrind.out*")):
        text = dump.read_text(errors="replace")
        name, total = _DESC.search(text), _TOTAL.search(text)
        if name and total:
            counts[name.group(1)] = int(total.group(1))
    return counts


def _child_main(argv: list[str]) -> int:
    """The measured process's side of :func:`measure`: ``CONFIG LIB MODELS [KERNEL,KERNEL...]``."""
    config, lib_path, models, *rest = argv
    _child(config, lib_path, models, [k for k in (rest[0] if rest else "").split(",") if k])
    return 0


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
