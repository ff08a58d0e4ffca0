"""What a fresh process pays before its first dream step (issue 29: the first click).

A server's first dream, clicked while the server warms up, waits for this cold path: start
TensorFlow, build the network with its weights, trace the default preset's step, and run it
once (the graph optimised, the kernels made). Each part is mostly one core of Python, so a
second core does not shorten it, and it starts with the server's first page view (a plain
Streamlit script runs nothing before).

Each child process (``--children``, default 3) times, as the page's warm-up does them:
``start_tensorflow()``; the served InceptionV3 (Google's import where it is in Keras's cache,
else random weights; ``--weights``) at the precision ``auto`` picks; the trace of the
default preset's step (``get_concrete_function``: Python building the graph); its first run
on the warm-up canvas (``render.WARM_UP_SHAPE``); and a second run there (what a warm step
costs). The report gives each child's figures, their medians and the cold path's sum.

Run from the repository root:
    python -m bench.startup              # 3 children, about a minute
    python -m bench.startup --quick      # one child, random weights (the test suite's)
Results: stdout and ``bench/results/startup.txt`` (``--quick``: ``bench/results/quick/``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence

from bench.harness import RESULTS, cpu_flags, cpu_model, table, write_report

#: What each child times, in order: (key, column header).
PARTS = (
    ("tensorflow_s", "start TensorFlow s"),
    ("model_s", "build the model s"),
    ("trace_s", "trace the step s"),
    ("first_run_s", "first run s"),
    ("second_run_s", "second run s"),
)
COLD_PATH = ("tensorflow_s", "model_s", "trace_s", "first_run_s")


def child(weights: str) -> dict[str, float | str]:
    """The cold path, timed in this fresh process."""
    clock = time.perf_counter()
    found: dict[str, float | str] = {}

    def lap(key: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        found[key] = now - clock
        clock = now

    from deepdream.models.runtime import start_tensorflow

    tf = start_tensorflow()
    lap("tensorflow_s")
    from deepdream import DEFAULT_PRESET, PRESETS
    from deepdream.gradients import step_for_config
    from deepdream.models.loading import load_model
    from deepdream.objectives import no_guide
    from deepdream.render import WARM_UP_SHAPE

    clock = time.perf_counter()  # the engine's own imports are not TensorFlow's start
    model = load_model("inception_v3", weights, "auto")
    lap("model_s")
    config = PRESETS[DEFAULT_PRESET].with_model(model.name)
    step = step_for_config(model, config)
    arguments = (
        tf.zeros([*WARM_UP_SHAPE, 3]),
        tf.constant([0, 0]),
        tf.constant(config.tile_size),
        step.weights_for(config),
        no_guide(),
        tf.constant(0.0),
        tf.constant(config.step_size),
    )
    clock = time.perf_counter()
    step.__call__.get_concrete_function(*arguments)
    lap("trace_s")
    for key in ("first_run_s", "second_run_s"):
        step(*arguments)[1].numpy()
        lap(key)
    found["weights"] = model.weights
    found["precision"] = model.precision
    return found


def run_child(weights: str) -> dict[str, float | str]:
    """``child`` in a fresh interpreter."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    command = [sys.executable, "-m", "bench.startup", "--child", weights]
    shown = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    if shown.returncode != 0:
        raise RuntimeError(f"the child failed:\n{shown.stderr[-2000:]}")
    return json.loads(shown.stdout.strip().splitlines()[-1])


def default_weights() -> str:
    """Google's import where it is in Keras's cache (what users dream with), else random."""
    from deepdream.models.weights.google_inception import imported_weights_file

    path = imported_weights_file()
    return str(path) if path.is_file() else "random"


def report_lines(runs: Sequence[dict[str, float | str]]) -> list[str]:
    rows = [
        [str(index + 1), *(f"{run[key]:.2f}" for key, _ in PARTS),
         f"{sum(run[key] for key in COLD_PATH):.2f}"]
        for index, run in enumerate(runs)
    ]  # fmt: skip
    medians = {key: statistics.median(run[key] for run in runs) for key, _ in PARTS}
    cold = statistics.median(sum(run[key] for key in COLD_PATH) for run in runs)
    rows.append(["median", *(f"{medians[key]:.2f}" for key, _ in PARTS), f"{cold:.2f}"])
    header = ["child", *(title for _, title in PARTS), "cold path s"]
    return [
        f"  InceptionV3 with {runs[0]['weights']} weights, {runs[0]['precision']}, the default "
        "preset's step on the warm-up canvas",
        *table(header, rows),
        f"  cold path (TensorFlow, model, trace, first run) / a warm step: "
        f"{cold / medians['second_run_s']:.1f}x",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one child, random weights")
    parser.add_argument("--children", type=int, help="fresh processes timed (3; quick: 1)")
    parser.add_argument("--weights", help="random or a weights file [Google's import if there]")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # the weights: time one child
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child)))
        return 0
    weights = args.weights or ("random" if args.quick else default_weights())
    children = args.children or (1 if args.quick else 3)
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    shown = " ".join(argv if argv is not None else sys.argv[1:])
    head = (f"python -m bench.startup {shown}  ({when}, {cpu_model()}, {cpu_flags()}, "
            f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f})")  # fmt: skip
    print(head, flush=True)
    lines = [head, *report_lines([run_child(weights) for _ in range(children)])]
    print("\n".join(lines[1:]))
    write_report(lines, RESULTS / ("quick" if args.quick else "") / "startup.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
