"""Reader of OpenFace's CLNF model lists (``main_clnf_general.txt``, ``clnf_general.txt``).

Reproduces the file handling of ``LandmarkDetectorModel.cpp::CLNF::Read`` (the main
list) and ``CLNF::Read_CLNF`` (one model's modules). Paths in a list are relative to
the list's folder. The main list names:

* ``LandmarkDetector <clnf list>``: the main model (PDM, triangulations, patch experts);
* ``LandmarkDetector_part <main list of the part> <name> <main index> <part index> ...``:
  a hierarchical part model and how its points map onto the main model's;
* ``DetectionValidator <file>``: the landmark detection validator.

A model list (``clnf_general.txt``) names ``PDM``, ``Triangulations``, ``PatchesCCNF``
(one per scale, in order), ``PatchesIntensity`` (SVR), ``PatchesCEN`` and
``EarlyTermination``. Only CCNF experts are supported here (the CLNF general model).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from aubench.pipeline.errors import ModelFormatError


@dataclass(frozen=True)
class CLNFModelFiles:
    """The modules of one CLNF model (``CLNF::Read_CLNF``), as absolute paths."""

    path: Path
    pdm: Path
    ccnf_patches: tuple[Path, ...]
    triangulations: Path | None = None
    early_termination: Path | None = None


@dataclass(frozen=True)
class PartModelSpec:
    """A hierarchical part model of the main list (``LandmarkDetector_part``)."""

    name: str
    main_list: Path
    files: CLNFModelFiles
    mapping: tuple[tuple[int, int], ...]  # (index in main model, index in part model)


@dataclass(frozen=True)
class MainModelSpec:
    """Everything a ``main_clnf_*.txt`` list names."""

    path: Path
    main: CLNFModelFiles
    parts: tuple[PartModelSpec, ...] = field(default_factory=tuple)
    validator: Path | None = None


def _lines(path: Path) -> list[list[str]]:
    if not path.is_file():
        raise ModelFormatError(path, "a CLNF model list", "no such file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ModelFormatError(path, "a text model list", "binary data") from None
    return [ln.split() for ln in text.splitlines() if ln.strip()]


def read_clnf_list(path: str | Path) -> CLNFModelFiles:
    """Read one model's list (``clnf_general.txt``): PDM, patch experts, triangulations."""
    path = Path(path)
    root = path.parent
    pdm = tri = early = None
    ccnf: list[Path] = []
    for tokens in _lines(path):
        module, rest = tokens[0], " ".join(tokens[1:])
        location = root / rest
        if module == "PDM":
            pdm = location
        elif module == "Triangulations":
            tri = location
        elif module == "PatchesCCNF":
            ccnf.append(location)
        elif module == "EarlyTermination":
            early = location
        elif module in ("PatchesIntensity", "PatchesCEN"):
            raise ModelFormatError(path, "CCNF patch experts (PatchesCCNF)", f"a {module} module",
                                   "use the CLNF model list model/main_clnf_general.txt")
    if pdm is None:
        raise ModelFormatError(path, "a 'PDM <file>' line", "none")
    if not ccnf:
        raise ModelFormatError(path, "at least one 'PatchesCCNF <file>' line", "none")
    return CLNFModelFiles(path, pdm, tuple(ccnf), tri, early)


def read_main_model(path: str | Path) -> MainModelSpec:
    """Read ``main_clnf_general.txt``: main model, part models with mappings, validator."""
    path = Path(path)
    root = path.parent
    main = None
    parts: list[PartModelSpec] = []
    validator = None
    for lineno, tokens in enumerate(_lines(path), 1):
        module = tokens[0]
        if module == "LandmarkDetector":
            if len(tokens) < 2:
                raise ModelFormatError(path, f"line {lineno}: 'LandmarkDetector <list>'", " ".join(tokens))
            main = read_clnf_list(root / tokens[1])
        elif module == "LandmarkDetector_part":
            if len(tokens) < 3 or (len(tokens) - 3) % 2:
                raise ModelFormatError(path, f"line {lineno}: 'LandmarkDetector_part <list> <name> (<main> <part>)*'",
                                       " ".join(tokens[:4]) + " ...")
            part_list = root / tokens[1]
            try:
                ints = [int(t) for t in tokens[3:]]
            except ValueError:
                raise ModelFormatError(path, f"line {lineno}: integer index pairs", " ".join(tokens[3:6])) from None
            mapping = tuple(zip(ints[0::2], ints[1::2]))
            # a part's main list holds just its own LandmarkDetector line
            part_main = read_main_model(part_list)
            parts.append(PartModelSpec(tokens[2], part_list, part_main.main, mapping))
        elif module == "DetectionValidator":
            validator = root / tokens[1]
    if main is None:
        raise ModelFormatError(path, "a 'LandmarkDetector <list>' line", "none")
    return MainModelSpec(path, main, tuple(parts), validator)
