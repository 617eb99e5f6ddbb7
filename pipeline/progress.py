"""Progress on stderr for the long loops of a run (frames of a video, videos of a batch).

One place sets up the tqdm bars, so ``aubench run``, the batch and the Python API show the
same thing: frames done, rate and time left on a terminal, a line every few seconds in a
log file, nothing when quiet.
"""

from __future__ import annotations

from typing import TextIO

# How often a bar is redrawn: often on a terminal, rarely in a log file (each redraw is a new line there).
TTY_INTERVAL_S = 0.5
LOG_INTERVAL_S = 5.0


def progress_bar(total: int | None, stream: TextIO | None, desc: str, unit: str = "frame"):
    """A tqdm bar on ``stream``; ``stream=None`` gives a disabled bar (writes nothing).

    Parameters
    ----------
    total : the number of items, or None when unknown (a rate and a count are shown).
    stream : where to draw (stderr), or None for quiet.
    desc : the bar's label, e.g. ``"aubench run default.wmv"``.
    unit : what is counted (``"frame"``, ``"video"``).

    Notes
    -----
    ``leave=None``: a bar of its own stays on screen when done; a bar nested under another
    (a video's frames under a batch's videos) is cleared.
    """
    from tqdm import tqdm

    tty = bool(stream is not None and getattr(stream, "isatty", lambda: False)())
    return tqdm(total=total or None, file=stream, disable=stream is None, desc=desc, unit=unit, leave=None,
                dynamic_ncols=tty, mininterval=TTY_INTERVAL_S if tty else LOG_INTERVAL_S)


def progress_writer(stream: TextIO | None):
    """A function writing one line to ``stream`` above any bar drawn there (``tqdm.write``), or None when quiet."""
    if stream is None:
        return None
    from tqdm import tqdm

    def write(line: str) -> None:
        tqdm.write(line, file=stream)

    return write
