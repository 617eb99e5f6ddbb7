"""OpenFace's own command lines: ``FeatureExtraction``, ``FaceLandmarkImg`` and ``FaceLandmarkVidMulti``.

``aubench FeatureExtraction -f clip.avi -out_dir out -aus`` runs what the C++ executable of that
name runs, with its flags, their meaning and their defaults, so an existing OpenFace script switches
by putting ``aubench`` in front of the program name. ``aubench run`` takes the same single-dash
flags beside its own (``aubench run clip.avi -o out -aus -au_static``).

The flags are OpenFace 2.2's, as its argument readers consume them (``SequenceCapture::Open``,
``ImageCapture::Open``, ``RecorderOpenFaceParameters``, ``RecorderOpenFace``,
``FaceModelParameters``, ``FaceAnalyserParameters``). One OpenFace default differs between the
two spellings: with no output selector (``-2Dfp -3Dfp -pdmparams -pose -aus -gaze -hogalign
-simalign -tracked``) OpenFace writes everything, the ``.hog``, the aligned faces and the tracked
video included; ``aubench run`` writes the CSV alone unless asked. A flag OpenFace has and aubench
does not (a webcam, the Haar detector, ...) is an error that says so; the visualisation flags are
accepted and have no effect (no window here; ``-tracked`` writes the annotated video).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from aubench.pipeline.errors import ConfigError, unknown_name

PROGRAMS = ("FeatureExtraction", "FaceLandmarkImg", "FaceLandmarkVidMulti")

# output selectors: flag -> [output] key
SELECTORS = {"-2Dfp": "landmarks_2d", "-3Dfp": "landmarks_3d", "-pdmparams": "pdmparams", "-pose": "pose",
             "-aus": "aus", "-gaze": "gaze", "-hogalign": "hogalign", "-simalign": "simalign", "-tracked": "tracked"}
# flags with a value, mapped to (section, key, type)
VALUED = {
    "-fx": ("camera", "fx", float), "-fy": ("camera", "fy", float), "-cx": ("camera", "cx", float),
    "-cy": ("camera", "cy", float),
    "-simscale": ("analyser", "sim_scale_out", float), "-simsize": ("analyser", "sim_size_out", int),
    "-mloc": ("landmarks", "model_location", str), "-sigma": ("landmarks", "sigma", float),
    "-w_reg": ("landmarks", "weight_factor", float), "-reg": ("landmarks", "reg_factor", float),
    "-n_iter": ("landmarks", "num_optimisation_iteration", int),
    "-multi_view": ("landmarks", "multi_view", bool), "-validate_detections": ("landmarks", "validate_detections", bool),
}
# flags without a value that set config keys
SWITCHES = {"-nobadaligned": ("output", "nobadaligned", True), "-au_static": ("analyser", "dynamic", False),
            "-nomask": ("analyser", "sim_align_face_mask", False)}
# OpenFace's in-the-wild setting (FaceModelParameters, -wild)
WILD = {"window_sizes_init": (15, 13, 11, 11), "sigma": 1.25, "reg_factor": 35.0, "weight_factor": 2.5,
        "num_optimisation_iteration": 10, "multi_view": True}
# visualisation: accepted, no effect here
VISUAL = ("-verbose", "-vis-track", "-vis-hog", "-vis-align", "-vis-aus", "-q")
# OpenFace flags aubench does not have, and what to do instead
UNSUPPORTED = {
    "-device": (1, "webcams are not read by aubench; record a video and give it with -f"),
    "-cam_width": (1, "webcams are not read by aubench; record a video and give it with -f"),
    "-cam_height": (1, "webcams are not read by aubench; record a video and give it with -f"),
    "-fdloc": (1, "only the MTCNN face detector (OpenFace 2.2's default) is implemented; drop -fdloc"),
    "-bboxdir": (1, "given face boxes are not read yet; drop -bboxdir to detect the faces with MTCNN"),
    "-g": (0, "grey-scale aligned faces are not implemented; drop -g"),
    "-format_aligned": (1, "aligned faces are written as .bmp, as OpenFace's default; drop -format_aligned"),
    "-format_vis_image": (1, "the tracked image is written as .jpg, as OpenFace's default; drop -format_vis_image"),
}
INPUTS = ("-f", "-fdir", "-inroot", "-root", "-out_dir", "-of")
KNOWN = (*INPUTS, *SELECTORS, *VALUED, *SWITCHES, "-wild", *VISUAL)  # what aubench does with
ALL_FLAGS = (*KNOWN, *UNSUPPORTED)


@dataclass
class OpenFaceArgs:
    """What OpenFace's flags asked for, in aubench's terms."""

    files: list[Path] = field(default_factory=list)  # -f, each with -inroot in front
    dirs: list[Path] = field(default_factory=list)  # -fdir
    out_dir: Path | None = None  # -out_dir
    out_name: str | None = None  # -of (its folder part joins -out_dir, as RecorderOpenFace does)
    selectors: list[str] = field(default_factory=list)  # output selectors given, in [output] keys
    sections: dict[str, dict] = field(default_factory=dict)  # config overrides: section -> key -> value
    ignored: list[str] = field(default_factory=list)  # flags accepted without effect

    def set(self, section: str, key: str, value) -> None:
        self.sections.setdefault(section, {})[key] = value

    def output_overrides(self, everything_by_default: bool) -> dict[str, bool]:
        """``[output]`` keys from the selectors: only those given, or all (OpenFace) / none (aubench run)."""
        if not self.selectors and not everything_by_default:
            return {}
        return {key: (not self.selectors) or key in self.selectors for key in SELECTORS.values()}


def is_openface_flag(token: str) -> bool:
    return token in ALL_FLAGS


def _value(tokens: list[str], i: int, flag: str, kind: type):
    if i + 1 >= len(tokens):
        raise ConfigError(f"{flag}: expected a value after it (OpenFace's {flag} VALUE)")
    raw = tokens[i + 1]
    try:
        if kind is bool:  # OpenFace reads an int and tests != 0
            return int(raw) != 0
        return kind(raw)
    except ValueError:
        what = {float: "a number", int: "an integer", str: "a value"}.get(kind, "0 or 1")
        raise ConfigError(f"{flag} {raw}: expected {what}") from None


def parse_openface_args(tokens: list[str], program: str = "FeatureExtraction") -> OpenFaceArgs:
    """OpenFace's flags in ``tokens`` (every token must be one of them or its value).

    Parameters
    ----------
    tokens : the arguments, without the program name.
    program : which executable's reading of ``-fdir`` applies (a sequence for FeatureExtraction and
        FaceLandmarkVidMulti, a folder of separate images for FaceLandmarkImg; both land in ``dirs``).

    Raises
    ------
    ConfigError naming the flag: an unknown one (with the closest OpenFace flag), a missing or bad
    value, or one aubench does not implement (with what to do instead).
    """
    args = OpenFaceArgs()
    root = ""
    # -inroot / -root apply to every -f and -fdir wherever they stand (OpenFace reads them first)
    for i, tok in enumerate(tokens):
        if tok in ("-inroot", "-root"):
            root = str(_value(tokens, i, tok, str))
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok in ("-f", "-fdir"):
            path = Path(root) / _value(tokens, i, tok, str) if root else Path(_value(tokens, i, tok, str))
            (args.files if tok == "-f" else args.dirs).append(path)
            i += 2
        elif tok in ("-inroot", "-root"):
            i += 2
        elif tok == "-out_dir":
            args.out_dir = Path(_value(tokens, i, tok, str))
            i += 2
        elif tok == "-of":
            if args.out_name is None:  # OpenFace takes the first
                args.out_name = str(_value(tokens, i, tok, str))
            i += 2
        elif tok in SELECTORS:
            if SELECTORS[tok] not in args.selectors:
                args.selectors.append(SELECTORS[tok])
            i += 1
        elif tok in VALUED:
            section, key, kind = VALUED[tok]
            args.set(section, key, _value(tokens, i, tok, kind))
            i += 2
        elif tok in SWITCHES:
            section, key, value = SWITCHES[tok]
            args.set(section, key, value)
            i += 1
        elif tok == "-wild":
            for key, value in WILD.items():
                args.set("landmarks", key, value)
            i += 1
        elif tok in VISUAL:
            args.ignored.append(tok)
            i += 1
        elif tok in UNSUPPORTED:
            raise ConfigError(f"{tok}: OpenFace's flag is not supported by aubench: {UNSUPPORTED[tok][1]}")
        else:
            if tok.startswith("-"):
                raise ConfigError(unknown_name(f"{program} flag", tok, KNOWN))
            raise ConfigError(f"{tok}: unexpected argument; {program} takes its inputs as -f FILE or -fdir FOLDER")
    return args


def split_openface_tokens(argv: list[str]) -> tuple[list[str], list[str]]:
    """``aubench run``'s arguments split into (its own, OpenFace's flags with their values)."""
    own, openface = [], []
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok in ALL_FLAGS:
            takes = 0 if tok in SELECTORS or tok in SWITCHES or tok in VISUAL or tok == "-wild" else (
                UNSUPPORTED[tok][0] if tok in UNSUPPORTED else 1)
            openface += argv[i:i + 1 + takes]
            i += 1 + takes
        else:
            own.append(tok)
            i += 1
    return own, openface


def config_sections(of: OpenFaceArgs, *, everything_by_default: bool) -> dict[str, dict]:
    """The config overrides the flags make (sections for :func:`aubench.pipeline.config.build`)."""
    sections = {k: dict(v) for k, v in of.sections.items()}
    outputs = of.output_overrides(everything_by_default)
    if outputs:
        sections.setdefault("output", {}).update(outputs)
    if everything_by_default and "nobadaligned" not in sections.get("output", {}):
        sections.setdefault("output", {})["nobadaligned"] = False  # OpenFace writes every aligned face unless told
    return sections


def notice_ignored(of: OpenFaceArgs, program: str) -> None:
    if of.ignored:
        print(f"aubench {program}: {' '.join(of.ignored)} ignored (no display window here; -tracked writes the "
              "annotated video)", file=sys.stderr)


# --------------------------------------------------------------------------- the three programs

def register(sub) -> None:
    """List the three programs in ``aubench --help`` (their arguments are read by :func:`main`)."""
    for name, what in (("FeatureExtraction", "videos and image sequences, one face each"),
                       ("FaceLandmarkImg", "photos, every face"),
                       ("FaceLandmarkVidMulti", "videos, up to 4 faces each")):
        p = sub.add_parser(name, add_help=False, help=f"OpenFace's {name} command line ({what}); its single-dash "
                                                      "flags, e.g. -f FILE -out_dir DIR -aus")
        p.set_defaults(func=None)


def usage(program: str) -> str:
    inputs = "-f FILE [-f FILE ...] | -fdir FOLDER"
    return (f"usage: aubench {program} {inputs} [-out_dir DIR] [-of NAME] [-2Dfp] [-3Dfp] [-pdmparams] [-pose] "
            "[-aus] [-gaze] [-hogalign] [-simalign] [-tracked] [-nobadaligned] [-au_static] [-fx F -fy F -cx C -cy C] "
            "[-simsize N] [-simscale S] [-nomask] [-mloc FILE] [-wild] [-multi_view 0|1] "
            "[--config FILE] [--variant K=V] [--models DIR] [--quiet]\n"
            f"OpenFace {program}'s flags with their meaning; the README's table maps each to aubench.")


def main(program: str, argv: list[str]) -> int:
    """``aubench PROGRAM ARGS``: parse OpenFace's flags (and aubench's ``--config``, ``--variant``,
    ``--models``, ``--quiet``), then run as ``aubench run`` would."""
    import argparse

    from aubench.commands import run as run_cmd
    from aubench.commands._common import add_config_arguments

    if not argv or argv[0] in ("-h", "--help", "-help"):
        print(usage(program))
        return 0
    own, openface = split_openface_tokens(argv)
    parser = argparse.ArgumentParser(prog=f"aubench {program}", add_help=False, allow_abbrev=False)
    add_config_arguments(parser)
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--frames", type=int)
    args, rest = parser.parse_known_args(own)
    if rest:
        flag = rest[0]
        if flag.startswith("-"):
            raise ConfigError(unknown_name(f"{program} flag", flag, KNOWN + ("--config", "--variant", "--models",
                                                                                  "--quiet", "--frames")))
        raise ConfigError(f"{flag}: unexpected argument; {program} takes its inputs as -f FILE or -fdir FOLDER")
    of = parse_openface_args(openface, program)
    notice_ignored(of, program)
    if not of.files and not of.dirs:
        raise ConfigError(f"no input: {program} needs -f FILE (repeatable) or -fdir FOLDER")
    if of.out_dir is None and of.out_name is None:
        # OpenFace's default record directory is "processed" in the working directory
        of.out_dir = Path("processed")
    sections = config_sections(of, everything_by_default=True)
    request = run_cmd.RunRequest(
        inputs=[*of.files, *of.dirs], out_dir=of.out_dir or Path("."), out_name=of.out_name,
        multi_face=program == "FaceLandmarkVidMulti",
        sequence_dirs=program != "FaceLandmarkImg", images_only=program == "FaceLandmarkImg",
        video_only=program != "FaceLandmarkImg", frames=args.frames, quiet=args.quiet, program=program)
    return run_cmd.execute(request, args, sections)
