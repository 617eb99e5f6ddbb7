"""Configuration: TOML files loaded into frozen dataclasses.

One parameters object per library, as OpenFace has (``FaceModelParameters``,
``FaceAnalyserParameters``, ...), with OpenFace's parameter names. A TOML file
has one table per section::

    [landmarks]
    num_optimisation_iteration = 5

    [variants]
    fhog = "numba"

Unknown tables or keys are errors that name the file and the key, with a
"did you mean". Values are type-checked against the dataclass defaults and
range-checked against the :class:`Range` declared beside each field (its
``metadata["range"]``); :func:`check_ranges` is the one place that reads them,
run by :func:`from_dict` and :func:`with_overrides` (so by :func:`build`, the
CLI and ``aubench.extract``). CLI flags override the file through
:func:`with_overrides`. :func:`config_hash` identifies a configuration in
every result file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from aubench.pipeline.errors import ConfigError, unknown_name


@dataclass(frozen=True)
class Range:
    """The valid values of one config key, and why (``field(metadata={"range": Range(...)})``).

    ``low``/``high`` bound a finite number (open ends exclusive; NaN and infinity are never valid);
    ``windows`` marks a list of CCNF window sizes
    (each 0 = skip that scale, or odd and >= 3, at least one non-zero; which sizes the model holds
    is checked when the CLNF model is loaded); ``non_empty`` asks for a non-empty string.
    """

    why: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    windows: bool = False
    non_empty: bool = False

    def describe(self) -> str:
        if self.windows:
            return "a non-empty list of window sizes, each 0 (skip the scale) or odd and >= 3, at least one non-zero"
        if self.non_empty:
            return "a non-empty string"
        if self.low is not None and self.high is not None:
            left, right = "(" if self.low_open else "[", ")" if self.high_open else "]"
            text = f"a value in {left}{_num(self.low)}, {_num(self.high)}{right}"
        elif self.low is not None:
            text = f"a value {'>' if self.low_open else '>='} {_num(self.low)}"
        elif self.high is not None:  # pragma: no cover - no key has only an upper bound
            text = f"a value {'<' if self.high_open else '<='} {_num(self.high)}"
        else:  # pragma: no cover
            text = "a finite value"
        return text

    def contains(self, value: Any) -> bool:
        if self.windows:
            return (isinstance(value, (tuple, list)) and len(value) >= 1 and any(w != 0 for w in value)
                    and all(isinstance(w, int) and not isinstance(w, bool) and (w == 0 or (w >= 3 and w % 2 == 1))
                            for w in value))
        if self.non_empty:
            return isinstance(value, str) and value.strip() != ""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if not math.isfinite(value):
            return False
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            return False
        if self.high is not None and (value > self.high or (self.high_open and value == self.high)):
            return False
        return True


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def ranged(default: Any, range_: Range) -> Any:
    """A dataclass field whose valid values are ``range_`` (read by :func:`check_ranges`)."""
    return field(default=default, metadata={"range": range_})


_PROB = "a softmax probability: 0 keeps every window, above 1 keeps none"
_FRACTION = "a fraction: 0 to 1"
_NONNEG = "a distance or difference: negative makes no sense"



@dataclass(frozen=True)
class DetectorParameters:
    """MTCNN face detector (``FaceDetectorMTCNN::DetectFaces``, ``DetectSingleFaceMTCNN``)."""

    min_face_size: int = ranged(60, Range(
        "PNet looks at 12-pixel windows; a smaller minimum face upsamples every frame by 12/min_face_size", low=12))
    pnet_threshold: float = ranged(0.6, Range(_PROB, low=0, high=1, low_open=True))
    rnet_threshold: float = ranged(0.7, Range(_PROB, low=0, high=1, low_open=True))
    onet_threshold: float = ranged(0.7, Range(_PROB, low=0, high=1, low_open=True))
    pyramid_factor: float = ranged(0.709, Range(
        "scale step between PNet pyramid levels: 1 or more never shrinks (no levels), below 0.5 faces fall "
        "between levels, above 0.95 a frame has hundreds of levels", low=0.5, high=0.95))


@dataclass(frozen=True)
class LandmarkParameters:
    """CLNF fitting and tracking (``LandmarkDetector::FaceModelParameters``), FeatureExtraction defaults."""

    model_location: str = ranged("model/main_clnf_general.txt", Range(
        "a main model file under the models folder", non_empty=True))
    num_optimisation_iteration: int = ranged(5, Range("NU-RLMS updates per scale; 0 or fewer never fits", low=1))
    sigma: float = ranged(1.5, Range("the KDE's Gaussian width in pixels; it divides the response", low=0,
                                     low_open=True))
    reg_factor: float = ranged(25.0, Range("the PDM prior's weight; 0 or less leaves the fit unregularised", low=0,
                                           low_open=True))
    weight_factor: float = ranged(0.0, Range("weight of the patch confidences; 0 turns it off", low=0))
    window_sizes_init: tuple[int, ...] = ranged((11, 9, 7, 5), Range(
        "CCNF search window per patch scale; an empty list or only zeros never fits the landmarks", windows=True))
    window_sizes_small: tuple[int, ...] = ranged((0, 9, 7, 0), Range(
        "CCNF search window per patch scale while tracking; only zeros never fits the landmarks", windows=True))
    refine_hierarchical: bool = True
    refine_parameters: bool = True
    validate_detections: bool = True
    validation_boundary: float = ranged(0.725, Range(
        "the validator's certainty is in (0, 1): 0 accepts every fit, 1 none", low=0, high=1, low_open=True,
        high_open=True))
    reinit_video_every: int = ranged(2, Range("frames between re-detections after a failure; OpenFace divides by it",
                                              low=1))
    # Convergence threshold on ||shape change|| between NU-RLMS updates (C++: 0.01).
    convergence_threshold: float = ranged(0.01, Range("shape change in pixels that stops NU-RLMS; 0 never stops "
                                                      "early", low=0))
    # Image mode (FaceLandmarkImg): fit the 11 rotation hypotheses from each face box instead of the frontal
    # one (OpenFace's -multi_view 1, or -wild). Video re-detection always uses them, as OpenFace does.
    multi_view: bool = False


@dataclass(frozen=True)
class AnalyserParameters:
    """AU analysis (``FaceAnalysis::FaceAnalyserParameters``)."""

    sim_scale_out: float = ranged(0.7, Range(
        "face scale in the aligned output image (OpenFace: 0.7 at 112 px); 0 or less has no face, above 10 only "
        "a patch of skin", low=0, high=10, low_open=True))
    sim_size_out: int = ranged(112, Range("side of the aligned output image in pixels; each frame allocates it "
                                           "squared", low=1, high=4096))
    sim_align_face_mask: bool = True
    dynamic: bool = True
    model_location: str = ranged("AU_predictors/main_dynamic_svms.txt", Range(
        "an AU predictor list under the models folder", non_empty=True))
    static_model_location: str = ranged("AU_predictors/main_static_svms.txt", Range(
        "an AU predictor list under the models folder", non_empty=True))
    postprocess: bool = True


@dataclass(frozen=True)
class OutputParameters:
    """What ``aubench run`` writes (OpenFace's flag names where they apply)."""

    hogalign: bool = False
    simalign: bool = False
    nobadaligned: bool = True
    pose: bool = True
    gaze: bool = True
    aus: bool = True
    landmarks_2d: bool = True
    landmarks_3d: bool = True
    pdmparams: bool = True
    # OpenFace's -tracked: OUTDIR/<stem>.avi (a video) or <stem>.jpg (an image) with the landmarks, eye
    # landmarks and gaze, the head-pose box and the AU intensities drawn on each frame
    tracked: bool = False


@dataclass(frozen=True)
class MultiFaceParameters:
    """FaceLandmarkVidMulti's tracker (``aubench run --multi-face``): its constants, as OpenFace 2.2 has them."""

    max_faces: int = ranged(4, Range("faces tracked at once (one CLNF each)", low=1, high=64))
    detect_every: int = ranged(8, Range("frames between face detections while a tracker is free", low=1))
    max_failures: int = ranged(4, Range("failed frames in a row after which a face's tracker is freed", low=0))
    overlap_iou: float = ranged(0.5, Range("box overlap (IoU) above which a detection or a second tracker is "
                                            "dropped as the same face", low=0, high=1))


@dataclass(frozen=True)
class ReuseParameters:
    """The cached kind of variant: work reused across the frames of a video (issue 19).

    Every default is off (OpenFace's behaviour: every frame does all of its work). Reuse applies
    to tracked frames after a success only; a (re)detection, and the frame after any failure,
    always does the full work. "Stable" (``*_stable_shape_px``) is measured on the main model's
    fitted landmarks: the RMS distance left after a least-squares similarity alignment
    (:func:`aubench.pipeline.landmarks.reuse.shape_change`), so a face that only moves, turns
    in-plane or changes size counts as stable, and a blink or an opening mouth does not.
    Measured figures: experiments/RESULTS.md, "Cached variants (issue 19)".
    """

    # 1. the CNN detection validator (CLNF::DetectLandmarks' DetectionValidator::Check)
    validator_every: int = ranged(1, Range(
        "frames one passed validation stands for on a stable face; 1 validates every frame (OpenFace)", low=1,
        high=100))
    validator_margin: float = ranged(0.1, Range(
        "how far above validation_boundary the last certainty must be for it to be reused", low=0, high=1))
    validator_stable_shape_px: float = ranged(0.5, Range(
        "shape change (RMS px after similarity alignment) since the last validation below which it is reused",
        low=0, high=20))
    # 2. the hierarchical part models (eyes, inner face)
    parts_every: int = ranged(1, Range(
        "frames one part-model fit stands for on a stable face; 1 fits every frame (OpenFace)", low=1, high=100))
    parts_stable_shape_px: float = ranged(0.5, Range(
        "shape change (RMS px after similarity alignment) of a part's points since its last fit below which the "
        "fit is reused", low=0, high=20))
    # 3. the main model's patch responses (CCNF), per tracked scale
    response_reuse_px: float = ranged(0.0, Range(
        "largest landmark move in pixels over the previous frame below which that frame's responses are reused; "
        "0 never reuses", low=0, high=10))
    # 4. the online AU prediction (FHOG and the running medians are still computed on every frame)
    au_predict_every: int = ranged(1, Range(
        "frames one online AU prediction stands for (the others hold it; frames the offline step re-predicts "
        "are unaffected); 1 predicts every frame (OpenFace)", low=1, high=100))
    # 5. constant-velocity start for tracking: params_global extrapolated from the previous two frames
    motion_prediction_gain: float = ranged(0.0, Range(
        "share of the last frame's params_global change added to the start of the next fit: 1 constant "
        "velocity, 0 off (OpenFace starts from the last parameters)", low=0, high=1))

    @property
    def any(self) -> bool:
        """Whether any reuse is on (False: the exact OpenFace path)."""
        return self != ReuseParameters()


_FOCAL = "focal length in pixels; 0 takes OpenFace's default from the frame size, a negative one mirrors the face"
_CENTRE = "principal point in pixels; 0 takes the frame centre"


@dataclass(frozen=True)
class CameraParameters:
    """Camera intrinsics; 0 means OpenFace's default from the frame size."""

    fx: float = ranged(0.0, Range(_FOCAL, low=0))
    fy: float = ranged(0.0, Range(_FOCAL, low=0))
    cx: float = ranged(0.0, Range(_CENTRE, low=0))
    cy: float = ranged(0.0, Range(_CENTRE, low=0))


def _share(default: float) -> Any:
    return ranged(default, Range(_FRACTION, low=0, high=1))


def _nonneg(default: float) -> Any:
    return ranged(default, Range(_NONNEG, low=0))


@dataclass(frozen=True)
class ParityThresholds:
    """Thresholds ``aubench parity`` and the gate check (from the project's issues)."""

    detection_iou_min: float = _share(0.95)
    detection_iou_median_min: float = _share(0.99)
    detection_confidence_max_diff: float = _share(0.01)
    landmark_error_median_px: float = _nonneg(0.3)
    landmark_error_p95_px: float = _nonneg(1.0)
    rotation_error_median_deg: float = _nonneg(0.5)
    success_agreement_min: float = _share(0.99)
    gaze_error_median_deg: float = _nonneg(1.0)
    aligned_mean_abs_diff_max: float = ranged(1.0, Range("grey levels (0 to 255)", low=0, high=255))
    hog_correlation_min: float = ranged(0.999, Range("a correlation: -1 to 1", low=-1, high=1))
    au_intensity_r_min: float = ranged(0.99, Range("a correlation: -1 to 1", low=-1, high=1))
    au_intensity_mae_max: float = _nonneg(0.05)
    au_occurrence_agreement_min: float = _share(0.99)
    # With a second C++ output of the clip (``aubench parity --spread``), each figure is judged by its
    # distance from the reference instead: ours <= spread_factor * C++'s + the figure's slack. Why
    # these values: README, "How parity and the gate are judged" (experiments/RESULTS.md, section 000).
    spread_factor: float = ranged(2.0, Range("multiplies C++'s own spread; 0 or less fails everything", low=0,
                                             low_open=True))
    spread_slack_px: float = _nonneg(0.01)
    spread_slack_deg: float = _nonneg(0.05)
    spread_slack_r: float = _nonneg(0.005)
    spread_slack_mae: float = _nonneg(0.005)
    spread_slack_success: float = _nonneg(0.005)
    spread_slack_occurrence: float = _nonneg(0.015)
    # False for an approximate configuration (e.g. the realtime preset): its figures are judged by the
    # thresholds above, which state its approximation, even where C++'s spread was measured
    judge_by_spread: bool = True


@dataclass(frozen=True)
class RuntimeParameters:
    """How the run is executed (not what it computes)."""

    threads: int = ranged(1, Range("BLAS/Numba threads per worker", low=1))
    workers: int = ranged(1, Range("worker processes; 0 uses every core", low=0))
    progress: bool = True
    # one video on two cores: decoding and the AU stage/writing on threads beside the tracker (pipeline/pipelined.py)
    pipeline: bool = False


@dataclass(frozen=True)
class Config:
    """A whole aubench configuration. ``variants`` maps kernel name -> variant name."""

    name: str = "reference"
    description: str = ""
    detector: DetectorParameters = field(default_factory=DetectorParameters)
    landmarks: LandmarkParameters = field(default_factory=LandmarkParameters)
    analyser: AnalyserParameters = field(default_factory=AnalyserParameters)
    output: OutputParameters = field(default_factory=OutputParameters)
    camera: CameraParameters = field(default_factory=CameraParameters)
    multi_face: MultiFaceParameters = field(default_factory=MultiFaceParameters)
    parity: ParityThresholds = field(default_factory=ParityThresholds)
    runtime: RuntimeParameters = field(default_factory=RuntimeParameters)
    reuse: ReuseParameters = field(default_factory=ReuseParameters)
    variants: tuple[tuple[str, str], ...] = ()
    source: str = ""  # file it was loaded from (not part of the hash)

    @property
    def variant_selection(self) -> dict[str, str]:
        return dict(self.variants)


# section name -> parameters class, e.g. "landmarks" -> LandmarkParameters
_SECTIONS: dict[str, type] = {
    f.name: f.default_factory for f in fields(Config)
    if f.default_factory is not dataclasses.MISSING and dataclasses.is_dataclass(f.default_factory)
}
_TOP_LEVEL = {"name", "description"}
# Keys that older configs may still carry, and why they went: reported instead of a bare "unknown key".
_REMOVED_KEYS = {
    ("landmarks", "limit_pose"): "it was removed because nothing ever read it (it never changed a result); "
                                 "delete the line",
}


def _coerce(value: Any, default: Any, where: str) -> Any:
    """Check a TOML value against the type of the dataclass default."""
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    if isinstance(default, tuple):
        if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise ConfigError(f"{where}: expected a list of integers, got {value!r}")
        return tuple(value)
    raise ConfigError(f"{where}: unsupported value {value!r}")  # pragma: no cover


def _build_section(cls: type, table: Any, where: str, section: str) -> Any:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table, got {table!r}")
    known = {f.name: f for f in fields(cls)}
    values = {}
    for key, value in table.items():
        if (section, key) in _REMOVED_KEYS:
            raise ConfigError(f'{where}: key "{key}": {_REMOVED_KEYS[section, key]}')
        if key not in known:
            raise ConfigError(unknown_name("key", key, known, f"{where}"))
        default = known[key].default
        values[key] = _coerce(value, default, f"{where}.{key}")
    return cls(**values)


def _toml(value: Any) -> str:
    """A value as it would be written in TOML (what the user typed)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return repr(value)


def range_of(section: str, key: str) -> Range | None:
    """The declared :class:`Range` of ``[section] key`` (None: any value of its type)."""
    for f in fields(_SECTIONS[section]):
        if f.name == key:
            return f.metadata.get("range")
    raise KeyError(f"{section}.{key}")


def check_value(section: str, key: str, value: Any, where: str) -> None:
    """Raise :class:`ConfigError` if ``value`` is outside ``[section] key``'s declared range."""
    rng = range_of(section, key)
    if rng is None or rng.contains(value):
        return
    default = next(f.default for f in fields(_SECTIONS[section]) if f.name == key)
    raise ConfigError(f"{where}: [{section}] {key} = {_toml(value)}: expected {rng.describe()} ({rng.why}); "
                      f"e.g. {_toml(default)}")


def check_ranges(config: Config, where: str | None = None) -> Config:
    """The one range check: every ranged key of every section of ``config``; returns it unchanged.

    ``where`` names the origin in the message (default: the file it was loaded from).
    """
    where = where or config.source or "config"
    for section in _SECTIONS:
        params = getattr(config, section)
        for f in fields(params):
            if "range" in f.metadata:
                check_value(section, f.name, getattr(params, f.name), where)
    cam = config.camera
    for a, b in (("fx", "fy"), ("cx", "cy")):
        if (getattr(cam, a) == 0) != (getattr(cam, b) == 0):
            raise ConfigError(f"{where}: [camera] {a} = {_num(getattr(cam, a))}, {b} = {_num(getattr(cam, b))}: expected "
                              f"both or neither (0 takes OpenFace's default for both); give {a} and {b} together "
                              f"(OpenFace: -{a} and -{b})")
    return config


def from_dict(data: dict[str, Any], source: str = "<dict>") -> Config:
    """Build a Config from a parsed TOML document; errors name ``source`` and the key."""
    kwargs: dict[str, Any] = {"source": source}
    valid = sorted(set(_SECTIONS) | _TOP_LEVEL | {"variants"})
    for key, value in data.items():
        where = f"{source}: [{key}]" if isinstance(value, dict) else f"{source}: {key}"
        if key in _TOP_LEVEL:
            kwargs[key] = _coerce(value, "", where)
        elif key == "variants":
            if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
                raise ConfigError(f"{where}: expected a table of kernel = \"variant\" strings, got {value!r}")
            from aubench.pipeline.registry import validate_selection

            validate_selection(value, where=f"{source}: [variants]")
            kwargs["variants"] = tuple(sorted(value.items()))
        elif key in _SECTIONS:
            kwargs[key] = _build_section(_SECTIONS[key], value, f"{source}: [{key}]", key)
        else:
            raise ConfigError(unknown_name("section", key, valid, source))
    return check_ranges(Config(**kwargs), source)


def load(path: str | Path | None) -> Config:
    """Load a TOML config file; ``None`` gives the defaults (the C++-faithful reference)."""
    if path is None:
        return Config()
    path = Path(path)
    if not path.is_file():
        presets = ", ".join(sorted(p.name for p in preset_dir().glob("*.toml")))
        raise ConfigError(f"{path}: config file not found; give a TOML file (presets in aubench/presets/: {presets})")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the syntax at that line") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a UTF-8 text file; give a TOML config") from None
    return from_dict(data, source=str(path))


