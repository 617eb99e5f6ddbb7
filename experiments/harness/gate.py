"""``aubench gate``: fail CI when speed regresses or parity drops.

CI machines differ from run to run, so a raw ms/frame means little against a
number measured elsewhere. The gate measures, in one job, the candidate
workload and the fixed calibration workload
(:mod:`experiments.harness.calibration`, before and between the runs), and
compares the *normalised* time (workload ms/frame / calibration ms) with the
baseline's normalised time. It fails when

- the normalised time exceeds the baseline's by more than ``max_ratio`` (1.25:
  CI noise stays well inside it, a real slowdown does not), or
- a parity figure misses its threshold (``[parity]`` of the config). A figure
  the baseline itself missed (e.g. AU figures on a short stretch, where the
  video post-processing sees fewer frames than C++ did) fails only if it is
  worse than the baseline's value beyond :data:`PARITY_SLACK` of its threshold.

Baseline entries are keyed by :func:`experiments.harness.results.workload_key`
(config hash + workload); a candidate whose key is not in the baseline is
"not comparable" (reported, not failed): record it with ``--update``.

The baseline file (``reports/baseline.json``)::

    {"schema": "aubench-baseline/1", "max_ratio": 1.25,
     "entries": [{"key", "config", "config_hash", "workload": {"input", "frames",
                  "landmarks_from", "reference"} (paths relative to the shared folder),
                  "ms_per_frame", "calibration_ms", "normalised", "parity": {check: value},
                  "parity_passed": {check: bool}, "code", "machine", "recorded"}]}
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from experiments.harness import calibration, parity, results, workload as workload_mod
from pipeline import config as config_mod
from pipeline.errors import InputError

BASELINE_SCHEMA = "aubench-baseline/1"
DEFAULT_MAX_RATIO = 1.25
PARITY_SLACK = 0.02


def load_baseline(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such baseline; record one with `aubench gate --baseline {path} --update "
                         "--candidate reference --input CLIP --frames N`")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON ({exc}); restore it from git or re-record it with --update") from None
    if not isinstance(doc, dict) or doc.get("schema") != BASELINE_SCHEMA or not isinstance(doc.get("entries"), list):
        raise InputError(f"{path}: expected a gate baseline (schema {BASELINE_SCHEMA!r} with 'entries'); "
                         "re-record it with `aubench gate --update`")
    return doc


def _rel_to_shared(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return str(Path(path).resolve().relative_to(parity.shared_dir().resolve()))
    except ValueError:
        return str(path)


def _from_shared(path: str | None) -> Path | None:
    if path is None:
        return None
    p = Path(path)
    return p if p.is_absolute() else parity.shared_dir() / p


def measure(wl: workload_mod.Workload, repeats: int = 3, progress: bool = True) -> dict[str, Any]:
    """Calibration, then (run, calibration) x ``repeats``.

    Both figures are process CPU time, not wall time: on a shared CI machine the
    time spent waiting for a core is not in it (wall time varied up to 2.5x
    between runs here, CPU time far less). The workload's figure is the lowest
    over runs of each run's mean CPU ms/frame, the calibration's the fastest
    pass: interference only ever adds time. Parity is the last run's CSV
    against the reference.
    """
    calib = [calibration.measure()["cpu_min_ms"]]
    runs = []
    meter = workload_mod.Progress(repeats, "gate") if progress else None
    with tempfile.TemporaryDirectory(prefix="aubench-gate-") as tmp:
        for i in range(repeats):
            o = workload_mod.run(wl, Path(tmp, str(i)), progress=False)
            runs.append(workload_mod.timing_section(o, per_frame=False))
            calib.append(calibration.measure()["cpu_min_ms"])
            if meter:
                meter.step(wl.config.name, o)
        last_csv = o.csv
        reference = None
        out: dict[str, Any] = {}
        ref_path = wl.reference or parity.find_reference(wl.input)
        if ref_path is not None:
            reference = parity.parity_section(last_csv, ref_path, wl.config.parity, series=False)
            out["reference"] = str(ref_path)
    ms = min(r["cpu_ms_per_frame"] for r in runs)
    cal = min(calib)
    out.update({"ms_per_frame": ms, "ms_per_frame_runs": [r["ms_per_frame"] for r in runs],
                "calibration_ms": cal, "calibration_runs": calib, "calibration_version": calibration.VERSION,
                "normalised": ms / cal, "timing": runs[-1], "parity": reference,
                "stages_ran": runs[-1].get("stages_ran", [])})
    return out


def _parity_values(section: dict[str, Any] | None) -> tuple[dict[str, float], dict[str, bool]]:
    if not section:
        return {}, {}
    return ({c["name"]: c["value"] for c in section["checks"]}, {c["name"]: c["passed"] for c in section["checks"]})


def judge(measured: dict[str, Any], entry: dict[str, Any] | None, max_ratio: float,
          parity_entry: dict[str, Any] | None = None) -> dict[str, Any]:
    """Verdict lines: speed against the baseline entry (None: not comparable), parity against thresholds.

    ``parity_entry`` (default: ``entry``) holds the known misses; when the config
    changed it is the baseline entry of the same clip stretch, so a parity drop
    is still caught although the speed is not comparable.
    """
    parity_entry = entry if parity_entry is None else parity_entry
    failures, notes = [], []
    speed: dict[str, Any] = {"max_ratio": max_ratio}
    if entry is None:
        speed["status"] = "not comparable"
        notes.append("speed: not comparable (no baseline entry for this config and workload; record one with --update)")
    elif entry.get("calibration_version") != calibration.VERSION:
        speed["status"] = "not comparable"
        notes.append("speed: not comparable (the baseline was normalised by another calibration workload version)")
    else:
        ratio = measured["normalised"] / entry["normalised"]
        speed.update(ratio=ratio, baseline_normalised=entry["normalised"], normalised=measured["normalised"])
        speed["status"] = "regressed" if ratio > max_ratio else "ok"
        line = (f"speed: normalised time {measured['normalised']:.3f} vs baseline {entry['normalised']:.3f}: "
                f"ratio {ratio:.3f} (limit {max_ratio:.2f}); {measured['ms_per_frame']:.2f} CPU ms/frame, "
                f"calibration {measured['calibration_ms']:.2f} CPU ms")
        (failures if ratio > max_ratio else notes).append(line)
    base_values, base_passed = (({}, {}) if parity_entry is None else
                                (parity_entry.get("parity", {}), parity_entry.get("parity_passed", {})))
    if parity_entry is not None and parity_entry is not entry:
        notes.append(f"parity: known misses taken from the baseline entry of config "
                     f"{parity_entry.get('config_name')} on the same clip stretch")
    checks = measured["parity"]["checks"] if measured.get("parity") else []
    parity_rows = []
    for c in checks:
        name, value, passed = c["name"], c["value"], c["passed"]
        status = "ok" if passed else "fail"
        if not passed and name in base_values and base_passed.get(name) is False:
            b = base_values[name]
            slack = PARITY_SLACK * abs(c["threshold"]) + 1e-9
            missing = value is None or not math.isfinite(value)
            if b is None:  # the baseline's figure was undefined (NaN): nothing to be worse than
                worse = False
            else:
                worse = missing or (value < b - slack if c["op"] == ">=" else value > b + slack)
            status = "worse than the baseline's known miss" if worse else "known miss (baseline also missed)"
        parity_rows.append({**c, "status": status, "baseline": base_values.get(name)})
        if status not in ("ok", "known miss (baseline also missed)"):
            failures.append(f"parity: {name} = {value} misses {c['op']} {c['threshold']}"
                            + (f" (baseline {base_values[name]})" if name in base_values else ""))
    if not checks:
        notes.append("parity: no reference CSV for this input, parity not checked")
    return {"passed": not failures, "failures": failures, "notes": notes, "speed": speed, "parity": parity_rows}


def run_gate(baseline_path: Path, candidate: config_mod.Config | None = None, input_path: Path | None = None,
             frames: int | None = None, landmarks_from: Path | None = None, reference: Path | None = None,
             max_ratio: float | None = None, repeats: int = 3, update: bool = False,
             progress: bool = True) -> dict[str, Any]:
    """Measure the candidate workload, judge it against the baseline, optionally record it."""
    baseline = load_baseline(baseline_path) if (Path(baseline_path).is_file() or not update) else \
        {"schema": BASELINE_SCHEMA, "max_ratio": DEFAULT_MAX_RATIO, "entries": []}
    first = baseline["entries"][0] if baseline["entries"] else None
    if input_path is None:
        if first is None:
            raise InputError(f"{baseline_path}: the baseline has no entry to take the workload from; give --input")
        input_path = _from_shared(first["workload"]["input"])
        frames = frames if frames is not None else first["workload"].get("frames")
        landmarks_from = landmarks_from or _from_shared(first["workload"].get("landmarks_from"))
        reference = reference or _from_shared(first["workload"].get("reference"))
    if candidate is None:
        candidate = config_mod.load_any(first["config"]) if first and first.get("config") else config_mod.Config()
    wl = workload_mod.Workload(Path(input_path), candidate, frames, landmarks_from, reference)
    doc = results.new_result("gate", candidate, wl.describe())
    measured = measure(wl, repeats=repeats, progress=progress)
    results.record_stages(doc, measured.pop("stages_ran"))
    max_ratio = max_ratio or float(baseline.get("max_ratio", DEFAULT_MAX_RATIO))
    entry = next((e for e in baseline["entries"] if e.get("key") == doc["key"]), None)
    same_stretch = next((e for e in baseline["entries"] if _same_stretch(e["workload"], doc["workload"])), None)
    verdict = judge(measured, entry, max_ratio, parity_entry=entry or same_stretch)
    doc["timing"] = measured.pop("timing")
    if measured.get("parity"):
        doc["parity"] = measured["parity"]
    doc["gate"] = {"baseline": str(baseline_path), **{k: v for k, v in measured.items() if k != "parity"},
                   **verdict, "baseline_entry": entry}
    if update:
        values, passed = _parity_values(measured.get("parity"))
        new_entry = {
            "key": doc["key"], "config": candidate.source and _config_spec(candidate) or candidate.name,
            "config_name": candidate.name, "config_hash": doc["config"]["hash"],
            "workload": {"input": _rel_to_shared(wl.input), "frames": frames,
                         "landmarks_from": _rel_to_shared(landmarks_from),
                         "stages_ran": doc["workload"]["stages_ran"],
                         "reference": _rel_to_shared(Path(measured["reference"])) if measured.get("reference") else None},
            "ms_per_frame": measured["ms_per_frame"], "calibration_ms": measured["calibration_ms"],
            "calibration_version": calibration.VERSION, "normalised": measured["normalised"],
            "parity": values, "parity_passed": passed,
            "code": doc["code"], "machine": {k: doc["machine"][k] for k in ("cpu_model", "cpu_affinity", "versions")},
            "recorded": doc["created"],
        }
        baseline["entries"] = [e for e in baseline["entries"] if e.get("key") != doc["key"]] + [new_entry]
        baseline.setdefault("max_ratio", DEFAULT_MAX_RATIO)
        Path(baseline_path).parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(str(baseline_path) + f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(results._plain(baseline), indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, baseline_path)
        doc["gate"]["updated"] = True
        # The new entry is the baseline now: what it misses is recorded as known misses, not a failure.
        doc["gate"].update(judge(measured, new_entry, max_ratio))
    return doc


def _same_stretch(stored: dict[str, Any], current: dict[str, Any]) -> bool:
    """Same clip, frame limit and landmarks source (whatever the config)."""
    def name(v):
        return Path(v).name if v else None

    return (name(stored.get("input")) == name(current.get("input")) and stored.get("frames") == current.get("frames")
            and name(stored.get("landmarks_from")) == name(current.get("landmarks_from")))


def _config_spec(cfg: config_mod.Config) -> str:
    """A preset name when the config is a shipped preset, else its path relative to the repository."""
    src = Path(cfg.source).resolve()
    if src.parent == config_mod.preset_dir().resolve():
        return src.stem
    try:
        return str(src.relative_to(results.REPO))
    except ValueError:
        return str(src)


def format_gate(doc: dict[str, Any]) -> str:
    g = doc["gate"]
    lines = [f"gate: {doc['config']['name']} (config {doc['config']['hash']}, key {doc['key']}) on "
             f"{Path(doc['workload']['input']).name}"
             + (f", {doc['workload']['frames']} frames" if doc["workload"].get("frames") else "")
             + (", landmarks from CSV" if doc["workload"].get("landmarks_from") else "")]
    lines += [f"  {n}" for n in g["notes"]]
    lines += [f"  FAIL {f}" for f in g["failures"]]
    known = [r for r in g["parity"] if r["status"].startswith("known miss")]
    ok = sum(r["status"] == "ok" for r in g["parity"])
    if g["parity"]:
        lines.append(f"  parity: {ok}/{len(g['parity'])} checks pass"
                     + (f", {len(known)} known misses no worse than the baseline" if known else ""))
    if g.get("updated"):
        lines.append(f"  baseline entry recorded in {g['baseline']}")
    lines.append("gate PASSED" if g["passed"] else "gate FAILED")
    return "\n".join(lines)


def exit_code(doc: dict[str, Any]) -> int:
    return 0 if doc["gate"]["passed"] else 1

