import keras
import numpy as np
import pytest
import tensorflow as tf

from deepdream import DreamConfig, dream, load_model
from deepdream.models.folding import conv_bn_pairs, inference_model

DEEP_LAYERS = ("mixed3", "mixed5", "mixed10")


def _batch_norms(model) -> list:
    return [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]


@pytest.fixture(scope="module")
def inception_with_statistics(photo):
    """A fresh random InceptionV3 whose batch norms hold non-trivial statistics (fresh ones are
    mean 0, variance 1, offset 0: folding those would prove nothing): random offsets, and
    moving means and variances taken from the photo's activations, as training leaves them,
    so activations and gradients are well scaled through the whole network."""
    keras.utils.set_random_seed(13)
    backbone = keras.applications.InceptionV3(
        include_top=False, weights=None, input_shape=(None, None, 3)
    )
    rng = np.random.default_rng(13)
    for layer in _batch_norms(backbone):
        layer.beta.assign(rng.normal(0.0, 0.3, layer.beta.shape[0]).astype(np.float32))
        layer.momentum = 0.0  # the next training call sets the moving statistics
    crops = np.stack([photo[:128, :128], photo[128:, 128:], photo[64:192, 64:192]])
    backbone(crops.astype(np.float32) / 127.5 - 1.0, training=True)
    return backbone


def _outputs(model, layers, batch):
    extractor = keras.Model(model.input, [model.get_layer(name).output for name in layers])
    return [np.asarray(tf.cast(o, tf.float32)) for o in extractor(batch, training=False)]


def _input_gradient(model, layers, batch) -> np.ndarray:
    """The gradient, with respect to the image, of the layers' summed mean activations."""
    extractor = keras.Model(model.input, [model.get_layer(name).output for name in layers])
    batch = tf.constant(batch)
    with tf.GradientTape() as tape:
        tape.watch(batch)
        outputs = extractor(batch, training=False)
        loss = tf.add_n([tf.reduce_mean(tf.cast(output, tf.float32)) for output in outputs])
    return tape.gradient(loss, batch).numpy()


def _relative_error(expected, actual) -> float:
    return float(np.abs(expected - actual).max() / np.abs(expected).max())


def test_folded_inception_matches_keras_in_float32(inception_with_statistics, photo):
    backbone = inception_with_statistics
    folded = inference_model(backbone)
    assert len(conv_bn_pairs(backbone)) == 94  # every convolution of InceptionV3 has one
    assert _batch_norms(folded) == []
    assert [layer.name for layer in folded.layers] == [layer.name for layer in backbone.layers]
    conv = folded.layers[1]  # the first convolution
    assert conv.use_bias and conv.variable_dtype == "float32"
    batch = photo[None, 40:179, 60:199].astype(np.float32) / 127.5 - 1.0  # 139x139: mixed10 3x3
    expected, actual = _outputs(backbone, DEEP_LAYERS, batch), _outputs(folded, DEEP_LAYERS, batch)
    for layer, want, got in zip(DEEP_LAYERS, expected, actual):
        assert want.shape == got.shape
        assert np.abs(want).max() > 0.1, layer  # the activations are not trivially zero
        # Measured: about 5e-7 of the largest activation (float32 rounding).
        assert _relative_error(want, got) < 1e-3, layer
    gradients = [_input_gradient(model, DEEP_LAYERS[:2], batch) for model in (backbone, folded)]
    apart = np.linalg.norm(gradients[0] - gradients[1]) / np.linalg.norm(gradients[0])
    # Measured 5.5e-3. That is float32's floor for this network, not a folding error: the
    # Keras model's own gradient moves by 3e-3 when the image moves by 1e-7, 9e-3 by 1e-6
    # (ReLUs and max pools near a tie switch). A wrong fold moves it by order 1.
    assert apart < 2e-2


