"""How far apart can two faithful implementations be? AU parity under float-level noise.

    python -m experiments.noise_floor CLIP [--config fast] [--seeds 8] [--rel 1.6e-6]
                                           [--frames N] [-o OUT_DIR]

The C++ tracker and ours differ in the last float bits of every NU-RLMS update (1.6e-6
relative, median, measured by ``experiments.hessian_probe`` from C++'s own traced inputs),
and the never-converging 5-update loop carries that from frame to frame. This experiment
gives our own pipeline the same kind of difference on purpose: each run multiplies every
NU-RLMS result (global and local parameters) by ``1 + rel * N(0, 1)`` per element, with its
own seed, and is otherwise the chosen config. Then it reports each AU's intensity r

* between every perturbed run and the unperturbed one (what any two implementations that
  differ only in rounding would score against each other), and
* between every run and the C++ reference CSV,

with the median landmark distance beside them (unrounded shapes), which shows whether the
injected noise moves the tracker as far as the real difference from C++ does,

so a parity threshold can be read against the spread it has to live in. Written to
``OUT_DIR/noise_floor.json`` and a plot ``OUT_DIR/noise_floor.png`` (one box per AU).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def perturbed(kernel: Callable, rel: float, seed: int) -> Callable:
    """``kernel`` (a ``nu_rlms`` variant) whose returned parameters carry relative noise ``rel``.

    The noise is drawn per call from ``np.random.default_rng(seed)``, so a run is reproducible;
    the result keeps the kernel's dtypes (float32 parameters, as the C++'s).
    """
    rng = np.random.default_rng(seed)

    def nu_rlms(*args):
        g, loc, updates, converged, dxs, dys = kernel(*args)
        g = (g * (1.0 + rel * rng.standard_normal(g.shape))).astype(g.dtype)
        loc = (loc * (1.0 + rel * rng.standard_normal(loc.shape))).astype(loc.dtype)
        return g, loc, updates, converged, dxs, dys

    return nu_rlms


def run_once(clip: Path, out_dir: Path, config, models_dir: Path, rel: float, seed: int | None,
             frames: int | None) -> Path:
    """One extraction of ``clip`` into ``out_dir``; ``seed`` None = unperturbed. Returns the CSV."""
    from aubench.pipeline import extract, registry

    kernels = registry.resolve(config.variant_selection, where="config [variants]")
    if seed is not None:
        kernels = kernels.replace(nu_rlms=perturbed(kernels.nu_rlms, rel, seed))
    tracker = extract.load_tracker(models_dir, config, kernels)
    analyser = extract.load_analyser(models_dir, config, kernels)
    result = extract.run(clip, out_dir, config, frames=frames, progress=False, models_dir=models_dir,
                         tracker=tracker, analyser=analyser)
    return Path(result.csv)


def figures(ours_csv: Path, ref_csv: Path) -> dict[str, Any]:
    """``{"au_r": {AU: intensity r}, "landmark_px": median unrounded landmark distance}`` of
    ``ours_csv`` against ``ref_csv`` (frames successful in both)."""
    from aubench.harness.parity import compare

    doc = compare(ours_csv, ref_csv, series=False)
    return {"au_r": {a: v["r"] for a, v in doc["au"]["intensity"].items()},
            "landmark_px": doc.get("landmarks", {}).get("unrounded_error_median_px", float("nan"))}


def summarise(rows: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Per AU: min, median, max of r over ``rows`` (NaN where no run has a defined r)."""
    out = {}
    for a in rows[0]:
        v = np.array([r[a] for r in rows], float)
        v = v[np.isfinite(v)]  # r is undefined (NaN) for a constant series
        out[a] = ({"min": float(v.min()), "median": float(np.median(v)), "max": float(v.max())} if v.size
                  else {"min": float("nan"), "median": float("nan"), "max": float("nan")})
    return out


