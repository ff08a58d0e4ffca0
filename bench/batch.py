"""Batches and the cluster (issue 12): images per minute, and the web process's memory.

What it measures, in one run on this machine:

1. Images per minute for a folder of photos (20 at 512x512 px; the classic preset,
   InceptionV3 with RANDOM weights since ImageNet weights cannot be downloaded here: the
   arithmetic, and so the timing, is the same), dreamed three ways through the batch code the
   CLI uses: in this process; on a private local Ray with 1 worker owning every core; with 2
   workers of 1 core each. Two rates each: "steady" counts from the first file submitted
   (model loaded, workers up), "total" includes loading the model and starting Ray/workers.
2. Resident memory (VmRSS now and VmHWM peak, from /proc/self/status) of two fresh processes
   that each run one dream the way a web process would: one imports only
   ``deepdream.cluster``, joins the local Ray by address and dreams on a worker there; the
   other imports TensorFlow, loads the model and dreams in-process. Both report whether
   TensorFlow got imported.

Results: a table on stdout and ``bench/results/batch.txt`` (``bench/results/quick/`` for
``--quick``). Ray runs as a private local instance (``address="local"``); when no token is set,
one is made for this run only (``RAY_AUTH_TOKEN``), so nothing is written to ``~/.ray``.

Run from the repository root (``pip install -r requirements-cluster.txt`` first):
    python -m bench.batch            # full run: several minutes on 2 CPU cores
    python -m bench.batch --quick    # smoke run: 3 tiny photos, 2 steps, about a minute
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import secrets
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("RAY_AUTH_TOKEN", secrets.token_hex(32))  # this run's private Ray only

from PIL import Image

from bench.harness import REPO_ROOT, RESULTS, TEST_PHOTO, cpu_model
from deepdream.batch import ModelChoice, plan_batch, run_batch
from deepdream.config import PRESETS

PHOTO = TEST_PHOTO


@dataclass(frozen=True)
class Scale:
    label: str
    photos: int
    side: int
    changes: tuple[tuple[str, int], ...]  # applied to the classic preset


FULL = Scale("full", 20, 512, ())
QUICK = Scale("quick", 3, 96, (("steps_per_octave", 2), ("octaves", 1), ("max_side", 96)))
MODEL = ModelChoice("inception_v3", "random", "auto")


def make_photos(folder: Path, scale: Scale) -> None:
    """``scale.photos`` different photos of ``scale.side`` px: crops, flips and turns of the
    test photo, upscaled (Lanczos) to the size."""
    folder.mkdir(parents=True)
    base = Image.open(PHOTO).convert("RGB")
    for index in range(scale.photos):
        crop = 160 + (index % 5) * 20
        left, top = (index * 7) % (256 - crop + 1), (index * 13) % (256 - crop + 1)
        tile = base.crop((left, top, left + crop, top + crop)).rotate(90 * (index % 4))
        if index % 2:
            tile = tile.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        tile.resize((scale.side, scale.side), Image.Resampling.LANCZOS).save(
            folder / f"photo{index:02d}.jpg", quality=92
        )


def timed_batch(source: Path, target: Path, outcomes_for) -> tuple[float, int]:
    """Seconds for the whole batch from the first file submitted, and files dreamed."""
    plan = plan_batch(source, target)
    start = time.perf_counter()
    updates = list(run_batch(plan, outcomes_for(plan.jobs)))
    last = updates[-1]
    seconds = time.perf_counter() - start
    assert last.summary.failed == 0, last.summary.failures
    return seconds, last.summary.dreamed


def in_process(source: Path, target: Path, config) -> dict:
    from deepdream import load_model
    from deepdream.batch import dream_in_process

    start = time.perf_counter()
    model = load_model(MODEL.name, MODEL.weights, MODEL.precision)
    seconds, files = timed_batch(source, target, lambda jobs: dream_in_process(jobs, config, model))
    return {"steady": seconds, "total": time.perf_counter() - start, "files": files}


def on_local_ray(source: Path, target: Path, config, workers: int, threads: int) -> dict:
    """The batch on the running local Ray; "total" includes starting the workers."""
    from deepdream.cluster import WorkerPlan
    from deepdream.cluster.batch import dream_on_ray
    from deepdream.cluster.worker import start_workers, stop_workers

    start = time.perf_counter()
    actors, infos = start_workers(MODEL, WorkerPlan(workers, threads))
    try:
        seconds, files = timed_batch(
            source, target, lambda jobs: dream_on_ray(jobs, config, actors, infos)
        )
    finally:
        stop_workers(actors)
    return {"steady": seconds, "total": time.perf_counter() - start, "files": files}


MEMORY_CHILD = """
import json, sys
import numpy as np
from deepdream.config import PRESETS

