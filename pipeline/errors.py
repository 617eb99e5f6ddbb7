"""Errors that reach the user as one line (the CLI prints ``str(err)``, never a traceback).

Every message says what was expected, what was received and how to fix it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path


class AubenchError(Exception):
    """Base class of every error the CLI reports as a single line."""


class ConfigError(AubenchError):
    """A configuration file, key or value is wrong."""


class ModelFormatError(AubenchError):
    """A model file is missing, truncated or not in the format OpenFace writes."""

    def __init__(self, path: str | Path, expected: str, got: str = "", fix: str = ""):
        self.path = Path(path)
        fix = fix or "re-fetch the models with `aubench models fetch` or point AUBENCH_MODELS at an intact OpenFace 2.2 install"
        got_txt = f", got {got}" if got else ""
        super().__init__(f"{self.path}: expected {expected}{got_txt}; {fix}")


class InputError(AubenchError):
    """An input video, image or CSV cannot be used."""


class VariantUnavailable(AubenchError):
    """A registered variant cannot run here (an optional dependency is missing)."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ' (did you mean "x"?)' for the closest choice, or '' when nothing is close."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def unknown_name(kind: str, name: str, choices: Iterable[str], where: str = "") -> str:
    """Message for an unknown name: what was given, the closest match and the valid choices."""
    choices = sorted(choices)
    where_txt = f"{where}: " if where else ""
    return (
        f'{where_txt}unknown {kind} "{name}"{did_you_mean(name, choices)}; '
        f"valid: {', '.join(choices) if choices else '(none)'}"
    )
