"""An atlas of a network: the first channels of every layer it offers, sketched the lucid way
(``explore.channel_sketches``) and laid into one labelled sheet, shallow layers at the top.

Contract:
- ``atlas_layers(model)`` is the layers an atlas draws: the mixed layers the model offers
  (``FeatureModel.layers``; mixed0-mixed10 with Google's whole InceptionV3, mixed0-mixed5 with
  nsfwjs's), or every layer it offers when it has no mixed ones (VGG16), shallow to deep.
- ``atlas_rows(model, channels, side, steps, layers)`` yields ``(layer, sketches)`` one layer
  at a time (one batched run each), for ``layers`` (default: ``atlas_layers(model)``; any the
  model offers, drawn in the order given): the sketches of channels ``0 .. channels - 1``
  (fewer when the layer has fewer), each (side, side, 3) uint8. Stopping iteration stops the
  work.
- ``atlas_sheet(rows, side)`` lays rows into one uint8 RGB sheet: a header with the channel
  numbers, then one row a layer, its name at the left. Pure numpy and Pillow.
- ``build_atlas(model, channels, side, steps, layers)`` is the whole sheet.
Raises ``ValueError`` for fewer than one channel, a side below the network's smallest, no
layers, or a layer the model does not offer (the message names those it does).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw

from .explore import SKETCH_STEPS, channel_sketches

if TYPE_CHECKING:
    from .models.feature_model import FeatureModel

#: Channels a row shows unless asked otherwise, and the side of each sketch.
ATLAS_CHANNELS = 8
ATLAS_SIDE = 96
LABEL_WIDTH = 72
HEADER = 18
GAP = 2
BACKGROUND = (24, 24, 24)
INK = (230, 230, 230)

Row = tuple[str, Sequence[np.ndarray]]


def atlas_layers(model: FeatureModel) -> tuple[str, ...]:
    """The layers an atlas of ``model`` draws unless told (see the module docstring)."""
    return default_atlas_layers(model.layers)


def default_atlas_layers(offered: Sequence[str]) -> tuple[str, ...]:
    """Of the ``offered`` layers, the mixed ones, or all of them when none is mixed (VGG16)."""
    mixed = tuple(layer for layer in offered if layer.startswith("mixed"))
    return mixed or tuple(offered)


def chosen_atlas_layers(model: FeatureModel, layers: Sequence[str] | None) -> tuple[str, ...]:
    """``layers`` checked against what ``model`` offers; ``None`` is the default set."""
    if layers is None:
        return atlas_layers(model)
    if not layers:
        raise ValueError("Choose at least one layer for the atlas.")
    unknown = [layer for layer in layers if layer not in model.layers]
    if unknown:
        raise ValueError(
            f"{', '.join(unknown)}: not a layer this network offers; it offers "
            f"{', '.join(model.layers)}."
        )
    return tuple(layers)


def _channel_count(model: FeatureModel, layer: str) -> int:
    return int(model.extractor([layer]).outputs[0].shape[-1])


def atlas_rows(
    model: FeatureModel,
    channels: int = ATLAS_CHANNELS,
    side: int = ATLAS_SIDE,
    steps: int = SKETCH_STEPS,
    layers: Sequence[str] | None = None,
) -> Iterator[Row]:
    """Each layer's first ``channels`` sketches, one layer (one run) at a time."""
    if channels < 1:
        raise ValueError("An atlas shows at least one channel a layer.")
    if side < model.min_side:
        raise ValueError(
            f"Atlas sketches must be at least {model.min_side} pixels on a side for this "
            f"network; {side} is too small."
        )
    for layer in chosen_atlas_layers(model, layers):
        count = min(channels, _channel_count(model, layer))
        yield layer, channel_sketches(model, layer, range(count), side, steps)


def atlas_sheet(rows: Iterable[Row], side: int) -> np.ndarray:
    """The rows laid into one labelled sheet (uint8 RGB)."""
    rows = list(rows)
    if not rows:
        raise ValueError("An atlas needs at least one row.")
    columns = max(len(sketches) for _, sketches in rows)
    width = LABEL_WIDTH + columns * (side + GAP)
    height = HEADER + len(rows) * (side + GAP)
    sheet = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    for column in range(columns):
        draw.text((LABEL_WIDTH + column * (side + GAP) + 2, 3), str(column), fill=INK)
    for index, (layer, sketches) in enumerate(rows):
        top = HEADER + index * (side + GAP)
        draw.text((4, top + side // 2 - 6), layer, fill=INK)
        for column, sketch in enumerate(sketches):
            left = LABEL_WIDTH + column * (side + GAP)
            sheet.paste(Image.fromarray(np.asarray(sketch)), (left, top))
    return np.asarray(sheet, dtype=np.uint8)


def build_atlas(
    model: FeatureModel,
    channels: int = ATLAS_CHANNELS,
    side: int = ATLAS_SIDE,
    steps: int = SKETCH_STEPS,
    layers: Sequence[str] | None = None,
) -> np.ndarray:
    """The atlas sheet of ``model`` (see the module docstring)."""
    return atlas_sheet(atlas_rows(model, channels, side, steps, layers), side)