def preset_dir() -> Path:
    """Folder of the shipped presets (``aubench/presets/*.toml``)."""
    import aubench.presets as presets

    return Path(presets.__file__).parent


def preset(name: str) -> Config:
    """Load a shipped preset by name (``reference``, ``fast``, ...)."""
    path = preset_dir() / f"{name}.toml"
    if not path.is_file():
        names = [p.stem for p in preset_dir().glob("*.toml")]
        raise ConfigError(unknown_name("preset", name, names))
    return load(path)


def load_any(spec: str | Path | None) -> Config:
    """A path to a TOML file, or the name of a shipped preset."""
    if spec is None:
        return Config()
    p = Path(spec)
    if p.suffix == ".toml" or p.exists():
        return load(p)
    return preset(str(spec))


def build(spec: str | Path | Config | None, variants: Mapping[str, str] | None = None,
          **sections: dict[str, Any]) -> Config:
    """The configuration a run asks for: ``--config`` and ``--variant`` on the command line,
    ``config=`` and ``variants=`` in the Python API.

    Parameters
    ----------
    spec : a shipped preset's name (``"fast"``), a TOML file, a :class:`Config`, or None (the reference).
    variants : ``{kernel: variant}`` merged into the selection, e.g. ``{"fhog": "numba"}``.
    sections : other overrides, as :func:`with_overrides` takes them (``output={"hogalign": True}``).
    """
    if variants is not None and not (isinstance(variants, Mapping) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in variants.items())):
        raise ConfigError(f"variants: expected a mapping of kernel name to variant name, e.g. {{'fhog': 'numba'}}, "
                          f"got {variants!r}")
    if isinstance(spec, Config):
        config = spec
    elif spec is None or isinstance(spec, (str, Path)):
        config = load_any(spec)
    else:
        raise ConfigError(f"config: expected a preset name (reference, fast, ...), a TOML path or a Config, "
                          f"got {type(spec).__name__} {spec!r}")
    return with_overrides(config, variants=dict(variants or {}), **sections)


