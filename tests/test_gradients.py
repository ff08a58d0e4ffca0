import numpy as np
import pytest
import tensorflow as tf

from deepdream.config import DreamConfig
from deepdream.gradients import (
    GradientAscentStep,
    graph_tile_size,
    laplacian_normalize,
    random_shift,
    step_for,
)
from deepdream.media.image import to_model_range
from deepdream.objectives import no_guide
from deepdream.octaves import tile_spans


def _run(step, image, *, shift=(0, 0), tile=512, config=None, step_size=0.02):
    """One unguided step; the objective is every layer of the step, weight 1 (or ``config``)."""
    config = config or DreamConfig(
        model=step.model_name, layers=tuple((layer, 1.0) for layer in step.layers)
    )
    return step(
        tf.constant(image, tf.float32),
        np.array(shift, np.int32),
        tf.constant(tile),
        step.weights_for(config),
        no_guide(),
        tf.constant(0.0),
        tf.constant(step_size),
    )


@pytest.mark.parametrize("length", [1, 7, 75, 511, 512, 513, 1000, 4000])
@pytest.mark.parametrize("tile", [64, 512])
def test_graph_tiles_match_the_pure_tiles(length, tile):
    size = int(graph_tile_size(tf.constant(length), tf.constant(tile)))
    spans = [(start, min(size, length - start)) for start in range(0, length, size)]
    assert spans == tile_spans(length, tile)


def test_random_shift_is_bounded_and_seeded():
    shifts = [random_shift(np.random.default_rng(5), (300, 40), 128) for _ in range(2)]
    assert np.array_equal(*shifts)
    many = np.array([random_shift(np.random.default_rng(s), (300, 40), 128) for s in range(200)])
    assert np.abs(many[:, 0]).max() <= 128 and np.abs(many[:, 1]).max() <= 40
    assert len({tuple(s) for s in many}) > 100


def _pixel_local_model():
    """A stand-in network whose "layer" is each pixel squared: the objective's gradient at a
    pixel depends on that pixel alone, so tiling and rolling must not change it."""
    import keras

    from deepdream.models.feature_model import FeatureModel

    inputs = keras.Input((None, None, 3))
    squared = keras.layers.Lambda(lambda x: x * x, name="mixed3")(inputs)
    backbone = keras.Model(inputs, squared)
    return FeatureModel("inception_v3", "random", backbone, lambda batch: batch, 1)


@pytest.mark.parametrize("shift", [(13, -7), (-40, 55), (95, 1)])
def test_rolled_tiled_gradient_equals_the_whole_image_gradient(shift):
    step = GradientAscentStep(_pixel_local_model(), ["mixed3"])
    image = np.random.default_rng(1).uniform(-0.9, 0.9, (96, 128, 3)).astype(np.float32)
    # One tile, no roll: the plain gradient of the whole image.
    whole, _ = _run(step, image, shift=(0, 0), tile=512, step_size=0.05)
    # 3x4 tiles of 32x32 taken on the rolled image: rolled back and stitched, the same step.
    tiled, _ = _run(step, image, shift=shift, tile=32, step_size=0.05)
    assert not np.allclose(whole.numpy(), image, atol=1e-3)  # the step really moved pixels
    np.testing.assert_allclose(tiled.numpy(), whole.numpy(), atol=2e-4)


def _objective_over_steps(step, image, count):
    losses = []
    for _ in range(count):
        image, loss = _run(step, image)
        losses.append(float(loss))
    return losses, image


def test_objective_rises_after_three_steps_random_inception(random_inception, photo):
    step = step_for(random_inception, ["mixed3", "mixed5"])
    losses, _ = _objective_over_steps(step, to_model_range(photo[:128, :128]), 4)
    assert losses[3] > losses[0] * 1.02


def test_objective_rises_after_three_steps_offline_vgg(offline_vgg, photo):
    step = step_for(offline_vgg, ["block4_conv3"])
    losses, _ = _objective_over_steps(step, to_model_range(photo[:128, :128]), 4)
    assert losses[3] > losses[0] * 1.05


