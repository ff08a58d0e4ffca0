"""The nsfwjs import: the archive read safely, the decoding proved right by the classifier it
came from, and the layers it really has (mixed0-mixed5) the only ones offered."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
from conftest import PHOTO_KINDS, kind_photo

from deepdream.models.weights.nsfwjs import (
    CLASSES,
    KNOWN_SHA256,
    MODEL_FOLDER,
    WEIGHTS_FILE,
    WEIGHTS_LABEL,
    ImportFailed,
    import_weights,
    keras3_name,
    keras3_weights,
    read_provenance,
)
from deepdream.models.weights.tfjs import TfjsError, js_literal_to_json, read_tfjs_model

IMAGENET = ("mixed0", "mixed1", "mixed2", "mixed3", "mixed4", "mixed5")


@pytest.fixture(scope="module")
def decoded(nsfwjs_tarball):
    return read_tfjs_model(nsfwjs_tarball, MODEL_FOLDER)


def test_minified_literal_becomes_json():
    text = '{a:!0,b:!1,c:.5,d:-.25,e:[1,2e-3],f:null,"g":"x:y"}'
    assert json.loads(js_literal_to_json(text)) == {
        "a": True, "b": False, "c": 0.5, "d": -0.25, "e": [1, 0.002], "f": None, "g": "x:y",
    }  # fmt: skip
    with pytest.raises(TfjsError, match="code"):
        js_literal_to_json("{a:alert}")


def test_keras2_names_map_to_keras3_creation_order():
    assert keras3_name("conv2d_1") == "conv2d"
    assert keras3_name("conv2d_94") == "conv2d_93"
    assert keras3_name("batch_normalization_2") == "batch_normalization_1"
    assert keras3_name("dense_1") == "dense_1"


def test_tarball_decodes_to_the_manifest(decoded):
    assert decoded.weight_bytes == 22_360_869
    assert len(decoded.tensors) == 382
    kernel = decoded.tensors["conv2d_1/kernel"]
    assert kernel.shape == (3, 3, 3, 32) and kernel.dtype == np.float32
    # 8-bit: at most 256 distinct values per tensor.
    assert len(np.unique(kernel)) <= 256


def test_import_writes_weights_and_provenance(nsfwjs_tarball, tmp_path):
    report = import_weights(nsfwjs_tarball, keras_home=tmp_path)
    assert report.weights_file == tmp_path / "models" / WEIGHTS_FILE
    assert report.known and report.sha256 == KNOWN_SHA256
    assert report.imagenet_layers == IMAGENET
    assert report.retrained_layers == ("mixed6", "mixed7", "mixed8", "mixed9", "mixed10")
    record = json.loads(report.provenance_file.read_text())
    assert record == read_provenance(report.weights_file)
    assert record["package"] == "nsfwjs" and record["version"] == "4.4.0"
    assert record["tarball_sha256"] == KNOWN_SHA256 and record["imagenet_layers"] == list(IMAGENET)
    # Twice is harmless: the same weights, no stray temporary files.
    first = report.weights_file.stat().st_size
    again = import_weights(nsfwjs_tarball, keras_home=tmp_path)
    assert again.weights_file.stat().st_size == first
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == sorted(
        [WEIGHTS_FILE, report.provenance_file.name]
    )


def test_imported_file_loads_into_keras_exactly(nsfwjs_weights_file, decoded):
    import keras

    from deepdream.models.loading import load_model

    keras.applications.InceptionV3(include_top=False, weights=None)  # moves Keras's name counter
    model = load_model("inception_v3", nsfwjs_weights_file, precision="float32")
    assert model.weights == WEIGHTS_LABEL
    assert model.layers == IMAGENET
    values = keras3_weights(model.backbone, decoded.tensors)
    for name, arrays in values.items():
        for loaded, wanted in zip(model.backbone.get_layer(name).get_weights(), arrays):
            np.testing.assert_array_equal(loaded, wanted)


def _classifier(tensors, mapping=None):
    """nsfwjs's whole network rebuilt in Keras 3 from the decoded tensors (its head as in the
    topology: average pool 8, flatten, dense 256 relu, 128 relu, 5 softmax)."""
    import keras

    base = keras.applications.InceptionV3(
        include_top=False, weights=None, input_shape=(299, 299, 3)
    )
    values = keras3_weights(base, tensors)
    for name, arrays in (mapping(values) if mapping else values).items():
        base.get_layer(name).set_weights(arrays)
    x = keras.layers.Flatten()(keras.layers.AveragePooling2D(8)(base.output))
    head = [
        keras.layers.Dense(256, activation="relu"),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(5, activation="softmax"),
    ]
    for dense in head:
        x = dense(x)
    for index, dense in enumerate(head, start=1):
        dense.set_weights([tensors[f"dense_{index}/kernel"], tensors[f"dense_{index}/bias"]])
    return keras.Model(base.input, x)


def _probabilities(classifier, names) -> np.ndarray:
    from PIL import Image

    batch = np.stack(
        [
            np.asarray(Image.fromarray(kind_photo(n, 512)).resize((299, 299)), np.float32) / 255
            for n in names
        ]
    )  # nsfwjs feeds pixels / 255, not Keras's [-1, 1]
    return classifier.predict(batch, verbose=0)


def _spread(probabilities: np.ndarray) -> float:
    """How much the answer depends on the photo: the largest spread, over the photos, of a
    class's log-probability (a network that does not see the photo answers the same)."""
    return float(np.log(np.clip(probabilities, 1e-7, 1.0)).std(axis=0).max())