def with_overrides(config: Config, **sections: dict[str, Any]) -> Config:
    """Return a copy with CLI overrides, e.g. ``with_overrides(cfg, output={"hogalign": True})``.

    ``variants={...}`` merges into the selection. None values are ignored (flag not given). Every
    value of the result is range-checked (:func:`check_ranges`).
    """
    changes: dict[str, Any] = {}
    for name, values in sections.items():
        values = {k: v for k, v in values.items() if v is not None}
        if not values:
            continue
        if name == "variants":
            from aubench.pipeline.registry import validate_selection

            validate_selection(values, where="--variant / variants=")
            merged = dict(config.variants)
            merged.update(values)
            changes["variants"] = tuple(sorted(merged.items()))
        elif name in _SECTIONS:
            current = getattr(config, name)
            known = {f.name for f in fields(current)}
            for key in values:
                if key not in known:
                    raise ConfigError(unknown_name("key", key, known, f"command line [{name}]"))
                check_value(name, key, values[key], "command line / API override")
            changes[name] = dataclasses.replace(current, **values)
        else:
            raise ConfigError(unknown_name("section", name, _SECTIONS, "command line"))
    # a Config built in Python (aubench.extract(config=Config(...))) has not been checked yet
    where = f"{config.source or 'config'} with the command line / API overrides" if changes else None
    return check_ranges(dataclasses.replace(config, **changes), where)


def to_dict(config: Config) -> dict[str, Any]:
    """Plain-data form (what result files store); ``source`` is dropped."""
    data = dataclasses.asdict(config)
    data.pop("source", None)
    if config.reuse == ReuseParameters():  # all reuse off: the same data (and hash) as before [reuse] existed
        data.pop("reuse")
    if config.parity.judge_by_spread:  # the default: the same data (and hash) as before the key existed
        data["parity"].pop("judge_by_spread")
    data["variants"] = dict(config.variants)
    return data


def config_hash(config: Config) -> str:
    """Stable 12-hex-digit hash of everything that can change a result ([runtime] cannot: it is left out,
    so a run on two cores, with more workers or without a progress bar, resumes and compares as one)."""
    data = to_dict(config)
    data.pop("runtime", None)
    text = json.dumps(data, sort_keys=True, default=list)
    return hashlib.sha256(text.encode()).hexdigest()[:12]
