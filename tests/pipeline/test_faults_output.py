"""Output-side faults of one run (issue 15): full disk, read-only and forbidden outputs, umask, SIGTERM,
broken pipes, a run that fails on its first frame.

Real runs on real media, a few frames each: the stages are loaded once per module and reset
between runs. Full disks and read-only file systems are injected (always) and, where this
process may mount a tmpfs (root on Linux), also met for real.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from aubench import cli
from aubench.pipeline import config as config_mod
from aubench.pipeline import extract
from aubench.pipeline.errors import OutputError
from aubench.pipeline.frame_step import FrameStep
from aubench.pipeline.io import aligned as aligned_mod
from aubench.pipeline.io import csv_out, output_file
from aubench.pipeline.io.hog_file import read_hog
from aubench.pipeline.io.openface_csv import read_openface_csv
from aubench.pipeline.stages import load_stages, resolve_kernels
from tests.conftest import MEDIA, MODELS, REFERENCE

VIDEO = MEDIA / "default.wmv"
IMAGE = MEDIA / "sample1.jpg"
FAST = config_mod.build("fast")
WITH_ALL = config_mod.with_overrides(FAST, output={"hogalign": True, "simalign": True})


@pytest.fixture(scope="module")
def stages():
    return load_stages(FAST, MODELS, resolve_kernels(FAST))


def _run(stages, out_dir, cfg=FAST, frames=5, **kw):
    tracker, analyser = stages
    FrameStep(tracker, analyser).reset()
    return extract.run(VIDEO, out_dir, cfg, frames=frames, progress=False, tracker=tracker, analyser=analyser, **kw)


def _whole_rows(path: Path) -> list[str]:
    """The CSV's lines; asserts it ends with a newline and every row has the header's cell count."""
    text = path.read_text()
    assert text.endswith("\n")
    lines = text.splitlines()
    n = len(lines[0].split(","))
    assert all(len(line.split(",")) == n for line in lines[1:])
    return lines


class FillingFile:
    """A file object on a disk with ``budget`` bytes left: writes what fits, then ENOSPC (as write(2) does)."""

    def __init__(self, fh, budget: int):
        self.fh, self.budget = fh, budget

    def write(self, data) -> int:
        if self.budget <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        n = min(len(data), self.budget)
        self.fh.write(bytes(data[:n]))
        self.budget -= n
        return n

    def __getattr__(self, name):
        return getattr(self.fh, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.fh.close()


def _fill_after(monkeypatch, module, suffix: str, budget: int) -> None:
    """Files ending in ``suffix`` opened by ``module`` get ``budget`` bytes of disk."""
    real_open = open

    def fake_open(path, mode="r", *args, **kw):
        fh = real_open(path, mode, *args, **kw)
        return FillingFile(fh, budget) if str(path).endswith(suffix) and "w" in mode else fh

    monkeypatch.setattr(module, "open", fake_open, raising=False)


# --------------------------------------------------------------------------- full disk, injected

def test_enospc_mid_csv_truncates_to_the_last_whole_row(stages, tmp_path, monkeypatch):
    header = len(csv_out.CsvSchema().header())
    _fill_after(monkeypatch, output_file, ".csv", header + 2 * 5400 + 2000)  # rows are ~5.4 kB: 2 and a half
    with pytest.raises(OutputError) as err:
        _run(stages, tmp_path)
    msg = str(err.value)
    assert msg.startswith(f"no space left on device writing {tmp_path / 'default.csv'} after ")
    assert "truncated to its last complete row" in msg and msg.endswith("free space or choose another -o")
    lines = _whole_rows(tmp_path / "default.csv")
    assert len(lines) - 1 == int(msg.split(" after ")[1].split()[0]) >= 1
    assert read_openface_csv(tmp_path / "default.csv").frame.tolist() == list(range(1, len(lines)))


def test_enospc_on_the_first_row_leaves_no_csv(stages, tmp_path, monkeypatch):
    _fill_after(monkeypatch, output_file, ".csv", len(csv_out.CsvSchema().header()) + 100)
    with pytest.raises(OutputError, match="after 0 frames .*had no complete row and was removed"):
        _run(stages, tmp_path)
    assert not (tmp_path / "default.csv").exists() and not (tmp_path / "default_of_details.txt").exists()


def test_enospc_in_hog_keeps_whole_records(stages, tmp_path, monkeypatch):
    record = 16 + 4 * 12 * 12 * 31
    _fill_after(monkeypatch, output_file, ".hog", 3 * record + 100)
    with pytest.raises(OutputError, match=r"default\.hog after 3 frames .*truncated to its last complete record"):
        _run(stages, tmp_path, WITH_ALL)
    assert len(read_hog(tmp_path / "default.hog")) == 3
    assert len(_whole_rows(tmp_path / "default.csv")) - 1 == 4  # the CSV row of frame 4 was written before its record


def test_enospc_on_an_aligned_face_removes_the_partial_image(stages, tmp_path, monkeypatch):
    _fill_after(monkeypatch, aligned_mod, ".bmp", 1000)
    with pytest.raises(OutputError, match=r"no space left on device writing .*frame_det_00_000001\.bmp after 0 frames "
                                          r"\(the partial frame_det_00_000001\.bmp was removed\)"):
        _run(stages, tmp_path, WITH_ALL)
    assert list((tmp_path / "default_aligned").glob("*.bmp")) == []


def test_aligned_faces_are_the_bytes_imwrite_writes(stages, tmp_path):
    import cv2

    res = _run(stages, tmp_path, WITH_ALL, frames=2)
    first = sorted(res.aligned_dir.iterdir())[0]
    img = cv2.imread(str(first))
    cv2.imwrite(str(tmp_path / "ref.bmp"), img)
    assert first.read_bytes() == (tmp_path / "ref.bmp").read_bytes()


def test_enospc_during_the_au_rewrite_keeps_the_online_csv(stages, tmp_path, monkeypatch):
    real_fdopen = os.fdopen
    seen = {}

    def fdopen(fd, *args, **kw):
        fh = real_fdopen(fd, *args, **kw)
        seen["tmp"] = True

        class Full:
            def write(self, _):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                fh.close()
        return Full()

    online = {}
    real_rewrite = csv_out.rewrite_au_columns

    def rewrite(path, *a, **kw):
        online["text"] = Path(path).read_text()
        monkeypatch.setattr(csv_out.os, "fdopen", fdopen)
        return real_rewrite(path, *a, **kw)

    monkeypatch.setattr(extract, "rewrite_au_columns", rewrite)
    with pytest.raises(OutputError) as err:
        _run(stages, tmp_path)
    monkeypatch.undo()
    msg = str(err.value)
    assert seen and msg.startswith(f"no space left on device writing {tmp_path / 'default.csv'} (while rewriting")
    assert "kept as written, with the online AU values of its 5 rows" in msg and "was removed" in msg
    assert (tmp_path / "default.csv").read_text() == online["text"]
    assert len(_whole_rows(tmp_path / "default.csv")) == 6
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


# --------------------------------------------------------------------------- the CLI's one line

def _cli(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_out_dir_is_a_file(tmp_path, capsys):
    target = tmp_path / "afile"
    target.write_text("x")
    code, _, err = _cli(capsys, "run", VIDEO, "-o", target, "--frames", "2", "--quiet")
    assert code == 2
    assert err == (f"aubench run: error: {target} is a file, expected a folder for -o; give a folder path "
                   "(it is created) or move the file\n")


@pytest.mark.parametrize("code_, words", [(errno.EROFS, "read-only file system writing"),
                                          (errno.EACCES, "permission denied writing"),
                                          (errno.ENOSPC, "no space left on device writing")])
def test_unwritable_csv_is_one_line_exit_2(tmp_path, capsys, monkeypatch, code_, words):
    def refuse(path, *a, **kw):
        raise OSError(code_, os.strerror(code_), str(path))

    monkeypatch.setattr(output_file, "open", refuse, raising=False)
    code, _, err = _cli(capsys, "run", VIDEO, "-o", tmp_path, "--frames", "2", "--quiet")
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"aubench run: error: {words} {tmp_path / 'default.csv'}")
    assert not (tmp_path / "default.csv").exists()


def test_detect_output_is_a_folder(tmp_path, capsys):
    code, _, err = _cli(capsys, "detect", IMAGE, "-o", tmp_path)
    assert code == 2
    assert err == (f"aubench detect: error: -o {tmp_path}: is a folder, expected the detections CSV to write; give a "
                   f"file path such as {tmp_path / 'sample1_detections.csv'}\n")


def test_parity_of_an_image_is_one_line(capsys):
    code, _, err = _cli(capsys, "parity", IMAGE, "--quiet")
    assert code == 2 and err.count("\n") == 1
    assert "expected a C++ FeatureExtraction CSV (a frame column" in err and "FaceLandmarkImg" in err


# --------------------------------------------------------------------------- umask, stale temporaries, first frame

@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o027, 0o640)])
def test_outputs_follow_the_umask(stages, tmp_path, mask, mode):
    old = os.umask(mask)
    try:
        res = _run(stages, tmp_path, WITH_ALL, frames=3)
    finally:
        os.umask(old)
    assert res.postprocessed
    for path in (res.csv, res.hog, tmp_path / "default_of_details.txt", *res.aligned_dir.iterdir()):
        assert path.stat().st_mode & 0o777 == mode, path


def test_a_killed_runs_temporary_is_removed_by_the_next_run(stages, tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = [tmp_path / f".default.csv.{dead.pid}.k2j4h5g6.tmp", tmp_path / ".default.csv.abcd1234.tmp"]
    alive = tmp_path / f".default.csv.{os.getpid()}.q1w2e3r4.tmp"  # a run still going: not ours to remove
    other = tmp_path / ".other.csv.1.abcdefgh.tmp"
    for p in (*stale, alive, other):
        p.write_text("half")
    _run(stages, tmp_path, frames=2)
    assert not any(p.exists() for p in stale) and alive.exists() and other.exists()


class FailingTracker(extract.ReplayTracker):
    """C++'s landmarks replayed, failing on the first frame."""

    def __init__(self, exc):
        super().__init__(REFERENCE / "default" / "default.csv")
        self.exc = exc

    def track(self, bgr, gray, timer=None):
        raise self.exc


