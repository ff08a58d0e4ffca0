"""DeepDream Studio's engine: turn a photo into a dream with a Keras network.

Data flows one way: bytes -> ``decode_image`` -> uint8 array -> ``dream_steps`` (the render
loop in ``render.py``, using the model, the gradient step and the octave plan, all set by one
``DreamConfig``) ->
``DreamResult`` -> PNG bytes. This package never imports Streamlit, never prints and never
writes files (the command line writes the file the user named).

This module is the public face: the page, the command line and the benchmarks import from
here. Names that need TensorFlow are loaded lazily, on first use, so ``import deepdream`` and
the configuration stay cheap (a web page can build settings without TensorFlow).
"""

from __future__ import annotations

from .config import (
    DEFAULT_PRESET,
    INCEPTION_V3,
    MODEL_CHANNELS,
    MODEL_LAYERS,
    MODEL_TITLES,
    NORMALIZATIONS,
    PRESETS,
    STARTS,
    VGG16_OFFLINE,
    DreamConfig,
    format_channels,
    parse_channels,
    parse_layers,
)
from .guide import GUIDE_MAX_SIDE, Guide
from .mask import MASK_MAX_SIDE, Mask
from .media.image import (
    ImageDecodeError,
    decode_image,
    encode_png,
    fit_within,
    from_model_range,
    noise_canvas,
    png_text,
    to_model_range,
)
from .models.precision import AUTO, PRECISIONS, resolve_precision
from .models.weights.sources import OFFLINE_ENV, WEIGHTS_ENV, WeightsUnavailableError
from .octaves import octave_shapes, tile_spans, working_shape
from .serving.cache import LruCache
from .serving.slots import DreamSlots, default_limit, shared_slots


def _version() -> str:
    """The version: a checkout's pyproject.toml, else the installed package's metadata."""
    from pathlib import Path

    checkout = Path(__file__).resolve().parent.parent / "pyproject.toml"
    if checkout.is_file():
        import tomllib

        project = tomllib.loads(checkout.read_text()).get("project", {})
        if project.get("name") == "deepdream-studio":
            return project["version"]
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("deepdream-studio")
    except PackageNotFoundError:  # neither installed nor a checkout: a copied folder
        return "0+unknown"


__version__ = _version()

__all__ = [
    "__version__",
    "AUTO",
    "DEFAULT_PRESET",
    "GUIDE_MAX_SIDE",
    "MASK_MAX_SIDE",
    "NORMALIZATIONS",
    "STARTS",
    "INCEPTION_V3",
    "MODEL_CHANNELS",
    "MODEL_LAYERS",
    "MODEL_TITLES",
    "OFFLINE_ENV",
    "PRECISIONS",
    "PRESETS",
    "VGG16_OFFLINE",
    "WEIGHTS_ENV",
    "DreamConfig",
    "DreamResult",
    "DreamSlots",
    "DreamUpdate",
    "FeatureModel",
    "GradientAscentStep",
    "Guide",
    "Mask",
    "ImageDecodeError",
    "LruCache",
    "ModelFacts",
    "MotionConfig",
    "MotionUpdate",
    "VideoDecodeError",
    "VideoWriter",
    "WeightsUnavailableError",
    "auto_precision",
    "cached_steps",
    "channel_sketch",
    "decode_image",
    "default_limit",
    "dream",
    "dream_steps",
    "dream_video",
    "dream_video_frames",
    "encode_png",
    "fit_within",
    "format_channels",
    "from_model_range",
    "gpu_count",
    "load_model",
    "load_model_with_fallback",
    "noise_canvas",
    "objective_weights",
    "octave_shapes",
    "parse_channels",
    "parse_layers",
    "partial_result",
    "png_text",
    "probe_video",
    "random_shift",
    "read_frames",
    "resolve_precision",
    "shared_model",
    "shared_slots",
    "start_tensorflow",
    "step_for",
    "step_for_config",
    "tile_spans",
    "to_model_range",
    "warm_up",
    "working_shape",
    "zoom_frames",
    "zoom_video",
]

# name -> module that defines it; most of these modules import TensorFlow, or PyAV/OpenCV
# (``result`` does not, but is loaded on use like the engine it serves).
_LAZY = {
    "DreamResult": "result",
    "DreamUpdate": "result",
    "ModelFacts": "result",
    "dream": "render",
    "dream_steps": "render",
    "partial_result": "result",
    "warm_up": "render",
    "FeatureModel": "models.feature_model",
    "load_model": "models.feature_model",
    "load_model_with_fallback": "models.feature_model",
    "shared_model": "models.feature_model",
    "GradientAscentStep": "gradients",
    "cached_steps": "gradients",
    "random_shift": "gradients",
    "step_for": "gradients",
    "step_for_config": "gradients",
    "objective_weights": "objectives",
    "channel_sketch": "explore",
    "auto_precision": "models.precision",
    "gpu_count": "models.runtime",
    "MotionConfig": "motion.config",
    "MotionUpdate": "motion.config",
    "dream_video": "motion.writing",
    "dream_video_frames": "motion.flow",
    "zoom_frames": "motion.zoom",
    "zoom_video": "motion.writing",
    "VideoDecodeError": "media.video",
    "VideoWriter": "media.video",
    "probe_video": "media.video",
    "read_frames": "media.video",
    "start_tensorflow": "models.runtime",
}


def __getattr__(name: str):
    # TensorFlow takes seconds to import; only pay for it when the engine is used.
    if name in _LAZY:
        import importlib

        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
