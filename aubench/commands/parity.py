"""``aubench parity INPUT --reference CSV``: every parity figure against C++ OpenFace, with thresholds."""

from __future__ import annotations

import tempfile
from pathlib import Path

from aubench.commands._common import add_config_arguments, add_quiet_argument, load_config
from aubench.commands.profile import add_workload_arguments


def register(sub) -> None:
    p = sub.add_parser("parity", help="compare a run with C++ OpenFace's CSV; exit 1 when a threshold is missed",
                       description="Runs the pipeline on INPUT (or takes --ours) and compares its CSV with C++ "
                                   "OpenFace's: landmark error, pose, gaze, success, per-AU r/MAE/agreement, HOG "
                                   "and aligned faces when both exist, detection IoU when given detections. "
                                   "Thresholds come from the config's [parity] table.")
    p.add_argument("input", help="video file, image, or folder of images (the clip the reference CSV is of)")
    p.add_argument("--reference", metavar="CSV", help="C++ OpenFace CSV (default: ../shared/reference/<clip>/<clip>.csv)")
    p.add_argument("--ours", metavar="CSV", help="compare this CSV instead of running the pipeline")
    p.add_argument("--spread", metavar="CSV",
                   help="C++ OpenFace's CSV of the same clip from another CPU (../shared/reference/cpu_spread/"
                        "<clip>.csv): judge each figure by whether ours is no farther from the reference than "
                        "that is (times [parity] spread_factor, plus a slack per figure) instead of by the "
                        "fixed thresholds")
    p.add_argument("--detections", metavar="CSV", help="C++ MTCNN detections (reference/detections/<clip>.csv)")
    p.add_argument("--our-detections", metavar="CSV",
                   help="our detections to compare with --detections (default: run `aubench detect` on the frames)")
    add_config_arguments(p)
    add_workload_arguments(p, "process only the first N frames (compared on the frames both CSVs hold)")
    p.add_argument("-o", "--output", metavar="RESULTS.json", help="result file to write")
    add_quiet_argument(p)
    p.set_defaults(func=_run)