@pytest.mark.parametrize("exc", [RuntimeError("stage bug"), KeyboardInterrupt()])
def test_failure_on_the_first_frame_leaves_no_header_only_csv(stages, tmp_path, exc):
    with pytest.raises(type(exc)):
        extract.run(VIDEO, tmp_path, WITH_ALL, frames=3, progress=False, tracker=FailingTracker(exc),
                    analyser=stages[1])
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no CSV, .hog, aligned folder or details file


# --------------------------------------------------------------------------- real tmpfs (root on Linux)

def _tmpfs(path: Path, size: str) -> bool:
    if not sys.platform.startswith("linux") or os.geteuid() != 0 or not shutil.which("mount"):
        return False
    path.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True).returncode == 0


@pytest.fixture
def tmpfs(tmp_path):
    mounts = []

    def make(size: str) -> Path:
        path = tmp_path / f"tmpfs-{uuid.uuid4().hex[:6]}"
        if not _tmpfs(path, size):
            pytest.skip("cannot mount a tmpfs here (needs root on Linux); the injected faults above cover the same code")
        mounts.append(path)
        return path

    yield make
    for m in mounts:
        subprocess.run(["umount", str(m)], capture_output=True)


@pytest.mark.slow
def test_real_full_disk(tmpfs, capsys):
    small = tmpfs("20k")  # the header and 2 rows fit
    code, _, err = _cli(capsys, "run", VIDEO, "-o", small, "--frames", "5", "--quiet")
    assert code == 2 and err.startswith(f"aubench run: error: no space left on device writing {small / 'default.csv'}")
    _whole_rows(small / "default.csv")
    rewrite = tmpfs("40k")  # the 5 rows fit once, not twice: the AU rewrite fails
    code, _, err = _cli(capsys, "run", VIDEO, "-o", rewrite, "--frames", "5", "--quiet")
    assert code == 2 and "while rewriting its AU columns" in err
    assert len(_whole_rows(rewrite / "default.csv")) == 6
    assert [p for p in rewrite.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.slow
def test_real_read_only_file_system(tmpfs, capsys):
    ro = tmpfs("1m")
    assert subprocess.run(["mount", "-o", "remount,ro", str(ro)], capture_output=True).returncode == 0
    code, _, err = _cli(capsys, "run", VIDEO, "-o", ro / "out", "--frames", "2", "--quiet")
    assert (code, err) == (2, f"aubench run: error: read-only file system writing {ro / 'out'}; choose an -o on a "
                              "writable file system\n")


@pytest.mark.slow
def test_real_permission_denied(tmp_path):
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv to run as another user; test_unwritable_csv_is_one_line_exit_2 injects it")
    tmp_path.chmod(0o755)  # root's folder: nobody may not write into it
    out = tmp_path / "out"
    env = dict(os.environ, HOME=str(tmp_path), AUBENCH_CACHE_DIR="off")
    proc = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-m",
                           "aubench.cli", "run", str(VIDEO), "-o", str(out), "--frames", "2", "--quiet"],
                          capture_output=True, text=True, env=env, cwd=Path(__file__).resolve().parents[2])
    if "aubench" not in proc.stderr:
        pytest.skip(f"the other user cannot start this interpreter here: {proc.stderr.strip()[:200]}")
    assert (proc.returncode, proc.stderr) == (2, f"aubench run: error: permission denied writing {out}; choose an -o "
                                                 "you can write to or give yourself write permission there\n")


