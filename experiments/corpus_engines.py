"""Issue 17's figures: the local pool against Dask, 1 against 2 workers, the engines' per-video overhead.

    python -m experiments.corpus_engines [--copies 8] [--short 24] [--config fast] [--part all|throughput|overhead]

- throughput: ``--copies`` whole copies of default.wmv (288 frames) through run_many with each engine and
  1 or 2 workers; wall time, videos per minute, the 2-vs-1 ratio, each worker's peak RSS;
- overhead: ``--short`` 20-frame MJPG clips with 2 workers; start-up (until the first outcome, less that
  video's task time); per worker, the time between two of its outcomes less the task's own time (what the
  engine adds per video), and the task's time less extract.run's (what the task wrapper adds); plus Dask's
  bare round trip of a no-op task on a LocalCluster of 2;
- malloc: one whole clip in this process against a Dask worker with Dask's MALLOC_TRIM_THRESHOLD_ and larger.

Prints one JSON object with the load average before and after each part (the VM's 2 cores are shared).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

from aubench.harness import paths  # noqa: E402
from aubench.pipeline.batch import run_many  # noqa: E402
from aubench.pipeline.config import preset  # noqa: E402


def _short_clip(src: Path, dst: Path, frames: int = 20) -> None:
    import cv2

    cap = cv2.VideoCapture(str(src))
    ok, frame = cap.read()
    out = cv2.VideoWriter(str(dst), cv2.VideoWriter_fourcc(*"MJPG"), 30, (frame.shape[1], frame.shape[0]))
    for _ in range(frames):
        if not ok:
            break
        out.write(frame)
        ok, frame = cap.read()
    out.release()


def _batch(videos, out, config, engine, workers):
    arrivals = []
    t0 = time.perf_counter()
    res = run_many(videos, out, config, workers=workers, engine=engine, progress=False,
                   on_done=lambda o: arrivals.append((time.perf_counter() - t0, o)))
    assert not res.failed, res.summary()
    return res, arrivals


def throughput(media: Path, work: Path, copies: int, config) -> dict:
    corpus = work / "whole"
    corpus.mkdir()
    for i in range(copies):
        shutil.copy(media / "default.wmv", corpus / f"clip{i:02d}.wmv")
    videos = sorted(corpus.iterdir())
    rows = {}
    for engine, workers in (("local", 1), ("local", 2), ("dask", 1), ("dask", 2)):
        load = os.getloadavg()[0]
        res, _ = _batch(videos, work / f"out-{engine}-{workers}", config, engine, workers)
        rows[f"{engine}x{workers}"] = {
            "wall_s": round(res.wall_s, 1), "videos_per_min": round(60 * copies / res.wall_s, 2),
            "frames": sum(o.frames for o in res.outcomes), "load_before": round(load, 2),
            "load_after": round(os.getloadavg()[0], 2),
            "peak_rss_mb": round(max(o.peak_rss_mb for o in res.outcomes), 0),
            "mean_video_s": round(statistics.mean(o.wall_s for o in res.outcomes), 2)}
    for engine in ("local", "dask"):
        rows[f"{engine}_2_vs_1"] = round(rows[f"{engine}x1"]["wall_s"] / rows[f"{engine}x2"]["wall_s"], 3)
    rows["dask2_vs_local1"] = round(rows["localx1"]["wall_s"] / rows["daskx2"]["wall_s"], 3)
    return rows


def overhead(media: Path, work: Path, n: int, config) -> dict:
    corpus = work / "short"
    corpus.mkdir()
    _short_clip(media / "default.wmv", corpus / "c00.avi")
    for i in range(1, n):
        shutil.copy(corpus / "c00.avi", corpus / f"c{i:02d}.avi")
    videos = sorted(corpus.iterdir())
    rows = {}
    for engine, workers in (("local", 2), ("dask", 2)):
        load = os.getloadavg()[0]
        res, arrivals = _batch(videos, work / f"short-{engine}", config, engine, workers)
        first_t, first = arrivals[0]
        # per worker: the time between two of its outcomes arriving, less the second one's task time = what the
        # engine adds (result back, next task out); task time less extract.run's = what the task wrapper adds
        last: dict = {}
        engine_ms, wrapper_ms = [], []
        for t, o in arrivals:
            if o.worker in last:
                engine_ms.append(1000 * (t - last[o.worker] - o.task_s))
            wrapper_ms.append(1000 * (o.task_s - o.wall_s))
            last[o.worker] = t
        rows[engine] = {"startup_s": round(first_t - first.task_s, 2),
                        "engine_ms_per_video_median": round(statistics.median(engine_ms), 1),
                        "engine_ms_per_video_p90": round(statistics.quantiles(engine_ms, n=10)[-1], 1),
                        "wrapper_ms_per_video_median": round(statistics.median(wrapper_ms), 1),
                        "extract_run_s_median": round(statistics.median(o.wall_s for _, o in arrivals), 3),
                        "wall_s": round(res.wall_s, 1), "load_before": round(load, 2),
                        "load_after": round(os.getloadavg()[0], 2)}
    rows["dask_noop_round_trip_ms"] = _dask_noop()
    return rows


def _dask_noop(n: int = 400) -> float:
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        client.gather(client.map(abs, range(20)))  # warm
        t0 = time.perf_counter()
        client.gather(client.map(abs, range(1000, 1000 + n), pure=False))
        return round(1000 * (time.perf_counter() - t0) / n * 2, 2)  # per task per worker


def _whole_clip_times(out: str, repeats: int = 2) -> list[float]:
    """extract.run's wall time on default.wmv, ``repeats`` times after a warm-up run, in this process."""
    from aubench.pipeline.video_task import VideoWorker

    clip = paths.shared_dir() / "media" / "default.wmv"
    worker = VideoWorker(preset("fast"), None)
    worker.run(clip, Path(out), None)
    return [round(worker.run(clip, Path(out), None).wall_s, 2) for _ in range(repeats)]


