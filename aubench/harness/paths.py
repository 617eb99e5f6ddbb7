"""Where the harness finds things outside the package: the checkout and the shared data folder.

The shared folder holds what is too large or not ours to commit: the OpenFace models
(``openface/``), the sample media (``media/``) and C++ OpenFace's outputs the parity
checks compare with (``reference/``). Every harness module, experiment script, report
and test finds it through :func:`shared_dir`.
"""

from __future__ import annotations

import os
from pathlib import Path

SHARED_ENV = "AUBENCH_SHARED"
# The checkout this package runs from (git describe, the gate's working tree). For an
# installed wheel this is site-packages' parent, where no git repository and no shared
# folder are found, which the callers report.
REPO = Path(__file__).resolve().parents[2]


def shared_dir() -> Path:
    """``$AUBENCH_SHARED``, else the ``shared`` folder beside the checkout (``../shared``)."""
    env = os.environ.get(SHARED_ENV, "").strip()
    return Path(env) if env else REPO.parent / "shared"
