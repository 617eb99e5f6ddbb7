"""What a command line's inputs are, before anything is loaded: videos, image sequences and photos.

OpenFace has one executable per kind of input and ``aubench run`` takes them all, so each
input is sorted here into the run it gets:

- a video file: FeatureExtraction (one CSV per video; ``--multi-face``: FaceLandmarkVidMulti);
- a photo: FaceLandmarkImg (every face, one CSV per image, in :mod:`aubench.pipeline.images`);
- a folder of images: FaceLandmarkImg on each image, or with ``--sequence`` (FeatureExtraction's
  ``-fdir``) one video whose frames are the images in name order;
- a folder of videos, or a ``.txt`` list: each of its entries as above.

A folder holding both videos and images is refused with the names of each, as is a file kind
the chosen OpenFace program does not read. Two inputs that would write the same
``OUTDIR/<name>.csv`` are refused before the first one runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from aubench.pipeline.errors import InputError
from aubench.pipeline.io.frames import IMAGE_EXTENSIONS

# the same lists as aubench.pipeline.batch's (checked by tests/pipeline/test_inputs.py), here so that sorting
# a command line's inputs does not import the batch machinery into every single run
VIDEO_EXTENSIONS = (".avi", ".wmv", ".mp4", ".mov", ".mkv", ".mpg", ".mpeg", ".m4v", ".webm", ".flv")
LIST_EXTENSIONS = (".txt", ".lst", ".list")


@dataclass
class InputPlan:
    """The inputs of one command, by the run each gets."""

    videos: list[Path] = field(default_factory=list)  # FeatureExtraction / FaceLandmarkVidMulti, one each
    sequences: list[Path] = field(default_factory=list)  # folders of images, each one video
    images: list[Path] = field(default_factory=list)  # FaceLandmarkImg, one CSV each
    batch: bool = False  # a folder of videos or a list was given: a batch (its summary lists each video)

    @property
    def tracked(self) -> list[Path]:
        """The inputs processed as videos (the files, then the sequences)."""
        return [*self.videos, *self.sequences]

    def __len__(self) -> int:
        return len(self.videos) + len(self.sequences) + len(self.images)


def _shown(names: list[str]) -> str:
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def read_list(path: Path) -> list[Path]:
    """A ``.txt``/``.lst``/``.list`` file's inputs: one path per line, blank lines and ``#`` comments skipped,
    relative paths taken from the list's folder."""
    items: list[Path] = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        item = Path(line).expanduser()
        items.append(item if item.is_absolute() else path.parent / item)
    if not items:
        raise InputError(f"{path}: the list names no inputs; expected one video or image path per line")
    return items


def plan_run(inputs: Sequence[str | Path], *, sequence_dirs: bool = False, images_only: bool = False,
             video_only: bool = False, landmarks_from: str | Path | None = None,
             program: str = "aubench run") -> InputPlan:
    """Sort ``inputs`` into videos, image sequences and photos (see the module docstring).

    Parameters
    ----------
    sequence_dirs : a folder of images is one video (FeatureExtraction's ``-fdir``, ``--sequence``).
    images_only : FaceLandmarkImg: every input must be an image or a folder of images.
    video_only : FeatureExtraction / FaceLandmarkVidMulti: an image file is a one-frame video, as
        OpenFace's video reader opens it.
    landmarks_from : ``--landmarks-from``: allowed with exactly one video or sequence.

    Raises
    ------
    InputError naming the input and the fix: missing, a folder with nothing usable or with both
    videos and images, a kind the program does not read, two inputs with one output name.
    """
    plan = InputPlan()
    pending = [Path(p) for p in inputs]
    if not pending:
        raise InputError(f"{program}: no input; give a video, an image, or a folder of them")
    expanded: list[Path] = []
    for path in pending:
        if path.is_file() and path.suffix.lower() in LIST_EXTENSIONS:
            expanded += read_list(path)
            plan.batch = True
        else:
            expanded.append(path)
    for path in expanded:
        if not path.exists():
            raise InputError(f"{path}: no such file or folder; give a video, an image or a folder of images")
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.is_file())
            videos = [p for p in files if p.suffix.lower() in VIDEO_EXTENSIONS]
            images = [p for p in files if p.suffix.lower() in IMAGE_EXTENSIONS]
            if videos and images:
                raise InputError(f"{path}: holds {len(videos)} video(s) ({_shown([p.name for p in videos])}) and "
                                 f"{len(images)} image(s) ({_shown([p.name for p in images])}); expected either "
                                 "videos or images; move the images into a folder of their own and give both folders")
            if not videos and not images:
                raise InputError(f"{path}: no videos or images in this folder (videos: {', '.join(VIDEO_EXTENSIONS)}; "
                                 f"images: {', '.join(IMAGE_EXTENSIONS)}); give a folder of videos or of images")
            if videos:
                if images_only:
                    raise InputError(f"{path}: holds videos ({_shown([p.name for p in videos])}); FaceLandmarkImg "
                                     "reads images; use FeatureExtraction or FaceLandmarkVidMulti for videos")
                plan.videos += videos
                plan.batch = True
            elif sequence_dirs:
                plan.sequences.append(path)
            else:
                plan.images += images
        elif path.suffix.lower() in IMAGE_EXTENSIONS:
            if sequence_dirs and not video_only:
                raise InputError(f"{path}: --sequence takes a folder of images (one video); give the folder, or "
                                 "drop --sequence to run the image as a photo")
            (plan.videos if video_only else plan.images).append(path)
        else:
            if images_only:
                raise InputError(f"{path}: not an image ({', '.join(IMAGE_EXTENSIONS)}); FaceLandmarkImg reads "
                                 "images; use FeatureExtraction for a video")
            plan.videos.append(path)
    _check_names(plan)
    if landmarks_from is not None:
        if not Path(landmarks_from).is_file():
            raise InputError(f"{landmarks_from}: no such CSV for --landmarks-from; give an OpenFace CSV of this input")
        if len(plan.tracked) != 1 or plan.images:
            raise InputError(f"--landmarks-from {landmarks_from}: replays one video's CSV, but {len(plan)} inputs "
                             "were given; run that video alone")
    return plan


def output_name(path: Path, sequence: bool = False) -> str:
    """The name OpenFace gives the outputs of ``path``: its stem, or a folder's name."""
    return path.name if sequence else path.stem


def _check_names(plan: InputPlan) -> None:
    seen: dict[str, Path] = {}
    named = [(p, output_name(p)) for p in plan.videos] + [(p, output_name(p, True)) for p in plan.sequences] + [
        (p, output_name(p)) for p in plan.images]
    for path, name in named:
        if name in seen:
            raise InputError(f"{path}: same name as {seen[name]}, both would write {name}.csv; rename one or run "
                             "them into different output folders")
        seen[name] = path