def test_bfloat16_inference_form_stores_bfloat16_weights(inception_with_statistics):
    backbone = inception_with_statistics
    folded = inference_model(backbone, "bfloat16")
    conv = folded.layers[1]
    assert conv.variable_dtype == conv.compute_dtype == "bfloat16"
    assert folded.get_layer("mixed3").compute_dtype == "bfloat16"
    assert folded.input.dtype == "float32"  # the image itself is not rounded by the caller
    batch = np.random.default_rng(1).uniform(-1, 1, (1, 96, 96, 3)).astype(np.float32)
    (want,), (got,) = _outputs(backbone, ["mixed3"], batch), _outputs(folded, ["mixed3"], batch)
    assert _relative_error(want, got) < 0.05  # bfloat16 has 8 bits of mantissa
    # The original is untouched: still float32, still with its batch norms.
    assert backbone.layers[1].variable_dtype == "float32"
    assert len(conv_bn_pairs(backbone)) == 94
    with pytest.raises(ValueError, match="compute_dtype"):
        inference_model(backbone, "float16")


def test_vgg16_has_nothing_to_fold_and_keeps_its_outputs(offline_vgg):
    backbone = offline_vgg.backbone
    assert conv_bn_pairs(backbone) == []
    assert inference_model(backbone, "float32") is backbone  # nothing to do: the same model
    batch = np.random.default_rng(2).uniform(-100, 100, (1, 64, 64, 3)).astype(np.float32)
    as_bfloat16 = inference_model(backbone, "bfloat16")
    assert as_bfloat16.get_layer("block1_conv1").variable_dtype == "bfloat16"
    with_mixed_policy = load_model("vgg16_offline", precision="bfloat16").backbone
    layers = ["block3_conv3", "block5_conv3"]
    for want, got in zip(
        _outputs(with_mixed_policy, layers, batch), _outputs(as_bfloat16, layers, batch)
    ):
        # Keras's mixed policy rounds the same float32 weights to bfloat16 on every call.
        assert _relative_error(want, got) < 1e-2


def test_bfloat16_engine_models_dream_with_the_inference_form(random_inception, offline_vgg):
    model = load_model("inception_v3", "random", precision="bfloat16")
    extractor = model.extractor(["mixed3", "mixed5"])
    assert _batch_norms(extractor) == []
    assert [o.shape[-1] for o in extractor.outputs] == [768, 768]
    assert _batch_norms(model.backbone)  # the model as loaded, for its weights
    # float32 extractors are cut from the Keras model itself (folding measured no faster).
    assert random_inception.graph is None and offline_vgg.graph is None
    assert _batch_norms(random_inception.extractor(["mixed3"]))


def test_bfloat16_engine_models_store_bfloat16_weights():
    model = load_model("vgg16_offline", precision="bfloat16")
    assert model.backbone.get_layer("block1_conv1").variable_dtype == "float32"  # as loaded
    extractor = model.extractor(["block3_conv3"])
    assert extractor.get_layer("block1_conv1").variable_dtype == "bfloat16"
    assert extractor.outputs[0].dtype == "bfloat16"


@pytest.mark.slow
def test_bfloat16_dream_looks_like_the_float32_dream(photo):
    """The gradient a bfloat16 dream climbs (weights stored in bfloat16) is the float32 one,
    give or take rounding: the dreams differ far less than either differs from the photo."""
    config = DreamConfig(
        model="vgg16_offline",
        layers=(("block4_conv1", 1.0),),
        steps_per_octave=3,
        octaves=1,
        max_side=96,
    )
    images = {
        precision: dream(photo, config, load_model("vgg16_offline", precision=precision)).image
        for precision in ("float32", "bfloat16")
    }
    changed = np.abs(images["float32"].astype(float) - photo.astype(float)).mean()
    apart = np.abs(images["float32"].astype(float) - images["bfloat16"].astype(float)).mean()
    # Measured 2026-11-26: changed 3.1 grey levels, apart 0.37 (the same as with Keras's
    # mixed_bfloat16 policy: bfloat16 weights stored or cast per call are the same numbers).
    assert changed > 2.0
    assert apart < 1.0
