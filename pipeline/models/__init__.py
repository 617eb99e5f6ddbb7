"""OpenFace 2.2 model files: where they are, and readers for each format.

:func:`locate` finds the model folder (an OpenFace install's ``model/`` and
``AU_predictors/`` side by side). Readers live beside it, one module per
format; each returns typed, immutable-by-convention objects and raises
:class:`aubench.pipeline.errors.ModelFormatError` naming the file on bad input.
:mod:`aubench.pipeline.models.store` holds the sha256 manifest of the files aubench reads,
their verification and the downloader behind ``aubench models fetch|use|verify``.
"""

from __future__ import annotations

import os
from pathlib import Path

from aubench.pipeline.errors import AubenchError

ENV_VAR = "AUBENCH_MODELS"


def state_file() -> Path:
    """Where ``aubench models use DIR`` remembers the folder."""
    base = Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config"))
    return base / "aubench" / "models_dir"


def default_download_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "aubench" / "openface-2.2.0"


def locate(explicit: str | os.PathLike | None = None) -> Path:
    """The model folder: ``explicit`` > ``$AUBENCH_MODELS`` > ``aubench models use`` > download dir."""
    candidates = []
    if explicit:
        candidates.append((Path(explicit), "--models"))
    elif os.environ.get(ENV_VAR):
        candidates.append((Path(os.environ[ENV_VAR]), ENV_VAR))
    else:
        sf = state_file()
        if sf.is_file():
            candidates.append((Path(sf.read_text().strip()), f"`aubench models use` ({sf})"))
        candidates.append((default_download_dir(), "the download folder"))
    for path, origin in candidates:
        if (path / "model").is_dir() and (path / "AU_predictors").is_dir():
            return path
    path, origin = candidates[0]
    raise AubenchError(
        f"{path}: no OpenFace models there (from {origin}; expected model/ and AU_predictors/); "
        "run `aubench models fetch`, or `aubench models use DIR` / set AUBENCH_MODELS to an OpenFace 2.2 folder"
    )
