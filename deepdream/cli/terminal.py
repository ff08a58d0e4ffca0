"""What the command line's modes (photo, motion, folder) share: exit codes, one-line errors on
stderr, and loading the model with TensorFlow's start-up kept quiet.

Contract:
- ``EXIT_SOME_FAILED`` (1), ``EXIT_BAD_INPUT`` (2), ``EXIT_MODEL`` (3), ``EXIT_INTERRUPTED``
  (130): the codes every mode returns.
- ``CommandExit(error, code)`` stops the command from anywhere in a mode; ``main()``
  (``deepdream.cli``) alone catches it, says ``error: <one line>`` on stderr
  (``say_error``) and exits with its code. Modes return a code only when they ran to the end.
- ``in_option_words(error)`` rewrites a settings error to name the option the user typed
  (``steps_per_octave must be ...`` -> ``--steps must be ...``).
- ``model_or_exit(args)`` starts TensorFlow (quiet unless ``args.verbose``) and loads the model
  the options name, falling back to the offline model only when nothing was named (the notice
  goes to stderr). Returns the ``FeatureModel``; raises ``CommandExit`` (``EXIT_MODEL``).
- ``config_for(config, model)`` moves the settings to the model that was loaded (layers
  translated by depth, the working side by their stride, which a note says) and checks
  that its weights have every layer they read (nsfwjs's InceptionV3 has mixed0-mixed5
  only): the config; raises ``CommandExit`` (``EXIT_BAD_INPUT``) before any file is read
  for dreaming or written.
Only the command line uses this module; it is the one place here that prints.
"""

from __future__ import annotations

import argparse
import sys

EXIT_SOME_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_MODEL = 3
EXIT_INTERRUPTED = 130


#: The option that sets each setting, for messages that name what the user typed.
OPTION_OF_FIELD = {
    "steps_per_octave": "--steps",
    "step_size": "--step-size",
    "octaves": "--octaves",
    "octave_scale": "--octave-scale",
    "max_side": "--max-side",
    "tile_size": "--tile-size",
    "seed": "--seed",
    "guide_strength": "--guide-strength",
    "normalize": "--normalize",
    "param": "--param",
    "transforms": "--transforms",
    "blend": "--blend",
    "carried_steps": "--carried-steps",
    "scene_cut": "--scene-cut",
    "zoom_frames": "--zoom-frames",
    "zoom": "--zoom",
    "rotate": "--rotate",
    "fps": "--fps",
}


def in_option_words(error: ValueError) -> ValueError:
    """``error`` with the setting it names written as the option the user typed
    (``steps_per_octave must be ...`` -> ``--steps must be ...``)."""
    text = str(error)
    for field_name, option in OPTION_OF_FIELD.items():
        if text.startswith(f"{field_name} "):
            return ValueError(option + text[len(field_name) :])
    return error


def say_error(error: BaseException | str) -> None:
    """Say ``error`` in one line on stderr."""
    print(f"error: {error}", file=sys.stderr)


def say_weights_progress(message: str) -> None:
    """A first-use fetch or import of weights, said on stderr as it goes."""
    print(f"weights: {message}", file=sys.stderr, flush=True)


class CommandExit(Exception):
    """Stop the command: ``main()`` says the message in one line and exits with ``code``."""

    def __init__(self, error: BaseException | str, code: int) -> None:
        super().__init__(str(error))
        self.code = code


def model_or_exit(args: argparse.Namespace):
    """The model ``args`` asks for (``--model``, ``--weights``, ``--precision``); see the
    module docstring."""
    from .. import WeightsUnavailableError, load_model_with_fallback
    from ..models.runtime import start_tensorflow

    start_tensorflow(verbose=getattr(args, "verbose", False))
    try:
        model, notice = load_model_with_fallback(
            args.model, args.weights, args.precision, progress=say_weights_progress
        )
    except WeightsUnavailableError as error:
        raise CommandExit(error, EXIT_MODEL) from None
    if notice:
        print(f"note: {notice}", file=sys.stderr)
    return model


def config_for(config, model):
    """``config`` for ``model``; see the module docstring."""
    from ..models.feature_model import layers_not_offered

    try:
        moved = config.with_model(model.name)
    except ValueError as error:  # channels of one network cannot move to the other
        raise CommandExit(error, EXIT_BAD_INPUT) from None
    if missing := model.unoffered(moved.dreamed_layers):
        raise CommandExit(layers_not_offered(model, missing), EXIT_BAD_INPUT)
    if moved.max_side != config.max_side:  # a fallback moved the whole look, its size too
        print(
            f"note: the max working side is {moved.max_side} on this network, not "
            f"{config.max_side}, so that the patterns keep their size on the photo",
            file=sys.stderr,
        )
    return moved