def _run(args) -> int:
    from aubench.harness import parity, results, workload
    from aubench.pipeline import config as config_mod
    from aubench.pipeline.errors import InputError

    cfg = load_config(args)
    reference = Path(args.reference) if args.reference else parity.find_reference(args.input)
    if reference is None:
        raise InputError(f"{args.input}: no reference CSV found beside the shared media; give --reference CSV")
    if not args.ours and "frame" not in _header(reference):
        # `aubench run` writes FeatureExtraction's one row per frame; say so before the run, not after it
        raise InputError(f"{reference}: expected a C++ FeatureExtraction CSV (a frame column, one row per frame), got "
                         "a CSV without a frame column (FaceLandmarkImg writes one row per face); give --reference "
                         f"the CSV of C++ FeatureExtraction on {args.input}, or --ours a CSV of the same kind")
    spread = Path(args.spread) if args.spread else None
    if spread is not None and not spread.is_file():
        raise InputError(f"{spread}: no such CSV; give --spread a C++ OpenFace CSV of the same clip from another "
                         "CPU (../shared/reference/cpu_spread/<clip>.csv)")
    # The C++ reference was written with -hogalign -simalign: write both so HOG and aligned faces are compared.
    run_cfg = config_mod.with_overrides(cfg, output={"hogalign": True, "simalign": True})
    wl = workload.Workload(Path(args.input), run_cfg, args.frames,
                           Path(args.landmarks_from) if args.landmarks_from else None, reference)
    doc = results.new_result("parity", cfg, wl.describe())
    with tempfile.TemporaryDirectory(prefix="aubench-parity-") as tmp:
        if args.ours:
            ours = Path(args.ours)
            doc["ours_from"] = str(ours)
        else:
            outcome = workload.run(wl, Path(tmp, "run"), progress=False if args.quiet else None)
            ours = outcome.csv
            doc["timing"] = workload.timing_section(outcome)
            results.record_stages(doc, outcome.extra["stages_ran"])
        section = parity.parity_section(ours, reference, cfg.parity, spread_csv=spread)
        if args.detections:
            our_det = Path(args.our_detections) if args.our_detections else _run_detect(args, Path(tmp))
            section["figures"]["detection"] = parity.compare_detections(our_det, args.detections)
            rows = parity.checks(section["figures"], cfg.parity,
                                 section["spread"]["figures"] if "spread" in section else None)
            section["checks"] = [c.as_dict() for c in rows]
            section["passed"] = all(c.passed for c in rows)
    doc["parity"] = section
    f = section["figures"]["frames"]
    if spread and "spread" not in section:
        how = (f"thresholds from config {cfg.name}, which is approximate ([parity] judge_by_spread = false): "
               f"--spread is not its rule")
    elif spread:
        rule = section["spread"]["rule"]
        how = (f"judged against C++ on another CPU ({spread}): ours passes a figure when its distance from "
               f"the reference is at most {rule['factor']:g} x C++'s plus a slack "
               f"(r {cfg.parity.spread_slack_r:g}, MAE {cfg.parity.spread_slack_mae:g}, occurrence agreement "
               f"{cfg.parity.spread_slack_occurrence:g}, success {cfg.parity.spread_slack_success:g}, "
               f"{cfg.parity.spread_slack_px:g} px, "
               f"{cfg.parity.spread_slack_deg:g} deg)")
    else:
        how = f"thresholds from config {cfg.name}"
    print(f"parity of {Path(ours).name} against {reference} ({f['compared']} frames compared, "
          f"{f['both_successful']} successful in both; {how})")
    rows = [parity.Check(**c) for c in section["checks"]]
    print(parity.format_checks(rows))
    for note in parity.near_constant_notes(section["figures"], rows):
        print(note)
    spread_figures = section["spread"]["figures"] if "spread" in section else None
    for note in parity.unjudged_notes(section["figures"], spread_figures):
        print(note)
    if f.get("ours_rows") and f.get("reference_rows") and f["ours_rows"] < f["reference_rows"]:
        failed = [c for c in rows if not c.passed]
        au_only = failed and all(c.name.startswith("AU") for c in failed)
        print(f"partial run: {f['ours_rows']} of the reference's {f['reference_rows']} frames; C++ post-processes AU "
              "values over the whole clip, so AU checks of a partial run are not expected to pass"
              + (" (every failing check here is one of them)" if au_only else ""))
    lm = section["figures"].get("landmarks", {})
    if "unrounded_error_median_px" in lm:
        print(f"landmark error between the CSVs' unrounded shapes (px): median {lm['unrounded_error_median_px']:.4f}, "
              f"p95 {lm['unrounded_error_p95_px']:.4f} (the rows above include both CSVs' 0.1-px rounding)")
    if args.output:
        results.save(doc, args.output)
        print(f"result written to {args.output}")
    return 0 if section["passed"] else 1


def _header(path: Path) -> list[str]:
    from aubench.pipeline.errors import InputError

    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return [c.strip() for c in fh.readline().split(",")]
    except OSError as exc:
        raise InputError(f"{path}: cannot read the reference CSV ({exc.strerror}); give --reference an existing "
                         "OpenFace CSV") from None


def _run_detect(args, tmp: Path) -> Path:
    """Our detections of the frames the reference detections cover, through `aubench detect`."""
    from aubench import cli
    from aubench.harness import parity
    from aubench.pipeline.errors import AubenchError

    frames = max(parity.read_detections(args.detections))
    out = tmp / "detections.csv"
    argv = ["detect", args.input, "-o", str(out), "--frames", str(frames)]
    if args.config:
        argv += ["--config", args.config]
    code = cli.main(argv)
    if code != 0 or not out.is_file():
        raise AubenchError(f"`aubench {' '.join(argv)}` failed (exit {code}); give --our-detections CSV instead")
    return out
