"""What one run of :func:`aubench.pipeline.extract.run` wrote, and the lines ``aubench run`` prints."""

from __future__ import annotations

import resource
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class RunResult:
    """What a run wrote and which stages ran."""

    csv: Path
    frames: int
    wall_s: float
    hog: Path | None = None
    aligned_dir: Path | None = None
    tracked: Path | None = None  # [output] tracked: <stem>.avi (video, image folder) or <stem>.jpg (one image)
    stages_ran: list[str] = field(default_factory=list)
    postprocessed: bool = False
    postprocess_ms: float = 0.0
    peak_rss_mb: float = 0.0
    notes: list[str] = field(default_factory=list)
    jit_s: float = 0.0  # Numba compiling / loading cached code during the run (aubench.pipeline.timing.JitMeter)
    # "OUT/x.csv: the video ended after N of M frames ..." when the input was truncated or damaged (aubench run: exit 3)
    input_notice: str | None = None

    def summary(self) -> str:
        """Lines for the user: what was written, the JIT warm-up apart, the stages run and any notes."""
        fps = self.frames / self.wall_s if self.wall_s > 0 else 0.0
        rss = f", peak RSS {self.peak_rss_mb:.0f} MiB" if self.peak_rss_mb else ""
        lines = [f"wrote {self.csv} ({self.frames} frames in {self.wall_s:.1f} s, {fps:.1f} fps{rss})"]
        if self.jit_s > 0.0005 and self.wall_s > self.jit_s:
            lines.append(f"JIT warm-up (Numba compiling or loading its cache, reported apart): {self.jit_s:.2f} s; "
                         f"{self.frames / (self.wall_s - self.jit_s):.1f} fps without it")
        for path in (self.hog, self.aligned_dir, self.tracked):
            if path is not None:
                lines.append(f"wrote {path}")
        lines.append("stages run: " + ", ".join(self.stages_ran))
        lines += self.notes
        return "\n".join(lines)


def peak_rss_mb() -> float:
    """This process's peak resident set size in MiB (``ru_maxrss`` is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