def plot(doc: dict[str, Any], path: Path, threshold: float | None) -> Path:
    """One box per AU: perturbed runs vs the unperturbed one (grey) and vs C++ (blue)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    aus = list(doc["self"][0])
    fig, ax = plt.subplots(figsize=(11, 3.8))
    pos = np.arange(len(aus))
    for rows, shift, color, label in ((doc["self"], -0.18, "0.55", "perturbed vs unperturbed (ours)"),
                                      (doc["vs_reference"], 0.18, "tab:blue", "each run vs C++")):
        data = [[r[a] for r in rows if np.isfinite(r[a])] for a in aus]
        b = ax.boxplot(data, positions=pos + shift, widths=0.3, patch_artist=True, showfliers=True)
        for patch in b["boxes"]:
            patch.set_facecolor(color)
            patch.set_alpha(0.6)
        ax.plot([], [], color=color, lw=6, alpha=0.6, label=label)
    ax.scatter(pos + 0.18, [doc["unperturbed_vs_reference"][a] for a in aus], marker="x", color="k", zorder=3,
               label="unperturbed vs C++")
    if threshold is not None:
        ax.axhline(threshold, color="tab:red", ls="--", lw=1, label=f"threshold r = {threshold}")
    ax.set_xticks(pos, aus, rotation=0, fontsize=8)
    ax.set_ylabel("AU intensity r")
    lo = float(np.nanmin([v for r in doc["self"] + doc["vs_reference"] for v in r.values()] + [1.0]))
    ax.set_ylim(max(lo - 0.01, 0.0), 1.001)
    ax.set_title(f"{doc['clip']}: AU r under {doc['rel']:.2g} relative noise on NU-RLMS results "
                 f"({doc['seeds']} seeds, config {doc['config']})", fontsize=9)
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m experiments.noise_floor", description=__doc__.split("\n\n")[0])
    p.add_argument("clip", help="video with a C++ reference CSV in ../shared/reference")
    p.add_argument("--config", default="fast", help="TOML config or preset name (default: fast)")
    p.add_argument("--seeds", type=int, default=8, help="perturbed runs (default 8)")
    p.add_argument("--rel", type=float, default=1.6e-6,
                   help="relative noise on NU-RLMS results (default 1.6e-6, ours vs C++ per update)")
    p.add_argument("--frames", type=int, help="only the first N frames (AU figures need the whole clip)")
    p.add_argument("--models", help="OpenFace model folder (default: AUBENCH_MODELS)")
    p.add_argument("--threshold", type=float, default=0.98, help="r threshold drawn on the plot (default 0.98)")
    p.add_argument("-o", "--out-dir", default="out/noise_floor", help="output folder (default out/noise_floor)")
    args = p.parse_args(argv)

    from aubench.harness.parity import find_reference
    from aubench.pipeline.config import load_any
    from aubench.pipeline.errors import AubenchError
    from aubench.pipeline.models import locate

    clip = Path(args.clip)
    try:
        config = load_any(args.config)
        models_dir = locate(args.models)
        ref = find_reference(clip)
        if ref is None:
            print(f"noise_floor: no C++ reference CSV for {clip} under ../shared/reference; "
                  "give a clip OpenFace's reference covers", file=sys.stderr)
            return 2
        out = Path(args.out_dir)
        runs: list[Path] = []
        for k, seed in enumerate([None, *range(args.seeds)]):
            name = "unperturbed" if seed is None else f"seed{seed}"
            print(f"[{k + 1}/{args.seeds + 1}] {clip.name} {name}", file=sys.stderr, flush=True)
            runs.append(run_once(clip, out / name, config, models_dir, args.rel, seed, args.frames))
    except AubenchError as exc:
        print(f"noise_floor: {exc}", file=sys.stderr)
        return 2
    base = figures(runs[0], ref)
    self_figs = [figures(r, runs[0]) for r in runs[1:]]
    ref_figs = [figures(r, ref) for r in runs[1:]]
    self_rows, ref_rows = [f["au_r"] for f in self_figs], [f["au_r"] for f in ref_figs]
    doc = {"clip": clip.name, "config": config.name, "rel": args.rel, "seeds": args.seeds, "frames": args.frames,
           "unperturbed_vs_reference": base["au_r"], "self": self_rows, "vs_reference": ref_rows,
           "self_summary": summarise(self_rows), "vs_reference_summary": summarise(ref_rows),
           "landmark_px": {"unperturbed_vs_reference": base["landmark_px"],
                           "self": [f["landmark_px"] for f in self_figs],
                           "vs_reference": [f["landmark_px"] for f in ref_figs]}}
    out.mkdir(parents=True, exist_ok=True)
    (out / "noise_floor.json").write_text(json.dumps(doc, indent=1))
    png = plot(doc, out / "noise_floor.png", args.threshold)
    lm = doc["landmark_px"]
    print(f"landmark distance, median px (unrounded shapes): unperturbed vs C++ {lm['unperturbed_vs_reference']:.4f}; "
          f"perturbed vs unperturbed {np.median(lm['self']):.4f}; perturbed vs C++ {np.median(lm['vs_reference']):.4f}")
    print(f"{'AU':6} {'unpert. vs C++':>14} {'perturbed vs unpert. (min/med/max)':>36} {'runs vs C++ (min/med/max)':>28}")
    for a in base["au_r"]:
        s, v = doc["self_summary"][a], doc["vs_reference_summary"][a]
        print(f"{a:6} {base['au_r'][a]:14.4f} {s['min']:12.4f}{s['median']:12.4f}{s['max']:12.4f} "
              f"{v['min']:9.4f}{v['median']:9.4f}{v['max']:9.4f}")
    print(f"written: {out / 'noise_floor.json'}, {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
