"""Speed III (issue 22): where a float32 step's time goes on a CPU, and the process-wide levers.

Each lever is a switch TensorFlow reads once, when it starts (oneDNN, the instruction set
oneDNN may use, the thread pools, XLA), so each one runs in a fresh child process; every child
measures the same things with InceptionV3 (random weights: the same arithmetic as ImageNet's)
in float32 on the classic preset's layers (mixed3, mixed4, mixed5):

1. **The plain convolution** this CPU does: a 3x3 convolution, batch 4, 56x56x192 to 192,
   forward plus the gradient to its input (what a dream's step needs), in GFLOP/s.
2. **The profile of a step**: every convolution the step runs, alone, with the very shapes
   the step feeds it (one 512x384 tile), grouped by the network's blocks (the stem, mixed0 to
   mixed5): seconds, GFLOP and GFLOP/s of each group, and the share of the whole step that
   is convolution; the rest is pooling, concatenation, activations and the step's own work.
3. **The step**: the engine's ``GradientAscentStep`` against the plain Keras step (the model
   called in a ``GradientTape``, ``bench/reference.py``) at 1024x768, and its convolution
   GFLOP/s (the FLOPs of 2. scaled to the size, over the step's time).
4. **The classic preset on a 1024x768 photo**, end to end, warm (the second dream).

Levers (``--levers``): ``default`` (as TensorFlow starts here: oneDNN on by itself only on
CPUs with AVX512); ``onednn`` (``TF_ENABLE_ONEDNN_OPTS=1``); ``onednn-avx2`` (that, oneDNN
limited to AVX2 with ``ONEDNN_MAX_CPU_ISA=AVX2``: what an AVX2 laptop's oneDNN does, measurable
on a larger CPU); ``eigen`` (``TF_ENABLE_ONEDNN_OPTS=0``: TensorFlow's own kernels, what an AVX2
machine runs by default); ``threads`` (intra-op threads = cores, inter-op 1); ``xla`` (XLA
auto-clustering, ``TF_XLA_FLAGS=--tf_xla_auto_jit=2 --tf_xla_cpu_global_jit``).
The machine, its CPU flags and the load are printed first; ratios are against ``default`` and
against the plain Keras step in the same child. Numbers only: the targets are judged by eye in
the report, never in a test.

    python bench/cpu_levers.py                     # every lever, full sizes (~5 min, 2 cores)
    python bench/cpu_levers.py --levers default eigen onednn-avx2
    python bench/cpu_levers.py --quick             # tiny sizes: the test suite's smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.harness import RESULTS, cpu_flags, cpu_model, table  # noqa: E402

LEVERS: dict[str, dict[str, str]] = {
    "default": {},
    "onednn": {"TF_ENABLE_ONEDNN_OPTS": "1"},
    "onednn-avx2": {"TF_ENABLE_ONEDNN_OPTS": "1", "ONEDNN_MAX_CPU_ISA": "AVX2"},
    "eigen": {"TF_ENABLE_ONEDNN_OPTS": "0"},
    "threads": {"DEEPDREAM_LEVER_THREADS": "cores,1"},
    "xla": {"TF_XLA_FLAGS": "--tf_xla_auto_jit=2 --tf_xla_cpu_global_jit"},
}
FULL = {"photo": (768, 1024), "tile": (384, 512), "conv": (4, 56, 56, 192), "repeats": 3}
QUICK = {"photo": (96, 128), "tile": (96, 128), "conv": (1, 14, 14, 32), "repeats": 1}


# --- the child: one lever, every measurement -----------------------------------------------


def _timed(run, repeats: int) -> float:
    """Median seconds of ``run()`` (its result read back), after one untimed call."""
    run()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def plain_conv_gflops(tf, shape: tuple[int, int, int, int], repeats: int) -> float:
    """GFLOP/s of a 3x3 same-padded convolution, forward plus the gradient to its input."""
    batch, height, width, channels = shape
    x = tf.Variable(tf.random.normal(shape))
    kernel = tf.Variable(tf.random.normal([3, 3, channels, channels]) * 0.05)

    @tf.function
    def conv():
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.nn.conv2d(x, kernel, 1, "SAME")
        return tf.reduce_sum(tape.gradient(y, x))

    flops = 2 * 2 * batch * height * width * channels * channels * 9  # forward + input grad
    return flops / _timed(lambda: conv().numpy(), repeats) / 1e9


def conv_flops(layer, x) -> float:
    """FLOPs of one convolution at its input ``x``, forward plus the gradient to the input."""
    kh, kw, cin, cout = layer.kernel.shape
    batch, height, width, _ = x.shape
    sh, sw = layer.strides
    out_h = height // sh if layer.padding == "same" else (height - kh) // sh + 1
    out_w = width // sw if layer.padding == "same" else (width - kw) // sw + 1
    return 2 * 2 * batch * out_h * out_w * cin * cout * kh * kw


def block_of(extractor) -> dict[str, str]:
    """Each convolution's block: ``stem`` up to the stem's last pooling, then ``mixedN`` for
    the convolutions before the concatenation of that name (the network's layer order)."""
    blocks, pending, seen_mixed = {}, [], False
    for layer in extractor.layers:
        kind = layer.__class__.__name__
        if kind == "Conv2D":
            pending.append(layer.name)
        elif kind == "MaxPooling2D" and not seen_mixed:
            blocks.update({name: "stem" for name in pending})
            pending = []
        elif layer.name.startswith("mixed") and layer.name[5:].isdigit():
            blocks.update({name: layer.name for name in pending})
            pending, seen_mixed = [], True
    return blocks


def profile_rows(tf, model, layers, tile, repeats: int) -> tuple[list[dict], float]:
    """Seconds, GFLOP and GFLOP/s of the step's convolutions at one ``tile``, per block."""
    from bench.benchmark import conv_inputs, convolutions_only

    pairs = conv_inputs(model, layers, tile)
    blocks = block_of(model.extractor(layers))
    by_block: dict[str, list] = {}
    for layer, x in pairs:
        by_block.setdefault(blocks.get(layer.name, "other"), []).append((layer, x))
    rows, total_flops = [], 0.0
    for block, group in by_block.items():
        flops = sum(conv_flops(layer, x) for layer, x in group)
        run = convolutions_only(group)
        seconds = _timed(lambda run=run: run().numpy(), repeats)
        rows.append({"block": block, "convs": len(group), "seconds": seconds, "gflop": flops / 1e9})
        total_flops += flops
    return rows, total_flops


def child(plan: dict) -> dict:
    """Every measurement of one lever (run in a fresh process; see the module docstring)."""
    threads = os.environ.get("DEEPDREAM_LEVER_THREADS")
    from deepdream.models.runtime import start_tensorflow

    tf = start_tensorflow()
    if threads:
        intra, inter = threads.split(",")
        tf.config.threading.set_intra_op_parallelism_threads(
            os.cpu_count() if intra == "cores" else int(intra)
        )
        tf.config.threading.set_inter_op_parallelism_threads(int(inter))
    from bench.benchmark import (
        end_to_end_seconds,
        plain_keras_throughput,
        step_and_weights,
        step_throughput,
        warm_up_config,
    )
    from bench.harness import photo_jpeg
    from deepdream import INCEPTION_V3, PRESETS, load_model

    repeats = plan["repeats"]
    model = load_model(INCEPTION_V3, "random", "float32")
    config = PRESETS["classic"].with_model(model.name)
    if plan["quick"]:
        config = config.replace(steps_per_octave=1, octaves=1, max_side=128)
    layers = [name for name, _ in config.layers]
    photo, tile = tuple(plan["photo"]), tuple(plan["tile"])
    report = {"plain_conv_gflops": plain_conv_gflops(tf, tuple(plan["conv"]), repeats)}
    profile, tile_flops = profile_rows(tf, model, layers, tile, repeats)
    report["profile"] = profile
    step, weights = step_and_weights(model, config)
    tile_step = 1.0 / step_throughput(step, weights, tile, repeats) * (tile[0] * tile[1] / 1e6)
    report["tile_step_seconds"] = tile_step
    report["conv_share"] = sum(row["seconds"] for row in profile) / tile_step
    megapixels = photo[0] * photo[1] / 1e6
    ours = step_throughput(step, weights, photo, repeats)
    plain = plain_keras_throughput(model, config, photo, repeats)
    report["step_seconds"] = megapixels / ours
    report["plain_keras_step_seconds"] = megapixels / plain
    # The step's convolution work at the photo's size: the tile's FLOPs per pixel, scaled.
    report["step_conv_gflops"] = (
        tile_flops * (megapixels / (tile[0] * tile[1] / 1e6)) / (megapixels / ours) / 1e9
    )
    warm_up_config(model, config)
    jpeg = photo_jpeg(photo)
    end_to_end_seconds(model, config, jpeg)  # the first dream: kernels for every octave
    report["classic_seconds"] = end_to_end_seconds(model, config, jpeg)
    report["onednn"] = _onednn_state()
    return report


def _onednn_state() -> str:
    """Whether oneDNN's kernels run in this TensorFlow (its own flag, after start-up)."""
    try:
        from tensorflow.python.util import _pywrap_util_port

        return "on" if _pywrap_util_port.IsMklEnabled() else "off"
    except (ImportError, AttributeError):
        return "unknown"


# --- the parent: one child per lever, the report -------------------------------------------


def run_lever(name: str, plan: dict) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **LEVERS[name])
    code = (
        f"import json, sys; sys.path.insert(0, {str(REPO_ROOT)!r}); "
        "from bench.cpu_levers import child; "
        "print('REPORT ' + json.dumps(child(json.loads(sys.argv[1]))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(plan)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if done.returncode != 0 or "REPORT " not in done.stdout:
        raise RuntimeError(f"the {name} child failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.split("REPORT ", 1)[1])


def report_lines(results: dict[str, dict], plan: dict) -> list[str]:
    size = f"{plan['photo'][1]}x{plan['photo'][0]}"
    base = results.get("default") or next(iter(results.values()))
    lines = [
        f"== levers: InceptionV3 (random weights), float32, classic layers, {size}",
        *table(
            [
                "lever",
                "oneDNN",
                "3x3 conv GF/s",
                "step s",
                "plain Keras s",
                "step/plain",
                "step conv GF/s",
                "vs 3x3",
                "classic s",
                "vs default",
            ],
            [
                (
                    name,
                    r["onednn"],
                    f"{r['plain_conv_gflops']:.0f}",
                    f"{r['step_seconds']:.3f}",
                    f"{r['plain_keras_step_seconds']:.3f}",
                    f"{r['plain_keras_step_seconds'] / r['step_seconds']:.2f}x",
                    f"{r['step_conv_gflops']:.0f}",
                    f"{r['step_conv_gflops'] / r['plain_conv_gflops']:.2f}",
                    f"{r['classic_seconds']:.1f}",
                    f"{base['classic_seconds'] / r['classic_seconds']:.2f}x",
                )
                for name, r in results.items()
            ],
        ),  # fmt: skip
    ]
    for name, r in results.items():
        tile = f"{plan['tile'][1]}x{plan['tile'][0]}"
        lines += [
            "",
            f"== profile ({name}): the step's convolutions alone, one {tile} tile, per block; "
            f"convolutions are {r['conv_share']:.0%} of the step ({r['tile_step_seconds']:.3f} s)",
            *table(
                ["block", "convs", "seconds", "GFLOP", "GFLOP/s", "vs 3x3 conv"],
                [
                    (
                        row["block"],
                        row["convs"],
                        f"{row['seconds']:.4f}",
                        f"{row['gflop']:.2f}",
                        f"{row['gflop'] / row['seconds']:.0f}",
                        f"{row['gflop'] / row['seconds'] / r['plain_conv_gflops']:.2f}",
                    )
                    for row in r["profile"]
                ],
            ),
        ]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (the tests' run)")
    parser.add_argument("--levers", nargs="+", choices=list(LEVERS), help="default: all")
    parser.add_argument("--out", type=Path, help="report file (default bench/results/...)")
    args = parser.parse_args(argv)
    plan = {**(QUICK if args.quick else FULL), "quick": args.quick}
    levers = args.levers or (["default", "eigen"] if args.quick else list(LEVERS))
    header = [
        f"date {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {cpu_model()} "
        f"({cpu_flags()}), {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}",
        f"command: python bench/cpu_levers.py {' '.join(argv or sys.argv[1:])}".rstrip(),
    ]
    print("\n".join(header), flush=True)
    results = {}
    for name in levers:
        started = time.perf_counter()
        results[name] = run_lever(name, plan)
        print(f"  {name}: done in {time.perf_counter() - started:.0f} s", flush=True)
    lines = header + [""] + report_lines(results, plan)
    text = "\n".join(lines) + "\n"
    print("\n".join(lines[len(header) :]))
    out = args.out or RESULTS / ("quick" if args.quick else "") / "cpu_levers.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
