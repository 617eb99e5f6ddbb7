"""The bad-input corpus (issue 15): inputs a user can hand aubench by mistake, built on the fly in a folder.

Each :class:`Case` makes its input under a scratch folder, runs ``aubench run`` or ``aubench detect`` in a
subprocess (what a user sees: exit code, stderr, files) and states the designed outcome. Used by
``tests/test_bad_input_corpus.py`` (asserts it) and ``experiments/bad_input_table.py`` (writes
``experiments/bad_input.md`` from it, beside C++ OpenFace's behaviour on the same input).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SHARED = Path(os.environ.get("AUBENCH_SHARED", "/work/shared"))
MEDIA = SHARED / "media"
MODELS = Path(os.environ.get("AUBENCH_MODELS", SHARED / "openface"))
VIDEO = MEDIA / "default.wmv"
FACE_IMAGE = MEDIA / "sample1.jpg"
FRAMES = ["--frames", "3"]


@dataclass
class Outcome:
    """What one run did: its exit code, stderr, and the CSVs under its output folder."""

    rc: int
    stderr: str
    csvs: list[Path]

    @property
    def aubench_line(self) -> str:
        """stderr's last line (aubench's own; library noise before it is another item of issue 15)."""
        lines = [ln for ln in self.stderr.strip().splitlines() if ln.strip()]
        return lines[-1] if lines else ""


@dataclass
class Case:
    """One bad input.

    build(tmp) makes the input and returns the aubench arguments (``-o`` is added for ``run``);
    ``rc`` is the designed exit code (0 only when what is written is right); ``message`` a part of
    aubench's last stderr line (of any stderr line when rc is 0: a notice, not an error); ``csv_rows``
    the rows the CSV must have (None: no CSV must be written);
    ``xfail`` names the issue-15 item and owner that fixes a case failing today; ``cpp`` C++ OpenFace
    2.2's behaviour from the reference README's "C++ on bad input" ("not measured" where absent).
    """

    name: str
    what: str
    build: Callable[[Path], tuple[list[str], dict[str, str]]]
    rc: int
    message: str = ""
    csv_rows: int | None = None
    command: str = "run"
    xfail: str = ""
    cpp: str = "not measured"
    env: dict[str, str] = field(default_factory=dict)
    only_aubench: bool = False  # stderr must hold aubench's lines only (no OpenCV/FFmpeg noise)


# -- input builders -----------------------------------------------------------------------------------

def _write_image(path: Path, img: np.ndarray) -> Path:
    import cv2

    if not cv2.imwrite(str(path), img):  # pragma: no cover
        raise RuntimeError(f"could not write {path}")
    return path


def _garbage(name: str) -> Callable[[Path], tuple[list[str], dict]]:
    def build(tmp: Path):
        path = tmp / name
        path.write_bytes(np.random.default_rng(15).integers(0, 256, 64 * 1024, dtype=np.uint8).tobytes())
        return [str(path), *FRAMES], {}
    return build


def _missing(tmp: Path):
    return [str(tmp / "no_such_video.mp4"), *FRAMES], {}


def _empty(tmp: Path):
    path = tmp / "empty.mp4"
    path.write_bytes(b"")
    return [str(path), *FRAMES], {}


def _txt_as_png(tmp: Path):
    path = tmp / "notes.png"
    path.write_text("these are my notes, not a picture\n" * 20)
    return [str(path)], {}


def _truncated(tmp: Path):
    data = VIDEO.read_bytes()
    path = tmp / "truncated.wmv"
    path.write_bytes(data[: len(data) // 2])
    return [str(path), *FRAMES], {}


def _truncated_short(tmp: Path):
    data = VIDEO.read_bytes()
    path = tmp / "short.wmv"
    path.write_bytes(data[: len(data) * 3 // 100])
    return [str(path), "--frames", "30"], {}


def _byte_flipped(tmp: Path):
    data = bytearray(VIDEO.read_bytes())
    # flip every 997th byte after the header (first 4 KiB): the container parses, the frames are damaged
    for i in range(4096, len(data), 997):
        data[i] ^= 0xFF
    path = tmp / "flipped.wmv"
    path.write_bytes(bytes(data))
    return [str(path), *FRAMES], {}


def _one_pixel(tmp: Path):
    return [str(_write_image(tmp / "one_pixel.png", np.full((1, 1, 3), 128, np.uint8)))], {}


def _face_image(transform: Callable[[np.ndarray], np.ndarray], name: str):
    def build(tmp: Path):
        import cv2

        img = cv2.imread(str(FACE_IMAGE), cv2.IMREAD_COLOR)
        return [str(_write_image(tmp / name, transform(img)))], {}
    return build


def _grey(img: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)


def _sixteen_bit(img: np.ndarray) -> np.ndarray:
    return img.astype(np.uint16) * 257


def _no_face(tmp: Path):
    return [str(_write_image(tmp / "grey.png", np.full((240, 320, 3), 128, np.uint8)))], {}


def _empty_folder(tmp: Path):
    folder = tmp / "nothing_here"
    folder.mkdir()
    (folder / "readme.txt").write_text("no images or videos\n")
    return [str(folder)], {}


def _mixed_folder(tmp: Path):
    folder = tmp / "mixed"
    folder.mkdir()
    os.symlink(VIDEO, folder / "clip.wmv")
    shutil.copy(FACE_IMAGE, folder / "face.jpg")
    return [str(folder), *FRAMES], {}


def _corrupt_model(relative: str):
    """A model folder of symlinks to the shared one, except ``relative``: a copy cut to half its size."""
    def build(tmp: Path):
        models = tmp / "models"
        for src in MODELS.rglob("*"):
            dst = models / src.relative_to(MODELS)
            if src.is_dir():
                dst.mkdir(parents=True, exist_ok=True)
            elif src.relative_to(MODELS).as_posix() != relative:
                dst.parent.mkdir(parents=True, exist_ok=True)
                os.symlink(src, dst)
        data = (MODELS / relative).read_bytes()
        target = models / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data[: len(data) // 2])
        return [str(VIDEO), "--models", str(models), *FRAMES], {}
    return build


def _config(text: str, name: str):
    def build(tmp: Path):
        path = tmp / name
        path.write_text(text)
        return [str(VIDEO), "--config", str(path), *FRAMES], {}
    return build


def _frames(n: str):
    def build(tmp: Path):
        return [str(VIDEO), "--frames", n], {}
    return build


def _variant(tmp: Path):
    return [str(VIDEO), "--variant", "fhog=fastest", *FRAMES], {}


CASES: list[Case] = [
    Case("missing file", "a path that does not exist", _missing, 2, "no_such_video.mp4",
         cpp="a message, exit 0, no CSV"),
    Case("empty file", "a 0-byte .mp4", _empty, 2, "empty.mp4", cpp="a message, exit 0, no CSV"),
    Case("garbage .mp4", "64 KiB of random bytes named .mp4", _garbage("garbage.mp4"), 2, "garbage.mp4",
         cpp="a message, exit 0, no CSV"),
    Case("garbage .avi", "64 KiB of random bytes named .avi", _garbage("garbage.avi"), 2, "garbage.avi",
         cpp="a message, exit 0, no CSV"),
    Case("garbage .jpg", "64 KiB of random bytes named .jpg", _garbage("garbage.jpg"), 2, "garbage.jpg"),
    Case(".txt renamed .png", "a text file named .png", _txt_as_png, 2, "notes.png"),
    Case("truncated video", "default.wmv cut at 50 % (first 3 frames)", _truncated, 0, csv_rows=3,
         cpp="CSV of the frames decoded, exit 0, no warning"),
    Case("truncated video, read to its end", "default.wmv cut at 3 % (9 frames decode), --frames 30",
         _truncated_short, 3, "the CSV has the 9 frames decoded", csv_rows=9,
         cpp="CSV of the frames decoded, exit 0, no warning"),
    Case("byte-flipped video", "default.wmv with every 997th byte after the first 4 KiB inverted", _byte_flipped,
         2, "flipped.wmv"),
    Case("1x1 image", "a 1x1 PNG", _one_pixel, 0, "no face found", cpp="abort, exit 134"),
    Case("greyscale image", "sample1.jpg as 8-bit greyscale PNG", _face_image(_grey, "grey_face.png"), 0,
         csv_rows=1, cpp="processed"),
    Case("16-bit PNG", "sample1.jpg as 16-bit PNG", _face_image(_sixteen_bit, "face16.png"), 0, csv_rows=1,
         cpp="processed"),
    Case("image with no face", "a flat grey 320x240 PNG", _no_face, 0, "no face found", cpp="no CSV, exit 0"),
    Case("folder with no inputs", "a folder holding only a .txt", _empty_folder, 2, "nothing_here"),
    Case("folder of videos and images", "one video and one image in a folder", _mixed_folder, 2,
         "holds 1 video(s)"),
    Case("garbage .mp4, stderr", "as garbage .mp4: stderr holds aubench's line alone", _garbage("garbage.mp4"), 2,
         "garbage.mp4", only_aubench=True),
    Case("byte-flipped video, stderr", "as byte-flipped video: stderr holds aubench's line alone", _byte_flipped,
         2, "flipped.wmv", only_aubench=True),
    Case("truncated PDM", "model folder with the PDM cut in half", _corrupt_model(
        "model/pdms/In-the-wild_aligned_PDM_68.txt"), 2, "In-the-wild_aligned_PDM_68.txt",
         cpp="OpenCV assertion abort, exit 134"),
    Case("truncated CCNF patch expert", "model folder with ccnf_patches_0.25_general.txt cut in half",
         _corrupt_model("model/patch_experts/ccnf_patches_0.25_general.txt"), 2, "ccnf_patches_0.25_general.txt"),
    Case("truncated AU predictor", "model folder with svm_combined/AU_1_dynamic.dat cut in half",
         _corrupt_model("AU_predictors/svm_combined/AU_1_dynamic.dat"), 2, "AU_1_dynamic.dat"),
    Case("config typo", "[detector] min_face_sise = 40", _config("[detector]\nmin_face_sise = 40\n", "typo.toml"),
         2, 'did you mean "min_face_size"'),
    Case("config out of range", "[detector] pyramid_factor = 1.5",
         _config("[detector]\npyramid_factor = 1.5\n", "range.toml"), 2, "pyramid_factor = 1.5: expected"),
    Case("--frames 0", "--frames 0", _frames("0"), 2, "--frames 0"),
    Case("--frames -1", "--frames -1", _frames("-1"), 2, "--frames -1"),
    Case("unknown variant", "--variant fhog=fastest", _variant, 2, 'unknown variant of kernel fhog "fastest"'),
    Case("detect: garbage .jpg", "aubench detect on random bytes named .jpg", _garbage("garbage.jpg"), 2,
         "garbage.jpg", command="detect"),
    Case("detect: 1x1 image", "aubench detect on a 1x1 PNG", _one_pixel, 0, csv_rows=1, command="detect",
         cpp="abort, exit 134"),
    Case("detect: no face", "aubench detect on a flat grey PNG", _no_face, 0, csv_rows=1, command="detect"),
]


def problems(case: Case, outcome: Outcome) -> list[str]:
    """How ``outcome`` departs from ``case``'s design (empty: as designed). The checks of the test and the table.

    No traceback; the designed exit code; on an error (or a damaged input, exit 3) exactly one line from
    aubench and it comes last; the expected message; either no CSV
    or one CSV whose every row is whole (parses, a frame number in each row).
    """
    import pandas as pd

    found = []
    if "Traceback" in outcome.stderr:
        found.append("a traceback on stderr")
    if outcome.rc != case.rc:
        found.append(f"exit {outcome.rc}, designed {case.rc}")
    ours = [ln for ln in outcome.stderr.splitlines() if ln.startswith("aubench ")]
    # exit 3: written, but the input was damaged (README, exit codes): one notice line, not an error
    prefix = f"aubench {case.command}: " + ("error: " if case.rc != 3 else "")
    if case.rc != 0 and not (len(ours) == 1 and outcome.aubench_line == ours[0] and ours[0].startswith(prefix)):
        found.append(f"expected one '{prefix}' line, last; got {len(ours)} aubench lines")
    noise = [ln for ln in outcome.stderr.splitlines() if ln.strip() and not ln.startswith("aubench ")]
    if case.only_aubench and noise:
        found.append(f"{len(noise)} library noise line(s) on stderr, e.g. {noise[0][:60]!r}")
    if case.message and case.message not in (outcome.aubench_line if case.rc else outcome.stderr):
        found.append(f"no {case.message!r} on stderr")
    if case.csv_rows is None:
        if outcome.csvs:
            found.append(f"wrote {', '.join(p.name for p in outcome.csvs)}, designed to write nothing")
        return found
    if len(outcome.csvs) != 1:
        return [*found, f"expected one CSV, got {len(outcome.csvs)}"]
    try:
        table = pd.read_csv(outcome.csvs[0], skipinitialspace=True)
    except Exception as exc:  # noqa: BLE001 - any parse failure is the finding
        return [*found, f"the CSV does not parse: {exc}"]
    if len(table) != case.csv_rows:
        found.append(f"{len(table)} CSV rows, designed {case.csv_rows}")
    first = "face" if "face" in table.columns else "frame"  # FaceLandmarkImg's CSV numbers faces, not frames
    if first not in table.columns or table[first].isna().any():
        found.append(f"a CSV row without a {first} number (a cut-off row)")
    elif len(table) and table.iloc[-1].isna().any():
        found.append("the CSV's last row is cut off")
    if case.command == "run" and case.name in NO_FACE_CASES and "success" in table.columns \
            and (table["success"] != 0).any():
        found.append("success 1 on an image with no face")
    return found


# images with no face in them: the row must say success 0, not carry made-up landmarks
NO_FACE_CASES = {"1x1 image", "image with no face"}


def run_case(case: Case, tmp: Path, timeout: float = 300) -> Outcome:
    """Build ``case`` under ``tmp`` and run it in a subprocess, as a user would."""
    tmp.mkdir(parents=True, exist_ok=True)
    args, env_extra = case.build(tmp)
    out = tmp / "out"
    if case.command == "run":
        argv = ["run", *args, "-o", str(out), "--quiet"]
    else:
        argv = ["detect", *args, "-o", str(out / "detections.csv")]
    env = {**os.environ, "AUBENCH_MODELS": str(MODELS), **case.env, **env_extra}
    proc = subprocess.run([sys.executable, "-m", "aubench.cli", *argv], capture_output=True, text=True,
                          env=env, timeout=timeout, cwd=tmp)
    csvs = sorted(out.rglob("*.csv")) if out.exists() else []
    return Outcome(proc.returncode, proc.stderr, csvs)
