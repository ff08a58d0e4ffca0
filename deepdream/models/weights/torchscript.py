"""Reading the tensors of a TorchScript archive without torch, and without running anything in it.

A TorchScript file (``torch.jit.save``) is a zip: ``<root>/data.pkl`` pickles the module tree,
each tensor a reference to a storage kept raw in ``<root>/data/<key>``. Unpickling is code
execution (a pickle may ask to call any function it names), so this reader never imports a
name the pickle refers to: every global becomes an inert stand-in class that only records
how it was called, and only a tree of such records is interpreted afterwards.

Contract:
- ``read_torchscript(data, limits)`` takes the archive's bytes (already read, never written to
  disk) and returns a ``TorchScriptModel``: each module's path (``"net.layers.conv"``) with
  the qualified name of its class, and each tensor by its path (``"net.layers.conv.weight"``)
  as a float32 numpy array of its shape, in the order the pickle holds them.
- Only float32 storages in C order are understood (what ``torch.jit.save`` writes for a float
  model). Anything else (another dtype, a tensor that reaches past its storage, a storage of
  the wrong size, a tree deeper or wider than a network, a member or archive beyond
  ``limits``, a cut or damaged zip) is a ``TorchScriptError`` with one plain sentence.
- A pickle that would call ``os.system``, ``builtins.exec`` or anything else runs nothing:
  the call is recorded, not made, and the tree it yields is refused as not a module tree.
Pure Python and numpy; nothing is written anywhere.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from dataclasses import dataclass, field

import numpy as np

from .tfjs import ReadLimits

#: How deep and how large a module tree may be before it is refused (InceptionV3: depth 6,
#: about 1,200 records).
MAX_DEPTH = 32
MAX_RECORDS = 100_000
#: The pickle itself is the module tree's description: kilobytes for a real network.
MAX_PICKLE_BYTES = 4 * 2**20
_REBUILD_TENSOR = "torch._utils._rebuild_tensor_v2"
_FLOAT_STORAGE = "torch.FloatStorage"
#: Where the names a TorchScript pickle may use live: its own module classes, torch's rebuild
#: helpers, and OrderedDict (a tensor's hooks). Anything else in the tree is refused.
_TORCH_NAMESPACES = ("__torch__.", "torch.", "collections.OrderedDict")


class TorchScriptError(ValueError):
    """The archive is not a TorchScript model this reader understands; ``str`` says why."""


@dataclass(frozen=True)
class TorchScriptModel:
    """The module tree of a TorchScript archive, reduced to what a weights import needs.

    Attributes:
        modules: module path -> its class's qualified name
            (``"__torch__.inceptionv3.Conv2dLayer"``), the root as ``""``.
        tensors: tensor path -> float32 array, in the pickle's order.
    """

    modules: dict[str, str] = field(default_factory=dict)
    tensors: dict[str, np.ndarray] = field(default_factory=dict)


class _Record:
    """What a name in the pickle stands for here: a record of how it was used, nothing more."""

    qualname = ""
    args: tuple = ()  # NEWOBJ makes an instance without calling __init__
    state = None

    def __init__(self, *args, **kwargs) -> None:
        self.args = args
        self.kwargs = kwargs

    def __setstate__(self, state) -> None:  # pickle's BUILD: keep the state, run nothing
        self.state = state


@dataclass(frozen=True)
class _StorageRef:
    kind: str  # the storage class's qualified name
    key: str  # the member data/<key>
    numel: int


class _RecordingUnpickler(pickle.Unpickler):
    """Unpickles into records: ``find_class`` never imports, it makes an inert class."""

    def __init__(self, stream) -> None:
        super().__init__(stream)
        self._classes: dict[str, type] = {}

    def find_class(self, module: str, name: str) -> type:
        qualname = f"{module}.{name}"
        if qualname not in self._classes:
            self._classes[qualname] = type("Record", (_Record,), {"qualname": qualname})
        return self._classes[qualname]

    def persistent_load(self, pid):
        # torch.jit.save writes ("storage", storage class, key, location, element count).
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise TorchScriptError("a tensor reference in it is not a storage")
        kind, key, numel = pid[1], pid[2], pid[4]
        if not (isinstance(kind, type) and issubclass(kind, _Record)) or not isinstance(key, str):
            raise TorchScriptError("a storage reference in it is malformed")
        if not isinstance(numel, int) or numel < 0:
            raise TorchScriptError("a storage in it has no valid size")
        return _StorageRef(kind.qualname, key, numel)


def _open_zip(data: bytes, limits: ReadLimits) -> tuple[zipfile.ZipFile, str]:
    """The archive, its members checked against ``limits``, and its root folder."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise TorchScriptError(f"it is not a readable zip archive ({error})") from None
    if len(members) > limits.members:
        raise TorchScriptError(f"it has {len(members)} members, more than a model has")
    if sum(member.file_size for member in members) > limits.archive_bytes:
        raise TorchScriptError("its members add up to more than a model of this kind holds")
    roots = {member.filename.split("/", 1)[0] for member in members}
    pickles = [m.filename for m in members if m.filename.endswith("/data.pkl")]
    if len(roots) != 1 or len(pickles) != 1 or pickles[0] != f"{next(iter(roots))}/data.pkl":
        raise TorchScriptError("it is not a TorchScript archive (no single <root>/data.pkl)")
    return archive, next(iter(roots))


