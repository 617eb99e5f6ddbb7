"""Output files written one whole record at a time (CSV rows, ``.hog`` records, detections).

A record is written with as many ``write`` calls as the file system needs; when one fails
(a full disk, a quota, a file system gone read-only) the file is cut back to the end of the
last whole record, so what stays on disk is always valid, and the ``OSError`` becomes one
:class:`aubench.pipeline.errors.OutputError` naming the file and the fix. A file that got no
record beyond its header is removed instead: it would look like a result of zero frames.
"""

from __future__ import annotations

import os
from pathlib import Path

from aubench.pipeline.errors import OutputError, output_error


class RecordFile:
    """A binary file opened for writing (created with the user's umask) that only ever holds whole records.

    Parameters
    ----------
    path : the file (its folder must exist).
    header : bytes written on opening (a CSV's header line); not counted as a record.
    what : what a record is, for the messages ("frame", "row").
    """

    def __init__(self, path: str | Path, header: bytes = b"", what: str = "frame"):
        self.path = Path(path)
        self.what = what
        self.records = 0
        try:
            self._fh = open(self.path, "wb", buffering=0)  # unbuffered: a record is on disk when write returns
        except OSError as exc:
            raise output_error(exc, self.path) from None
        self._size = 0
        if header:
            self.write(header, count=False)

    def write(self, data: bytes, count: bool = True) -> None:
        """Append one whole record; on an error cut the file back to the last whole one and raise OutputError."""
        view = memoryview(data)
        try:
            while view:
                n = self._fh.write(view)
                view = view[n:]
        except OSError as exc:
            raise self._failed(exc) from None
        self._size += len(data)
        if count:
            self.records += 1

    def _failed(self, exc: OSError) -> OutputError:
        try:
            if self.records == 0:
                self._fh.close()
                self.path.unlink()
                kept = f"{self.path.name} had no complete {self.what} and was removed"
            else:
                os.ftruncate(self._fh.fileno(), self._size)
                self._fh.close()
                kept = f"{self.path.name} was truncated to its last complete {self.what}, {self.records} kept"
        except OSError:
            kept = f"{self.path.name} may end in a partial {self.what}: cutting it back failed too"
        return output_error(exc, self.path, frames=self.records, kept=kept)

    def remove_if_empty(self) -> bool:
        """Close and delete the file when it holds no record (header only); True when removed."""
        self.close()
        if self.records == 0 and self.path.exists():
            self.path.unlink()
            return True
        return False

    def close(self) -> None:
        if not self._fh.closed:
            try:
                self._fh.close()
            except OSError as exc:  # nothing buffered, but a network file system may report a late error here
                raise output_error(exc, self.path, frames=self.records) from None

    @property
    def closed(self) -> bool:
        return self._fh.closed
