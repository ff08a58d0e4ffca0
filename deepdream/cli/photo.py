"""The command line's photo mode: a photo (or ``--from-noise`` noise) to one dreamed picture.

Contract: ``run_photo(args, config, photo)`` checks the output before any work (a plain
sentence, exit 2), loads the model (exit 3 when the named weights fail), dreams with a progress
bar on stderr and writes the PNG, JPEG or WebP the output's suffix names, whole or not at all
(``media.files.write_atomically``), the dream's record inside. ``starting_image(args, config)`` is
the photo the arguments name or the noise canvas of ``--from-noise``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .. import DreamConfig, decode_image
from ..media.files import write_atomically
from ..media.image import DEFAULT_QUALITY, OUTPUT_FORMATS, noise_canvas
from .motion import (
    VIDEO_OUTPUTS,
)
from .terminal import (
    EXIT_BAD_INPUT,
    CommandExit,
    config_for,
    model_or_exit,
)


def picture_size(path: Path) -> tuple[int, int]:
    """(height, width) of the picture at ``path``, read from its header."""
    from PIL import Image

    with Image.open(path) as picture:
        return picture.height, picture.width


def noise_size(text: str) -> tuple[int, int]:
    """``"512x384"`` -> (height, width) = (384, 512).

    Raises:
        ValueError: not WIDTHxHEIGHT, or a side outside 32..4096.
    """
    width, sep, height = text.lower().partition("x")
    if not sep or not width.strip().isdigit() or not height.strip().isdigit():
        raise ValueError(f"--from-noise wants a size like 512x384 (width x height), not {text!r}.")
    height_px, width_px = int(height), int(width)
    noise_canvas(height_px, width_px)  # checks the sides
    return height_px, width_px


def starting_image(args: argparse.Namespace, config: DreamConfig):
    """The photo the arguments name, or the noise canvas of ``--from-noise``."""
    if args.from_noise:
        if args.output.suffix.lower() in VIDEO_OUTPUTS or args.zoom_frames is not None:
            raise ValueError(
                "--from-noise makes a still picture; give a .png, .jpg or .webp output."
            )
        if args.input is not None and str(args.input) != "-":
            raise ValueError(
                "With --from-noise no input file is read: give only the output, "
                "e.g. python -m deepdream --from-noise 512x512 dream.png"
            )
        return noise_canvas(*noise_size(args.from_noise), config.seed)
    no_input = args.input is None or str(args.input) == "-"
    if no_input and args.recipe is not None and config.start == "noise":
        # A noise dream's recipe: its canvas is the noise of the dream's own size and seed.
        return noise_canvas(*picture_size(args.settings_from), config.seed)
    if no_input:
        raise ValueError(
            "Give the photo to dream on and where to write the dream, e.g. "
            "python -m deepdream photo.jpg dream.png (or --from-noise WxH dream.png)."
        )
    return decode_image(args.input.read_bytes())


def run_photo(args: argparse.Namespace, config: DreamConfig, photo) -> int:
    """Dream ``photo`` and write it; see the module docstring."""
    problem = output_problem(args.output, args.quality)
    if problem:  # said before minutes of dreaming, not after
        raise CommandExit(problem, EXIT_BAD_INPUT)

    model = model_or_exit(args)
    config = config_for(config, model)  # the fallback model: same look, its own layers
    if args.recipe is not None:  # the recorded weights or precision are not these
        for difference in args.recipe.differences(model.weights, model.precision):
            print(f"note: {difference}", file=sys.stderr)
    try:
        result = dream_with_progress(photo, config, model, args.quiet)
    except ValueError as error:  # e.g. a channel the layer does not have
        raise CommandExit(error, EXIT_BAD_INPUT) from None
    try:
        quality = DEFAULT_QUALITY if args.quality is None else args.quality
        write_atomically(args.output, result.encode(args.output.suffix, quality))
    except OSError as error:
        raise CommandExit(error, EXIT_BAD_INPUT) from None
    if not args.quiet:
        height, width = result.image.shape[:2]
        print(
            f"wrote {args.output} ({width}x{height}) in {result.elapsed:.1f} s "
            f"with {model.description}",
            file=sys.stderr,
        )
    return 0


def dream_with_progress(photo, config: DreamConfig, model, quiet: bool):
    """Run the dream with a progress bar on stderr; returns its ``DreamResult``."""
    from tqdm import tqdm

    from .. import dream_steps

    with tqdm(total=config.total_steps, disable=quiet, unit="step", file=sys.stderr) as bar:
        for update in dream_steps(photo, config, model):
            bar.total = update.total
            bar.set_postfix_str(f"octave {update.octave}/{update.octaves} loss {update.loss:.3f}")
            bar.update(update.done - bar.n)
    return update.result


def output_problem(path: Path, quality: int | None = None) -> str | None:
    """Why the dream cannot be written at ``path`` (a plain sentence), or None when it can."""
    if path.is_dir():
        return f"The output {path} is a folder; give a file name such as {path / 'dream.png'}."
    suffix = path.suffix.lower()
    if suffix not in OUTPUT_FORMATS:
        return (
            f"A dream is written as PNG, JPEG or WebP (the output's suffix decides: "
            f"{', '.join(OUTPUT_FORMATS)}; videos: .mp4, .gif); {path.name} is none of these."
        )
    if quality is not None and OUTPUT_FORMATS[suffix] == "PNG":
        return "--quality applies to .jpg and .webp outputs; a PNG is always lossless."
    if quality is not None and not 1 <= quality <= 100:
        return f"--quality must be between 1 and 100; got {quality}."
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        return f"The folder {folder} does not exist; create it or choose another output."
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return f"Cannot write {path}: permission denied. Choose a folder you can write to."
    return None
