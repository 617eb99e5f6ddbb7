"""``aubench detect INPUT -o CSV``: OpenFace's MTCNN face detections of an image or of a video's frames."""

from __future__ import annotations

import csv
import io
import statistics
import sys
import time
from pathlib import Path

from aubench.commands._common import add_config_arguments, load_config
from aubench.pipeline.errors import InputError, OutputError, output_error
from aubench.pipeline.io.output_file import RecordFile

COLUMNS = ("frame", "face_idx", "x", "y", "w", "h", "confidence", "num_detections", "frame_ms")


def register(sub) -> None:
    p = sub.add_parser("detect", help="MTCNN face detections (OpenFace's DetectFacesMTCNN) into a CSV",
                       description="Runs OpenFace 2.2's MTCNN detector on every frame (or the first N) and writes "
                                   "one row per face in the columns of reference/detections/*.csv: frame, face_idx "
                                   "(-1 when no face), x, y, w, h (the box handed to the landmark fitter, px), "
                                   "confidence (ONet probability), num_detections, frame_ms. The [detector] section "
                                   "of the config sets the minimum face size and thresholds; --variant picks the "
                                   "mtcnn_* kernels.")
    p.add_argument("input", help="video file, image, or folder of images")
    p.add_argument("-o", "--output", required=True, metavar="CSV", help="detections CSV to write")
    p.add_argument("--frames", type=int, metavar="N", help="detect on the first N frames only")
    p.add_argument("--timing", action="store_true",
                   help="print the first frame's time (model load and JIT warm-up) apart and the median ms/frame of the rest")
    add_config_arguments(p)
    p.set_defaults(func=_run)


def _csv_line(cells) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(cells)  # csv.writer's default line ending, as before
    return buf.getvalue().encode("utf-8")


def _fmt(value: float) -> str:
    return f"{value:.9g}"


def _run(args) -> int:
    cfg = load_config(args)
    if args.frames is not None and args.frames < 1:
        raise InputError(f"--frames {args.frames}: expected a positive number of frames")
    from aubench.pipeline import registry
    from aubench.pipeline.detect.mtcnn import MTCNNDetector
    from aubench.pipeline.io.frames import open_input
    from aubench.pipeline.models import locate

    src = open_input(Path(args.input))
    # the output is checked before the detector loads: a bad -o is said at once
    out_path = Path(args.output)
    if out_path.is_dir():
        src.close()
        raise OutputError(f"-o {out_path}: is a folder, expected the detections CSV to write; give a file path such "
                          f"as {out_path / (Path(args.input).stem + '_detections.csv')}")
    try:
        out_path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        src.close()
        raise output_error(exc, out_path.parent) from None
    models_dir = locate(args.models)
    kernels = registry.resolve(cfg.variant_selection, where="--variant/[variants]")
    detector = MTCNNDetector(models_dir, cfg.detector, kernels)
    times: list[float] = []
    faces_total = 0
    out = RecordFile(out_path, _csv_line(COLUMNS), what="frame")
    done = False
    try:
        with src:
            for frame in src:
                if args.frames is not None and frame.number > args.frames:
                    break
                start = time.perf_counter()
                faces = detector.detect(frame.bgr)
                ms = (time.perf_counter() - start) * 1000.0
                times.append(ms)
                faces_total += len(faces)
                rows = [[frame.number, -1, 0, 0, 0, 0, 0, 0, _fmt(ms)]] if not faces else [
                    [frame.number, i, _fmt(d.x), _fmt(d.y), _fmt(d.w), _fmt(d.h), _fmt(d.confidence), len(faces),
                     _fmt(ms)] for i, d in enumerate(faces)]
                out.write(b"".join(_csv_line(r) for r in rows))  # a frame's rows as one record: whole frames only
        done = True
    finally:
        if done:
            out.close()
        else:
            out.remove_if_empty()  # a header alone would read as a video with no frame
    print(f"{faces_total} detections in {len(times)} frames of {Path(args.input).name} written to {out_path} "
          f"(variants: {', '.join(f'{k}={v}' for k, v in sorted(kernels.selection.items()) if k.startswith('mtcnn'))})")
    if args.timing:
        rest = times[1:]
        median = f"{statistics.median(rest):.2f} ms/frame median over frames 2..{len(times)}" if rest else "no further frames"
        print(f"timing: first frame {times[0]:.1f} ms (includes JIT warm-up); {median}", file=sys.stdout)
    return 0