def _read_member(archive: zipfile.ZipFile, name: str, most: int) -> bytes:
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise TorchScriptError(f"it has no member {name}") from None
    if info.file_size > most:
        raise TorchScriptError(f"its member {name} is larger than a model's ({info.file_size:,} B)")
    try:
        with archive.open(info) as stream:
            payload = stream.read(most + 1)
    except (zipfile.BadZipFile, OSError, EOFError, zipfile.LargeZipFile) as error:
        raise TorchScriptError(f"its member {name} cannot be read ({error})") from None
    if len(payload) != info.file_size:
        raise TorchScriptError(f"its member {name} is cut short or damaged")
    return payload


def _unpickle(payload: bytes):
    try:
        return _RecordingUnpickler(io.BytesIO(payload)).load()
    except TorchScriptError:
        raise
    except Exception as error:  # any malformed pickle: truncated, bad opcode, bad memo
        raise TorchScriptError(f"its module description cannot be read ({error})") from None


def _tensor(record: _Record, archive, root: str, limits: ReadLimits, cache: dict) -> np.ndarray:
    """The array a ``_rebuild_tensor_v2(storage, offset, size, stride, ...)`` record names."""
    args = record.args
    if len(args) < 4 or not isinstance(args[0], _StorageRef):
        raise TorchScriptError("a tensor in it is not built from a storage")
    storage, offset, size, stride = args[:4]
    if storage.kind != _FLOAT_STORAGE:
        raise TorchScriptError(f"a tensor in it is {storage.kind}, not float32")
    if not all(isinstance(x, int) and x >= 0 for x in (offset, *size, *stride)):
        raise TorchScriptError("a tensor in it has a malformed shape")
    shape = tuple(size)
    count = int(np.prod(shape, dtype=np.int64))
    expected = tuple(int(np.prod(shape[i + 1 :], dtype=np.int64)) for i in range(len(shape)))
    if count and tuple(s for s, n in zip(stride, shape) if n > 1) != tuple(
        e for e, n in zip(expected, shape) if n > 1
    ):
        raise TorchScriptError("a tensor in it is not stored in C order")
    if offset + count > storage.numel:
        raise TorchScriptError("a tensor in it reaches past the end of its storage")
    if storage.key not in cache:
        raw = _read_member(archive, f"{root}/data/{storage.key}", limits.member_bytes)
        if len(raw) != 4 * storage.numel:
            raise TorchScriptError(
                f"storage {storage.key} holds {len(raw):,} bytes where its "
                f"{storage.numel:,} float32 values need {4 * storage.numel:,}"
            )
        cache[storage.key] = np.frombuffer(raw, dtype="<f4")
    return cache[storage.key][offset : offset + count].astype(np.float32).reshape(shape)


def read_torchscript(data: bytes, limits: ReadLimits | None = None) -> TorchScriptModel:
    """The modules and float32 tensors of a TorchScript archive (see the module docstring).

    Raises:
        TorchScriptError: the archive is damaged, hostile, or not a float TorchScript model.
    """
    limits = limits or ReadLimits()
    archive, root = _open_zip(data, limits)
    tree = _unpickle(_read_member(archive, f"{root}/data.pkl", MAX_PICKLE_BYTES))
    if not isinstance(tree, _Record) or not isinstance(tree.state, dict):
        raise TorchScriptError("its pickle does not describe a module tree")
    model = TorchScriptModel()
    _walk("", tree, 0, _Walk(model, archive, root, limits))
    return model


@dataclass
class _Walk:
    model: TorchScriptModel
    archive: zipfile.ZipFile
    root: str
    limits: ReadLimits
    storages: dict = field(default_factory=dict)
    seen: set = field(default_factory=set)


def _walk(path: str, record: _Record, depth: int, walk: _Walk) -> None:
    """Depth first, fields in the pickle's order: a module's tensors, then its children's."""
    if id(record) in walk.seen or depth > MAX_DEPTH or len(walk.seen) > MAX_RECORDS:
        raise TorchScriptError("its module tree is cyclic or larger than any network's")
    walk.seen.add(id(record))
    walk.model.modules[path] = record.qualname
    for name, value in record.state.items():
        if not isinstance(name, str):
            raise TorchScriptError("its module tree has a field that is not named")
        child = f"{path}.{name}" if path else name
        if not isinstance(value, _Record):
            continue  # plain values: flags, numbers, strings
        if not value.qualname.startswith(_TORCH_NAMESPACES):
            raise TorchScriptError(
                f"its field {child} asks for {value.qualname}, which is not part of a "
                "TorchScript model (the file may be hostile; nothing in it was run)"
            )
        if value.qualname == _REBUILD_TENSOR:
            walk.model.tensors[child] = _tensor(
                value, walk.archive, walk.root, walk.limits, walk.storages
            )
        elif value.qualname.startswith("__torch__.") and isinstance(value.state, dict):
            _walk(child, value, depth + 1, walk)