def memory():
    fields = dict(line.split(":", 1) for line in open("/proc/self/status"))
    return {k: int(fields[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM")}

photo = np.asarray(np.random.default_rng(0).integers(0, 255, (SIDE, SIDE, 3)), dtype=np.uint8)
config = PRESETS["classic"].replace(**CHANGES)
if MODE == "cluster":
    from deepdream.batch import ModelChoice
    from deepdream.cluster.sessions import ClusterDreams
    pool = ClusterDreams(ADDRESS, ModelChoice("inception_v3", "random"), workers=1)
    for update in pool.dream(photo, config):
        pass
    assert update.result is not None
    pool.close()
else:
    from deepdream import dream
    from deepdream.models.loading import load_model
    dream(photo, config, load_model("inception_v3", "random"))
print("MEMORY " + json.dumps({**memory(), "tensorflow": "tensorflow" in sys.modules}))
"""


def web_process_memory(mode: str, scale: Scale, address: str) -> dict:
    """VmRSS / VmHWM (MiB) of a fresh process that runs one dream ``mode``-style (joining the
    Ray at ``address`` for ``"cluster"``)."""
    code = textwrap.dedent(MEMORY_CHILD).replace("ADDRESS", repr(address))
    code = code.replace("SIDE", str(scale.side)).replace("CHANGES", repr(dict(scale.changes)))
    code = code.replace("MODE", repr(mode))
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
    )
    if done.returncode != 0:
        raise RuntimeError(f"the {mode} memory child failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.split("MEMORY ", 1)[1])


def row(label: str, measured: dict) -> str:
    """One table row: steady and with-start-up images per minute, total seconds."""
    steady = 60 * measured["files"] / measured["steady"]
    total = 60 * measured["files"] / measured["total"]
    line = f"  {label:<34} {steady:>14.1f} {total:>14.1f} {measured['total']:>10.1f}"
    print(line, flush=True)
    return line


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The options: a quick run, and which parts to run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument(
        "--only",
        help="comma-separated parts to run: here (in this process), ray1 (1 worker with every "
        "core), ray2 (2 workers x 1 core), memory [all; --quick: ray2,memory, since ray2 runs "
        "the very code ray1 does, the memory part dreams in a process as here does, and "
        "each costs a TensorFlow start]",
    )
    return parser.parse_args(argv)


def measure(parts: set[str], scale: Scale, config, cores: int) -> tuple[list[str], float, dict]:
    """The images-per-minute rows, the seconds the local Ray took to start, and the web-like
    processes' memory, for the ``parts`` asked for."""
    import ray

    from deepdream.cluster.connection import connect

    rows = []
    with tempfile.TemporaryDirectory() as temp:
        source = Path(temp) / "photos"
        make_photos(source, scale)
        if "here" in parts:
            rows.append(row("in this process", in_process(source, Path(temp) / "out0", config)))
        # One private local Ray for every Ray figure (started after the in-process run, so
        # its idle processes do not share the cores with it).
        started = time.perf_counter()
        connect("local", num_cpus=cores)
        ray_start = time.perf_counter() - started
        address = ray.get_runtime_context().gcs_address
        try:
            for index, (workers, threads) in enumerate([(1, cores), (2, 1)], start=1):
                if f"ray{workers}" not in parts:
                    continue
                label = f"local Ray, {workers} worker{'s' * (workers > 1)} x {threads} thread"
                measured = on_local_ray(
                    source, Path(temp) / f"out{index}", config, workers, threads
                )
                rows.append(row(label + "s" * (threads > 1), measured))
            memory = {
                m: web_process_memory(m, scale, address)
                for m in ("cluster", "in-process")
                if "memory" in parts
            }
        finally:
            ray.shutdown()
    return rows, ray_start, memory


def result_table(rows: list[str], ray_start: float, memory: dict) -> list[str]:
    """The report's two tables: images per minute, and the web-like processes' memory."""
    table = [
        f"  {'where':<34} {'images/min':>14} {'with start-up':>14} {'total s':>10}",
        *rows,
        f"  (starting the local Ray itself took {ray_start:.1f} s more, once)",
        "",
        "== memory of a web-like process running one dream (MiB, from /proc/self/status)",
        f"  {'mode':<34} {'VmRSS':>8} {'VmHWM':>8}  tensorflow imported",
    ]
    for mode, label in [
        ("cluster", "deepdream.cluster, dream on Ray"),
        ("in-process", "TensorFlow + model, dream here"),
    ]:
        if mode in memory:
            m = memory[mode]
            line = f"  {label:<34} {m['VmRSS']:>8.0f} {m['VmHWM']:>8.0f}  {m['tensorflow']}"
            table.append(line)
    if memory:
        ratio = memory["in-process"]["VmHWM"] / memory["cluster"]["VmHWM"]
        table.append(f"  peak ratio in-process / cluster client: {ratio:.1f}x")
    return table


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    default_parts = "ray2,memory" if args.quick else "here,ray1,ray2,memory"
    parts = set((args.only or default_parts).split(","))
    scale = QUICK if args.quick else FULL
    config = PRESETS["classic"].replace(**dict(scale.changes))
    cores = os.cpu_count() or 1
    lines = [
        f"== batch and cluster ({scale.label}): {scale.photos} photos at {scale.side}x"
        f"{scale.side}, classic preset{' (shortened)' if scale.changes else ''}, "
        f"{MODEL.name} (random weights), precision {MODEL.precision}",
        f"  date {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, {cpu_model()}, "
        f"{cores} cores, load average {os.getloadavg()[0]:.2f} (busy machines: slower)",
    ]
    print("\n".join(lines), flush=True)
    table = result_table(*measure(parts, scale, config, cores))
    report = "\n".join([*lines, *table]) + "\n"
    print("\n".join(table))
    folder = RESULTS / ("quick" if args.quick else "")
    folder.mkdir(parents=True, exist_ok=True)
    name = "batch.txt" if args.only is None else "batch-partial.txt"
    (folder / name).write_text(report)
    print(f"wrote {folder / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
