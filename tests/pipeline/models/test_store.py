"""The model store: manifest, verification and the downloader, against a real local HTTP server.

The server serves ../shared/openface in the official repository's layout
(``/<owner>/<repo>/<tag>/lib/local/LandmarkDetector/model/...``), so the downloader runs
exactly as it would against raw.githubusercontent.com; handler switches make it ignore
Range, serve altered bytes, or drop the connection mid-file.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import socket
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aubench import cli
from aubench.pipeline import models
from aubench.pipeline.errors import AubenchError
from aubench.pipeline.models import store
from tests.conftest import MODELS

URL_ROOT = f"{store.OFFICIAL_REPO}/{store.OPENFACE_TAG}"


# --------------------------------------------------------------------------- the local server

class _ServerState:
    def __init__(self, root: Path):
        self.root = root
        self.requests: list[tuple[str, str | None]] = []   # (URL path, Range header)
        self.honour_range = True
        self.altered: dict[str, bytes] = {}                # source path -> bytes served instead
        self.die_after: dict[str, int] = {}                # source path -> bytes sent before closing

    def local_file(self, source: str) -> Path | None:
        for prefix, src in store.SOURCE_PREFIXES.items():
            if source.startswith(src):
                return self.root / (prefix + source[len(src):])
        return self.root / source if source == store.LICENSE_FILE else None


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        state: _ServerState = self.server.state
        rng = self.headers.get("Range")
        state.requests.append((self.path, rng))
        prefix = f"/{URL_ROOT}/"
        source = self.path[len(prefix):] if self.path.startswith(prefix) else ""
        path = state.local_file(source) if source else None
        if source in state.altered:
            data = state.altered[source]
        elif path is not None and path.is_file():
            data = path.read_bytes()
        else:
            self.send_error(404, "Not Found")
            return
        start = 0
        m = re.fullmatch(r"bytes=(\d+)-", rng or "")
        if m and state.honour_range:
            start = int(m.group(1))
            if start >= len(data):
                self.send_error(416, "Range Not Satisfiable")
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if source in state.die_after:
            self.wfile.write(body[: state.die_after[source]])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(body)


@pytest.fixture()
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.state = _ServerState(MODELS)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    httpd.state.base_url = f"http://127.0.0.1:{httpd.server_address[1]}/{URL_ROOT}"
    yield httpd.state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def _private_config(tmp_path, monkeypatch):
    """`models use` state and the hash cache go to a per-test folder, never ~/.config."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def manifest() -> store.Manifest:
    return store.load_manifest()


def _entry(manifest: store.Manifest, rel: str) -> store.ManifestEntry:
    return next(e for e in manifest.entries if e.path == rel)


BIG = "model/detection_validation/validator_cnn.txt"       # ~2 MB
SMALL = "AU_predictors/svm_combined/AU_12_static.dat"


def _error_line(stderr: str) -> str:
    """The CLI's error: exactly one line (progress lines may precede it)."""
    errors = [line for line in stderr.splitlines() if line.startswith("aubench models: error:")]
    assert len(errors) == 1 and stderr.endswith(errors[0] + "\n"), stderr
    return errors[0]


def _get_requests(state: _ServerState, rel: str) -> list[str | None]:
    src = store.source_path(rel)
    return [rng for path, rng in state.requests if path.endswith("/" + src)]


# --------------------------------------------------------------------------- manifest

def test_committed_manifest_is_what_the_list_files_reference_with_shared_hashes():
    data = store.build_manifest(MODELS)
    assert json.loads(store.MANIFEST_PATH.read_text()) == data
    assert store.MANIFEST_PATH.read_text() == store.render_manifest(data)


