"""Checking an imported InceptionV3 beyond shapes, with what a trained network carries anyway.

A batch norm's moving mean is the running mean of its convolution's output over the photos the
network was trained on. So on a handful of natural photos, the per-channel mean of each
convolution's output (before its batch norm) should follow that batch norm's moving mean, layer
after layer, when every kernel sits where it belongs. A wrong mapping (kernels of the same
shape swapped) keeps every shape right and breaks this agreement.

Contract:
- ``batch_norm_agreement(model, photos, swap_same_shaped=False, deepest=None)`` runs
  ``model``'s backbone (a ``FeatureModel`` of InceptionV3) on ``photos`` (RGB uint8 arrays,
  each resized to 299x299) and returns one ``LayerAgreement`` per convolution, in creation
  order, up to the block ``deepest`` (``"mixed5"``, say): its block (``"stem"``,
  ``"mixed0"``...), and the Pearson correlation across channels between the convolution's mean
  output and its batch norm's moving mean. With ``swap_same_shaped`` the kernels of
  same-shaped convolutions are first swapped pairwise in a copy (the deliberately wrong
  mapping); ``model`` itself is never changed.
- ``block_medians(rows)`` is each block's median correlation, in network order.
Needs TensorFlow (it runs the network).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: The side photos are resized to: InceptionV3's training size.
SIDE = 299
#: InceptionV3's stem: three convolutions, a pool, two more, a pool; then mixed0.
STEM_CONVS = 5


@dataclass(frozen=True)
class LayerAgreement:
    """One convolution: where it sits, and how well its outputs follow its batch norm."""

    conv: str
    block: str
    correlation: float


def _blocks(backbone) -> dict[str, str]:
    """Each convolution's block: ``stem`` for the first five, else the first ``mixedN``
    concatenation after it in graph order."""
    from .weights_file import creation_order

    stem = {conv.name for conv in creation_order(backbone.layers, "conv2d")[:STEM_CONVS]}
    owner: dict[str, str] = {}
    waiting: list[str] = []
    for layer in backbone.layers:
        if layer.__class__.__name__ == "Conv2D":
            waiting.append(layer.name)
        elif re.fullmatch(r"mixed\d+", layer.name):
            owner.update({name: "stem" if name in stem else layer.name for name in waiting})
            waiting = []
    return owner


def _pairs(backbone) -> list[tuple[object, object]]:
    from .weights_file import creation_order

    convs = creation_order(backbone.layers, "conv2d")
    norms = creation_order(backbone.layers, "batch_normalization")
    return list(zip(convs, norms))


def _swapped_copy(backbone):
    """A copy of ``backbone`` with same-shaped kernels swapped pairwise."""
    import keras

    copy = keras.models.clone_model(backbone)
    copy.set_weights(backbone.get_weights())
    groups: dict[tuple, list] = {}
    for conv, _ in _pairs(copy):
        groups.setdefault(tuple(conv.kernel.shape), []).append(conv)
    for convs in groups.values():
        for first, second in zip(convs[0::2], convs[1::2]):
            a, b = first.kernel.numpy(), second.kernel.numpy()
            first.kernel.assign(b)
            second.kernel.assign(a)
    return copy


def _prepared(photos: Sequence[np.ndarray]) -> np.ndarray:
    from PIL import Image

    batch = [
        np.asarray(Image.fromarray(photo).convert("RGB").resize((SIDE, SIDE), Image.BICUBIC))
        for photo in photos
    ]
    return np.stack(batch).astype(np.float32) / 127.5 - 1.0  # the models' [-1, 1]


def batch_norm_agreement(
    model, photos: Sequence[np.ndarray], swap_same_shaped: bool = False, deepest: str | None = None
) -> list[LayerAgreement]:
    """Per convolution, its outputs' agreement with its batch norm (see the module docstring)."""
    import keras

    backbone = _swapped_copy(model.backbone) if swap_same_shaped else model.backbone
    blocks = _blocks(backbone)
    pairs = _pairs(backbone)
    if deepest is not None:
        order = ["stem"] + [f"mixed{i}" for i in range(11)]
        allowed = set(order[: order.index(deepest) + 1])
        pairs = [(conv, norm) for conv, norm in pairs if blocks[conv.name] in allowed]
    probe = keras.Model(backbone.input, [conv.output for conv, _ in pairs])
    inputs = model.preprocess(keras.ops.convert_to_tensor(_prepared(photos)))
    means = [np.zeros(conv.kernel.shape[-1]) for conv, _ in pairs]
    for index in range(len(photos)):  # one photo at a time: 94 full-size outputs are large
        outputs = probe(inputs[index : index + 1], training=False)
        for total, output in zip(means, outputs):
            total += np.asarray(output, dtype=np.float64).mean(axis=(0, 1, 2)) / len(photos)
    rows = []
    for (conv, norm), mean in zip(pairs, means):
        moving = np.asarray(norm.moving_mean, dtype=np.float64)
        rows.append(LayerAgreement(conv.name, blocks[conv.name], _pearson(mean, moving)))
    return rows


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    if a.std() == 0 or b.std() == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def block_medians(rows: Sequence[LayerAgreement]) -> dict[str, float]:
    """Each block's median correlation, shallow to deep."""
    blocks: dict[str, list[float]] = {}
    for row in rows:
        blocks.setdefault(row.block, []).append(row.correlation)
    return {block: float(np.median(values)) for block, values in blocks.items()}