def test_one_trace_serves_every_size_and_tile(random_inception):
    step = GradientAscentStep(random_inception, ["mixed2"])
    rng = np.random.default_rng(0)
    for shape, tile in [
        ((1, 1), 512),
        ((8, 8), 64),
        ((16, 300), 64),
        ((100, 130), 512),
        ((90, 200), 100),
    ]:
        image = rng.uniform(-1, 1, (*shape, 3)).astype(np.float32)
        out, _ = _run(step, image, shift=(1, 2), tile=tile)
        assert out.shape == (*shape, 3)
    assert step.trace_count == 1


def test_step_moves_the_image_within_range_and_touches_every_tile(random_inception):
    step = step_for(random_inception, ["mixed3"])
    # Noise, not a flat image: a flat grey gives a random-weight network no activation at all.
    image = np.random.default_rng(0).uniform(-0.5, 0.5, (150, 170, 3)).astype(np.float32)
    out, _ = _run(step, image, shift=(7, 11), tile=64, step_size=0.1)
    out = out.numpy()
    assert out.min() >= -1.0 and out.max() <= 1.0
    moved = np.abs(out - image).max(axis=2) > 0
    assert out.shape == image.shape
    spans_y, spans_x = tile_spans(150, 64), tile_spans(170, 64)
    for y, h in spans_y:  # tiles are taken on the rolled image, but each region must move
        for x, w in spans_x:
            assert moved[y : y + h, x : x + w].mean() > 0.9
    assert moved[-5:, -5:].all()  # the bottom-right corner the TF tutorial skips


def test_steps_are_shared_per_layer_set_and_bounded(random_inception):
    from deepdream.gradients import CACHED_STEPS, cached_steps

    step = step_for(random_inception, ["mixed5", "mixed3"])
    assert step_for(random_inception, ["mixed3", "mixed5"]) is step
    assert step.layers == ("mixed3", "mixed5")  # network order: weights follow it
    for index in range(CACHED_STEPS + 2):
        normalize = ("std", "laplacian")[index // 11]
        step_for(random_inception, [f"mixed{index % 11}"], normalize=normalize)
    assert len(cached_steps()) == CACHED_STEPS
    assert step not in cached_steps()  # the least recently used went first


def test_one_trace_serves_every_channel_choice_and_weighting(random_inception, photo):
    step = GradientAscentStep(random_inception, ["mixed3", "mixed4"])
    image = to_model_range(photo[:96, :96])
    losses = set()
    for config in [
        DreamConfig(layers=(("mixed3", 1.0), ("mixed4", 2.0))),
        DreamConfig(layers=(), channels=(("mixed4", 3, 1.0),)),
        DreamConfig(layers=(("mixed3", 1.0),), channels=(("mixed4", 700, 0.5),)),
    ]:
        _, loss = _run(step, image, config=config)
        losses.add(round(float(loss), 6))
    assert len(losses) == 3  # each choice is its own objective...
    assert step.trace_count == 1  # ...from one traced graph


def test_a_channel_the_layer_lacks_is_a_plain_error(random_inception):
    with pytest.raises(ValueError, match="mixed3 has 768 channels.*10000"):
        DreamConfig(layers=(), channels=(("mixed3", 10000, 1.0),))  # refused before any step


def test_laplacian_normalisation_evens_out_the_bands():
    rng = np.random.default_rng(0)
    fine = rng.normal(size=(64, 80, 3)).astype(np.float32)  # all energy in the finest band
    coarse = np.repeat(np.repeat(rng.normal(size=(8, 10, 3)), 8, 0), 8, 1).astype(np.float32)
    gradient = tf.constant(fine * 10.0 + coarse)
    out = laplacian_normalize(gradient).numpy()
    assert out.shape == gradient.shape

    # The raw gradient is mostly fine noise; after normalisation the coarse part weighs more.
    def coarse_share(values):
        blocks = values.reshape(8, 8, 10, 8, 3).mean(axis=(1, 3))
        return np.var(blocks) / np.var(values)

    assert coarse_share(out) > 3 * coarse_share(gradient.numpy())
