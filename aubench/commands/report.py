"""``aubench report RESULTS... -o DIR``: an HTML page and a Markdown file with plots."""

from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("report", help="render result JSONs (or folders of them) as one HTML page and one Markdown file",
                       description="Phase table (ms/frame, speedup, FPS, parity per configuration), stage "
                                   "breakdown, per-AU parity, landmark error over frames, A/B ratios with "
                                   "intervals, gate verdicts, and the machine each result was measured on.")
    p.add_argument("results", nargs="+", metavar="RESULTS",
                   help="result JSON files, folders of them, or `aubench run` output folders "
                        "(their CSVs are compared with the shared C++ reference)")
    p.add_argument("-o", "--out-dir", required=True, metavar="DIR", help="where report.html, report.md and plots go")
    p.add_argument("--title", default="aubench report", help="page title")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from aubench.harness import results
    from aubench.pipeline.errors import InputError
    from aubench.reports import render

    paths: list[Path] = []
    for item in args.results:
        p = Path(item)
        if p.is_dir():
            found = sorted(p.glob("*.json"), key=_natural)
            if found:
                paths.extend(found)
            elif sorted(p.glob("*.csv")):
                paths.extend(sorted(p.glob("*.csv"), key=_natural))  # an `aubench run` output folder: parity of its CSVs
            else:
                raise InputError(f"{p}: no result JSON or output CSV in this folder; give result files written "
                                 "by aubench profile/parity/ab/gate -o FILE, or an `aubench run` output folder")
        else:
            paths.append(p)
    docs = [_csv_parity(p) if p.suffix == ".csv" else results.load(p) for p in paths]
    html_path, md_path = render.render(docs, Path(args.out_dir), title=args.title)
    print(f"report written: {html_path} and {md_path} ({len(docs)} results)")
    return 0


def _csv_parity(csv: Path) -> dict:
    """A parity result for an output CSV against the shared C++ reference of the same clip.

    The configuration is the one the run recorded in ``<stem>_of_details.txt`` (named, with its
    hash), else said to be unknown; the figures are judged by C++'s own cross-CPU spread when
    ``reference/cpu_spread/<clip>.csv`` exists, else by the default thresholds.
    """
    from aubench.harness import parity, results
    from aubench.pipeline import config as config_mod
    from aubench.pipeline.errors import InputError
    from aubench.pipeline.extract import read_config_line

    reference = parity.find_reference(csv)
    if reference is None:
        raise InputError(f"{csv}: no C++ reference CSV for this clip in the shared folder; run "
                         "`aubench parity INPUT --ours CSV --reference REF -o RESULT.json` and report that")
    made_by = read_config_line(csv.with_name(f"{csv.stem}_of_details.txt"))
    cfg = config_mod.Config()
    if made_by is not None:
        try:
            cfg = config_mod.preset(made_by[0])
        except Exception:  # a config file, not a preset: its thresholds are not known here, its name is
            pass
    doc = results.new_result("parity", cfg, {"input": csv.stem, "frames": None, "landmarks_from": None},
                             label=csv.stem)
    # the configuration that made the CSV, not the one this report happens to load
    doc["config"] = {**doc["config"], "name": made_by[0] if made_by else "config not recorded",
                     "hash": made_by[1] if made_by else "-"}
    doc["ours_from"] = str(csv)
    spread = reference.parent.parent / "cpu_spread" / f"{csv.stem}.csv"
    doc["parity"] = parity.parity_section(csv, reference, cfg.parity, spread_csv=spread if spread.is_file() else None)
    return doc


def _natural(path: Path) -> list:
    """Sort key that puts 2_x before 10_x."""
    import re

    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.name)]
