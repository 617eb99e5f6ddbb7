"""Image mode (``run_images``) on sample1-6 against C++ FaceLandmarkImg, and its own spread across OpenBLAS kernels.

    python -m experiments.image_spread run OUT [--config fast]      # one run (this process's BLAS kernel)
    python -m experiments.image_spread spread OUT [--families ...]  # one run per OPENBLAS_CORETYPE, compared

``run`` writes ``OUT/sampleN.csv`` (+ ``.hog``, ``_aligned/``, as the reference flags) and prints
the per-image parity table against ``reference/images``. ``spread`` runs ``run`` once per kernel
family (each its own process: OpenBLAS picks its kernels when it loads) into ``OUT/<family>/``
and prints, per quantity, the largest difference between any two families, and each family's
largest deviation from C++ beyond the CSV's rounding: the measurement behind the image-mode
tolerances in ``tests/tolerances.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
FAMILIES = ("auto", "Haswell", "SkylakeX", "Sandybridge", "Zen")
IMAGES = tuple(f"sample{i}" for i in range(1, 7))

# quantity -> (OpenFaceTable accessor, CSV rounding half-step): 1 decimal -> 0.05, 3 -> 0.0005, 6 -> 5e-7
QUANTITIES = {
    "landmarks_px": ("landmarks_2d", 0.05),
    "eye_landmarks_px": ("eye_landmarks_2d", 0.05),
    "landmarks_3d_mm": ("landmarks_3d", 0.05),
    "eye_landmarks_3d_mm": ("eye_landmarks_3d", 0.05),
    "pose_t_mm": (lambda t: t.pose()[:, :3], 0.05),
    "pose_r_rad": (lambda t: t.pose()[:, 3:], 0.0005),
    "gaze": (lambda t: np.concatenate(t.gaze()[:2], axis=1), 5e-7),
    "gaze_angle_rad": (lambda t: t.gaze()[2], 0.0005),
    "params_global": ("params_global", 0.0005),
    "params_local": ("params_local", 0.0005),
    "confidence": (lambda t: t.confidence, 0.0005),
    "au_intensity": (lambda t: np.stack(list(t.au_intensity().values()), axis=1), 0.005),
    "au_occurrence": (lambda t: np.stack(list(t.au_occurrence().values()), axis=1), 0.0),
}


def _get(table, how):
    return np.asarray(getattr(table, how)() if isinstance(how, str) else how(table), dtype=np.float64)


def compare(ours_dir: Path, theirs_dir: Path) -> dict:
    """Per image and quantity: faces in each, largest |ours - theirs| (raw and beyond both files' rounding)."""
    from aubench.pipeline.io.openface_csv import read_openface_csv

    out = {}
    for stem in IMAGES:
        a_path, b_path = ours_dir / f"{stem}.csv", theirs_dir / f"{stem}.csv"
        if not a_path.exists() or not b_path.exists():
            out[stem] = {"faces": [a_path.exists(), b_path.exists()]}
            continue
        a, b = read_openface_csv(a_path), read_openface_csv(b_path)
        row = {"faces": [len(a), len(b)]}
        if len(a) == len(b):
            lm = np.linalg.norm(_get(a, "landmarks_2d") - _get(b, "landmarks_2d"), axis=-1)
            row["landmarks_median_px"] = float(np.median(lm))
            row["landmarks_max_px"] = float(lm.max())
            for name, (how, half) in QUANTITIES.items():
                d = np.abs(_get(a, how) - _get(b, how))
                row[name] = float(d.max())
                row[name + "_beyond_rounding"] = float(np.maximum(d - 2 * half, 0).max())
            occ = _get(a, QUANTITIES["au_occurrence"][0]) == _get(b, QUANTITIES["au_occurrence"][0])
            row["occurrence_agreement"] = float(occ.mean())
        out[stem] = row
    return out


def run(out: Path, config_name: str) -> dict:
    from aubench.harness.paths import shared_dir
    from aubench.harness.results import blas_kernel
    from aubench.pipeline import config as config_module
    from aubench.pipeline.images import run_images

    shared = shared_dir()
    config = config_module.with_overrides(config_module.load_any(config_name),
                                          output={"hogalign": True, "simalign": True})
    result = run_images([shared / "media" / f"{s}.jpg" for s in IMAGES], out, config, progress=False)
    parity = compare(out, shared / "reference" / "images")
    info = {"kernel": blas_kernel(), "wall_s": result.wall_s, "jit_s": result.jit_s, "parity": parity}
    (out / "run.json").write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    return info


def spread(out: Path, families, config_name: str) -> dict:
    from aubench.harness.paths import shared_dir

    kernels = {}
    for fam in families:
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
        env.pop("OPENBLAS_CORETYPE", None)
        if fam != "auto":
            env["OPENBLAS_CORETYPE"] = fam
        subprocess.run([sys.executable, "-m", "experiments.image_spread", "run", str(out / fam), "--config",
                        config_name, "--quiet"], env=env, check=True, cwd=REPO)
        kernels[fam] = json.loads((out / fam / "run.json").read_text())["kernel"]
    # between families: the largest difference of every quantity over every pair
    between: dict[str, float] = {}
    for i, f in enumerate(families):
        for g in families[i + 1:]:
            for row in compare(out / f, out / g).values():
                for k, v in row.items():
                    if isinstance(v, float) and k != "occurrence_agreement":
                        between[k] = max(between.get(k, 0.0), v)
    vs_cpp: dict[str, dict[str, float]] = {}
    for f in families:
        for row in compare(out / f, shared_dir() / "reference" / "images").values():
            for k, v in row.items():
                if isinstance(v, float):
                    worst = min if k == "occurrence_agreement" else max
                    vs_cpp.setdefault(k, {})[f] = worst(vs_cpp.get(k, {}).get(f, v), v)
    return {"kernels": kernels, "between_families": between, "vs_cpp": vs_cpp}


def _table(parity: dict) -> str:
    lines = [f"{'image':<9}{'faces':>8}{'lmk med px':>11}{'lmk max px':>11}{'AU r max':>9}{'occ agree':>10}"]
    for stem, row in parity.items():
        faces = "/".join(str(x) for x in row["faces"])
        if "landmarks_median_px" not in row:
            lines.append(f"{stem:<9}{faces:>8}  (faces differ)")
            continue
        lines.append(f"{stem:<9}{faces:>8}{row['landmarks_median_px']:>11.3f}{row['landmarks_max_px']:>11.3f}"
                     f"{row['au_intensity']:>9.3f}{100 * row['occurrence_agreement']:>9.1f}%")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("what", choices=("run", "spread"))
    ap.add_argument("out", type=Path)
    ap.add_argument("--config", default="fast", help="preset name or TOML (default: fast)")
    ap.add_argument("--families", default=",".join(FAMILIES))
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    if args.what == "run":
        info = run(args.out, args.config)
        if not args.quiet:
            print(f"OpenBLAS {info['kernel']}, {info['wall_s']:.1f} s (JIT {info['jit_s']:.1f} s)")
            print(_table(info["parity"]))
        return 0
    res = spread(args.out, tuple(f for f in args.families.split(",") if f), args.config)
    (args.out / "spread.json").write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    print("kernels: " + ", ".join(f"{f}={k}" for f, k in res["kernels"].items()))
    names = sorted(res["between_families"])
    print(f"{'quantity':<40}{'between fams':>13}" + "".join(f"{f[:10]:>11}" for f in res["kernels"]))
    for n in names:
        print(f"{n:<40}{res['between_families'][n]:>13.3g}"
              + "".join(f"{res['vs_cpp'].get(n, {}).get(f, float('nan')):>11.3g}" for f in res["kernels"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
