"""Recipes: a dream's settings read back from its record, or from a link. No TensorFlow.

Every dream carries its settings: ``DreamConfig.describe()`` under ``deepdream.*`` keys in a
PNG's text chunks, or in the XMP packet of a JPEG or WebP (``media.image.encode_image``). A page
link carries the same settings, unprefixed, as query parameters.

Contract:
- ``read_recipe(data)`` reads a dream file's bytes; ``recipe_from_record(record)`` a record
  already read; ``recipe_from_link(params)`` a link's query parameters. Each returns a
  ``Recipe``: the ``DreamConfig`` (every setting, seed and network), what the dream was made
  with (weights, precision) and ``problems``: plain sentences for what cannot be restored
  (a guide or a mask is recorded only as a hash of its pixels; a stopped dream's recipe
  dreams to the end). Settings missing from an older record take ``DreamConfig``'s defaults,
  except a dream from noise recorded without ``param``: it was the pixel loop, so it stays one.
- Anything that cannot become a config raises ``RecipeError`` with a sentence saying what
  to do: not a picture, a picture without DeepDream settings, a network this version does
  not know, a setting out of range.
- ``link_settings(config)`` is what a link carries: the settings, never the photo (nor the
  guide's or the mask's pixels: their hashes stay out of links too).
- ``Recipe.differences(weights, precision)`` says, in sentences, how the model at hand
  differs from the one the dream was made with (then the pixels will differ).
The same photo dreamed with a recipe's config on the same weights and precision gives the
very same pixels (the render loop is deterministic for a seed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..config import MODEL_LAYERS, MODEL_TITLES, DreamConfig, parse_channels, parse_layers

PREFIX = "deepdream."


class RecipeError(ValueError):
    """These bytes or parameters hold no settings that can be dreamed with (a plain sentence)."""


@dataclass(frozen=True)
class Recipe:
    """Settings restored from a dream, and what could not be."""

    config: DreamConfig
    weights: str | None = None
    precision: str | None = None
    problems: tuple[str, ...] = ()

    def differences(self, weights: str, precision: str) -> list[str]:
        """How a model with ``weights`` and ``precision`` differs from the recorded one."""
        found = []
        if self.weights and self.weights != weights:
            found.append(
                f"This dream was made with the weights {self.weights!r}; here they are "
                f"{weights!r}, so the same settings give a different picture."
            )
        if self.precision and self.precision != precision:
            found.append(
                f"This dream was computed in {self.precision}; here it runs in {precision}: "
                "the same look, but not the very same pixels (choose the precision to match)."
            )
        return found


#: How each recorded setting becomes a config field (the names ``describe()`` writes).
_NUMBERS = {
    "steps_per_octave": int,
    "octaves": int,
    "tile_size": int,
    "max_side": int,
    "seed": int,
    "step_size": float,
    "octave_scale": float,
    "guide_strength": float,
}
_WORDS = ("normalize", "start", "guide_layer", "param", "transforms")


def read_recipe(data: bytes) -> Recipe:
    """The recipe inside a dream's PNG, JPEG or WebP bytes; see the module docstring."""
    from .image import ImageDecodeError, read_record

    try:
        record = read_record(data)
    except ImageDecodeError as error:  # too large by its header: nothing was decoded
        raise RecipeError(str(error)) from None
    except Exception:  # Pillow's many ways of saying "not an image I can open"
        raise RecipeError(
            "This file is not a picture that can be read; drop a dream saved by DeepDream "
            "Studio (PNG, JPEG or WebP)."
        ) from None
    return recipe_from_record(record)


def recipe_from_record(record: Mapping[str, str]) -> Recipe:
    """The recipe in a record's ``deepdream.*`` keys; see the module docstring."""
    settings = {
        key.removeprefix(PREFIX): value for key, value in record.items() if key.startswith(PREFIX)
    }
    if "model" not in settings:
        raise RecipeError(
            "This picture carries no DeepDream settings. Drop a dream saved by DeepDream "
            "Studio or its command line (PNG, JPEG or WebP, as downloaded: some sites and "
            "editors strip the settings)."
        )
    problems = list(_unrestorable(settings))
    if stopped := settings.get("stopped_after_step"):
        problems.append(
            f"This dream was stopped after step {stopped}; its settings dream all the steps."
        )
    return Recipe(
        config=_config(settings),
        weights=settings.get("weights"),
        precision=settings.get("precision"),
        problems=tuple(problems),
    )


def recipe_from_link(params: Mapping[str, str]) -> Recipe:
    """The recipe in a link's query parameters (``link_settings``'s keys)."""
    if "model" not in params:
        raise RecipeError("This link carries no dream settings.")
    settings = {str(key): str(value) for key, value in params.items()}
    return Recipe(config=_config(settings), problems=tuple(_unrestorable(settings)))


def link_settings(config: DreamConfig) -> dict[str, str]:
    """The settings a link carries: ``describe()`` without the guide's and mask's hashes."""
    return {k: v for k, v in config.describe().items() if k not in ("guide", "mask")}


def _unrestorable(settings: Mapping[str, str]) -> list[str]:
    problems = []
    if settings.get("guide", "none") != "none":
        problems.append(
            "This dream had a guide image, and only a hash of its pixels is recorded: upload "
            "the guide again to dream it the same way."
        )
    if settings.get("mask", "none") != "none":
        problems.append(
            "This dream had a mask, and only a hash of it is recorded: paint or upload the "
            "mask again to dream the same part of the photo."
        )
    return problems


def _config(settings: Mapping[str, str]) -> DreamConfig:
    model = settings["model"]
    if model not in MODEL_LAYERS:
        known = ", ".join(MODEL_TITLES[name] for name in MODEL_LAYERS)
        raise RecipeError(
            f"This dream was made with the network {model!r}, which this version does not "
            f"have (it has {known})."
        )
    fields: dict[str, object] = {"model": model}
    try:
        layers = settings.get("layers", "")
        fields["layers"] = parse_layers(layers) if layers.strip() else ()
        channels = settings.get("channels", "none")
        fields["channels"] = parse_channels(channels) if channels != "none" else ()
        for name, kind in _NUMBERS.items():
            if name in settings:
                fields[name] = kind(settings[name])
        for name in _WORDS:
            if name in settings:
                fields[name] = settings[name]
        if "keep_colors" in settings:
            fields["keep_colors"] = _flag(settings["keep_colors"])
        if fields.get("start") == "noise" and "param" not in settings:
            fields["param"] = "pixel"  # a noise dream recorded before there was a choice
        return DreamConfig(**fields)
    except ValueError as error:
        raise RecipeError(f"The recorded settings cannot be used: {error}") from None


def _flag(text: str) -> bool:
    if text not in ("true", "false"):
        raise ValueError(f"keep_colors must be true or false, not {text!r}.")
    return text == "true"
