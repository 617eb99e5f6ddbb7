"""A best-effort on-disk cache for arrays derived from model files (one ``.npy`` per key).

Used for what is costly to derive and depends only on a model file's bytes, such as the
CCNF Sigma matrices the first frame needs (~1300 inversions, ~0.26 s single thread).
Keys name the derivation, its version and the source file's sha256, so a changed model
or a changed derivation never meets a stale entry.

Parsed model files are cached too (:func:`parsed`, a pickle per file, keyed by the file's
path, size, modification time, inode and change time and the parser's version): parsing the
CLNF's text and binary model files takes ~0.1 s of every start-up, reading the pickles ~0.03 s.

Location: ``AUBENCH_CACHE_DIR``; else the user cache folder of the platform, named ``aubench``
(:func:`platformdirs.user_cache_path`: ``$XDG_CACHE_HOME/aubench`` or ``~/.cache/aubench`` on Linux,
``~/Library/Caches/aubench`` on macOS, ``%LOCALAPPDATA%\\aubench\\Cache`` on Windows).
``AUBENCH_CACHE_DIR=off`` (or empty) disables it. The cache never fails a run: an
unreadable, truncated or foreign entry is ignored (and rewritten), a folder that cannot
be written is skipped. Writes go through a temporary file and an atomic rename, so
concurrent workers never read half a file.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import platformdirs

_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,200}$")
# A file changed this recently is not stored by parsed(): its ctime may share a clock tick with its next change.
_RACY_NS = 2_000_000_000


def cache_dir() -> Path | None:
    """The cache folder, or None when disabled."""
    env = os.environ.get("AUBENCH_CACHE_DIR")
    if env is not None:
        return None if env.strip() in ("", "off", "0") else Path(env)
    return platformdirs.user_cache_path("aubench", appauthor=False)


def _path(key: str, suffix: str = ".npy") -> Path | None:
    if not _KEY.match(key):
        raise ValueError(f"cache key {key!r}: letters, digits, '_', '.', '-' only")
    root = cache_dir()
    return None if root is None else root / f"{key}{suffix}"


def _write_atomically(path: Path, key: str, write: Callable) -> bool:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{key}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                write(fh)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError:
        return False
    return True


T = TypeVar("T")


def parsed(kind: str, version: int, source: Path, parse: Callable[[Path], T]) -> T:
    """``parse(source)``, or the object a previous parse of the same file stored.

    The key holds ``kind``, the parser's ``version`` (raise it when the parser's output
    changes), a digest of the resolved path and the file's size, modification time, inode
    and change time, so an edited or replaced file is parsed again, even one rewritten in
    place with its size and modification time restored. Parse errors are not cached. An
    entry that does not unpickle to the expected type is ignored and rewritten.
    """
    source = Path(source)
    try:
        st = source.stat()
    except OSError:
        return parse(source)
    # Not a content hash: hashing the 44 MB model folder costs 0.14-0.28 s (sha256; blake2b
    # 0.21 s) per start, more than the ~0.07 s this cache saves. The inode catches a
    # replaced file, ctime a rewrite in place: no user call sets ctime, and the utime that
    # restores an mtime moves it. ctime has the clock's tick (a few ms on Linux), so a file
    # changed within _RACY_NS of now is parsed but not stored (git's "racy" rule): a rewrite
    # in the same tick as the stored change cannot then hide behind an equal key.
    # (Windows reports the creation time as ctime; there the inode (file index), size and
    # mtime still cover replacing and ordinary editing.)
    where = hashlib.sha256(str(source.resolve()).encode()).hexdigest()[:16]
    key = f"parsed-{kind}-v{version}-{where}-{st.st_size}-{st.st_mtime_ns}-{st.st_ino}-{st.st_ctime_ns}"
    path = _path(key, ".pkl")
    if path is not None and path.is_file():
        try:
            with open(path, "rb") as fh:
                obj = pickle.load(fh)
            if type(obj).__name__ == kind:
                return obj
        except Exception:  # noqa: BLE001 - a broken entry is a cache miss, never a failed run
            pass
    obj = parse(source)
    if path is not None and time.time_ns() - max(st.st_ctime_ns, st.st_mtime_ns) > _RACY_NS:
        _write_atomically(path, key, lambda fh: pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL))
    return obj


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
    return _write_atomically(path, key, lambda fh: np.save(fh, np.ascontiguousarray(arr), allow_pickle=False))