def _swap_same_shaped(values):
    """A deliberately wrong mapping: every pair of same-shaped convolutions in mixed0-mixed5
    exchanged (what matching layers by position rather than creation order can do)."""
    convs = sorted((n for n in values if n.startswith("conv2d")), key=lambda n: int(n[7:] or 0))
    wrong = dict(values)
    by_shape: dict = {}
    for name in convs[:50]:
        by_shape.setdefault(values[name][0].shape, []).append(name)
    for names in by_shape.values():
        for a, b in zip(names[::2], names[1::2]):
            wrong[a], wrong[b] = values[b], values[a]
    return wrong


@pytest.mark.slow
def test_whole_network_classifies_real_photos_neutral(decoded):
    photos = (*PHOTO_KINDS, "hubble_deep_field", "camera")
    right = _probabilities(_classifier(decoded.tensors), photos)
    neutral = right[:, CLASSES.index("Neutral")]
    assert neutral.min() > 0.9, dict(zip(photos, neutral))
    # Wrongly mapped, the network no longer sees the photos: its answer barely changes.
    wrong = _probabilities(_classifier(decoded.tensors, _swap_same_shaped), photos)
    assert _spread(right) > 1.0, right
    assert _spread(wrong) < _spread(right) / 4, (right, wrong)


def _tarball(tmp_path: Path, members: dict[str, bytes], links: dict[str, str] = {}) -> Path:  # noqa: B006
    path = tmp_path / "pkg.tgz"
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for name, target in links.items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            archive.addfile(info)
    return path


MODEL_DIR = f"package/{MODEL_FOLDER}"


@pytest.mark.parametrize(
    "members, links, reason",
    [
        ({f"{MODEL_DIR}/model.json": b"{}", "package/../../evil": b"x"}, {}, "outside"),
        ({f"{MODEL_DIR}/model.json": b"{}"}, {f"{MODEL_DIR}/shard": "/etc/passwd"}, "link"),
        ({f"{MODEL_DIR}/model.json": b"x" * (9 * 2**20)}, {}, "larger"),
        ({"package/README.md": b"hello"}, {}, "no TF.js model"),
        ({f"{MODEL_DIR}/model.json": b'{"modelTopology": {}, "weightsManifest": [{"paths": '
          b'["group1-shard1of1"], "weights": [{"name": "a", "shape": [4], "dtype": "float32"}]}]}',
          f"{MODEL_DIR}/group1-shard1of1": b"12345678"}, {}, "manifest needs 16"),
    ],
)  # fmt: skip
def test_hostile_or_wrong_archives_are_refused_and_nothing_written(
    tmp_path, members, links, reason
):
    archive = _tarball(tmp_path, members, links)
    home = tmp_path / "home"
    with pytest.raises(ImportFailed, match=reason):
        import_weights(archive, keras_home=home)
    assert not (home / "models").exists() or not any((home / "models").iterdir())


def test_cli_refuses_a_truncated_tarball_in_one_sentence(nsfwjs_tarball, tmp_path):
    cut = tmp_path / "cut.tgz"
    cut.write_bytes(nsfwjs_tarball.read_bytes()[:3_000_000])
    done = subprocess.run(
        [sys.executable, "-m", "deepdream", "--import-weights", str(cut)],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "KERAS_HOME": str(tmp_path / "home")},
        timeout=300,
    )
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "truncated" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "home" / "models" / WEIGHTS_FILE).exists()


def test_an_unpacked_folder_and_the_plain_tfjs_form_decode_the_same(
    nsfwjs_tarball, tmp_path, decoded
):
    with tarfile.open(nsfwjs_tarball) as archive:
        archive.extractall(tmp_path / "unpacked", filter="data")
    from_folder = read_tfjs_model(tmp_path / "unpacked", MODEL_FOLDER)
    assert from_folder.tensors.keys() == decoded.tensors.keys()
    # The plain form: model.json and binary shards, as TF.js's converter writes them.
    from deepdream.models.weights.tfjs import parse_wrapped_model, unwrap_shard

    folder = tmp_path / "unpacked" / "package" / MODEL_FOLDER
    plain = tmp_path / "plain"
    plain.mkdir()
    description = parse_wrapped_model((folder / "model.min.js").read_text())
    (plain / "model.json").write_text(json.dumps(description))
    for shard in description["weightsManifest"][0]["paths"]:
        (plain / shard).write_bytes(unwrap_shard((folder / f"{shard}.min.js").read_text()))
    from_plain = read_tfjs_model(plain, MODEL_FOLDER)
    for name in ("conv2d_1/kernel", "batch_normalization_94/moving_variance", "dense_3/bias"):
        np.testing.assert_array_equal(from_plain.tensors[name], decoded.tensors[name])


