"""Readers of OpenFace's AU predictor files (``AU_predictors/``).

Reproduces ``FaceAnalyser.cpp::FaceAnalyser::Read``, ``ReadAU`` and ``ReadRegressor``
and the ``Read`` methods of ``SVR_static_lin_regressors``, ``SVR_dynamic_lin_regressors``,
``SVM_static_lin`` and ``SVM_dynamic_lin``. Three levels of files:

* the *main* file (``main_dynamic_svms.txt`` for video, ``main_static_svms.txt`` for
  images): lines ``MODULE relative/path`` with modules ``AUPredictor``, ``PDM`` and
  ``Triangulation``;
* the *predictor list* (``AU_all_best.txt``, ``AU_all_static.txt``): lines
  ``relative/path.dat AU01`` (the names after the first space, comma separated);
* one little-endian binary ``.dat`` file per AU: ``int32`` regressor type
  (0 = static SVR, 1 = dynamic SVR, 4 = static SVM, 5 = dynamic SVM); for a dynamic SVR a
  ``float64`` cutoff (the share of a video's frames assumed neutral; -1 = none); a 1 x D
  ``float64`` matrix of feature means and a D x 1 ``float64`` weight vector (each
  ``int32`` rows, cols, OpenCV type 6, then the data: ``Face_utils.cpp::ReadMatBin``);
  a ``float64`` bias; for an SVM two ``float64`` values, the output for a positive
  and for a non-positive decision value.

D = 4702 = 4464 FHOG values + 238 geometry values. OpenFace keeps one predictor object
per type and stacks its AUs' weight vectors as columns. It keeps the means of the first
file of each type only (it just prints a warning when a later file's means differ),
so :class:`AUModelGroup` does the same. There are no per-view models in OpenFace 2.2:
the orientation bins only select the person-calibration histograms.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aubench.pipeline.errors import ModelFormatError

SVR_STATIC, SVR_DYNAMIC, SVM_STATIC, SVM_DYNAMIC = 0, 1, 4, 5
KINDS = {SVR_STATIC: "svr_static", SVR_DYNAMIC: "svr_dynamic", SVM_STATIC: "svm_static", SVM_DYNAMIC: "svm_dynamic"}
_CV_64F = 6
_MAX_VALUES = 10_000_000  # guard against absurd headers (the real files hold 4702 values per matrix)
_AU_NAME = re.compile(r"^AU\d+$")


@dataclass(frozen=True, eq=False)
class LinearAUModel:
    """One ``.dat`` file: a linear SVR or SVM for one AU (arrays read-only float64).

    Attributes
    ----------
    kind : str
        ``svr_static``, ``svr_dynamic``, ``svm_static`` or ``svm_dynamic``.
    au_name : str
        ``"AU01"`` ... as named in the predictor list.
    means : (D,) float64
        Feature means subtracted before the dot product.
    support_vector : (D,) float64
        The linear weights.
    bias : float
    cutoff : float
        Dynamic SVR only: the percentile of a video's predictions taken as its neutral
        level in post-processing; -1 (no offset) otherwise.
    pos_class, neg_class : float
        SVM only: the output for a decision value > 0 and <= 0 (nan for an SVR).
    path : Path
    """

    kind: str
    au_name: str
    means: np.ndarray
    support_vector: np.ndarray
    bias: float
    cutoff: float
    pos_class: float
    neg_class: float
    path: Path

    @property
    def dynamic(self) -> bool:
        return self.kind.endswith("dynamic")

    @property
    def classifier(self) -> bool:
        return self.kind.startswith("svm")


@dataclass(frozen=True, eq=False)
class AUModelGroup:
    """The AUs of one predictor type, stacked as one C++ predictor object holds them.

    Attributes
    ----------
    kind : str
    names : tuple of str
        AU names in file-list order (the order OpenFace predicts them in).
    means : (D,) float64
        The first file's means (OpenFace uses them for every AU of the type).
    support_vectors : (D, k) float64
        One column per AU.
    biases, cutoffs, pos_classes, neg_classes : (k,) float64
    """

    kind: str
    names: tuple[str, ...]
    means: np.ndarray
    support_vectors: np.ndarray
    biases: np.ndarray
    cutoffs: np.ndarray
    pos_classes: np.ndarray
    neg_classes: np.ndarray

    @property
    def dynamic(self) -> bool:
        return self.kind.endswith("dynamic")

    @property
    def classifier(self) -> bool:
        return self.kind.startswith("svm")

    def __len__(self) -> int:
        return len(self.names)


@dataclass(frozen=True, eq=False)
class AUModels:
    """Everything a FaceAnalyser reads from a main AU model file.

    Attributes
    ----------
    svr_static, svr_dynamic, svm_static, svm_dynamic : AUModelGroup
        Possibly empty (``main_static_svms.txt`` has no dynamic models).
    pdm_path, triangulation_path : Path
        The FaceAnalyser's own PDM and the face-mask triangulation.
    path : Path
        The main file.
    """

    svr_static: AUModelGroup
    svr_dynamic: AUModelGroup
    svm_static: AUModelGroup
    svm_dynamic: AUModelGroup
    pdm_path: Path
    triangulation_path: Path
    path: Path

    @property
    def intensity_names(self) -> tuple[str, ...]:
        """``FaceAnalyser::GetAURegNames``: static SVR AUs, then dynamic."""
        return self.svr_static.names + self.svr_dynamic.names

    @property
    def occurrence_names(self) -> tuple[str, ...]:
        """``FaceAnalyser::GetAUClassNames``: static SVM AUs, then dynamic."""
        return self.svm_static.names + self.svm_dynamic.names

    @property
    def intensity_cutoffs(self) -> dict[str, float]:
        """Post-processing cutoff per intensity AU (-1 = no offset; static AUs have none)."""
        cut = {name: -1.0 for name in self.svr_static.names}
        cut.update(zip(self.svr_dynamic.names, self.svr_dynamic.cutoffs.tolist()))
        return cut

    @property
    def has_dynamic(self) -> bool:
        return len(self.svr_dynamic) + len(self.svm_dynamic) > 0

    @property
    def n_features(self) -> int:
        for g in (self.svr_static, self.svr_dynamic, self.svm_static, self.svm_dynamic):
            if len(g):
                return g.means.shape[0]
        return 0


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a, dtype=np.float64)
    a.setflags(write=False)
    return a


class _BinReader:
    """Little-endian cursor over one binary file; every problem is a ModelFormatError."""

    def __init__(self, path: Path, data: bytes):
        self.path, self.data, self.pos = path, data, 0

    def take(self, n: int, what: str) -> bytes:
        if self.pos + n > len(self.data):
            raise ModelFormatError(self.path, what, f"end of file at byte {len(self.data)} (file truncated)")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def int32(self, what: str) -> int:
        return struct.unpack("<i", self.take(4, what))[0]

    def float64(self, what: str) -> float:
        value = struct.unpack("<d", self.take(8, what))[0]
        if not np.isfinite(value):
            raise ModelFormatError(self.path, f"a finite {what}", repr(value))
        return value

    def mat(self, what: str) -> np.ndarray:
        """``ReadMatBin`` restricted to the float64 matrices these files hold."""
        rows = self.int32(f"the row count of the {what}")
        cols = self.int32(f"the column count of the {what}")
        code = self.int32(f"the OpenCV type of the {what}")
        if code != _CV_64F:
            raise ModelFormatError(self.path, f"OpenCV type 6 (float64) for the {what}", str(code))
        if rows <= 0 or cols <= 0 or rows * cols > _MAX_VALUES:
            raise ModelFormatError(self.path, f"a plausible size for the {what}", f"{rows}x{cols}")
        raw = self.take(8 * rows * cols, f"{rows * cols} float64 values of the {rows}x{cols} {what}")
        values = np.frombuffer(raw, dtype="<f8").reshape(rows, cols)
        if not np.all(np.isfinite(values)):
            raise ModelFormatError(self.path, f"finite values in the {what}", "nan or inf")
        return values


def read_au_predictor(path: str | Path, au_name: str) -> LinearAUModel:
    """Read one ``.dat`` file (``FaceAnalyser::ReadRegressor`` and the type's ``Read``)."""
    path = Path(path)
    if not path.is_file():
        raise ModelFormatError(path, f"an OpenFace AU predictor file for {au_name}", "no such file")
    r = _BinReader(path, path.read_bytes())
    code = r.int32("the regressor type")
    if code not in KINDS:
        valid = ", ".join(f"{k} ({v})" for k, v in KINDS.items())
        raise ModelFormatError(path, f"a regressor type of {valid}", str(code))
    kind = KINDS[code]
    cutoff = -1.0
    if code == SVR_DYNAMIC:
        cutoff = r.float64("cutoff")
        if cutoff != -1.0 and not 0.0 <= cutoff < 1.0:
            raise ModelFormatError(path, "a cutoff of -1 or in [0, 1)", repr(cutoff))
    means = r.mat("feature means")
    if means.shape[0] != 1:
        raise ModelFormatError(path, "a 1 x D row of feature means", f"{means.shape[0]}x{means.shape[1]}")
    sv = r.mat("support vector")
    if sv.shape != (means.shape[1], 1):
        raise ModelFormatError(
            path, f"a {means.shape[1]} x 1 support vector (one weight per mean)", f"{sv.shape[0]}x{sv.shape[1]}"
        )
    bias = r.float64("bias")
    pos_class = neg_class = float("nan")
    if code in (SVM_STATIC, SVM_DYNAMIC):
        pos_class = r.float64("positive class value")
        neg_class = r.float64("negative class value")
    if r.pos != len(r.data):
        raise ModelFormatError(path, f"end of file after byte {r.pos}", f"{len(r.data) - r.pos} more bytes")
    return LinearAUModel(kind, au_name, _readonly(means[0]), _readonly(sv[:, 0]), bias, cutoff,
                         pos_class, neg_class, path)


def _text_lines(path: Path, what: str) -> list[str]:
    if not path.is_file():
        raise ModelFormatError(path, what, "no such file")
    try:
        text = path.read_bytes().decode("ascii")
    except UnicodeDecodeError:
        raise ModelFormatError(path, f"{what} in ASCII", "non-ASCII bytes") from None
    return text.split("\n")


def _relative(root: Path, list_path: Path, location: str) -> Path:
    target = root / location
    if Path(location).is_absolute() or ".." in Path(location).parts:
        raise ModelFormatError(list_path, "paths relative to the file's folder", repr(location))
    return target


def read_au_model_list(path: str | Path) -> list[tuple[Path, str]]:
    """Read a predictor list (``FaceAnalyser::ReadAU``): ``[(dat_path, au_name), ...]`` in file order."""
    path = Path(path)
    entries = []
    for number, line in enumerate(_text_lines(path, "an AU predictor list (lines `path.dat AUxx`)"), start=1):
        line = line.rstrip(" \t\r")
        if not line.strip():
            continue  # OpenFace tries to open an empty path there and reads nothing
        location, _, names = line.strip().partition(" ")
        names = [n.strip() for n in names.split(",") if n.strip()]
        if len(names) != 1 or not _AU_NAME.match(names[0]):
            raise ModelFormatError(path, f"`path.dat AUxx` (one AU name) on line {number}", repr(line[:80]))
        entries.append((_relative(path.parent, path, location), names[0]))
    if not entries:
        raise ModelFormatError(path, "at least one `path.dat AUxx` line", "no entries")
    return entries


def read_main_au_file(path: str | Path) -> dict[str, Path]:
    """Read a main AU model file (``FaceAnalyser::Read``): ``{"AUPredictor": ..., "PDM": ..., "Triangulation": ...}``."""
    path = Path(path)
    modules: dict[str, Path] = {}
    for number, line in enumerate(_text_lines(path, "an AU model file (lines `MODULE path`)"), start=1):
        words = line.split()
        if not words:
            continue
        if len(words) != 2 or words[0] not in ("AUPredictor", "PDM", "Triangulation"):
            raise ModelFormatError(
                path, f"`AUPredictor|PDM|Triangulation path` on line {number}", repr(line[:80].rstrip())
            )
        modules[words[0]] = _relative(path.parent, path, words[1])
    missing = [m for m in ("AUPredictor", "PDM", "Triangulation") if m not in modules]
    if missing:
        raise ModelFormatError(path, f"lines for {', '.join(missing)}", "none")
    return modules


def _group(kind: str, models: list[LinearAUModel]) -> AUModelGroup:
    if not models:
        empty = np.zeros(0)
        return AUModelGroup(kind, (), _readonly(empty), _readonly(np.zeros((0, 0))), _readonly(empty),
                            _readonly(empty), _readonly(empty), _readonly(empty))
    first = models[0]
    for m in models[1:]:
        if m.means.shape != first.means.shape:
            raise ModelFormatError(m.path, f"{first.means.shape[0]} features like {first.path.name}",
                                   str(m.means.shape[0]))
    return AUModelGroup(
        kind,
        tuple(m.au_name for m in models),
        first.means,  # OpenFace keeps the first file's means for the whole type
        _readonly(np.stack([m.support_vector for m in models], axis=1)),
        _readonly(np.array([m.bias for m in models])),
        _readonly(np.array([m.cutoff for m in models])),
        _readonly(np.array([m.pos_class for m in models])),
        _readonly(np.array([m.neg_class for m in models])),
    )


def read_au_models(path: str | Path) -> AUModels:
    """Read a main AU model file and every predictor it lists (``FaceAnalyser::Read``).

    ``path`` is e.g. ``<models>/AU_predictors/main_dynamic_svms.txt``.
    """
    path = Path(path)
    modules = read_main_au_file(path)
    by_kind: dict[str, list[LinearAUModel]] = {k: [] for k in KINDS.values()}
    for dat, name in read_au_model_list(modules["AUPredictor"]):
        model = read_au_predictor(dat, name)
        by_kind[model.kind].append(model)
    models = AUModels(
        *(_group(kind, by_kind[kind]) for kind in ("svr_static", "svr_dynamic", "svm_static", "svm_dynamic")),
        pdm_path=modules["PDM"], triangulation_path=modules["Triangulation"], path=path,
    )
    for names, what in ((models.intensity_names, "intensity"), (models.occurrence_names, "occurrence")):
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ModelFormatError(modules["AUPredictor"], f"each {what} AU listed once", f"{', '.join(dup)} twice")
    sizes = {len(g.means) for g in (models.svr_static, models.svr_dynamic, models.svm_static, models.svm_dynamic) if len(g)}
    if len(sizes) > 1:
        raise ModelFormatError(modules["AUPredictor"], "the same feature length in every predictor", str(sorted(sizes)))
    return models
