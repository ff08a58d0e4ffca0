"""What keeping freed memory in glibc's heap saves a dream (issue 29: speed in every mode).

``deepdream.models.runtime.keep_freed_memory`` runs when TensorFlow starts: large blocks come
from the heap and up to 256 MB of freed memory stays there, instead of every large buffer
being mapped afresh (and every page of it faulted in again) at every step. The setting is
the process's, taken before TensorFlow allocates, so the two ways run in child processes,
alternated (kept, system, system, kept, ...) because this machine's pace drifts within
minutes; ``DEEPDREAM_ALLOCATOR=system`` leaves glibc as it is.

Each child (random-weight InceptionV3, the classic layers, at the precision ``auto`` picks):
the median of timed steps at 1024x768 after two warm ones, the kernel's CPU seconds and the
minor page faults a step, then the classic preset on a 1024x768 photo end to end (JPEG bytes
to PNG bytes), and its peak resident memory. The ratios are system / kept (above 1: keeping
is faster).

Run from the repository root:
    python -m bench.allocator            # 2 children each way, about 4 minutes on 2 cores
    python -m bench.allocator --quick    # tiny sizes, one child each way (the test suite's)
Results: stdout and ``bench/results/allocator.txt`` (``--quick``: ``bench/results/quick/``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence

from bench.harness import RESULTS, cpu_flags, cpu_model, table, write_report

WAYS = {"kept": "", "system": "system"}  # DEEPDREAM_ALLOCATOR in each child
FULL = {"shape": (768, 1024), "steps": 6, "children": 2}
QUICK = {"shape": (96, 128), "steps": 1, "children": 1}


def child(shape: Sequence[int], steps: int) -> dict[str, float]:
    """One way, measured in this process (started with its DEEPDREAM_ALLOCATOR)."""
    from deepdream.models.runtime import start_tensorflow

    tf = start_tensorflow()  # as the engine starts it: the allocator set before TensorFlow
    import numpy as np

    from bench.benchmark import FULL_PLAN, end_to_end_seconds, preset_config
    from bench.harness import astronaut_photo, photo_jpeg
    from deepdream.gradients import random_shift, step_for_config
    from deepdream.media.image import to_model_range
    from deepdream.models.loading import load_model
    from deepdream.objectives import no_guide

    shape = tuple(shape)
    model = load_model("inception_v3", "random", "auto")
    config = preset_config("classic", model.name, FULL_PLAN)
    step = step_for_config(model, config)
    weights, image = step.weights_for(config), tf.constant(to_model_range(astronaut_photo(shape)))
    rng, without_guide = np.random.default_rng(0), (no_guide(), tf.constant(0.0))

    def one_step() -> None:
        shift = random_shift(rng, shape, config.tile_size)
        _, loss = step(image, shift, tf.constant(config.tile_size), weights, *without_guide,
                       tf.constant(config.step_size))  # fmt: skip
        loss.numpy()

    one_step(), one_step()  # traced, and this size's kernels made
    before, seconds = resource.getrusage(resource.RUSAGE_SELF), []
    for _ in range(steps):
        start = time.perf_counter()
        one_step()
        seconds.append(time.perf_counter() - start)
    after = resource.getrusage(resource.RUSAGE_SELF)
    jpeg = photo_jpeg(shape)
    end_to_end_seconds(model, config, jpeg)  # the octaves' own sizes made once
    return {
        "step_s": statistics.median(seconds),
        "kernel_cpu_s": (after.ru_stime - before.ru_stime) / steps,
        "faults": (after.ru_minflt - before.ru_minflt) / steps,
        "classic_s": end_to_end_seconds(model, config, jpeg),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_child(way: str, shape: Sequence[int], steps: int) -> dict[str, float]:
    """``child`` in a fresh process with ``way``'s allocator."""
    env = {**os.environ, "DEEPDREAM_ALLOCATOR": WAYS[way], "TF_CPP_MIN_LOG_LEVEL": "2"}
    command = [sys.executable, "-m", "bench.allocator", "--child", json.dumps([shape, steps])]
    shown = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1200)
    if shown.returncode != 0:
        raise RuntimeError(f"the {way} child failed:\n{shown.stderr[-2000:]}")
    return json.loads(shown.stdout.strip().splitlines()[-1])


def measure(plan: dict) -> list[tuple[str, dict[str, float]]]:
    """Both ways, ``plan["children"]`` children each, in ABBA order."""
    order = []
    for pair in range(plan["children"]):
        order += ["kept", "system"] if pair % 2 == 0 else ["system", "kept"]
    return [(way, run_child(way, plan["shape"], plan["steps"])) for way in order]


def report_lines(runs: Sequence[tuple[str, dict[str, float]]]) -> list[str]:
    rows = [
        (way, f"{r['step_s']:.3f}", f"{r['kernel_cpu_s']:.2f}", f"{r['faults']:.0f}",
         f"{r['classic_s']:.2f}", f"{r['peak_mb']:.0f}")
        for way, r in runs
    ]  # fmt: skip
    header = [
        "allocator",
        "step s",
        "kernel CPU s/step",
        "page faults/step",
        "classic s",
        "peak MB",
    ]
    lines = table(header, rows)

    def median(way: str, key: str) -> float:
        return statistics.median(r[key] for w, r in runs if w == way)

    for key, what in (("step_s", "a step"), ("classic_s", "the classic preset end to end")):
        ratio = median("system", key) / median("kept", key)
        lines.append(f"  {what}, glibc's own / freed memory kept (medians): {ratio:.2f}x")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one child each way")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # [shape, steps]: measure one way
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(*json.loads(args.child))))
        return 0
    plan = QUICK if args.quick else FULL
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    head = (f"python -m bench.allocator{' --quick' if args.quick else ''}  ({when}, "
            f"{cpu_model()}, {cpu_flags()}, {os.cpu_count()} cores; random-weight InceptionV3, "
            f"classic layers, {plan['shape'][1]}x{plan['shape'][0]})")  # fmt: skip
    print(head, flush=True)
    lines = [head, *report_lines(measure(plan))]
    print("\n".join(lines[1:]))
    write_report(lines, RESULTS / ("quick" if args.quick else "") / "allocator.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
