"""``aubench profile``: where the time goes, from the pipeline's own stage timers.

One run of the workload with a :class:`~aubench.harness.workload.HarnessTimer`
gives the per-stage table and the convergence statistics (``timer.count``).
Optional deeper views of the same run:

- ``cprofile``: a cProfile ``.prof`` of the whole run (open it with snakeviz);
- ``line``: line_profiler on the selected variant of one kernel (the function
  :func:`aubench.pipeline.registry.resolve` hands to the stages; a Numba-compiled
  variant cannot be line-profiled, and says so);
- ``pyspy``: ``py-spy record`` of the same profile command in a subprocess
  (a flame graph ``.svg`` or a speedscope ``.json``).
"""

from __future__ import annotations

import cProfile
import io
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from aubench.harness import results
from aubench.harness import workload as workload_mod
from aubench.pipeline import registry
from aubench.pipeline.errors import AubenchError, ConfigError


def _line_target(kernel: str, cfg) -> Any:
    kernels = registry.kernels()
    if kernel not in kernels:
        from aubench.pipeline.errors import unknown_name

        raise ConfigError(unknown_name("kernel", kernel, kernels, "--line"))
    name = cfg.variant_selection.get(kernel, registry.REFERENCE)
    fn = kernels[kernel].variants[name].load()
    if hasattr(fn, "py_func"):
        raise AubenchError(f"--line {kernel}: the selected variant {kernel}={name} is Numba-compiled, and compiled "
                           "code has no Python lines to profile; profile it with --variant "
                           f"{kernel}=reference, or use --pyspy")
    compiled = [n for n in fn.__code__.co_names if hasattr(fn.__globals__.get(n), "py_func")]
    note = (f"{kernel}={name} calls Numba-compiled {', '.join(compiled)}: only its Python wrapper has lines to "
            "profile; the compiled time shows as the calling line" if compiled else "")
    return fn, name, note


def run_profile(wl: workload_mod.Workload, out_dir: Path | None = None, cprofile: Path | None = None,
                line: str | None = None, progress: bool | None = None) -> dict[str, Any]:
    """Run ``wl`` once under the stage timers (and the optional profilers); return the result document."""
    doc = results.new_result("profile", wl.config, wl.describe())
    line_profiler = None
    if line:
        try:
            from line_profiler import LineProfiler
        except ImportError:
            raise AubenchError("--line needs line_profiler; install it with pip install line_profiler") from None
        fn, vname, note = _line_target(line, wl.config)
        line_profiler = LineProfiler()
        line_profiler.add_function(fn)
        doc["line_profile"] = {"kernel": line, "variant": vname, "note": note}
    tmp = None
    if out_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="aubench-profile-")
        out_dir = Path(tmp.name)
    prof = cProfile.Profile() if cprofile else None
    try:
        if prof:
            prof.enable()
        if line_profiler:
            line_profiler.enable_by_count()
        try:
            outcome = workload_mod.run(wl, out_dir, progress=progress)
        finally:
            if line_profiler:
                line_profiler.disable_by_count()
            if prof:
                prof.disable()
        doc["timing"] = workload_mod.timing_section(outcome)
        results.record_stages(doc, outcome.extra["stages_ran"])
        doc["output_csv"] = str(outcome.csv) if tmp is None else None
    finally:
        if tmp is not None:
            tmp.cleanup()
    if prof:
        Path(cprofile).parent.mkdir(parents=True, exist_ok=True)
        prof.dump_stats(str(cprofile))
        doc["cprofile"] = str(cprofile)
    if line_profiler:
        buf = io.StringIO()
        line_profiler.print_stats(stream=buf, output_unit=1e-3, stripzeros=True)
        doc["line_profile"]["text"] = (note + "\n" if (note := doc["line_profile"]["note"]) else "") + buf.getvalue()
    return doc


def run_pyspy(argv: list[str], output: Path, rate: int = 100) -> str:
    """``py-spy record`` of ``python -m aubench.cli <argv>``; format from the suffix (.svg or .json).

    Returns what the recorded command printed (the profile table).
    """
    exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(exe).exists():
        raise AubenchError("--pyspy needs py-spy; install it with pip install py-spy")
    fmt = {".svg": "flamegraph", ".json": "speedscope"}.get(output.suffix.lower())
    if fmt is None:
        raise AubenchError(f"--pyspy {output}: expected a .svg (flame graph) or .json (speedscope) file name")
    output.parent.mkdir(parents=True, exist_ok=True)
    cmd = [exe, "record", "--rate", str(rate), "--format", fmt, "--output", str(output), "--",
           sys.executable, "-m", "aubench.cli", *argv]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0 or not output.is_file():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise AubenchError(f"py-spy failed (exit {proc.returncode}): {' | '.join(tail)}; py-spy needs permission "
                           "to trace processes (ptrace; in a container run it with --cap-add SYS_PTRACE)")
    return proc.stdout
