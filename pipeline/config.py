"""Configuration: TOML files loaded into frozen dataclasses.

One parameters object per library, as OpenFace has (``FaceModelParameters``,
``FaceAnalyserParameters``, ...), with OpenFace's parameter names. A TOML file
has one table per section::

    [landmarks]
    num_optimisation_iteration = 5

    [variants]
    fhog = "numba"

Unknown tables or keys are errors that name the file and the key, with a
"did you mean". Values are type-checked against the dataclass defaults. CLI
flags override the file through :func:`with_overrides`. :func:`config_hash`
identifies a configuration in every result file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
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
class DetectorParameters:
    """MTCNN face detector (``FaceDetectorMTCNN::DetectFaces``, ``DetectSingleFaceMTCNN``)."""

    min_face_size: int = 60
    pnet_threshold: float = 0.6
    rnet_threshold: float = 0.7
    onet_threshold: float = 0.7
    pyramid_factor: float = 0.709


@dataclass(frozen=True)
class LandmarkParameters:
    """CLNF fitting and tracking (``LandmarkDetector::FaceModelParameters``), FeatureExtraction defaults."""

    model_location: str = "model/main_clnf_general.txt"
    num_optimisation_iteration: int = 5
    sigma: float = 1.5
    reg_factor: float = 25.0
    weight_factor: float = 0.0
    window_sizes_init: tuple[int, ...] = (11, 9, 7, 5)
    window_sizes_small: tuple[int, ...] = (0, 9, 7, 0)
    refine_hierarchical: bool = True
    refine_parameters: bool = True
    validate_detections: bool = True
    validation_boundary: float = 0.725
    reinit_video_every: int = 2
    # Convergence threshold on ||shape change|| between NU-RLMS updates (C++: 0.01).
    convergence_threshold: float = 0.01


@dataclass(frozen=True)
class AnalyserParameters:
    """AU analysis (``FaceAnalysis::FaceAnalyserParameters``)."""

    sim_scale_out: float = 0.7
    sim_size_out: int = 112
    sim_align_face_mask: bool = True
    dynamic: bool = True
    model_location: str = "AU_predictors/main_dynamic_svms.txt"
    static_model_location: str = "AU_predictors/main_static_svms.txt"
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


@dataclass(frozen=True)
class CameraParameters:
    """Camera intrinsics; 0 means OpenFace's default from the frame size."""

    fx: float = 0.0
    fy: float = 0.0
    cx: float = 0.0
    cy: float = 0.0


@dataclass(frozen=True)
class ParityThresholds:
    """Thresholds ``aubench parity`` and the gate check (from the project's issues)."""

    detection_iou_min: float = 0.95
    detection_iou_median_min: float = 0.99
    detection_confidence_max_diff: float = 0.01
    landmark_error_median_px: float = 0.3
    landmark_error_p95_px: float = 1.0
    rotation_error_median_deg: float = 0.5
    success_agreement_min: float = 0.99
    gaze_error_median_deg: float = 1.0
    aligned_mean_abs_diff_max: float = 1.0
    hog_correlation_min: float = 0.999
    au_intensity_r_min: float = 0.99
    au_intensity_mae_max: float = 0.05
    au_occurrence_agreement_min: float = 0.99
    # With a second C++ output of the clip (``aubench parity --spread``), each figure is judged by its
    # distance from the reference instead: ours <= spread_factor * C++'s + the figure's slack. Why
    # these values: README, "How parity and the gate are judged" (experiments/RESULTS.md, section 000).
    spread_factor: float = 2.0
    spread_slack_px: float = 0.01
    spread_slack_deg: float = 0.05
    spread_slack_r: float = 0.005
    spread_slack_mae: float = 0.005
    spread_slack_success: float = 0.005
    spread_slack_occurrence: float = 0.015


@dataclass(frozen=True)
class RuntimeParameters:
    """How the run is executed (not what it computes)."""

    threads: int = 1
    workers: int = 1
    progress: bool = True


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
    parity: ParityThresholds = field(default_factory=ParityThresholds)
    runtime: RuntimeParameters = field(default_factory=RuntimeParameters)
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
    return Config(**kwargs)


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

    ``variants={...}`` merges into the selection. None values are ignored (flag not given).
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
            changes[name] = dataclasses.replace(current, **values)
        else:
            raise ConfigError(unknown_name("section", name, _SECTIONS, "command line"))
    return dataclasses.replace(config, **changes)


def to_dict(config: Config) -> dict[str, Any]:
    """Plain-data form (what result files store); ``source`` is dropped."""
    data = dataclasses.asdict(config)
    data.pop("source", None)
    data["variants"] = dict(config.variants)
    return data


def config_hash(config: Config) -> str:
    """Stable 12-hex-digit hash of everything that can change a result."""
    text = json.dumps(to_dict(config), sort_keys=True, default=list)
    return hashlib.sha256(text.encode()).hexdigest()[:12]
