"""DeepDream Studio's engine: turn a photo into a dream with a Keras network.

Data flows one way: bytes -> ``decode_image`` -> uint8 array -> ``dream_steps`` (the render
loop in ``render.py``, using the model, the gradient step and the octave plan, all set by one
``DreamConfig``) -> ``DreamResult`` -> PNG bytes. This package never imports Streamlit and
never prints; the only files it writes are the ones its caller names (a batch's targets, a
video's target, imported weights in Keras's cache).

This module is the public face: the ~25 names a library user needs (each in the README's
library section). Everything else lives in the engine's rooms (``models``, ``media``,
``motion``, ``serving``, the algorithm's modules; docs/architecture.md), imported from there.
Names that need TensorFlow, PyAV or OpenCV are loaded lazily, on first use, so
``import deepdream`` and the configuration stay cheap (a cluster's web process builds settings
and never imports TensorFlow).
"""

from __future__ import annotations

from .config import DEFAULT_PRESET, MODEL_LAYERS, PRESETS, DreamConfig
from .guide import Guide
from .mask import Mask
from .media.image import ImageDecodeError, decode_image, fit_within
from .models.weights.sources import WeightsUnavailableError


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
    "DreamConfig",
    "PRESETS",
    "DEFAULT_PRESET",
    "MODEL_LAYERS",
    "Guide",
    "Mask",
    "decode_image",
    "ImageDecodeError",
    "fit_within",
    "dream",
    "dream_steps",
    "DreamResult",
    "DreamUpdate",
    "partial_result",
    "load_model",
    "load_model_with_fallback",
    "FeatureModel",
    "WeightsUnavailableError",
    "MotionConfig",
    "MotionUpdate",
    "dream_video",
    "dream_video_frames",
    "zoom_video",
    "VideoDecodeError",
]

# name -> module that defines it; these modules import TensorFlow, or PyAV/OpenCV (``result``
# does not, but is loaded on use like the engine it serves).
_LAZY = {
    "DreamResult": "result",
    "DreamUpdate": "result",
    "partial_result": "result",
    "dream": "render",
    "dream_steps": "render",
    "FeatureModel": "models.feature_model",
    "load_model": "models.loading",
    "load_model_with_fallback": "models.loading",
    "MotionConfig": "motion.config",
    "MotionUpdate": "motion.config",
    "dream_video": "motion.writing",
    "dream_video_frames": "motion.flow",
    "zoom_video": "motion.writing",
    "VideoDecodeError": "media.video",
}


def __getattr__(name: str):
    # TensorFlow takes seconds to import; only pay for it when the engine is used.
    if name in _LAZY:
        import importlib

        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
