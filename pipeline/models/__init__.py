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
import sys
from pathlib import Path

import platformdirs

from aubench.pipeline.errors import AubenchError

ENV_VAR = "AUBENCH_MODELS"
_APP = "aubench"
_STATE_NAME = "models_dir"
_DOWNLOAD_NAME = "openface-2.2.0"


def state_file() -> Path:
    """Where ``aubench models use DIR`` remembers the folder: the platform's user config folder.

    ``$XDG_CONFIG_HOME/aubench/models_dir`` or ``~/.config/aubench/models_dir`` on Linux,
    ``~/Library/Application Support/aubench/models_dir`` on macOS, ``%LOCALAPPDATA%\\aubench\\models_dir``
    on Windows (:func:`platformdirs.user_config_path`).
    """
    return platformdirs.user_config_path(_APP, appauthor=False) / _STATE_NAME


def default_download_dir() -> Path:
    """Where ``aubench models fetch`` puts the files: the platform's user cache folder.

    ``$XDG_CACHE_HOME/aubench/openface-2.2.0`` or ``~/.cache/aubench/openface-2.2.0`` on Linux,
    ``~/Library/Caches/aubench/openface-2.2.0`` on macOS, ``%LOCALAPPDATA%\\aubench\\Cache\\openface-2.2.0``
    on Windows (:func:`platformdirs.user_cache_path`).
    """
    return platformdirs.user_cache_path(_APP, appauthor=False) / _DOWNLOAD_NAME


def _legacy_locations() -> list[tuple[Path, str]]:
    """Model folders remembered or downloaded where aubench put them on macOS and Windows before platformdirs.

    Before platformdirs every platform used the Linux layout (``~/.config/aubench``,
    ``~/.cache/aubench``); on Linux that is still where they are, elsewhere they are looked
    for last, so an earlier ``models use`` or ``models fetch`` keeps working.
    """
    if sys.platform.startswith("linux"):
        return []
    home = Path.home()
    out = []
    old_state = home / ".config" / _APP / _STATE_NAME
    if old_state.is_file() and old_state != state_file():
        out.append((Path(old_state.read_text().strip()), f"`aubench models use` ({old_state})"))
    old_download = home / ".cache" / _APP / _DOWNLOAD_NAME
    if old_download != default_download_dir():
        out.append((old_download, "the download folder aubench used before platformdirs"))
    return out


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
        candidates += _legacy_locations()
    for path, _origin in candidates:
        if (path / "model").is_dir() and (path / "AU_predictors").is_dir():
            return path
    path, origin = candidates[0]
    raise AubenchError(
        f"{path}: no OpenFace models there (from {origin}; expected model/ and AU_predictors/); "
        "run `aubench models fetch`, or `aubench models use DIR` / set AUBENCH_MODELS to an OpenFace 2.2 folder"
    )