# --------------------------------------------------------------------------- signals and pipes (subprocesses)

def _cli_process(*argv, **kw):
    return subprocess.Popen([sys.executable, "-m", "aubench.cli", *map(str, argv)], text=True,
                            cwd=Path(__file__).resolve().parents[2], **kw)


@pytest.mark.slow
@pytest.mark.parametrize("sig, code, name", [(signal.SIGTERM, 143, "SIGTERM"), (signal.SIGINT, 130, "SIGINT")])
def test_signal_mid_video_keeps_a_valid_csv(tmp_path, sig, code, name):
    proc = _cli_process("run", VIDEO, "-o", tmp_path, "--quiet", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    csv = tmp_path / "default.csv"
    while proc.poll() is None and not (csv.exists() and csv.read_text().count("\n") >= 3):
        time.sleep(0.1)  # polling, not a timed assertion
    assert proc.poll() is None, proc.stderr.read()
    proc.send_signal(sig)
    out, err = proc.communicate()
    assert proc.returncode == code, err
    assert err == f"aubench run: interrupted ({name}); output written so far is kept\n"
    lines = _whole_rows(csv)
    assert len(lines) >= 3
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.slow
def test_broken_pipe_is_quiet(tmp_path):
    proc = _cli_process("variants", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the first line (as `| head` after its lines)
    err = proc.stderr.read()
    proc.wait()
    assert (proc.returncode, err) == (141, "")


def test_detect_full_disk_keeps_whole_frames(tmp_path, capsys, monkeypatch):
    out = tmp_path / "det.csv"
    _fill_after(monkeypatch, output_file, ".csv", 150)  # the header and a frame's row or two
    code, _, err = _cli(capsys, "detect", VIDEO, "-o", out, "--frames", "4")
    assert code == 2 and err.startswith(f"aubench detect: error: no space left on device writing {out} after ")
    lines = out.read_text().splitlines() if out.exists() else []
    assert all(len(line.split(",")) == 9 for line in lines)


def test_an_unrouted_os_error_is_still_one_line(capsys, monkeypatch):
    from aubench.commands import variants

    def fail(_args):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), "/some/file")

    monkeypatch.setattr(variants, "_run", fail)
    code, _, err = _cli(capsys, "variants")
    assert code == 2
    assert err == ("aubench variants: error: /some/file: Permission denied; check that path, its permissions and the "
                   "free space of its file system\n")


