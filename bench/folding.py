"""Speed of the levers of issue 13, each against the plain Keras step, in one process.

Variants of one gradient step (classic layers; 512-pixel tiles), per model and precision:

- ``reference``: ``bench/reference.py``'s tutorial step (the Keras model called inside a
  ``GradientTape``) plus its eager update, on the Keras model as loaded;
- ``keras``: the engine's ``GradientAscentStep`` on the Keras model as loaded (before the levers);
- ``folded``: the same step on the model with its batch norms folded, Keras's dtype policy
  unchanged (lever 1; InceptionV3 only);
- ``dtype``: folded, weights stored in the compute dtype: what the engine ships in bfloat16
  (lever 2a; in float32 the engine ships ``keras``: folding measured no faster there);
- ``constants``: that, with the weights held as graph constants (``ConstantWeights`` below;
  lever 2b). Not shipped: it held about 685 MB more per traced step of a full InceptionV3.
- ``steps4``: the model as the engine ships it, four steps in one graph call (lever 3a: one
  Python call, host round trip and loss read-back per four steps; times are per step);
- ``onetile``: the same, one tile as large as the image instead of 512-pixel tiles (lever 3b:
  the tile layout).

``--look PATH`` writes the float32, bfloat16 (Keras) and bfloat16 (folded) dreams of the test
photo side by side instead (``assets/speed/folding.jpg``).

Rounds run every variant once in turn, so a busy spell on a shared machine hurts all alike;
the table gives the best and the median wall time and CPU seconds per step, and the speed
against ``reference`` (median over median). On a shared machine trust the best-of figures more.

    python bench/folding.py                       # float32, both models, 512x512 and 1024x768
    python bench/folding.py --precision bfloat16 --models inception_v3 --rounds 3
    python bench/folding.py --quick               # smoke run (96x96, one round): for the tests
    python bench/folding.py --variants keras steps4 onetile --models inception_v3
    python bench/folding.py --look assets/speed/folding.jpg
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # must precede the TensorFlow import
REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.harness import TEST_PHOTO, cpu_model  # noqa: E402
from deepdream.models.precision import cpu_bf16_flags  # noqa: E402
from deepdream.models.runtime import start_tensorflow  # noqa: E402

tf = start_tensorflow()

from bench.reference import ReferenceTiledGradients  # noqa: E402
from deepdream import PRESETS, DreamConfig, FeatureModel, GradientAscentStep, load_model  # noqa: E402
from deepdream.models.folding import inference_model  # noqa: E402
from deepdream.objectives import no_guide  # noqa: E402

TILE_SIZE = 512
STEP_SIZE = 0.02
WEIGHTS = {"inception_v3": "random", "vgg16_offline": None}  # ImageNet cannot be downloaded


class ConstantWeights:
    """Lever 2b, kept here as an experiment: a Keras model whose weights enter a traced graph
    as constants (``Const`` nodes, via Keras's ``stateless_call``) instead of variable reads,
    so oneDNN sees constant filters and may keep their re-laid-out copies between calls.
    Eagerly it is the Keras model itself. It has ``outputs`` like the model."""

    def __init__(self, model) -> None:
        self.model = model
        self.outputs = model.outputs
        self._trainable = [variable.numpy() for variable in model.trainable_variables]
        self._non_trainable = [variable.numpy() for variable in model.non_trainable_variables]

    def __call__(self, inputs, training: bool = False):
        if tf.executing_eagerly():
            return self.model(inputs, training=training)
        # A NumPy array made a tensor inside a trace is a Const node of that graph (a tensor
        # made outside would be captured as a placeholder input instead).
        trainable = [tf.constant(value) for value in self._trainable]
        non_trainable = [tf.constant(value) for value in self._non_trainable]
        outputs, _ = self.model.stateless_call(trainable, non_trainable, inputs, training=training)
        return outputs


class ConstantWeightsModel(FeatureModel):
    """A ``FeatureModel`` whose extractors are ``ConstantWeights``."""

    def extractor(self, layers):
        return ConstantWeights(super().extractor(layers))


def variant_models(model: FeatureModel) -> dict[str, FeatureModel]:
    """The model as loaded and its lever variants, as ``FeatureModel``s over other graphs."""

    def like(graph, kind=FeatureModel) -> FeatureModel:
        fields = (model.preprocess, model.min_side, model.precision, graph)
        return kind(model.name, model.weights, model.backbone, *fields)

    variants = {"keras": like(None)}
    if model.name == "inception_v3":
        variants["folded"] = like(inference_model(model.backbone))
    shipped = inference_model(model.backbone, model.precision)
    if model.precision != "float32":  # in float32 it is ``folded`` (or VGG16 as loaded)
        variants["dtype"] = like(shipped)
    variants["constants"] = like(shipped, ConstantWeightsModel)
    return variants


def step_runner(
    model: FeatureModel, layers: list[str], tile_size: int = TILE_SIZE
) -> Callable[[tf.Tensor], tf.Tensor]:
    step = GradientAscentStep(model, layers)
    config = DreamConfig(model=model.name, layers=tuple((layer, 1.0) for layer in layers))
    weights, guide, strength = step.weights_for(config), no_guide(), tf.constant(0.0)
    shift, tile, step_size = tf.constant([3, 5]), tf.constant(tile_size), tf.constant(STEP_SIZE)

    def run(image):
        image, loss = step(image, shift, tile, weights, guide, strength, step_size)
        loss.numpy()
        return image

    return run


def several_steps_runner(
    model: FeatureModel, layers: list[str], steps: int = 4
) -> Callable[[tf.Tensor], tf.Tensor]:
    """Lever 3a: ``steps`` of the engine's steps in ONE graph call (a ``tf.range`` loop around
    the step), so Python, the host round trip and the loss read-back happen once per call."""
    step = GradientAscentStep(model, layers)
    config = DreamConfig(model=model.name, layers=tuple((layer, 1.0) for layer in layers))
    weights, guide, strength = step.weights_for(config), no_guide(), tf.constant(0.0)
    tile, step_size = tf.constant(TILE_SIZE), tf.constant(STEP_SIZE)
    shifts = tf.constant([[3, 5], [-7, 2], [11, -4], [-2, -9]][:steps])

    @tf.function(
        input_signature=(
            tf.TensorSpec([None, None, 3], tf.float32),
            tf.TensorSpec([None, 2], tf.int32),
        )
    )
    def several(image, shifts):
        loss = tf.constant(0.0)
        for index in tf.range(tf.shape(shifts)[0]):
            image, loss = step(image, shifts[index], tile, weights, guide, strength, step_size)
        return image, loss

    def run(image):
        image, loss = several(image, shifts)
        loss.numpy()
        return image

    run.steps = steps
    return run


def reference_runner(model: FeatureModel, layers: list[str]) -> Callable[[tf.Tensor], tf.Tensor]:
    gradients_of = ReferenceTiledGradients(model, layers, [1.0] * len(layers))
    tile = tf.constant(TILE_SIZE)

    def run(image):
        # reference_dream's inner loop: eager update, then a round trip through NumPy.
        image = tf.clip_by_value(image + gradients_of(image, tile) * STEP_SIZE, -1.0, 1.0)
        return tf.convert_to_tensor(image.numpy())

    return run


def measure(name: str, precision: str, shapes, rounds: int, variants=None) -> None:
    model = load_model(name, WEIGHTS[name], precision=precision)
    layers = [layer for layer, _ in PRESETS["classic"].with_model(name).layers]
    runners = {"reference": reference_runner(model, layers)}
    runners.update(
        {label: step_runner(variant, layers) for label, variant in variant_models(model).items()}
    )
    # Lever 3, on the model as the engine ships it at this precision.
    shipped = load_model(name, WEIGHTS[name], precision=precision)
    runners["steps4"] = several_steps_runner(shipped, layers)
    runners["onetile"] = step_runner(shipped, layers, tile_size=max(max(s) for s in shapes))
    if variants:
        runners = {
            label: run for label, run in runners.items() if label in {"reference", *variants}
        }
    for height, width in shapes:
        image = tf.random.stateless_uniform([height, width, 3], [0, 1], -1.0, 1.0)
        for run in runners.values():
            run(image)  # traces (first shape only) and warms oneDNN's caches
        wall = {label: [] for label in runners}
        cpu = {label: [] for label in runners}
        for _ in range(rounds):
            for label, run in runners.items():
                cpu_start, start = time.process_time(), time.perf_counter()
                run(image)
                steps = getattr(run, "steps", 1)  # per step, for runners doing several a call
                wall[label].append((time.perf_counter() - start) / steps)
                cpu[label].append((time.process_time() - cpu_start) / steps)
        reference = statistics.median(wall["reference"])
        for label in runners:
            median = statistics.median(wall[label])
            print(
                f"  {name:13s}  {precision:8s}  {width}x{height:<5d}  {label:9s}  "
                f"{min(wall[label]):6.3f}  {median:6.3f}  {statistics.median(cpu[label]):6.2f}"
                f"  {reference / median:5.2f}x  {min(wall['reference']) / min(wall[label]):5.2f}x",
                flush=True,
            )


bf16_hardware = ", ".join(sorted(cpu_bf16_flags())) or "none (emulated)"


def side_by_side_look(path: Path, max_side: int) -> list[str]:
    """The classic dream of the test photo, InceptionV3 (random weights), three ways side by
    side: float32 as loaded, bfloat16 as loaded (Keras's mixed policy: float32 weights cast
    every call) and bfloat16 as shipped (batch norms folded, weights stored in bfloat16).
    Writes a labelled JPEG to ``path``; returns lines saying how far apart they are."""
    import numpy as np
    from PIL import Image, ImageDraw

    from deepdream import decode_image, dream

    photo = decode_image(TEST_PHOTO.read_bytes())
    config = PRESETS["classic"].replace(max_side=max_side)
    float32 = load_model("inception_v3", "random", precision="float32")
    bfloat16 = load_model("inception_v3", "random", precision="bfloat16")
    variants = variant_models(bfloat16)
    dreams = {
        "float32 (Keras model)": dream(photo, config, variant_models(float32)["keras"]).image,
        "bfloat16 (Keras model)": dream(photo, config, variants["keras"]).image,
        "bfloat16 folded (shipped)": dream(photo, config, variants["dtype"]).image,
    }
    panels = [("photo", photo), *dreams.items()]
    height, width = photo.shape[:2]
    sheet = Image.new("RGB", (width * len(panels), height + 24), "white")
    draw = ImageDraw.Draw(sheet)
    for index, (label, image) in enumerate(panels):
        sheet.paste(Image.fromarray(image), (index * width, 24))
        draw.text((index * width + 6, 6), label, fill="black")
    sheet.save(path, quality=90)
    images = [image.astype(np.float32) for image in dreams.values()]
    added = np.abs(images[0] - photo.astype(np.float32)).mean()
    return [
        f"mean change the float32 dream makes to the photo: {added:.2f} grey levels",
        f"bfloat16 Keras vs float32: {np.abs(images[1] - images[0]).mean():.2f}",
        f"bfloat16 folded vs float32: {np.abs(images[2] - images[0]).mean():.2f}",
        f"bfloat16 folded vs bfloat16 Keras: {np.abs(images[2] - images[1]).mean():.2f}",
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--precision", choices=("float32", "bfloat16"), default="float32")
    parser.add_argument("--models", nargs="+", default=list(WEIGHTS), choices=list(WEIGHTS))
    parser.add_argument("--sizes", nargs="+", default=["512x512", "1024x768"], help="WxH")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--variants", nargs="+", help="only these variants (and reference)")
    parser.add_argument("--quick", action="store_true", help="96x96, one round: a smoke run")
    parser.add_argument("--look", type=Path, help="write the side-by-side dreams here instead")
    parser.add_argument("--look-side", type=int, default=320, help="their working side (320)")
    args = parser.parse_args(argv)
    if args.look:
        print("\n".join(side_by_side_look(args.look, args.look_side)))
        print(f"wrote {args.look}")
        return
    if args.quick:
        args.sizes, args.rounds = ["96x96"], 1
    shapes = [tuple(int(v) for v in size.split("x"))[::-1] for size in args.sizes]
    onednn = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "unset (TensorFlow's default)")
    print(f"cpu: {cpu_model()}, {os.cpu_count()} cores; bfloat16 hardware: {bf16_hardware}")
    print(f"TF_ENABLE_ONEDNN_OPTS={onednn}; load average {os.getloadavg()[0]:.2f}")
    print(f"{args.rounds} rounds; inception_v3 has RANDOM weights (same arithmetic)")
    print(
        "  model          precision size       variant    best s  median s  cpu s"
        "  ref/this (median)  (best)"
    )
    for name in args.models:
        measure(name, args.precision, shapes, args.rounds, args.variants)


if __name__ == "__main__":
    main()
