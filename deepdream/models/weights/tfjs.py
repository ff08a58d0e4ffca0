"""Reading a TensorFlow.js *layers* model (topology, weights manifest, weight shards) in place.

Contract:
- ``read_tfjs_model(path, model_folder, limits)`` reads the model kept in ``model_folder``
  (a folder path inside the package, e.g. ``dist/models/inception_v3``) from ``path``: an npm
  tarball (``.tgz``, read in place, never extracted) or an unpacked folder (the package's
  root, the ``package/`` folder above it, or the model folder itself). It returns a
  ``TfjsModel``: the Keras topology (a plain dict), the tensors as float32 numpy arrays by
  their manifest names, and how many weight bytes were read.
- Two forms of the same model are understood: the plain one TF.js writes (``model.json`` and
  binary shards named in the manifest), and the JavaScript-wrapped one that bundlers ship
  (``model.min.js`` holding the JSON as a JavaScript object literal, each shard a
  ``.min.js`` wrapper around one base64 string).
- Quantised tensors (``quantization: {min, scale, dtype: "uint8"}``) are decoded as
  ``min + scale * byte``; float32 tensors are read as they are.
- Every problem is a ``TfjsError`` with one plain sentence: not such a model, a tensor whose
  byte count disagrees with its shape, shards too short or too long, an archive member that
  climbs out of the archive (``../``, an absolute path), a link, or a member or archive larger
  than ``limits`` allow (so a hostile archive cannot make us decompress gigabytes).
Pure Python and numpy; no TensorFlow; nothing is written anywhere.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np

#: Bytes per element of the dtypes a TF.js manifest may name (stored, after quantisation).
_DTYPE_BYTES = {"float32": 4, "int32": 4, "uint8": 1, "uint16": 2, "float16": 2}


class TfjsError(ValueError):
    """The file is not a TF.js layers model we can read; ``str(error)`` says why."""


@dataclass(frozen=True)
class ReadLimits:
    """How large the pieces of an archive may be before it is refused.

    Attributes:
        member_bytes: the largest single file read (topology or one shard).
        archive_bytes: all members of the archive together, read or not.
        members: how many members the archive may have.
    """

    member_bytes: int = 64 * 2**20
    archive_bytes: int = 256 * 2**20
    members: int = 2000


@dataclass(frozen=True)
class TfjsModel:
    """A decoded TF.js layers model.

    Attributes:
        topology: the Keras model description (``modelTopology``) as a dict.
        tensors: manifest name (e.g. ``"conv2d_1/kernel"``) -> float32 array of its shape.
        weight_bytes: the bytes of weight data read, all shards together.
    """

    topology: dict
    tensors: dict[str, np.ndarray]
    weight_bytes: int


# --- the JavaScript object literal of a bundled model.min.js ------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<number>-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
      | (?P<bang>![01])
      | (?P<word>[A-Za-z_$][\w$]*)
      | (?P<punct>[{}\[\]:,])
    )""",
    re.VERBOSE,
)


def js_literal_to_json(text: str) -> str:
    """A minified JavaScript object literal as JSON text.

    Handles what a minifier writes for JSON data: unquoted keys, ``!0``/``!1`` for
    true/false, numbers such as ``.5`` and ``-.5``. Anything else (a function, a variable)
    raises ``TfjsError``.
    """
    out: list[str] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None:
            raise TfjsError(
                f"unexpected text in the model file near {text[position : position + 30]!r}"
            )
        position = match.end()
        kind = match.lastgroup
        value = match.group(kind)
        if kind == "string":
            out.append(value)
        elif kind == "number":
            out.append(repr(float(value)) if ("." in value or "e" in value.lower()) else value)
        elif kind == "bang":
            out.append("true" if value == "!0" else "false")
        elif kind == "word":
            following = text[position:].lstrip()[:1]
            if following == ":":
                out.append(json.dumps(value))
            elif value in ("null", "true", "false"):
                out.append(value)
            else:
                raise TfjsError(f"the model file holds code ({value!r}), not data")
        else:
            out.append(value)
    return "".join(out)


