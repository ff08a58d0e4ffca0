"""DeepDream Studio's engine: turn a photo into a dream with a Keras network.

Data flows one way: bytes -> ``image.decode_image`` -> uint8 array -> ``dream_steps`` (using
``model``, ``gradients`` and ``octaves``, all set by one ``DreamConfig``) -> ``DreamResult`` ->
PNG bytes. This package never imports Streamlit, never prints and never writes files.

Modules are imported lazily where they need TensorFlow, so ``deepdream.config`` and
``deepdream.octaves`` stay cheap to import.
"""

from __future__ import annotations

from .config import (
    DEFAULT_PRESET,
    INCEPTION_V3,
    MODEL_LAYERS,
    MODEL_TITLES,
    PRESETS,
    VGG16_OFFLINE,
    DreamConfig,
    parse_layers,
)
from .image import ImageDecodeError, decode_image, encode_png, png_text
from .octaves import octave_shapes, tile_spans, working_shape

__all__ = [
    "DEFAULT_PRESET",
    "INCEPTION_V3",
    "MODEL_LAYERS",
    "MODEL_TITLES",
    "PRESETS",
    "VGG16_OFFLINE",
    "DreamConfig",
    "DreamResult",
    "DreamUpdate",
    "FeatureModel",
    "ImageDecodeError",
    "WeightsUnavailableError",
    "decode_image",
    "dream",
    "dream_steps",
    "encode_png",
    "load_model",
    "load_model_with_fallback",
    "octave_shapes",
    "parse_layers",
    "partial_result",
    "png_text",
    "tile_spans",
    "working_shape",
]

_LAZY = {
    "DreamResult": "dream",
    "DreamUpdate": "dream",
    "dream": "dream",
    "dream_steps": "dream",
    "partial_result": "dream",
    "FeatureModel": "model",
    "WeightsUnavailableError": "model",
    "load_model": "model",
    "load_model_with_fallback": "model",
}


def __getattr__(name: str):
    # TensorFlow takes seconds to import; only pay for it when the engine is used.
    if name in _LAZY:
        import importlib

        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