def test_another_tarball_is_said_so_and_recorded(nsfwjs_tarball, tmp_path):
    repacked = tmp_path / "repacked.tgz"
    with tarfile.open(nsfwjs_tarball) as source, tarfile.open(repacked, "w:gz") as target:
        for member in source:
            if member.name.startswith(MODEL_DIR):
                target.addfile(member, source.extractfile(member))
    report = import_weights(repacked, keras_home=tmp_path / "home")
    assert not report.known
    assert read_provenance(report.weights_file)["known_tarball"] is False


# --- honest use ---------------------------------------------------------------------------


def test_deeper_layers_get_a_plain_message(nsfwjs_inception, photo):
    from deepdream import PRESETS, dream_steps

    with pytest.raises(ValueError, match=r"mixed0-mixed5; mixed6, mixed7, mixed8 are not"):
        next(dream_steps(photo, PRESETS["deep"], nsfwjs_inception))
    with pytest.raises(ValueError, match="mixed7 is not among them"):
        nsfwjs_inception.extractor(["mixed3", "mixed7"])


def test_the_record_names_the_source(nsfwjs_inception, photo):
    from deepdream import PRESETS, dream

    config = PRESETS["gentle"].replace(steps_per_octave=1, octaves=1, max_side=128)
    metadata = dream(photo, config, nsfwjs_inception).metadata()
    assert metadata["deepdream.weights"] == WEIGHTS_LABEL
    assert metadata["deepdream.model_description"] == (
        "InceptionV3, ImageNet layers mixed0-mixed5 (8-bit, from nsfwjs 4.4.0)"
    )


def test_the_import_stands_in_before_vgg16(nsfwjs_weights_file, monkeypatch, tmp_path):
    from deepdream.models.loading import load_model_with_fallback

    monkeypatch.delenv("DEEPDREAM_WEIGHTS", raising=False)
    monkeypatch.setenv("DEEPDREAM_OFFLINE", "1")
    monkeypatch.setenv("KERAS_HOME", str(nsfwjs_weights_file.parent.parent))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "no-wheel"))  # no Google import to make
    model, notice = load_model_with_fallback("inception_v3", precision="float32")
    assert model.weights == WEIGHTS_LABEL and model.layers == IMAGENET
    assert "nsfwjs 4.4.0" in notice and "mixed0-mixed5" in notice
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty"))
    model, notice = load_model_with_fallback("inception_v3", precision="float32")
    assert model.name == "vgg16_offline"
    assert "--import-weights" in notice and "npm pack nsfwjs@4.4.0" in notice


def test_a_damaged_import_falls_back_to_vgg16_and_says_so(monkeypatch, tmp_path):
    from deepdream.models.loading import load_model_with_fallback

    (tmp_path / "models").mkdir()
    (tmp_path / "models" / WEIGHTS_FILE).write_bytes(b"not hdf5")
    monkeypatch.delenv("DEEPDREAM_WEIGHTS", raising=False)
    monkeypatch.setenv("DEEPDREAM_OFFLINE", "1")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "no-wheel"))
    model, notice = load_model_with_fallback("inception_v3", precision="float32")
    assert model.name == "vgg16_offline"
    assert "could not be read" in notice and "import it again" in notice


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["photo", "folder", "zoom"])
def test_cli_refuses_the_deep_preset_before_dreaming(
    nsfwjs_weights_file, tmp_path, photo_bytes, monkeypatch, capsys, mode
):
    from deepdream.cli import main

    monkeypatch.delenv("DEEPDREAM_WEIGHTS", raising=False)
    monkeypatch.setenv("DEEPDREAM_OFFLINE", "1")
    monkeypatch.setenv("KERAS_HOME", str(nsfwjs_weights_file.parent.parent))
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "photo.jpg").write_bytes(photo_bytes)
    source, target, extra = {
        "photo": (tmp_path / "in" / "photo.jpg", tmp_path / "out.png", []),
        "folder": (tmp_path / "in", tmp_path / "out", []),
        "zoom": (tmp_path / "in" / "photo.jpg", tmp_path / "out.mp4", ["--zoom-frames", "2"]),
    }[mode]
    code = main([str(source), str(target), "--preset", "deep", "--quiet", *extra])
    said = capsys.readouterr().err
    assert code == 2, said
    assert "mixed0-mixed5" in said and "Traceback" not in said
    assert said.strip().splitlines()[-1].startswith("error: ")
    assert not target.exists()  # nothing written, no folder made