def _balanced_object(text: str, start: int) -> str:
    """The ``{...}`` starting at ``text[start]``, braces counted outside strings."""
    depth, index, in_string = 0, start, False
    while index < len(text):
        char = text[index]
        if in_string:
            if char == "\\":
                index += 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return text[start : index + 1]
        index += 1
    raise TfjsError("the model file ends before its description does (truncated?)")


def parse_wrapped_model(text: str) -> dict:
    """The ``{modelTopology, weightsManifest}`` object inside a bundled ``model.min.js``."""
    found = re.search(r"exports\s*=\s*\{\s*modelTopology\s*:", text)
    if found is None:
        raise TfjsError("it holds no TF.js model description (no modelTopology)")
    start = text.index("{", found.start())
    try:
        return json.loads(js_literal_to_json(_balanced_object(text, start)))
    except json.JSONDecodeError as error:
        raise TfjsError(f"its model description cannot be read ({error.msg})") from None


def unwrap_shard(text: str) -> bytes:
    """The bytes inside a bundled ``groupN-shardKofM.min.js`` (one base64 string)."""
    found = re.search(r'exports\s*=\s*"([A-Za-z0-9+/=\s]*)"', text)
    if found is None:
        raise TfjsError("a weight shard holds no base64 data (truncated or not a shard)")
    try:
        return base64.b64decode(found.group(1), validate=False)
    except (binascii.Error, ValueError):
        raise TfjsError("a weight shard's base64 data is damaged") from None


# --- where the files come from: an archive or a folder -------------------------------------


class _Source:
    """Files of one model folder, by their name inside it."""

    def read(self, name: str) -> bytes | None:  # None: no such file
        raise NotImplementedError


class _FolderSource(_Source):
    def __init__(self, root: Path, model_folder: str, limits: ReadLimits) -> None:
        candidates = [root / model_folder, root / "package" / model_folder, root]
        for folder in candidates:
            if (folder / "model.json").is_file() or (folder / "model.min.js").is_file():
                self.folder = folder
                break
        else:
            raise TfjsError(
                f"the folder holds no TF.js model (looked for model.json or model.min.js in "
                f"{model_folder} and in the folder itself)"
            )
        self.limits = limits

    def read(self, name: str) -> bytes | None:
        path = self.folder / name
        if path.is_symlink():
            raise TfjsError(f"{name} is a link; only plain files are read")
        if not path.is_file():
            return None
        if path.stat().st_size > self.limits.member_bytes:
            raise TfjsError(f"{name} is larger than any file of this model can be")
        return path.read_bytes()


class _ArchiveSource(_Source):
    """An npm tarball read member by member; only the model folder's members are kept."""

    def __init__(self, path: Path, model_folder: str, limits: ReadLimits) -> None:
        self.files: dict[str, bytes] = {}
        wanted = PurePosixPath("package") / model_folder
        total = 0
        try:
            with tarfile.open(path, mode="r:*") as archive:
                for count, member in enumerate(archive, start=1):
                    _check_member(member)
                    total += member.size
                    if count > limits.members or total > limits.archive_bytes:
                        raise TfjsError("the archive is larger than this model's package can be")
                    name = PurePosixPath(member.name.lstrip("./") or ".")
                    if not member.isfile() or name.parent != wanted:
                        continue
                    if member.size > limits.member_bytes:
                        raise TfjsError(f"{name.name} is larger than any file of this model can be")
                    stream = archive.extractfile(member)
                    data = stream.read() if stream is not None else b""
                    if len(data) != member.size:
                        raise TfjsError("the archive is truncated")
                    self.files[name.name] = data
        except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
            reason = "truncated" if isinstance(error, EOFError) else "damaged or not a tarball"
            raise TfjsError(f"the archive is {reason} ({_first_line(error)})") from None
        if "model.json" not in self.files and "model.min.js" not in self.files:
            raise TfjsError(f"the archive has no TF.js model in package/{model_folder}")

    def read(self, name: str) -> bytes | None:
        return self.files.get(name)


def _check_member(member: tarfile.TarInfo) -> None:
    """Refuse a member that climbs out of the archive, is absolute, or is a link."""
    parts = PurePosixPath(member.name).parts
    if member.name.startswith(("/", "\\")) or ".." in parts or "\\" in member.name:
        raise TfjsError(f"the archive has a member outside its folder ({member.name!r})")
    if member.issym() or member.islnk():
        raise TfjsError(f"the archive has a link ({member.name!r}); it is not a plain npm package")
    if not (member.isfile() or member.isdir()):
        raise TfjsError(f"the archive has a special file ({member.name!r})")


