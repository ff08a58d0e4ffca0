"""What preparing a photo's sizes saves its first dream (issue 29, item 1: the first click).

A dream's first run at sizes new to the process makes their kernels. The page prepares them
while the photo is looked at (``deepdream_studio.models.prepare_photo_sizes``, a
one-step-an-octave ``deepdream.render.warm_up`` at the photo's working size). This measures, in one
process, on photo sizes that are each new to it, the page's default dream (the classic
preset) both ways, alternated (cold, prepared, prepared, cold, ...) because this machine's
pace drifts within minutes:

- **cold**: the first dream at a new size, then a second at the same size;
- **prepared**: the preparation (timed apart: the user's looking time pays it), then the
  first dream, then a second.

For each: first / second. Prepared near 1.0 means the click no longer pays for the new
size. The model is loaded and the step traced once before any of it (the server's start-up
warm-up), so only the sizes are new.

Run from the repository root:
    python -m bench.prepare            # 640x427-ish photos, Google's InceptionV3 when imported
    python -m bench.prepare --quick    # tiny photos, random weights (the test suite's)
Results: stdout and ``bench/results/prepare.txt`` (``--quick``: ``bench/results/quick/``).
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import time
from collections.abc import Sequence

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # must precede the TensorFlow import

import numpy as np

from bench.harness import RESULTS, TEST_PHOTO, cpu_flags, cpu_model

#: Full run: the page benchmark's photo size, then other common ones (height, width): each
#: new, and none sharing an octave's size with another.
FULL_SIZES = [
    (427, 640),
    (400, 600),
    (533, 800),
    (384, 512),
    (469, 704),
    (432, 576),
    (512, 768),
    (448, 672),
]
QUICK_SIZES = [(64 - 2 * i, 96 - 3 * i) for i in range(4)]


def photo_of(shape: tuple[int, int]) -> np.ndarray:
    """The test photo resized to ``shape`` (height, width)."""
    from deepdream.media.image import decode_image, resize

    return resize(decode_image(TEST_PHOTO.read_bytes()), shape)


def model_and_config(quick: bool):
    """The model (Google's import where it is there, else random; random for ``quick``) and
    the page's default dream for it (shortened for ``quick``)."""
    from deepdream import DEFAULT_PRESET, PRESETS
    from deepdream.models.loading import load_model, shared_model

    if quick:
        model = load_model("inception_v3", "random", "float32")
    else:
        model, _ = shared_model("inception_v3")
    config = PRESETS[DEFAULT_PRESET].with_model(model.name)
    if quick:
        config = config.replace(steps_per_octave=2, octaves=2)
    return model, config


def timed(work, *args) -> float:
    start = time.perf_counter()
    work(*args)
    return time.perf_counter() - start


def measure(sizes: Sequence[tuple[int, int]], quick: bool) -> tuple[str, dict[str, list]]:
    """Seconds per size, each way alternated: ``{"cold": [(first, second)], "prepared":
    [(preparation, first, second)]}``, and the model's description."""
    from deepdream import dream
    from deepdream.octaves import working_shape
    from deepdream.render import warm_up

    model, config = model_and_config(quick)
    warm_up(model, config)  # the server's start-up warm-up: the step traced once
    found: dict[str, list] = {"cold": [], "prepared": []}
    for index, shape in enumerate(sizes):
        photo = photo_of(shape)
        prepared = index % 4 in (1, 2)  # cold, prepared, prepared, cold, ...
        if prepared:
            size = working_shape(shape, config.max_side)
            preparation = timed(warm_up, model, config, size)
        first = timed(dream, photo, config, model)
        second = timed(dream, photo, config, model)
        if prepared:
            found["prepared"].append((preparation, first, second))
        else:
            found["cold"].append((first, second))
    return model.description, found


def report(description: str, found: dict[str, list], sizes, quick: bool) -> list[str]:
    cold = [first / second for first, second in found["cold"]]
    prepared = [first / second for _, first, second in found["prepared"]]
    lines = [
        f"python -m bench.prepare{' --quick' if quick else ''}  "
        f"({datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, {cpu_model()}, {cpu_flags()}, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f})",
        f"  {description}; the page's default dream; {len(sizes)} photo sizes, each new, "
        f"{sizes[0][1]}x{sizes[0][0]} first",
        "  way       first s  second s  first/second  preparation s",
    ]
    for first, second in found["cold"]:
        lines.append(f"  cold      {first:7.3f}  {second:8.3f}  {first / second:12.2f}")
    for preparation, first, second in found["prepared"]:
        lines.append(
            f"  prepared  {first:7.3f}  {second:8.3f}  {first / second:12.2f}  {preparation:13.3f}"
        )
    lines.append(
        f"  first / second, medians: cold {statistics.median(cold):.2f}, "
        f"prepared {statistics.median(prepared):.2f}"
    )
    return lines


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="tiny photos, random weights")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    description, found = measure(sizes, args.quick)
    lines = report(description, found, sizes, args.quick)
    print("\n".join(lines))
    folder = RESULTS / ("quick" if args.quick else "")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "prepare.txt").write_text("\n".join(lines) + "\n")
    print(f"wrote {folder / 'prepare.txt'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
