"""Transformation robustness: each transform moves, scales or turns the image by what it is
asked, seeded transforms repeat, and the standard set gives the size it documents."""

import numpy as np
import pytest

from deepdream.models.runtime import start_tensorflow
from deepdream.transform import (
    apply,
    jitter,
    pad,
    random_rotate,
    random_scale,
    rotate_by,
    scale_by,
    transforms_for,
    window,
)

tf = start_tensorflow()


def bright_pixel(y: int, x: int, size: int = 16) -> tf.Tensor:
    image = np.zeros((1, size, size, 3), np.float32)
    image[0, y, x] = 1.0
    return tf.constant(image)


def where_bright(image: tf.Tensor) -> tuple[int, int]:
    grey = image.numpy()[0].mean(axis=2)
    y, x = np.unravel_index(np.argmax(grey), grey.shape)
    return int(y), int(x)


def test_a_window_moves_the_picture_by_its_corner():
    moved = window(bright_pixel(9, 7), 3, 2, 12, 12)
    assert moved.shape == (1, 12, 12, 3)
    assert where_bright(moved) == (9 - 3, 7 - 2)


def test_jitter_moves_by_at_most_d_and_shrinks_by_d():
    rng = tf.random.Generator.from_seed(0)
    positions = set()
    for _ in range(40):
        moved = jitter(4)(bright_pixel(8, 8), rng)
        assert moved.shape == (1, 12, 12, 3)
        positions.add(where_bright(moved))
    assert all(4 <= y <= 8 and 4 <= x <= 8 for y, x in positions)
    assert len(positions) > 5  # it really moves


def test_pad_surrounds_with_grey():
    padded = pad(3)(tf.zeros((1, 4, 5, 3)), None).numpy()
    assert padded.shape == (1, 10, 11, 3)
    assert padded[0, 0, 0, 0] == 0.5 and padded[0, 3, 3, 0] == 0.0


def test_scale_one_and_rotation_zero_keep_the_image():
    image = tf.random.stateless_uniform((2, 20, 24, 3), seed=(1, 2))
    np.testing.assert_allclose(scale_by(image, tf.constant(1.0)).numpy(), image.numpy())
    np.testing.assert_allclose(rotate_by(image, tf.constant(0.0)).numpy(), image.numpy())
    rng = tf.random.Generator.from_seed(0)
    np.testing.assert_allclose(random_scale([1.0])(image, rng).numpy(), image.numpy())
    np.testing.assert_allclose(random_rotate([0])(image, rng).numpy(), image.numpy())


def test_scaling_resizes_by_the_factor():
    assert scale_by(tf.zeros((1, 20, 30, 3)), tf.constant(1.1)).shape == (1, 22, 33, 3)


def test_a_quarter_turn_turns_a_pixel_about_the_centre():
    # Counter-clockwise on screen for a positive angle (y down): (y, x) -> (size-1-x, y).
    turned = rotate_by(bright_pixel(2, 5, size=15), tf.constant(90.0))
    assert turned.shape == (1, 15, 15, 3)
    assert where_bright(turned) == (15 - 1 - 5, 2)


def test_seeded_standard_transforms_repeat_and_keep_the_documented_size():
    image = tf.random.stateless_uniform((1, 64, 64, 3), seed=(3, 4))
    chain = transforms_for("standard")
    first = apply(chain, image, tf.random.Generator.from_seed(5))
    again = apply(chain, image, tf.random.Generator.from_seed(5))
    np.testing.assert_array_equal(first.numpy(), again.numpy())
    # pad 12 each side, jitter 8 and 4: 64 + 24 - 12 = 76, then scaled by 0.9-1.1.
    assert first.shape[0] == 1 and first.shape[3] == 3
    assert round(76 * 0.9) <= first.shape[1] <= round(76 * 1.1)
    assert first.shape[1] == first.shape[2]


def test_transforms_run_inside_a_traced_function_with_gradients():
    image = tf.Variable(tf.random.stateless_uniform((1, 48, 48, 3), seed=(0, 1)))
    rng = tf.random.Generator.from_seed(0)
    chain = transforms_for("standard")

    @tf.function
    def gradient():
        with tf.GradientTape() as tape:
            value = tf.reduce_mean(apply(chain, image, rng))
        return tape.gradient(value, image)

    assert float(tf.reduce_sum(tf.abs(gradient()))) > 0


def test_no_transforms_is_the_identity_and_unknown_names_are_refused():
    image = tf.ones((1, 8, 8, 3))
    assert apply(transforms_for("none"), image, None) is image
    with pytest.raises(ValueError, match="standard"):
        transforms_for("wobble")
