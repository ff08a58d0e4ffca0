"""Feature-visualisation benchmark (issue 30): the Fourier picture with transformation
robustness against raw pixels, at the same number of steps, on channels of mixed3, mixed5 and
mixed7 of Google's whole ImageNet InceptionV3.

What it measures, every figure in the same run (``deepdream.visualise``'s measurements):

1. For each channel, drawn both ways (``pixel`` + no transforms, ``fft`` + the standard
   transforms; same steps, same Adam rate, same seed): the image's high-frequency share (its
   spectral energy above half the Nyquist frequency: grain), and the channel's mean
   activation (after ReLU) on the finished image, plain and "robust" (the mean over
   ``ROBUST_DRAWS`` seeded draws of the standard transforms: what the optimiser of the
   Fourier picture saw, and what a picture that survives a nudge has).
   Goal: at most half the high-frequency share, with at least 0.9x the activation.
2. Diversity: ``BATCH`` versions of the layer's first channel, Fourier, with no diversity
   penalty and with ``explore.DIVERSITY``; their mean pairwise Gram similarity at the layer.
3. With ``--sheet PATH``: one sheet of the same channels both ways and the diverse sets, a
   row each, labelled (``atlas.atlas_sheet``).

Results: a table on stdout; ``--write`` also writes ``bench/results/visualise.txt``
(``--quick``: ``bench/results/quick/visualise.txt``).

Run from the repository root:
    python -m bench.visualise                          # Google's weights, 128 px, 48 steps
    python -m bench.visualise --sheet /tmp/sheet.png --write
    python -m bench.visualise --quick                  # RANDOM weights, tiny: a smoke run
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # must precede the TensorFlow import

import numpy as np

from bench.harness import RESULTS, cpu_model, table

#: The channels measured, per layer (a spread of each layer's channels).
CHANNELS = {"mixed3": (12, 97, 200), "mixed5": (7, 97, 400), "mixed7": (50, 300, 600)}
WAYS = (("pixel", "none"), ("fft", "standard"))
BATCH = 3
ROBUST_DRAWS = 8


def load(quick: bool, weights: str | None):
    """Random InceptionV3 for ``--quick`` (machinery only), else Google's ImageNet one."""
    from deepdream.models.loading import load_model

    if quick:
        return load_model("inception_v3", "random", precision="float32")
    from bench.looks import load_network

    return load_network(weights)


def robust_activation(model, images: np.ndarray, layer: str, channel: int) -> float:
    """The channel's mean activation over ``ROBUST_DRAWS`` seeded standard transforms."""
    from deepdream.models.runtime import start_tensorflow
    from deepdream.transform import apply, standard_transforms
    from deepdream.visualise import layer_activations

    tf = start_tensorflow()
    rng = tf.random.Generator.from_seed(1)
    batch = tf.constant(images.astype(np.float32) / 255.0)
    values = []
    for _ in range(ROBUST_DRAWS):
        seen = apply(standard_transforms(), batch, rng)
        activations = layer_activations(model, [layer], seen)[layer]
        values.append(float(tf.reduce_mean(activations[..., channel])))
    return float(np.mean(values))


def draw(model, layer: str, channels: Sequence[int], way, size: int, steps: int):
    """The channels of ``layer`` drawn one way, in one batched run."""
    from deepdream.feature_objectives import Channel
    from deepdream.visualise import visualise

    objective = sum(Channel(layer, c, member=i) for i, c in enumerate(channels))
    param, transforms = way
    return visualise(
        model,
        objective,
        size=size,
        batch=len(channels),
        steps=steps,
        param=param,
        transforms=transforms,
    )


def measure_ways(model, channels: dict, size: int, steps: int):
    """Rows of table 1 and the drawn pictures, ``{(layer, way): images}``."""
    from deepdream.visualise import activation, high_frequency_share

    rows, pictures = [], {}
    for layer, chosen in channels.items():
        for way in WAYS:
            images = draw(model, layer, chosen, way, size, steps)
            pictures[(layer, way)] = images
            for image, channel in zip(images, chosen):
                one = image[None]
                rows.append(
                    (
                        f"{layer}:{channel}",
                        "+".join(way),
                        f"{high_frequency_share(image):.3f}",
                        f"{activation(one, model, layer, channel):.3g}",
                        f"{robust_activation(model, one, layer, channel):.3g}",
                    )
                )
    return rows, pictures