def test_manifest_format_and_coverage(manifest):
    assert manifest.openface_tag == "OpenFace_2.2.0"
    assert manifest.default_base_url == "https://raw.githubusercontent.com/TadasBaltrusaitis/OpenFace/OpenFace_2.2.0"
    paths = [e.path for e in manifest.entries]
    assert len(paths) == len(set(paths)) == 91
    for e in manifest.entries:
        assert re.fullmatch(r"[0-9a-f]{64}", e.sha256), e
        assert e.size > 0 and ".." not in e.path and not e.path.startswith("/")
        assert e.source == store.source_path(e.path)
        assert e.url("http://h/x/") == f"http://h/x/{e.source}"
        assert e.optional == (e.path == store.LICENSE_FILE)
    # Every file the C++ loaders reach, and none of the unused landmark models.
    for rel in ("model/main_clnf_general.txt", "model/clnf_general.txt", "model/pdms/In-the-wild_aligned_PDM_68.txt",
                "model/patch_experts/ccnf_patches_0.25_general.txt", "model/model_inner/pdms/pdm_51_inner.txt",
                "model/model_eye/patch_experts/left_ccnf_patches_1.50_synth_lid_.txt",
                "model/detection_validation/validator_cnn.txt", "model/mtcnn_detector/ONet.dat",
                "model/tris_68.txt", "model/tris_68_full.txt", "AU_predictors/tris_68_full.txt",
                "AU_predictors/In-the-wild_aligned_PDM_68.txt", "AU_predictors/svr_combined/AU_45_dynamic_intensity_comb.dat",
                store.LICENSE_FILE):
        assert rel in paths, rel
    assert not [p for p in paths if "cen_" in p or "svr_patches" in p or "disfa" in p.lower()]
    # Each .dat named by the two AU lists is in, and the dat files are exactly those.
    named = set()
    for lst in ("AU_all_best.txt", "AU_all_static.txt"):
        for line in (MODELS / "AU_predictors" / lst).read_text().splitlines():
            if line.strip():
                named.add("AU_predictors/" + line.split()[0])
    assert named == {p for p in paths if p.endswith(".dat") and p.startswith("AU_predictors/")}
    assert manifest.total_size == sum(e.size for e in manifest.entries)


def test_source_paths_follow_the_official_layout():
    assert store.source_path("model/pdms/x.txt") == "lib/local/LandmarkDetector/model/pdms/x.txt"
    assert store.source_path("AU_predictors/svr_combined/a.dat") == "lib/local/FaceAnalyser/AU_predictors/svr_combined/a.dat"
    assert store.source_path("OpenFace-license.txt") == "OpenFace-license.txt"
    with pytest.raises(AubenchError, match="no official source"):
        store.source_path("samples/default.wmv")


def test_unreadable_manifest_is_one_clear_error(tmp_path):
    bad = tmp_path / "manifest.json"
    bad.write_text('{"files": [{"path": "x"}]}')
    with pytest.raises(AubenchError, match=r"manifest.json: expected aubench's model manifest"):
        store.load_manifest(bad)


def _copy_models(dst: Path, rels) -> Path:
    for rel in rels:
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(MODELS / rel, dst / rel)
    return dst


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300))
def test_list_file_parser_fails_cleanly_on_garbage(manifest, data):
    with tempfile.TemporaryDirectory() as tmp:
        root = _copy_models(Path(tmp), [e.path for e in manifest.entries if e.path.endswith("svms.txt")
                                        or e.path.endswith("_all_best.txt") or e.path.endswith("_all_static.txt")
                                        or e.path.endswith("MTCNN_detector.txt")])
        (root / "model" / "main_clnf_general.txt").write_bytes(data)
        try:
            refs = store.referenced_files(root)
        except AubenchError as exc:
            assert "main_clnf_general.txt" in str(exc) or "model/" in str(exc)
        else:
            assert all(isinstance(r, str) and not r.startswith("/") for r in refs)


# --------------------------------------------------------------------------- fetch