def _open_source(path: Path, model_folder: str, limits: ReadLimits) -> _Source:
    if path.is_dir():
        return _FolderSource(path, model_folder, limits)
    if not path.is_file():
        raise TfjsError("there is no such file or folder")
    return _ArchiveSource(path, model_folder, limits)


# --- the model itself -----------------------------------------------------------------------


def _model_description(source: _Source) -> dict:
    plain = source.read("model.json")
    if plain is not None:
        try:
            return json.loads(plain)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise TfjsError("model.json is not valid JSON (truncated?)") from None
    wrapped = source.read("model.min.js")
    try:
        return parse_wrapped_model(wrapped.decode("utf-8"))
    except UnicodeDecodeError:
        raise TfjsError("model.min.js is not text") from None


def _shard_bytes(source: _Source, shard: str) -> bytes:
    plain = source.read(shard)
    if plain is not None:
        return plain
    wrapped = source.read(f"{shard}.min.js")
    if wrapped is None:
        raise TfjsError(f"the weight shard {shard} is missing")
    try:
        return unwrap_shard(wrapped.decode("ascii", errors="strict"))
    except UnicodeDecodeError:
        raise TfjsError(f"the weight shard {shard} is not a text wrapper") from None


def _decode_tensor(entry: dict, data: memoryview) -> np.ndarray:
    shape = tuple(int(side) for side in entry["shape"])
    count = int(np.prod(shape)) if shape else 1
    quantization = entry.get("quantization")
    if quantization:
        stored = quantization["dtype"]
        raw = np.frombuffer(data, dtype=np.dtype(stored), count=count)
        values = quantization["min"] + quantization["scale"] * raw.astype(np.float64)
        return values.astype(np.float32).reshape(shape)
    dtype = np.dtype(entry["dtype"])
    return np.frombuffer(data, dtype=dtype, count=count).astype(np.float32).reshape(shape)


def _entry_bytes(entry: dict) -> int:
    shape = entry.get("shape")
    if not isinstance(shape, list) or not all(isinstance(s, int) and s >= 0 for s in shape):
        raise TfjsError(f"the tensor {entry.get('name')!r} has no valid shape")
    quantization = entry.get("quantization")
    dtype = quantization["dtype"] if quantization else entry.get("dtype")
    if dtype not in _DTYPE_BYTES:
        raise TfjsError(f"the tensor {entry.get('name')!r} has an unknown type {dtype!r}")
    return int(np.prod(shape, dtype=np.int64)) * _DTYPE_BYTES[dtype]


def read_tfjs_model(
    path: str | Path, model_folder: str, limits: ReadLimits | None = None
) -> TfjsModel:
    """Read and decode the TF.js layers model at ``path`` (see the module docstring).

    Raises:
        TfjsError: anything wrong with the file, in one plain sentence.
    """
    limits = limits or ReadLimits()
    source = _open_source(Path(path), model_folder, limits)
    description = _model_description(source)
    topology = description.get("modelTopology")
    manifest = description.get("weightsManifest")
    if not isinstance(topology, dict) or not isinstance(manifest, list):
        raise TfjsError("its description has no model topology or weights manifest")
    tensors: dict[str, np.ndarray] = {}
    read = 0
    for group in manifest:
        data = b"".join(_shard_bytes(source, shard) for shard in group.get("paths", []))
        read += len(data)
        expected = sum(_entry_bytes(entry) for entry in group.get("weights", []))
        if len(data) != expected:
            raise TfjsError(
                f"its weight shards hold {len(data):,} bytes but the manifest needs "
                f"{expected:,} (truncated or mixed files)"
            )
        view, offset = memoryview(data), 0
        for entry in group["weights"]:
            size = _entry_bytes(entry)
            if entry["name"] in tensors:
                raise TfjsError(f"the tensor {entry['name']!r} appears twice in the manifest")
            tensors[entry["name"]] = _decode_tensor(entry, view[offset : offset + size])
            offset += size
    return TfjsModel(topology=topology, tensors=tensors, weight_bytes=read)


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0][:160] if lines else type(error).__name__
