"""Result files: one JSON document per measurement, with everything needed to trust it later.

Every result records the machine (CPU, cores, RAM, library versions, BLAS and
thread settings), the code (``aubench.pipeline.__version__``, ``git describe``, commit,
dirty flag), the configuration (its hash, :func:`aubench.pipeline.config.config_hash`, and
its plain data), the selected variant of every kernel with its source hash
(:meth:`aubench.pipeline.registry.Variant.source_hash`), and the workload (input, frame
limit, landmarks source). Results are comparable only when their
:func:`workload_key` is equal (asv's idea: a changed workload reads "not
comparable", never "regressed").

Top-level layout (``schema`` = :data:`SCHEMA`)::

    {"schema", "kind", "created", "label", "machine", "code", "config",
     "variants", "workload", "key", <kind-specific sections: "timing",
     "parity", "ab", "gate">}
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from aubench.harness.paths import REPO
from aubench.pipeline import __version__
from aubench.pipeline import config as config_mod
from aubench.pipeline.errors import InputError, OutputError, output_error

SCHEMA = "aubench-result/1"
KINDS = ("profile", "parity", "ab", "gate")
THREAD_ENV_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE", "MKL_NUM_THREADS",
                   "NUMBA_NUM_THREADS", "NUMBA_CPU_NAME", "NUMBA_CPU_FEATURES",
                   "NUMBA_DISABLE_JIT", "OPENCV_FOR_THREADS_NUM", "NUMBA_CACHE_DIR")


# --------------------------------------------------------------------------- machine

def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# The instruction-set extensions that decide which kernels OpenBLAS, OpenCV and LLVM (Numba) pick.
CPU_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16",
             "amx_tile", "neon", "asimd", "sve")


def cpu_flags() -> dict[str, bool]:
    """Which of :data:`CPU_FLAGS` this CPU reports (from ``/proc/cpuinfo``; empty where it is unreadable)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return {}
    for line in text.splitlines():
        key = line.split(":", 1)[0].strip().lower()
        if key in ("flags", "features"):
            have = set(line.split(":", 1)[1].split())
            return {f: f in have for f in CPU_FLAGS}
    return {}


def blas_kernel() -> str | None:
    """The kernel family OpenBLAS picked for NumPy's BLAS here (``Haswell``, ``SkylakeX``, ``Zen``...).

    OpenBLAS chooses per CPU at load time (``OPENBLAS_CORETYPE`` overrides it), and its
    sgemm kernels sum in different orders: the reason results differ in the last bits
    across machines (README, "How parity and the gate are judged").
    """
    try:
        import numpy  # noqa: F401  (loads NumPy's OpenBLAS so threadpoolctl sees it)
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    for pool in threadpool_info():
        if pool.get("internal_api") == "openblas" and "numpy" in str(pool.get("filepath", "")):
            return pool.get("architecture")
    for pool in threadpool_info():
        if pool.get("internal_api") == "openblas":
            return pool.get("architecture")
    return None


def _ram_bytes() -> int | None:
    try:
        import psutil

        return int(psutil.virtual_memory().total)
    except Exception:  # psutil missing or no permission: RAM is informational
        return None


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("numpy", "cv2", "numba", "scipy", "matplotlib"):
        try:
            module = __import__(name)
            out["opencv" if name == "cv2" else name] = str(getattr(module, "__version__", "?"))
        except ImportError:
            out["opencv" if name == "cv2" else name] = "absent"
    return out


def _blas() -> dict[str, Any]:
    """BLAS/OpenMP pools as threadpoolctl sees them (absent when it is not installed)."""
    info: dict[str, Any] = {}
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        info["threadpoolctl"] = "absent"
    else:
        info["pools"] = [{k: p.get(k) for k in ("user_api", "internal_api", "num_threads", "version",
                                                "architecture", "filepath")}
                         for p in threadpool_info()]
        info["kernel"] = blas_kernel()
    try:
        import numpy as np

        cfg = np.show_config(mode="dicts") if "mode" in np.show_config.__code__.co_varnames else None
        if cfg:
            blas = cfg.get("Build Dependencies", {}).get("blas", {})
            info["numpy_blas"] = {k: blas.get(k) for k in ("name", "version")}
    except Exception:  # build metadata is optional
        pass
    try:
        import cv2

        info["opencv_threads"] = cv2.getNumThreads()
    except Exception:
        pass
    try:
        import numba

        info["numba_threads"] = numba.config.NUMBA_NUM_THREADS
        info["numba_disable_jit"] = bool(numba.config.DISABLE_JIT)
    except Exception:
        pass
    return info


def machine_metadata() -> dict[str, Any]:
    """What the figures were measured on (pyperf's ``_collect_metadata`` in spirit)."""
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        affinity = os.cpu_count()
    return {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "cpu_model": _cpu_model(),
        "cpu_flags": cpu_flags(),
        "cpu_count": os.cpu_count(),
        "cpu_affinity": affinity,
        "ram_bytes": _ram_bytes(),
        "versions": _versions(),
        "blas": _blas(),
        "env": {k: os.environ[k] for k in THREAD_ENV_VARS if k in os.environ},
    }


# --------------------------------------------------------------------------- code