def malloc_trim(work: Path) -> dict:
    """One whole clip in this process, in a thread, and on a 1-worker LocalCluster with Dask's
    MALLOC_TRIM_THRESHOLD_=65536 and with 1 GiB (interleaved: the load moves)."""
    from concurrent.futures import ThreadPoolExecutor

    from distributed import Client, LocalCluster

    rows = {"in_process": _whole_clip_times(str(work / "a"))}
    with ThreadPoolExecutor(1) as ex:
        rows["in_a_thread"] = ex.submit(_whole_clip_times, str(work / "t")).result()
    threads = {v: "1" for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS")}
    for name, trim in (("dask_trim_65536", "65536"), ("dask_trim_1GiB", str(2**30)), ("dask_trim_64MiB", str(2**26))):
        with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                          env={**threads, "MALLOC_TRIM_THRESHOLD_": trim}) as cluster, Client(cluster) as client:
            rows[name] = client.submit(_whole_clip_times, str(work / name), pure=False).result()
    rows["in_process_again"] = _whole_clip_times(str(work / "a"))
    rows["load"] = round(os.getloadavg()[0], 2)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=8)
    ap.add_argument("--short", type=int, default=24)
    ap.add_argument("--config", default="fast")
    ap.add_argument("--part", choices=("all", "throughput", "overhead", "malloc"), default="all")
    args = ap.parse_args()
    media = paths.shared_dir() / "media"
    config = preset(args.config)
    result = {"config": args.config, "cores": len(os.sched_getaffinity(0)), "started": time.strftime("%H:%M:%S")}
    with tempfile.TemporaryDirectory(prefix="aubench-engines-") as tmp:
        work = Path(tmp)
        if args.part in ("all", "overhead"):
            result["overhead"] = overhead(media, work, args.short, config)
        if args.part in ("all", "malloc"):
            result["malloc_trim"] = malloc_trim(work)
        if args.part in ("all", "throughput"):
            result["throughput"] = throughput(media, work, args.copies, config)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
