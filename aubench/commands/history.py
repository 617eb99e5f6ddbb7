"""``aubench history [REVS...]``: speed and parity of one workload over git revisions, steps marked."""

from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("history", help="speed and parity over git revisions, stored per machine, steps detected",
                       description="Runs one workload (clip, config, frames) on each revision not yet stored for "
                                   "this machine (each exported with git archive, run with this environment, its "
                                   "own Numba cache), stores one result per revision, finds the steps of each "
                                   "series with asv's step detection and writes OUT/history.{png,html,md}.")
    p.add_argument("revs", nargs="*", metavar="REV",
                   help="revisions or ranges (A..B, first-parent); default: the first-parent history of HEAD")
    p.add_argument("--clip", type=Path, help="video to run (default: ../shared/media/default.wmv)")
    p.add_argument("--config", default="fast", help="preset each revision runs (default fast; older revisions' "
                                                    "experiments/<name>.toml when they predate the presets)")
    p.add_argument("--frames", type=int, default=0, metavar="N",
                   help="frames of the long run (default 0: the whole clip); a 5-frame run is subtracted from it, "
                        "so start-up's run-to-run noise (~0.3 s on a busy machine) spreads over N - 5 frames")
    p.add_argument("--repeats", type=int, default=2, metavar="N", help="timed runs of each length (default 2)")
    p.add_argument("--max", type=int, default=40, metavar="N",
                   help="at most N revisions, an even sample keeping the first and last (default 40; 0: all)")
    p.add_argument("--instructions", action="store_true",
                   help="also count instructions per revision under cachegrind (deterministic; slow)")
    p.add_argument("--store", type=Path, metavar="DIR", help="where results are kept (default: aubench's cache)")
    p.add_argument("--force", action="store_true", help="measure again revisions already stored")
    p.add_argument("--no-run", action="store_true", help="plot what is stored; measure nothing")
    p.add_argument("-o", "--out-dir", type=Path, default=Path("out/history"), metavar="DIR",
                   help="where history.png/.html/.md go (default out/history)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from aubench.harness import history
    from aubench.harness.paths import shared_dir
    from aubench.pipeline.errors import ConfigError

    try:
        import asv.step_detect  # noqa: F401
    except ImportError:
        raise ConfigError("aubench history finds steps with asv's step detection, which is not installed; "
                          "pip install 'aubench[history]' (or asv>=0.6.4)") from None
    clip = args.clip or shared_dir() / "media" / "default.wmv"
    frames = args.frames or None
    revs = history.revisions(args.revs, args.max or None)
    key, described = history.machine_key()
    folder = history.store_dir(args.store) / key / history.workload_key(Path(clip), args.config, frames)
    if args.no_run:
        docs = history.load_series(folder, revs)
    else:
        folder, docs = history.run_history(revs, Path(clip), args.config, frames, args.repeats, args.instructions,
                                           args.store, args.force, progress=not args.quiet)
    ran = [d for d in docs if not d.get("error")]
    print(f"{len(docs)} revisions on {described}: {len(ran)} ran, {len(docs) - len(ran)} did not run here "
          f"(results in {folder})")
    for d in docs:
        per_frame = d.get("ms_per_frame")
        what = d.get("error") or ((f"{per_frame:.2f} ms/frame CPU" if per_frame is not None else
                                   f"no per-frame figure ({d.get('note', 'too few frames')})")
                                  + (f", landmarks {d['parity']['landmark_error_median_px']:.3f} px"
                                     if d.get("parity") and d["parity"].get("landmark_error_median_px") is not None
                                     else ""))
        print(f"  {d['commit'][:10]} {d['date'][:10]} {d['subject'][:50]:<50} {what[:110]}")
    title = f"aubench history: {Path(clip).name}, config {args.config}, {frames or 'all'} frames; {described}"
    html_path, md_path, steps = history.render(docs, args.out_dir, title)
    print(f"{len(steps)} step(s) found:")
    for s in steps:
        print(f"  {s['series']}: at {s['commit']} ({s['subject'][:60]}): {s['before']} -> {s['after']} "
              f"({s['ratio']}, {s['']})")
    print(f"history written: {html_path} and {md_path}")
    return 0