def test_fetch_command_downloads_every_file_then_skips_them(server, tmp_path, capsys, manifest):
    dest = tmp_path / "openface"
    rc = cli.main(["models", "fetch", "--dir", str(dest), "--base-url", server.base_url, "--yes"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "NONCOMMERCIAL RESEARCH USE ONLY" in out and manifest.license_url in out
    assert f"{dest}: 91 files verified (91 downloaded, 0 already present" in out
    assert "aubench models use" in out
    # progress: one tqdm bar, files done in front, bytes of all files at the end
    assert "[91/91] " in err.rsplit("\r", 1)[-1] and "100%" in err.rsplit("\r", 1)[-1]
    report = store.verify(dest, manifest)
    assert report.ok and not report.extra and not report.missing_optional
    assert not list(dest.rglob("*.part"))
    assert len(server.requests) == 91 and all(rng is None for _, rng in server.requests)

    server.requests.clear()
    rc = cli.main(["models", "fetch", "--dir", str(dest), "--base-url", server.base_url, "--yes"])
    out, _ = capsys.readouterr()
    assert rc == 0 and "(0 downloaded, 91 already present" in out and server.requests == []


def test_fetch_resumes_a_half_part_with_a_range_request(server, tmp_path, manifest):
    entry = _entry(manifest, BIG)
    half = entry.size // 2
    part = tmp_path / (BIG + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes((MODELS / BIG).read_bytes()[:half])
    report = store.fetch(tmp_path, manifest.subset([BIG]), base_url=server.base_url)
    assert _get_requests(server, BIG) == [f"bytes={half}-"]
    assert report.resumed == [BIG] and report.bytes_downloaded == entry.size - half
    assert store.file_sha256(tmp_path / BIG) == entry.sha256 and not part.exists()


def test_fetch_starts_over_when_the_server_ignores_range(server, tmp_path, manifest):
    server.honour_range = False
    entry = _entry(manifest, BIG)
    part = tmp_path / (BIG + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes((MODELS / BIG).read_bytes()[:1000])
    report = store.fetch(tmp_path, manifest.subset([BIG]), base_url=server.base_url)
    assert _get_requests(server, BIG) == ["bytes=1000-"]  # asked, got a 200 with the whole file
    assert report.resumed == [] and report.bytes_downloaded == entry.size
    assert store.file_sha256(tmp_path / BIG) == entry.sha256 and not part.exists()


def test_fetch_replaces_a_damaged_file_and_keeps_intact_ones(server, tmp_path, manifest):
    subset = manifest.subset([SMALL, BIG])
    store.fetch(tmp_path, subset, base_url=server.base_url)
    (tmp_path / SMALL).write_bytes(b"damaged")
    server.requests.clear()
    report = store.fetch(tmp_path, subset, base_url=server.base_url)
    assert report.downloaded == [SMALL] and report.already_present == [BIG]
    assert len(server.requests) == 1 and store.verify(tmp_path, subset).ok


def test_fetch_refuses_an_oversized_body(server, tmp_path, manifest):
    entry = _entry(manifest, SMALL)
    server.altered[entry.source] = (MODELS / SMALL).read_bytes() + b"x" * 100_000
    with pytest.raises(store.ChecksumError, match=rf"{entry.size + 1} bytes\) from http"):
        store.fetch(tmp_path, manifest.subset([SMALL]), base_url=server.base_url)
    assert not list(tmp_path.rglob("*.dat*"))


def test_fetch_refuses_a_file_with_a_wrong_hash(server, tmp_path, manifest, capsys):
    entry = _entry(manifest, SMALL)
    data = bytearray((MODELS / SMALL).read_bytes())
    data[1234] ^= 0xFF
    server.altered[entry.source] = bytes(data)
    import hashlib
    bad_sha = hashlib.sha256(bytes(data)).hexdigest()
    with pytest.raises(store.ChecksumError) as info:
        store.fetch(tmp_path, manifest.subset([SMALL, BIG]), base_url=server.base_url)
    msg = str(info.value)
    assert SMALL in msg and entry.sha256 in msg and bad_sha in msg and "refused" in msg
    assert "\n" not in msg
    assert not (tmp_path / SMALL).exists() and not (tmp_path / (SMALL + ".part")).exists()

    # Through the CLI: one line on stderr, exit 2, no traceback.
    rc = cli.main(["models", "fetch", "--dir", str(tmp_path), "--base-url", server.base_url, "--yes"])
    err = capsys.readouterr().err
    assert rc == 2 and _error_line(err).count("sha256 mismatch") == 1 and "Traceback" not in err


def test_a_corrupt_part_is_resumed_then_refused_and_the_next_fetch_recovers(server, tmp_path, manifest):
    entry = _entry(manifest, BIG)
    part = tmp_path / (BIG + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes(b"\0" * 5000)
    subset = manifest.subset([BIG])
    with pytest.raises(store.ChecksumError, match=re.escape(BIG)):
        store.fetch(tmp_path, subset, base_url=server.base_url)
    assert not part.exists() and not (tmp_path / BIG).exists()
    store.fetch(tmp_path, subset, base_url=server.base_url)
    assert store.file_sha256(tmp_path / BIG) == entry.sha256


def test_server_dying_mid_file_keeps_the_part_and_the_next_fetch_resumes(server, tmp_path, manifest, capsys):
    entry = _entry(manifest, BIG)
    server.die_after[entry.source] = 300_000
    subset = manifest.subset([SMALL, BIG])
    with pytest.raises(store.DownloadError) as info:
        store.fetch(tmp_path, subset, base_url=server.base_url)
    msg = str(info.value)
    assert not isinstance(info.value, store.ChecksumError)
    assert entry.source in msg and "kept" in msg and "resume" in msg and "\n" not in msg
    part = tmp_path / (BIG + ".part")
    assert part.stat().st_size == 300_000 and not (tmp_path / BIG).exists()
    assert (tmp_path / SMALL).is_file()  # files before the failure are in place

    # The CLI resumes, the server dies again, and it says so in one line.
    server.requests.clear()
    rc = cli.main(["models", "fetch", "--dir", str(tmp_path), "--base-url", server.base_url, "--yes"])
    err = capsys.readouterr().err
    assert rc == 2 and "partial file" in _error_line(err) and "Traceback" not in err
    assert _get_requests(server, BIG) == ["bytes=300000-"] and part.stat().st_size == 600_000

    del server.die_after[entry.source]
    server.requests.clear()
    report = store.fetch(tmp_path, subset, base_url=server.base_url)
    assert _get_requests(server, BIG) == ["bytes=600000-"] and report.resumed == [BIG]
    assert report.already_present == [SMALL]
    assert store.file_sha256(tmp_path / BIG) == entry.sha256 and not part.exists()


def test_fetch_404_names_the_url_and_the_fix(server, tmp_path, manifest):
    with pytest.raises(store.DownloadError) as info:
        store.fetch(tmp_path, manifest.subset([SMALL]), base_url=server.base_url + "/wrong")
    msg = str(info.value)
    assert "HTTP 404" in msg and "/wrong/lib/local/FaceAnalyser/AU_predictors/" in msg and "--base-url" in msg
    assert not list(tmp_path.rglob("*.dat*"))


def test_fetch_without_a_server_is_one_clear_error(tmp_path, manifest):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    with pytest.raises(store.DownloadError, match=r"cannot connect .*--base-url"):
        store.fetch(tmp_path, manifest.subset([SMALL]), base_url=f"http://127.0.0.1:{port}/x", timeout=5)


class _FakeTTY(io.StringIO):
    def isatty(self):
        return True


def test_progress_is_one_live_line_on_a_terminal(server, tmp_path, manifest):
    from aubench.commands.models import _FetchBar
    stream = _FakeTTY()
    printer = _FetchBar(stream)
    sub = manifest.subset([SMALL, BIG])
    store.fetch(tmp_path, sub, base_url=server.base_url, progress=printer)
    printer.finish()
    text = stream.getvalue()
    last = text.rsplit("\r", 1)[-1]
    mib = sub.total_size / (1 << 20)
    assert text.count("\n") == 1 and last.startswith(f"[2/2] {BIG}: 100%") and f"{mib:.3g}M/{mib:.3g}M" in last, last
    quiet = _FakeTTY()
    printer = _FetchBar(quiet, enabled=False)
    store.fetch(tmp_path / "q", sub, base_url=server.base_url, progress=printer)
    printer.finish()
    assert quiet.getvalue() == ""


def test_fetch_asks_for_the_license_and_needs_yes_without_a_terminal(server, tmp_path, monkeypatch, capsys):
    dest = tmp_path / "d"
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    rc = cli.main(["models", "fetch", "--dir", str(dest), "--base-url", server.base_url])
    out, err = capsys.readouterr()
    assert rc == 2 and "pass --yes" in _error_line(err) and err.count("\n") == 1 and "NONCOMMERCIAL" in out
    monkeypatch.setattr("sys.stdin", _FakeTTY("n\n"))
    rc = cli.main(["models", "fetch", "--dir", str(dest), "--base-url", server.base_url])
    assert rc == 1 and "nothing downloaded" in capsys.readouterr().out
    assert not dest.exists() and server.requests == []


# --------------------------------------------------------------------------- use / verify

def test_use_shared_models_passes_verify_and_is_remembered(monkeypatch, capsys):
    rc = cli.main(["models", "use", str(MODELS)])
    out = capsys.readouterr().out
    assert rc == 0 and "0 missing, 0 mismatched" in out
    assert models.state_file().read_text().strip() == str(MODELS.resolve())
    monkeypatch.delenv(models.ENV_VAR)
    assert models.locate() == MODELS.resolve()
    assert cli.main(["models", "verify"]) == 0
    out = capsys.readouterr().out
    assert f"{MODELS.resolve()}: 91 files checked" in out and "90 extra" in out


def test_corrupted_copy_is_reported_as_mismatched_and_not_used(tmp_path, manifest, capsys):
    copy = _copy_models(tmp_path / "copy", [e.path for e in manifest.entries])
    victim = copy / "model" / "pdms" / "In-the-wild_aligned_PDM_68.txt"
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))

    report = store.verify(copy, manifest)
    assert not report.ok and [m.path for m in report.mismatched] == ["model/pdms/In-the-wild_aligned_PDM_68.txt"]
    assert report.mismatched[0].received_sha256 == store.file_sha256(victim)
    assert cli.main(["models", "verify", "--dir", str(copy)]) == 1
    out = capsys.readouterr().out
    assert "mismatched  model/pdms/In-the-wild_aligned_PDM_68.txt: expected sha256" in out
    rc = cli.main(["models", "use", str(copy)])
    err = capsys.readouterr().err
    assert rc == 2 and "not an intact OpenFace 2.2.0 model folder" in err and "not remembered" in err
    assert not models.state_file().exists()


def test_verify_reports_missing_extra_and_an_absent_license(tmp_path, manifest, capsys):
    copy = _copy_models(tmp_path / "copy", [e.path for e in manifest.entries])
    (copy / store.LICENSE_FILE).unlink()
    report = store.verify(copy, manifest)
    assert report.ok and report.missing_optional == [store.LICENSE_FILE]  # a local build carries no license
    (copy / "model" / "mtcnn_detector" / "PNet.dat").unlink()
    (copy / "AU_predictors" / "notes.txt").write_text("mine")
    report = store.verify(copy, manifest)
    assert not report.ok and report.missing == ["model/mtcnn_detector/PNet.dat"]
    assert report.extra == ["AU_predictors/notes.txt"]
    assert cli.main(["models", "verify", "--dir", str(copy), "-v"]) == 1
    out = capsys.readouterr().out
    assert "missing     model/mtcnn_detector/PNet.dat" in out and "extra       AU_predictors/notes.txt" in out


def test_repeated_verify_uses_the_hash_cache_until_a_file_is_rewritten(tmp_path, manifest, monkeypatch):
    copy = _copy_models(tmp_path / "copy", [e.path for e in manifest.entries])
    cache_file = tmp_path / "hashes.json"
    assert store.verify(copy, manifest, store.HashCache(cache_file)).ok
    assert len(json.loads(cache_file.read_text())) == 91

    calls = []
    real = store.file_sha256
    monkeypatch.setattr(store, "file_sha256", lambda p: calls.append(p) or real(p))
    assert store.verify(copy, manifest, store.HashCache(cache_file)).ok
    assert calls == []

    # Same size, mtime restored: the ctime still changes, so the rewrite is caught.
    victim = copy / SMALL
    st_before = victim.stat()
    data = bytearray(victim.read_bytes())
    data[10] ^= 0x01
    victim.write_bytes(bytes(data))
    os.utime(victim, ns=(st_before.st_atime_ns, st_before.st_mtime_ns))
    report = store.verify(copy, manifest, store.HashCache(cache_file))
    assert [m.path for m in report.mismatched] == [SMALL] and calls == [victim]
