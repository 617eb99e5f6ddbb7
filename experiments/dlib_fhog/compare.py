"""Every ``fhog`` variant against dlib's compiled ``extract_fhog_features`` on generated images.

``python -m experiments.dlib_fhog.compare --dlib DLIB_SRC [--cases N] [--seed S]``

``DLIB_SRC`` is an unpacked dlib 19.24 source tree (``pip download 'dlib==19.24.*' --no-deps
--no-binary :all:`` and untar it); ``driver.cpp`` beside this file is compiled against its
headers with the reference build's flags (g++ ``-O3 -DNDEBUG -std=c++17``, no ``-march``: SSE2,
as the C++ OpenFace reference). Cases: the three traced faces plus random colour and grey
images of 17-160 px with cell sizes 2-16, uniform noise, few grey levels (colour-channel
ties) and smooth noise. Prints, per variant, the cases that are not bit-identical and the
max abs difference.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from aubench.pipeline import registry

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("AUBENCH_SHARED", Path(__file__).resolve().parents[3] / "shared"))
TRACE = SHARED / "reference" / "trace" / "fhog"


def make_cases(n: int, seed: int) -> list[tuple[np.ndarray, int]]:
    rng = np.random.default_rng(seed)
    cases = [(np.load(p), 8) for p in sorted(TRACE.glob("frame*_input.npy"))]
    for _ in range(n):
        h, w = (int(v) for v in rng.integers(17, 160, 2))
        shape = (h, w, 3) if rng.random() < 0.75 else (h, w)
        cell = int(rng.choice([8, 8, 8, 2, 3, 4, 5, 6, 7, 9, 10, 16]))
        kind = rng.integers(0, 3)
        if kind == 0:
            img = rng.integers(0, 256, shape, dtype=np.uint8)
        elif kind == 1:
            img = (rng.integers(0, 4, shape) * 60).astype(np.uint8)
        else:
            img = np.clip(rng.normal(128, 40, shape), 0, 255).astype(np.uint8)
        cases.append((img, cell))
    return cases


def run_dlib(dlib_src: Path, cases, work: Path) -> list[np.ndarray]:
    exe = work / "dlib_fhog"
    subprocess.run(["g++", "-O3", "-DNDEBUG", "-std=c++17", "-DDLIB_NO_GUI_SUPPORT", f"-I{dlib_src}",
                    str(HERE / "driver.cpp"), "-o", str(exe)], check=True)
    with open(work / "in.bin", "wb") as f:
        for img, cell in cases:
            np.array([img.shape[0], img.shape[1], 3 if img.ndim == 3 else 1, cell], np.int32).tofile(f)
            np.ascontiguousarray(img).tofile(f)
    subprocess.run([str(exe), str(work / "in.bin"), str(work / "out.bin")], check=True)
    raw, pos, out = (work / "out.bin").read_bytes(), 0, []
    for _ in cases:
        rows, cols = np.frombuffer(raw[pos:pos + 8], np.int32)
        pos += 8
        size = int(rows) * int(cols) * 31
        out.append(np.frombuffer(raw[pos:pos + 4 * size], np.float32).reshape(rows, cols, 31))
        pos += 4 * size
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.dlib_fhog.compare", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dlib", type=Path, required=True, help="unpacked dlib 19.24 source tree")
    parser.add_argument("--cases", type=int, default=150)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if not (args.dlib / "dlib" / "image_transforms" / "fhog.h").is_file():
        print(f"error: {args.dlib}: no dlib/image_transforms/fhog.h; give the unpacked dlib source tree", file=sys.stderr)
        return 2
    cases = make_cases(args.cases, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        expected = run_dlib(args.dlib, cases, Path(tmp))
    for name, variant in registry.kernels()["fhog"].variants.items():
        if variant.unavailable_reason() is not None:
            continue
        fn = variant.load()
        differing, worst = 0, 0.0
        for (img, cell), want in zip(cases, expected):
            got = fn(img, cell)
            if want.size == 0:
                differing += got.size != 0
                continue
            if got.shape != want.shape or not np.array_equal(got, want):
                differing += 1
                worst = max(worst, float(np.abs(got - want).max()) if got.shape == want.shape else float("inf"))
        print(f"fhog={name:14s} {len(cases)} cases, {differing} not bit-identical to dlib, max abs diff {worst:.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
