"""Parity and work skipped of the cached variants (issue 19), on the three clips.

For every config given (a TOML file or a preset name) and every clip: one ``aubench run``,
its CSV compared with C++'s (``aubench.harness.parity.compare``). The work skipped is counted
by ``aubench profile`` (``*.reused`` counters) and speed is measured apart with ``aubench ab``
(paired, interleaved); this script is about what a variant costs in parity.

    python -m experiments.cached_variants CONFIG [CONFIG ...] [--clips default,2015,multi] [--frames N]
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
from pathlib import Path

from aubench.harness import parity

MEDIA = {"default": "default.wmv", "2015": "2015-10-15-15-14.avi", "multi": "multi_face.avi"}


def run_one(config: str, clip: Path, frames: int | None) -> dict:
    from aubench import cli

    out = Path(tempfile.mkdtemp(prefix="cached_"))
    args = ["run", str(clip), "-o", str(out), "--config", config, "--quiet"]
    if frames:
        args += ["--frames", str(frames)]
    cli.main(args)
    csv = out / f"{clip.stem}.csv"
    ref = parity.find_reference(clip)
    fig = parity.compare(csv, ref, series=False)
    au = fig.get("au", {})
    occ = [v["agreement"] for v in au.get("occurrence", {}).values()]
    return {"landmark_median_px": fig["landmarks"]["error_median_px"],
            "landmark_p95_px": fig["landmarks"]["error_p95_px"],
            "au_r_min": au.get("intensity_r_min", math.nan),
            "au_r_min_name": min(au.get("intensity", {"-": {"r": math.nan}}).items(), key=lambda kv: kv[1]["r"])[0],
            "occurrence_min": au.get("occurrence_agreement_min", math.nan),
            "occurrence_mean": sum(occ) / len(occ) if occ else math.nan,
            "success_agreement": fig["success_agreement"]}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("configs", nargs="+")
    ap.add_argument("--clips", default="default,2015,multi")
    ap.add_argument("--frames", type=int, default=None)
    ap.add_argument("--media", default=str(Path(__import__("os").environ.get("AUBENCH_SHARED", "../shared"))
                                          / "media"))
    ap.add_argument("-o", "--output", default=None, help="JSON of every figure")
    a = ap.parse_args(argv)
    rows = []
    for config in a.configs:
        for key in a.clips.split(","):
            r = run_one(config, Path(a.media) / MEDIA[key], a.frames)
            r.update(config=Path(config).stem, clip=key)
            rows.append(r)
            print(f"{r['config']:32s} {key:8s} lm median {r['landmark_median_px']:.3f} px  p95 "
                  f"{r['landmark_p95_px']:.3f}  AU r min {r['au_r_min']:.3f} ({r['au_r_min_name']})  occurrence min "
                  f"{100 * r['occurrence_min']:.1f} % mean {100 * r['occurrence_mean']:.1f} %  success "
                  f"{100 * r['success_agreement']:.1f} %", flush=True)
    if a.output:
        Path(a.output).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
