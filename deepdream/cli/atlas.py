"""Command line: ``python -m deepdream --atlas OUT.png [--atlas-channels K] [--atlas-side PX]
[--atlas-layers L,L]``: the first K channels of every mixed layer of the served network (or of
the layers named) in one labelled sheet (``deepdream.atlas``), shallow layers at the top.

Contract: loads the model as a dream does (``--model``, ``--weights``, ``--precision``; the
fallback's notice on stderr), draws one layer (one batched run) at a time with a progress bar
on stderr, writes OUT atomically (PNG, JPEG or WebP by its suffix; a stopped atlas writes
nothing) and exits 0; a bad option or an output that cannot be written gets one plain sentence
and exit 2, a model that cannot be loaded exit 3.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from ..config import INCEPTION_V3
from ..explore import SKETCH_STEPS
from .options import add_model_arguments
from .photo import output_problem
from .terminal import EXIT_BAD_INPUT, CommandExit, model_or_exit

#: Defaults (``deepdream.atlas``'s, repeated here so the help needs no TensorFlow).
CHANNELS, SIDE = 8, 96


def build_atlas_parser() -> argparse.ArgumentParser:
    """The atlas mode's options."""
    parser = argparse.ArgumentParser(
        prog="python -m deepdream --atlas",
        description="Draw the first channels of every mixed layer of the network (what each "
        "feature detector sees, as a Fourier feature visualisation) into one sheet: a row a "
        "layer, shallow to deep.",
    )
    add_atlas_arguments(parser)
    add_model_arguments(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--verbose", action="store_true", help="also show TensorFlow's start-up messages"
    )
    return parser


def add_atlas_arguments(parser: argparse.ArgumentParser) -> None:
    """What the atlas shows and where it goes."""
    parser.add_argument(
        "--atlas", type=Path, metavar="OUT", required=True, help="the sheet (.png, .jpg, .webp)"
    )
    parser.add_argument(
        "--atlas-channels",
        type=int,
        default=CHANNELS,
        metavar="K",
        help=f"channels a layer (0 to K-1) [{CHANNELS}]",
    )
    parser.add_argument(
        "--atlas-side",
        type=int,
        default=SIDE,
        metavar="PX",
        help=f"side of each sketch in pixels (75 or more on InceptionV3) [{SIDE}]",
    )
    parser.add_argument(
        "--atlas-layers",
        type=_layer_list,
        metavar="L,L",
        help="only these layers, a row each in this order (e.g. mixed3,mixed4,mixed5) "
        "[every mixed layer the network offers]",
    )
    parser.add_argument(
        "--atlas-steps",
        type=int,
        default=SKETCH_STEPS,
        metavar="N",
        help=f"steps each sketch grows for: more = clearer, slower [{SKETCH_STEPS}]",
    )


def _layer_list(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


def run_atlas(argv: Sequence[str]) -> int:
    """Draw and write the atlas; returns the exit code."""
    args = build_atlas_parser().parse_args(argv)
    if problem := output_problem(args.atlas) or _settings_problem(args):
        raise CommandExit(problem, EXIT_BAD_INPUT)
    args.model = args.model or INCEPTION_V3
    model = model_or_exit(args)
    try:
        sheet = _drawn(model, args)
    except ValueError as error:  # a side below the network's smallest, an unknown layer
        raise CommandExit(error, EXIT_BAD_INPUT) from None
    from ..media.files import write_atomically
    from ..media.image import encode_image

    try:
        write_atomically(args.atlas, encode_image(sheet, {}, args.atlas.suffix))
    except OSError as error:
        raise CommandExit(error, EXIT_BAD_INPUT) from None
    if not args.quiet:
        height, width = sheet.shape[:2]
        print(f"wrote {args.atlas} ({width}x{height}) with {model.description}", file=sys.stderr)
    return 0


def _settings_problem(args: argparse.Namespace) -> str | None:
    if args.atlas_channels < 1:
        return "--atlas-channels must be 1 or more."
    if args.atlas_steps < 1:
        return "--atlas-steps must be 1 or more."
    return None


def _drawn(model, args: argparse.Namespace):
    from tqdm import tqdm

    from ..atlas import atlas_rows, atlas_sheet, chosen_atlas_layers

    if not args.verbose:  # every sketch is a fresh trace; TensorFlow's warning says so
        logging.getLogger("tensorflow").setLevel(logging.ERROR)
    rows = []
    layers = chosen_atlas_layers(model, args.atlas_layers)
    drawing = atlas_rows(model, args.atlas_channels, args.atlas_side, args.atlas_steps, layers)
    with tqdm(total=len(layers), disable=args.quiet, unit="layer", file=sys.stderr) as bar:
        for layer, sketches in drawing:
            rows.append((layer, sketches))
            bar.set_postfix_str(layer)
            bar.update(1)
    return atlas_sheet(rows, args.atlas_side)
