"""A best-effort on-disk cache for arrays derived from model files (one ``.npy`` per key).

Used for what is costly to derive and depends only on a model file's bytes, such as the
CCNF Sigma matrices the first frame needs (~1300 inversions, ~0.26 s single thread).
Keys name the derivation, its version and the source file's sha256, so a changed model
or a changed derivation never meets a stale entry.

Location: ``AUBENCH_CACHE_DIR``; else ``$XDG_CACHE_HOME/aubench``; else ``~/.cache/aubench``.
``AUBENCH_CACHE_DIR=off`` (or empty) disables it. The cache never fails a run: an
unreadable, truncated or foreign entry is ignored (and rewritten), a folder that cannot
be written is skipped. Writes go through a temporary file and an atomic rename, so
concurrent workers never read half a file.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import numpy as np

_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,200}$")


def cache_dir() -> Path | None:
    """The cache folder, or None when disabled."""
    env = os.environ.get("AUBENCH_CACHE_DIR")
    if env is not None:
        return None if env.strip() in ("", "off", "0") else Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "aubench"


def _path(key: str) -> Path | None:
    if not _KEY.match(key):
        raise ValueError(f"cache key {key!r}: letters, digits, '_', '.', '-' only")
    root = cache_dir()
    return None if root is None else root / f"{key}.npy"


def load_array(key: str, shape: tuple[int, ...], dtype) -> np.ndarray | None:
    """The cached array of ``key`` if present and of this shape and dtype, else None."""
    path = _path(key)
    if path is None or not path.is_file():
        return None
    try:
        arr = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    if arr.shape != tuple(shape) or arr.dtype != np.dtype(dtype):
        return None
    return arr


def save_array(key: str, arr: np.ndarray) -> bool:
    """Store ``arr`` under ``key``; False (and nothing written) when the cache is off or unwritable."""
    path = _path(key)
    if path is None:
        return False
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{key}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.save(fh, np.ascontiguousarray(arr), allow_pickle=False)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError:
        return False
    return True