def _git(*args: str) -> str | None:
    try:
        proc = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def code_version() -> dict[str, Any]:
    """``aubench.pipeline.__version__`` and the git state of the checkout (None outside a git checkout)."""
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "version": __version__,
        "describe": _git("describe", "--always", "--dirty", "--tags"),
        "commit": _git("rev-parse", "HEAD"),
        "dirty": None if status is None else bool(status),
    }


def variant_hashes(selection: dict[str, str]) -> dict[str, dict[str, str]]:
    """The variant each kernel runs (``reference`` unless selected) and its source hash."""
    from aubench.pipeline import registry

    out = {}
    for name, kernel in sorted(registry.kernels().items()):
        chosen = selection.get(name, registry.REFERENCE)
        variant = kernel.variants.get(chosen)
        out[name] = {"variant": chosen, "source_hash": variant.source_hash() if variant else "unknown"}
    return out


# --------------------------------------------------------------------------- documents

def config_section(cfg: config_mod.Config) -> dict[str, Any]:
    return {"name": cfg.name, "hash": config_mod.config_hash(cfg), "source": cfg.source,
            "data": config_mod.to_dict(cfg)}


def workload_key(config_hash: str, workload: dict[str, Any]) -> str:
    """What must be equal for two timings to be comparable: the config and the workload.

    The input is identified by its file name (the shared folder sits at different
    paths on different machines), the frame limit and the landmarks source, and,
    once a run has reported them, the pipeline stages that ran (a stage that lands
    changes the work done: "not comparable", not "regressed").
    """
    ident: dict[str, Any] = {
        "config": config_hash,
        "input": Path(str(workload.get("input", ""))).name,
        "frames": workload.get("frames"),
        "landmarks_from": Path(str(workload["landmarks_from"])).name if workload.get("landmarks_from") else None,
    }
    if workload.get("stages_ran") is not None:
        ident["stages"] = sorted(workload["stages_ran"])
    return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:12]


def new_result(kind: str, cfg: config_mod.Config | None, workload: dict[str, Any] | None = None,
               label: str | None = None) -> dict[str, Any]:
    """The common head of a result document; commands add their own sections."""
    if kind not in KINDS:
        raise ValueError(f"unknown result kind {kind!r}; valid: {', '.join(KINDS)}")
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "kind": kind,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "label": label or (cfg.name if cfg else kind),
        "machine": machine_metadata(),
        "code": code_version(),
    }
    if cfg is not None:
        doc["config"] = config_section(cfg)
        doc["variants"] = variant_hashes(cfg.variant_selection)
    if workload is not None:
        doc["workload"] = {k: (str(v) if isinstance(v, Path) else v) for k, v in workload.items()}
        if cfg is not None:
            doc["key"] = workload_key(doc["config"]["hash"], doc["workload"])
    return doc


def record_stages(doc: dict[str, Any], stages_ran: list[str]) -> None:
    """Add the stages a run reported to the document's workload, and re-key it."""
    doc["workload"]["stages_ran"] = list(stages_ran)
    if "config" in doc:
        doc["key"] = workload_key(doc["config"]["hash"], doc["workload"])


def _plain(value: Any) -> Any:
    """JSON-safe copy: NumPy scalars and arrays to Python, NaN/inf to None."""
    import math

    import numpy as np

    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def save(doc: dict[str, Any], path: str | Path) -> Path:
    """Write a result atomically (a crash never leaves half a JSON file)."""
    path = Path(path)
    text = json.dumps(_plain(doc), indent=1, sort_keys=False) + "\n"
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        if path.is_dir():
            raise OutputError(f"-o {path}: is a folder, expected the result file to write; give a file path such as "
                              f"{path / 'result.json'}") from None
        raise output_error(exc, path if exc.filename in (None, str(tmp)) else exc.filename,
                           kept=f"{path.name} was not written") from None
    return path


def load(path: str | Path) -> dict[str, Any]:
    """Read a result file; a file that is not an aubench result is an InputError naming it."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such result file; give a JSON file written by aubench profile/parity/ab/gate")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid JSON ({exc}); give a result file written by aubench") from None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA or doc.get("kind") not in KINDS:
        got = doc.get("schema") if isinstance(doc, dict) else type(doc).__name__
        raise InputError(f"{path}: expected an aubench result (schema {SCHEMA!r}), got schema {got!r}; "
                         "give a JSON file written by aubench profile/parity/ab/gate")
    doc["_path"] = str(path)
    return doc


def describe_environment_line(doc: dict[str, Any]) -> str:
    """One line for tables: CPU, cores, versions, code."""
    m, c = doc.get("machine", {}), doc.get("code", {})
    v = m.get("versions", {})
    flags = m.get("cpu_flags") or {}
    isa = "AVX-512" if flags.get("avx512f") else "AVX2" if flags.get("avx2") else None
    blas = (m.get("blas") or {}).get("kernel")
    extra = ", ".join(x for x in (isa, f"OpenBLAS {blas}" if blas else None) if x)
    return (f"{m.get('cpu_model', '?')} ({m.get('cpu_affinity', '?')} cores{', ' + extra if extra else ''}), "
            f"python {v.get('python', '?')}, "
            f"numpy {v.get('numpy', '?')}, opencv {v.get('opencv', '?')}, numba {v.get('numba', '?')}; "
            f"aubench {c.get('version', '?')} {c.get('describe') or ''}")

