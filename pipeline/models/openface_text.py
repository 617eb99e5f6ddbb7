"""OpenFace's text matrix format (``LandmarkDetectorUtils.cpp::ReadMat``, ``SkipComments``).

Used by the PDMs, triangulations and several other model files. A matrix is three
integers ``rows cols type`` followed by ``rows * cols`` numbers in row-major order,
all separated by whitespace. ``type`` is an OpenCV depth code: 6 = ``CV_64F``,
5 = ``CV_32F``, 4 = ``CV_32S``, 0 = ``CV_8U``. Between matrices, whole lines that
start with ``#``, a space, a newline or a carriage return are skipped
(``SkipComments`` looks only at the first character of each line).

:class:`TextMatReader` walks one file with the same stream semantics: ``read_mat``
reads tokens wherever they are (like ``operator>>``), ``skip_comments`` drops whole
lines from the current position. Every problem raises
:class:`aubench.pipeline.errors.ModelFormatError` naming the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from aubench.pipeline.errors import ModelFormatError

# OpenCV depth codes ReadMat accepts -> NumPy dtype
CV_TYPES: dict[int, np.dtype] = {
    6: np.dtype(np.float64),
    5: np.dtype(np.float32),
    4: np.dtype(np.int32),
    0: np.dtype(np.uint8),
}

# Guard against absurd headers in damaged files (the largest OpenFace text matrix is ~10^5 values).
_MAX_VALUES = 50_000_000

_WHITESPACE = " \t\n\r\v\f"


class TextMatReader:
    """Sequential reader of one OpenFace text model file.

    Parameters
    ----------
    path : path-like
        The file; read fully as ASCII text.
    text : str, optional
        The file's contents when already read (``path`` is then only used in messages).
    """

    def __init__(self, path: str | Path, text: str | None = None):
        self.path = Path(path)
        if text is None:
            if not self.path.is_file():
                raise ModelFormatError(self.path, "an OpenFace text model file", "no such file")
            try:
                text = self.path.read_bytes().decode("ascii")
            except UnicodeDecodeError:
                raise ModelFormatError(self.path, "an ASCII OpenFace text model file", "non-ASCII bytes") from None
        self.text = text
        self.pos = 0

    # -- stream primitives -------------------------------------------------
    def skip_comments(self) -> None:
        """``SkipComments``: drop whole lines starting with '#', ' ', '\\n' or '\\r'."""
        text, n = self.text, len(self.text)
        while self.pos < n and text[self.pos] in "# \n\r":
            end = text.find("\n", self.pos)
            self.pos = n if end < 0 else end + 1

    def _token(self, what: str) -> str:
        text, n = self.text, len(self.text)
        i = self.pos
        while i < n and text[i] in _WHITESPACE:
            i += 1
        if i >= n:
            raise ModelFormatError(self.path, what, "end of file")
        j = i
        while j < n and text[j] not in _WHITESPACE:
            j += 1
        self.pos = j
        return text[i:j]

    def read_int(self, what: str = "an integer") -> int:
        tok = self._token(what)
        try:
            return int(tok)
        except ValueError:
            raise ModelFormatError(self.path, what, repr(tok[:40])) from None

    def read_float(self, what: str = "a number") -> float:
        tok = self._token(what)
        try:
            value = float(tok)
        except ValueError:
            raise ModelFormatError(self.path, what, repr(tok[:40])) from None
        return value

    def read_word(self, what: str = "a word") -> str:
        return self._token(what)

    # -- matrices ----------------------------------------------------------
    def read_mat(self, name: str = "matrix") -> np.ndarray:
        """``ReadMat``: one matrix as a 2-D array of the dtype its type code names."""
        rows = self.read_int(f"the row count of the {name}")
        cols = self.read_int(f"the column count of the {name}")
        code = self.read_int(f"the OpenCV type code of the {name}")
        if code not in CV_TYPES:
            raise ModelFormatError(
                self.path, f"an OpenCV type code for the {name} (one of {sorted(CV_TYPES)})", str(code)
            )
        if rows < 0 or cols < 0 or rows * cols > _MAX_VALUES:
            raise ModelFormatError(self.path, f"a plausible size for the {name}", f"{rows}x{cols}")
        dtype = CV_TYPES[code]
        count = rows * cols
        if count > (len(self.text) - self.pos + 1) // 2:  # each value needs a digit and a separator
            raise ModelFormatError(self.path, f"{count} values for the {rows}x{cols} {name}", "end of file")
        values = np.empty(count, dtype=np.float64)
        for k in range(count):
            values[k] = self.read_float(f"{count} values for the {rows}x{cols} {name}")
        if dtype.kind in "iu":
            info = np.iinfo(dtype)
            if not np.all(np.isfinite(values)) or np.any(values != np.round(values)) or np.any(
                (values < info.min) | (values > info.max)
            ):
                raise ModelFormatError(self.path, f"integers for the {dtype} {name}", "non-integer or out-of-range values")
        elif not np.all(np.isfinite(values)):
            raise ModelFormatError(self.path, f"finite numbers for the {name}", "nan or inf")
        return values.astype(dtype).reshape(rows, cols)

    def at_end(self) -> bool:
        """True when only whitespace is left."""
        return self.text[self.pos:].strip() == ""


def read_mats(path: str | Path, count: int, names: tuple[str, ...] | None = None) -> list[np.ndarray]:
    """Read ``count`` matrices, each preceded by optional comment lines."""
    reader = TextMatReader(path)
    out = []
    for k in range(count):
        reader.skip_comments()
        out.append(reader.read_mat(names[k] if names else f"matrix {k + 1}"))
    return out