@pytest.mark.slow
def test_sigterm_to_a_batch_process_group(tmp_path):
    """`timeout`, docker stop or a scheduler signal the whole group: every worker keeps whole rows, exit 143.
    A batch writes each video in OUT/.partial-<stem>-<pid>/ until it is complete (issue 17): the stopped
    videos' whole rows stay there, and OUT holds no incomplete CSV."""
    videos = tmp_path / "in"
    videos.mkdir()
    for name, clip in (("a.wmv", "default.wmv"), ("b.avi", "2015-10-15-15-14.avi")):
        (videos / name).symlink_to(MEDIA / clip)
    out = tmp_path / "out"
    proc = _cli_process("run", videos, "-o", out, "--workers", "2", "--quiet", stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, start_new_session=True)

    def csvs():
        return [c for stem in ("a", "b") for c in out.glob(f".partial-{stem}-*/{stem}.csv")]

    while proc.poll() is None and not (len(csvs()) == 2 and all(c.read_text().count("\n") >= 3 for c in csvs())):
        time.sleep(0.2)  # polling, not a timed assertion
    assert proc.poll() is None, proc.stderr.read()
    os.killpg(proc.pid, signal.SIGTERM)
    _, err = proc.communicate()
    assert proc.returncode == 143, err
    assert err.endswith("aubench run: interrupted (SIGTERM); output written so far is kept\n")
    assert err.count("INTERRUPTED ") == 2 and "valid partial CSV kept in" in err
    assert len(csvs()) == 2
    for c in csvs():
        assert len(_whole_rows(c)) >= 3
    assert list(out.glob("*.csv")) == []
    assert [p.name for p in out.rglob("*") if p.name.endswith(".tmp")] == []
