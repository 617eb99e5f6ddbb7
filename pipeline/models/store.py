"""The OpenFace 2.2.0 model store: a sha256 manifest, verification, and a resumable downloader.

The manifest (``manifest.json`` beside this module, committed) lists every file of an
OpenFace 2.2.0 model folder that aubench reads: the CLNF landmark model reached from
``model/main_clnf_general.txt`` (PDMs, CCNF patch experts, the inner-face and eye part
models, the detection validator), the MTCNN face detector, the triangulations, the AU
predictor lists reached from ``AU_predictors/main_{dynamic,static}_svms.txt`` with every
SVR/SVM ``.dat`` they name, and OpenFace's license. :func:`build_manifest` regenerates it
from an intact folder by following the list files, the same way OpenFace's C++ loaders do
(``LandmarkDetectorModel.cpp::CLNF::Read``, ``FaceAnalyser.cpp::FaceAnalyser::Read``), so
no entry is hand-written.

Official source: the ``OpenFace_2.2.0`` tag of github.com/TadasBaltrusaitis/OpenFace,
where ``model/`` lives at ``lib/local/LandmarkDetector/model/`` and ``AU_predictors/`` at
``lib/local/FaceAnalyser/AU_predictors/``; files are fetched as raw file URLs
(``<base_url>/<source path>``), so a mirror only has to keep that layout.

Downloads are atomic: bytes go to ``<file>.part``, which is renamed into place only once
its sha256 matches the manifest. An interrupted download keeps its ``.part`` and the next
fetch resumes it with an HTTP Range request (or starts over when the server ignores Range).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from aubench.pipeline import __version__
from aubench.pipeline.errors import AubenchError

OPENFACE_TAG = "OpenFace_2.2.0"
OFFICIAL_REPO = "TadasBaltrusaitis/OpenFace"
DEFAULT_BASE_URL = f"https://raw.githubusercontent.com/{OFFICIAL_REPO}/{OPENFACE_TAG}"
LICENSE_FILE = "OpenFace-license.txt"
LICENSE_URL = f"https://github.com/{OFFICIAL_REPO}/blob/{OPENFACE_TAG}/{LICENSE_FILE}"
MANIFEST_PATH = Path(__file__).with_name("manifest.json")

# Where each folder of an installed model directory lives in the official repository.
SOURCE_PREFIXES = {
    "model/": "lib/local/LandmarkDetector/model/",
    "AU_predictors/": "lib/local/FaceAnalyser/AU_predictors/",
}
# The folders `verify` scans for extra files.
STORE_FOLDERS = ("model", "AU_predictors")

# Entry points the C++ opens by fixed path (LandmarkDetectorParameters, FaceAnalyserParameters);
# everything else is reached from them through the list files.
ROOT_LISTS = (
    "model/main_clnf_general.txt",
    "model/mtcnn_detector/MTCNN_detector.txt",
    "AU_predictors/main_dynamic_svms.txt",
    "AU_predictors/main_static_svms.txt",
)
# Files opened by fixed path rather than through a list: the full-face triangulation beside
# the landmark model (used for face masks) and the license, which ships with every copy.
ROOT_FILES = ("model/tris_68_full.txt", LICENSE_FILE)
# Files that a local OpenFace build need not carry (its bin/ folder has no license copy).
OPTIONAL_FILES = frozenset({LICENSE_FILE})

# List-file keywords: what the path after each keyword is. "keyword" = another keyword list,
# "au_list" = an AU predictor list ("<path> <AU name>" lines), "file" = a leaf model file.
_KEYWORDS = {
    "LandmarkDetector": "keyword",       # CLNF::Read -> Read_CLNF
    "LandmarkDetector_part": "keyword",  # a part model (inner face, eyes), itself a main list
    "FaceDetConversion": "file",
    "DetectionValidator": "file",
    "PDM": "file",
    "Triangulations": "file",
    "Triangulation": "file",
    "PatchesCCNF": "file",
    "PatchesSVR": "file",
    "PatchesIntensity": "file",
    "PatchesCEN": "file",
    "EarlyTermination": "file",
    "PNet": "file",
    "RNet": "file",
    "ONet": "file",
    "AUPredictor": "au_list",
}

_CHUNK = 1 << 16
_USER_AGENT = f"aubench/{__version__} (model fetch)"


class DownloadError(AubenchError):
    """A model file could not be downloaded (network, HTTP status, truncated transfer)."""


class ChecksumError(DownloadError):
    """A downloaded file's sha256 is not the manifest's; the file was refused."""


# --------------------------------------------------------------------------- manifest

@dataclass(frozen=True)
class ManifestEntry:
    path: str      # relative to the model folder, '/'-separated: "model/pdms/..."
    sha256: str
    size: int
    source: str    # path in the official repository: "lib/local/LandmarkDetector/model/pdms/..."
    optional: bool = False

    def url(self, base_url: str) -> str:
        return f"{base_url.rstrip('/')}/{self.source}"


@dataclass(frozen=True)
class Manifest:
    openface_tag: str
    repository: str
    default_base_url: str
    license_url: str
    entries: tuple[ManifestEntry, ...]

    @property
    def total_size(self) -> int:
        return sum(e.size for e in self.entries)

    def subset(self, paths: Iterable[str]) -> Manifest:
        """The same manifest restricted to ``paths`` (in manifest order)."""
        wanted = set(paths)
        unknown = wanted - {e.path for e in self.entries}
        if unknown:
            raise AubenchError(f"not in the manifest: {', '.join(sorted(unknown))}")
        return Manifest(self.openface_tag, self.repository, self.default_base_url, self.license_url,
                        tuple(e for e in self.entries if e.path in wanted))


def source_path(rel: str) -> str:
    """Path of the model-folder file ``rel`` in the official OpenFace repository."""
    for prefix, src in SOURCE_PREFIXES.items():
        if rel.startswith(prefix):
            return src + rel[len(prefix):]
    if rel == LICENSE_FILE:
        return LICENSE_FILE
    raise AubenchError(f"{rel}: no official source for this path; expected a file under "
                       f"{', '.join(SOURCE_PREFIXES)} or {LICENSE_FILE}")


def load_manifest(path: str | os.PathLike = MANIFEST_PATH) -> Manifest:
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        entries = tuple(
            ManifestEntry(path=f["path"], sha256=f["sha256"], size=int(f["size"]), source=f["source"],
                          optional=bool(f.get("optional", False)))
            for f in raw["files"]
        )
        return Manifest(raw["openface_tag"], raw["repository"], raw["default_base_url"],
                        raw["license_url"], entries)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AubenchError(f"{path}: expected aubench's model manifest (JSON with files[path, sha256, size, "
                           f"source]), could not read it ({exc}); reinstall aubench") from None


def _list_file_references(models_dir: Path, rel: str, kind: str) -> list[tuple[str, str]]:
    """(referenced rel path, its kind) for each entry of the list file ``rel``."""
    path = models_dir / rel
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise AubenchError(f"{path}: cannot read this OpenFace list file ({why}); "
                           "point at an intact OpenFace 2.2 model folder") from None
    folder = rel.rsplit("/", 1)[0]
    out = []
    for number, line in enumerate(lines, 1):
        tokens = line.split()
        if not tokens:
            continue
        if kind == "au_list":
            target, target_kind = tokens[0], "file"
        else:
            target_kind = _KEYWORDS.get(tokens[0])
            if target_kind is None or len(tokens) < 2:
                raise AubenchError(f"{path}:{number}: expected '<keyword> <path>' with a keyword among "
                                   f"{', '.join(sorted(_KEYWORDS))}, got {line.strip()!r}")
            target = tokens[1]
        ref = os.path.normpath(f"{folder}/{target}").replace(os.sep, "/")
        if ref.startswith(("../", "/")) or ref == "..":
            raise AubenchError(f"{path}:{number}: expected a path inside the model folder, got {target!r}")
        out.append((ref, target_kind))
    return out


def referenced_files(models_dir: str | os.PathLike) -> list[str]:
    """Every file aubench reads from an OpenFace 2.2 folder, found by following its list files."""
    models_dir = Path(models_dir)
    seen: dict[str, None] = {}
    stack = [(rel, "keyword") for rel in reversed(ROOT_LISTS)]
    while stack:
        rel, kind = stack.pop()
        if rel in seen:
            continue
        seen[rel] = None
        if kind != "file":
            stack.extend(reversed(_list_file_references(models_dir, rel, kind)))
    for rel in ROOT_FILES:
        seen.setdefault(rel, None)
    return sorted(seen)


def file_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def build_manifest(models_dir: str | os.PathLike) -> dict:
    """The manifest (as JSON-ready data) of an intact OpenFace 2.2.0 folder.

    Regenerate the committed one with::

        python -m aubench.pipeline.models.store ../shared/openface > pipeline/models/manifest.json
    """
    models_dir = Path(models_dir)
    files = []
    for rel in referenced_files(models_dir):
        path = models_dir / rel
        if not path.is_file():
            raise AubenchError(f"{path}: referenced by the OpenFace list files but missing; "
                               "build the manifest from an intact OpenFace 2.2.0 model folder")
        entry = {"path": rel, "sha256": file_sha256(path), "size": path.stat().st_size, "source": source_path(rel)}
        if rel in OPTIONAL_FILES:
            entry["optional"] = True
        files.append(entry)
    return {
        "openface_tag": OPENFACE_TAG,
        "repository": f"https://github.com/{OFFICIAL_REPO}",
        "default_base_url": DEFAULT_BASE_URL,
        "license_url": LICENSE_URL,
        "files": files,
    }


def render_manifest(data: dict) -> str:
    """The manifest as committed: a JSON object with one line per file (readable diffs)."""
    head = {k: v for k, v in data.items() if k != "files"}
    lines = ["{"] + [f"  {json.dumps(k)}: {json.dumps(v)}," for k, v in head.items()]
    rows = [f"    {json.dumps(f)}" for f in data["files"]]
    lines += ['  "files": ['] + [",\n".join(rows)] + ["  ]", "}"]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- verification

@dataclass
class Mismatch:
    path: str
    expected_sha256: str
    received_sha256: str
    expected_size: int
    received_size: int


@dataclass
class VerifyReport:
    models_dir: Path
    checked: int = 0
    missing: list[str] = field(default_factory=list)
    missing_optional: list[str] = field(default_factory=list)
    mismatched: list[Mismatch] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.mismatched

    def summary(self) -> str:
        return (f"{self.models_dir}: {self.checked} files checked against the {OPENFACE_TAG} manifest: "
                f"{len(self.missing)} missing, {len(self.mismatched)} mismatched, {len(self.extra)} extra")


class HashCache:
    """sha256 of files keyed by (path, size, mtime_ns, ctime_ns), kept in a small JSON file.

    Makes repeated ``verify`` calls cheap. ctime cannot be set by ``touch``/``utime``, so any
    rewrite of a file (even one restoring its mtime) invalidates its entry.
    """

    def __init__(self, path: str | os.PathLike | None):
        self.path = Path(path) if path else None
        self._data: dict[str, list] = {}
        self._dirty = False
        if self.path and self.path.is_file():
            try:
                self._data = json.loads(self.path.read_text(encoding="utf-8"))
                if not isinstance(self._data, dict):
                    self._data = {}
            except (OSError, ValueError):
                self._data = {}  # a damaged cache is only a slower verify

    def sha256(self, path: Path, st: os.stat_result) -> str:
        key = str(path.resolve())
        stamp = [st.st_size, st.st_mtime_ns, st.st_ctime_ns]
        hit = self._data.get(key)
        if isinstance(hit, list) and len(hit) == 4 and hit[:3] == stamp:
            return hit[3]
        digest = file_sha256(path)
        self._data[key] = stamp + [digest]
        self._dirty = True
        return digest

    def save(self) -> None:
        if not (self.path and self._dirty):
            return
        try:
            self._data = {k: v for k, v in self._data.items() if os.path.exists(k)}  # forget deleted copies
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(self._data), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError:
            pass  # read-only config folder: verification still worked, only uncached
        self._dirty = False


def hash_cache_file() -> Path:
    """The verification cache, beside the ``aubench models use`` state file."""
    from aubench.pipeline.models import state_file
    return state_file().with_name("verified_hashes.json")


def verify(models_dir: str | os.PathLike, manifest: Manifest | None = None,
           cache: HashCache | None = None) -> VerifyReport:
    """Check ``models_dir`` against the manifest: missing, mismatched and extra files.

    Extra files (under ``model/`` and ``AU_predictors/``, not in the manifest: the CEN and
    SVR patch experts, other landmark models, DISFA predictors...) are informational.
    """
    manifest = manifest or load_manifest()
    models_dir = Path(models_dir)
    cache = cache or HashCache(None)
    report = VerifyReport(models_dir)
    for entry in manifest.entries:
        path = models_dir / entry.path
        try:
            st = path.stat()
        except OSError:
            (report.missing_optional if entry.optional else report.missing).append(entry.path)
            continue
        report.checked += 1
        digest = cache.sha256(path, st)
        if digest != entry.sha256:
            report.mismatched.append(Mismatch(entry.path, entry.sha256, digest, entry.size, st.st_size))
    known = {e.path for e in manifest.entries}
    for folder in STORE_FOLDERS:
        base = models_dir / folder
        if base.is_dir():
            for p in sorted(base.rglob("*")):
                rel = p.relative_to(models_dir).as_posix()
                if p.is_file() and rel not in known:
                    report.extra.append(rel)
    cache.save()
    return report


# --------------------------------------------------------------------------- download

@dataclass
class FetchProgress:
    """What the progress callback receives after each file and each chunk."""
    path: str
    file_index: int      # 1-based
    file_count: int
    file_bytes: int      # bytes of this file on disk so far
    file_size: int
    done_bytes: int      # bytes of all files so far (skipped ones included)
    total_bytes: int
    status: str          # "downloading", "resumed", "ok" (already present), "done"


@dataclass
class FetchReport:
    models_dir: Path
    downloaded: list[str] = field(default_factory=list)
    already_present: list[str] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)
    bytes_downloaded: int = 0


def _open(url: str, offset: int, timeout: float):
    import urllib.request  # here, not at import: the network stack costs ~40 ms of every start-up

    headers = {"User-Agent": _USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)


def _range_start(content_range: str | None) -> int | None:
    # "bytes 100-199/200" -> 100
    if not content_range or not content_range.startswith("bytes "):
        return None
    try:
        return int(content_range[6:].split("-", 1)[0])
    except ValueError:
        return None


def _download_one(entry: ManifestEntry, dest: Path, base_url: str, timeout: float,
                  on_bytes: Callable[[int, str], None]) -> tuple[int, bool]:
    """Fetch ``entry`` into ``dest`` (atomically). Returns (bytes transferred, resumed?)."""
    import http.client
    import urllib.error

    url = entry.url(base_url)
    part = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    offset = part.stat().st_size if part.is_file() else 0
    if offset >= entry.size:  # a complete (or oversized) .part: check it below / start over
        if offset > entry.size:
            part.unlink()
            offset = 0

    hasher = hashlib.sha256()
    transferred = 0
    resumed = False
    if offset == entry.size:
        with open(part, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                hasher.update(block)
    else:
        try:
            resp = _open(url, offset, timeout)
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and offset:  # our .part is not a prefix the server knows: start over
                part.unlink()
                return _download_one(entry, dest, base_url, timeout, on_bytes)
            raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}; expected the {OPENFACE_TAG} file "
                                f"{entry.path}; check --base-url (default {DEFAULT_BASE_URL})") from None
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DownloadError(f"{url}: cannot connect ({reason}); check the network or --base-url, "
                                "then run `aubench models fetch` again") from None
        with resp:
            if resp.status == 206 and _range_start(resp.headers.get("Content-Range")) != offset:
                if not offset:
                    raise DownloadError(f"{url}: the server sent part of the file (HTTP 206) without being "
                                        "asked for a range; use a server or --base-url that serves whole files")
                resp.close()  # a range we did not ask for: start over from byte 0
                part.unlink(missing_ok=True)
                return _download_one(entry, dest, base_url, timeout, on_bytes)
            if offset and resp.status == 206:
                mode, resumed = "ab", True
                with open(part, "rb") as f:
                    for block in iter(lambda: f.read(1 << 20), b""):
                        hasher.update(block)
            else:  # 200: the server ignored Range (or no .part): the body is the whole file
                mode, offset = "wb", 0
            have = offset
            lost = None
            with open(part, mode) as out:
                while have <= entry.size:
                    try:
                        block = resp.read(min(_CHUNK, entry.size + 1 - have))
                    except (http.client.HTTPException, OSError) as exc:  # reset, timeout, IncompleteRead
                        lost = type(exc).__name__
                        break
                    if not block:
                        break
                    out.write(block)
                    hasher.update(block)
                    have += len(block)
                    transferred += len(block)
                    on_bytes(have, "resumed" if resumed else "downloading")
                out.flush()
                os.fsync(out.fileno())
        if have < entry.size:
            how = f"the connection was lost ({lost})" if lost else "the server closed the connection"
            raise DownloadError(f"{url}: {how} after {_size_txt(have)} of {_size_txt(entry.size)}; "
                                f"the partial file {part} is kept: run `aubench models fetch` again to resume")

    received = hasher.hexdigest()
    if received != entry.sha256:
        size = part.stat().st_size
        part.unlink()
        raise ChecksumError(
            f"{entry.path}: sha256 mismatch, expected {entry.sha256} ({entry.size} bytes), received "
            f"{received} ({size} bytes) from {url}; the file was refused and removed; check that "
            f"--base-url serves the {OPENFACE_TAG} files unchanged")
    os.replace(part, dest)
    return transferred, resumed


def fetch(models_dir: str | os.PathLike, manifest: Manifest | None = None, base_url: str | None = None,
          progress: Callable[[FetchProgress], None] | None = None, timeout: float = 60.0) -> FetchReport:
    """Download every manifest file missing from ``models_dir`` or not matching its sha256.

    Files already present and intact are kept; each new file is written to ``<file>.part``,
    verified, then renamed into place. Raises :class:`DownloadError` (the ``.part`` is kept for
    resuming) or :class:`ChecksumError` (the bad file is removed) at the first failure.
    """
    manifest = manifest or load_manifest()
    base_url = base_url or manifest.default_base_url
    models_dir = Path(models_dir)
    report = FetchReport(models_dir)
    total = manifest.total_size
    done = 0
    count = len(manifest.entries)
    emit = progress or (lambda _p: None)
    for index, entry in enumerate(manifest.entries, 1):
        dest = models_dir / entry.path
        if dest.is_file() and dest.stat().st_size == entry.size and file_sha256(dest) == entry.sha256:
            report.already_present.append(entry.path)
            done += entry.size
            emit(FetchProgress(entry.path, index, count, entry.size, entry.size, done, total, "ok"))
            continue

        def on_bytes(have: int, status: str, _entry=entry, _index=index, _done=done) -> None:
            emit(FetchProgress(_entry.path, _index, count, have, _entry.size, _done + have, total, status))

        transferred, resumed = _download_one(entry, dest, base_url, timeout, on_bytes)
        done += entry.size
        report.downloaded.append(entry.path)
        if resumed:
            report.resumed.append(entry.path)
        report.bytes_downloaded += transferred
        emit(FetchProgress(entry.path, index, count, entry.size, entry.size, done, total, "done"))
    return report


def _size_txt(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1 << 20:
        return f"{n / 1024:.1f} KiB"
    return f"{n / (1 << 20):.1f} MiB"


def license_notice(manifest: Manifest | None = None) -> str:
    manifest = manifest or load_manifest()
    return (
        f"The OpenFace 2.2.0 model files ({len(manifest.entries)} files, {_size_txt(manifest.total_size)}) are "
        "not aubench's: they belong to Carnegie Mellon University and are licensed for ACADEMIC OR NON-PROFIT "
        "NONCOMMERCIAL RESEARCH USE ONLY; commercial use needs a license from CMU.\n"
        f"Read the license before downloading: {manifest.license_url}\n"
        f"(a copy is saved as {LICENSE_FILE} in the model folder)."
    )


if __name__ == "__main__":  # regenerate the committed manifest from an intact folder
    import sys
    sys.stdout.write(render_manifest(build_manifest(sys.argv[1] if len(sys.argv) > 1 else "../shared/openface")))