def ratios(rows) -> list[tuple[str, ...]]:
    """Per channel: Fourier's figures over pixel's (high-frequency share, plain, robust)."""
    by_channel: dict[str, dict[str, tuple[float, ...]]] = {}
    for name, way, *figures in rows:
        by_channel.setdefault(name, {})[way] = tuple(float(f) for f in figures)
    out = []
    for name, ways in by_channel.items():
        pixel, fourier = ways["pixel+none"], ways["fft+standard"]
        out.append((name, *(f"{_ratio(f, p)}" for f, p in zip(fourier, pixel))))
    return out


def _ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}" if abs(base) > 1e-9 else "-"


def measure_diversity(model, channels: dict, size: int, steps: int):
    """Rows of table 2 and the diverse sets, ``{layer: images}``."""
    from deepdream.explore import DIVERSITY
    from deepdream.feature_objectives import Channel, Diversity
    from deepdream.visualise import gram_similarity, visualise

    rows, sets = [], {}
    for layer, chosen in channels.items():
        figures = []
        for weight in (0.0, DIVERSITY):
            objective = Channel(layer, chosen[0])
            if weight:
                objective = objective + Diversity(layer, weight)
            images = visualise(model, objective, size=size, batch=BATCH, steps=steps)
            figures.append(f"{gram_similarity(images, model, layer):.2f}")
            sets[layer] = images
        rows.append((f"{layer}:{chosen[0]}", *figures))
    return rows, sets


def sheet(pictures: dict, sets: dict, size: int) -> np.ndarray:
    """Each layer's channels pixel-drawn, Fourier-drawn, then its diverse set: a row each."""
    from deepdream.atlas import atlas_sheet

    rows = []
    for layer in sets:
        rows.append((f"{layer} px", pictures[(layer, WAYS[0])]))
        rows.append((f"{layer} fft", pictures[(layer, WAYS[1])]))
        rows.append((f"{layer} div", sets[layer]))
    return atlas_sheet(rows, size)


def report(model, size: int, steps: int, ways_rows, diversity_rows, seconds: float) -> str:
    """The results text."""
    from deepdream.explore import DIVERSITY

    today = datetime.date.today().isoformat()
    lines = [
        f"Feature visualisation, {today}, {cpu_model()}",
        f"{model.description}; {size} px, {steps} steps, Adam 0.05, seed 0; {seconds:.0f} s",
        "",
        "1. The same channels drawn both ways (activation after ReLU; robust = mean over "
        f"{ROBUST_DRAWS} standard transforms)",
        *table(("channel", "way", "high-freq share", "activation", "robust act."), ways_rows),
        "",
        "   fft+standard over pixel+none",
        *table(("channel", "high-freq share", "activation", "robust act."), ratios(ways_rows)),
        "",
        f"2. Diversity: mean pairwise Gram similarity of {BATCH} versions (fft+standard)",
        *table(("channel", "no penalty", f"diversity {DIVERSITY:g}"), diversity_rows),
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="random weights, tiny: seconds")
    parser.add_argument("--size", type=int, help="picture side [128; quick 80]")
    parser.add_argument("--steps", type=int, help="steps, both ways [48; quick 2]")
    parser.add_argument("--weights", help="InceptionV3 weights file [Google's import]")
    parser.add_argument("--sheet", type=Path, help="also write the sheet of pictures here")
    parser.add_argument("--write", action="store_true", help="write bench/results/visualise.txt")
    args = parser.parse_args(argv)
    size = args.size or (80 if args.quick else 128)
    steps = args.steps or (2 if args.quick else 48)
    # Quick: one channel of one layer, every measurement on it (the rest is the same code).
    channels = {"mixed5": CHANNELS["mixed5"][:1]} if args.quick else CHANNELS
    model = load(args.quick, args.weights)
    start = time.perf_counter()
    ways_rows, pictures = measure_ways(model, channels, size, steps)
    diversity_rows, sets = measure_diversity(model, channels, size, steps)
    text = report(model, size, steps, ways_rows, diversity_rows, time.perf_counter() - start)
    print(text, end="")
    if args.sheet:
        from deepdream.media.files import write_atomically
        from deepdream.media.image import encode_png

        write_atomically(args.sheet, encode_png(sheet(pictures, sets, size)))
        print(f"wrote {args.sheet}", file=sys.stderr)
    if args.write:
        out = RESULTS / ("quick" if args.quick else "") / "visualise.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
        print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
