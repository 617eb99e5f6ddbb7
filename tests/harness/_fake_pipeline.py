"""A stand-in for ``aubench.pipeline.extract.run`` with its interface, for testing the harness's mechanics.

It replays the C++ reference CSV of the clip (so parity is exact unless a test
perturbs it), times made-up stages through the timer it is given, counts
iterations, and calls the ``mean_shift`` kernel the config selects, so two
configs with different variants really differ in speed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from aubench.harness import parity
from aubench.pipeline import registry
from aubench.pipeline.timing import NULL_TIMER


def run(input_path, out_dir, config, timer=NULL_TIMER, frames=None, landmarks_from=None, progress=True):
    ref = Path(landmarks_from) if landmarks_from else parity.find_reference(input_path)
    lines = ref.read_text().splitlines()
    kernels = registry.resolve(config.variant_selection)
    case = next(iter(registry.kernels()["mean_shift"].cases(np.random.default_rng(0), None)))
    out = Path(out_dir) / f"{Path(input_path).stem}.csv"
    rows = lines[1:1 + frames] if frames else lines[1:]
    with out.open("w") as fh:
        fh.write(lines[0] + "\n")
        for i, row in enumerate(rows):
            with timer("landmarks"):
                for scale in range(2):
                    with timer(f"landmarks.scale{scale}"):
                        with timer(f"landmarks.scale{scale}.mean_shift"):
                            kernels.mean_shift(*case.args)
                timer.count("landmarks.iterations", 5 if i % 3 else 3)
            with timer("au"):
                with timer("au.hog"):
                    np.sort(np.random.default_rng(i).random(2000))
            fh.write(row + "\n")
            timer.next_frame()
    return out


def install(monkeypatch) -> None:
    """Make the harness run this stand-in instead of ``aubench.pipeline.extract.run``."""
    from aubench.harness import workload

    monkeypatch.setattr(workload, "entry_point", lambda: run)
