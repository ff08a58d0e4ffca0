"""Feature visualisation: the loop climbs its objective, repeats with its seed, stops when the
caller stops, and each objective pushes what it names; measured on a random InceptionV3 for
the machinery and on Google's ImageNet InceptionV3 for the look."""

import itertools

import numpy as np
import pytest

from deepdream.feature_objectives import Channel, Diversity, Neuron
from deepdream.models.runtime import start_tensorflow
from deepdream.param import ImageParam
from deepdream.visualise import (
    activation,
    direction_between,
    gram_similarity,
    high_frequency_share,
    layer_activations,
    visualise,
    visualise_steps,
)

tf = start_tensorflow()

#: The smallest picture InceptionV3 takes, so the machinery tests stay quick.
SIZE = 80
LAYER = "mixed1"
#: For the tests of direction on random weights (new ones every session): no random
#: transforms and a gentler rate, so that a few steps climb on every draw of the weights
#: (Adam's first steps go by the gradient's sign and can overshoot on a random network).
STEADY = dict(size=SIZE, steps=8, transforms="none", learning_rate=0.02)


def start_image(seed: int = 0, batch: int = 1, param: str = "fft") -> np.ndarray:
    """The picture a visualisation starts from (before its first step), as uint8."""
    image_param = ImageParam(param, (SIZE, SIZE), batch)
    return np.round(image_param.to_image(image_param.init(seed)).numpy() * 255).astype(np.uint8)


def test_the_objective_rises_and_updates_come_as_documented(random_inception):
    settings = dict(STEADY, preview_every=4, seed=1)
    updates = list(visualise_steps(random_inception, Channel(LAYER, 3), **settings))
    assert [u.step for u in updates] == [1, 2, 3, 4, 5, 6, 7, 8, 8]
    assert [u.preview is not None for u in updates] == [0, 0, 0, 1, 0, 0, 0, 1, 1]
    assert updates[-1].images.shape == (1, SIZE, SIZE, 3)
    assert updates[-1].images.dtype == np.uint8
    assert all(u.images is None for u in updates[:-1])
    assert updates[-1].objective > updates[0].objective
    before = activation(start_image(1), random_inception, LAYER, 3, pre_relu=True)
    after = activation(updates[-1].images, random_inception, LAYER, 3, pre_relu=True)
    assert after > before


@pytest.mark.parametrize("param, transforms", [("fft", "standard"), ("pixel", "none")])
def test_seeded_runs_give_the_same_pixels(random_inception, param, transforms):
    settings = dict(size=SIZE, steps=3, param=param, transforms=transforms, batch=2)
    first = visualise(random_inception, "mixed1:3", seed=7, **settings)
    again = visualise(random_inception, "mixed1:3", seed=7, **settings)
    other = visualise(random_inception, "mixed1:3", seed=8, **settings)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_stopping_early_is_stopping_iteration(random_inception):
    steps = visualise_steps(random_inception, "mixed1:3", size=SIZE, steps=50, preview_every=2)
    taken = list(itertools.islice(steps, 2))
    assert taken[-1].preview.shape == (1, SIZE, SIZE, 3)
    steps.close()


def test_a_negative_channel_weight_pushes_the_channel_down(random_inception):
    settings = dict(STEADY, seed=2)
    start = activation(start_image(2), random_inception, LAYER, 3, pre_relu=True)
    down = visualise(random_inception, Channel(LAYER, 3, -1.0), **settings)
    up = visualise(random_inception, Channel(LAYER, 3), **settings)
    assert activation(down, random_inception, LAYER, 3, pre_relu=True) < start
    assert activation(up, random_inception, LAYER, 3, pre_relu=True) > start


def channel_map(model, images: np.ndarray, channel: int) -> np.ndarray:
    batch = tf.constant(images.astype(np.float32) / 255.0)
    return layer_activations(model, [LAYER], batch, pre_relu=True)[LAYER].numpy()[0, ..., channel]


def test_a_neuron_objective_raises_the_centre_more_than_the_corners(random_inception):
    start = channel_map(random_inception, start_image(3), 3)
    image = visualise(random_inception, Neuron(LAYER, 3), **STEADY, seed=3)
    gain = channel_map(random_inception, image, 3) - start
    h, w = gain.shape
    corners = np.mean([gain[0, 0], gain[0, -1], gain[-1, 0], gain[-1, -1]])
    assert gain[h // 2, w // 2] > 0
    assert gain[h // 2, w // 2] > 2 * abs(corners)


def test_a_diversity_term_makes_the_batch_less_alike(random_inception):
    settings = dict(STEADY, batch=3, seed=4)
    alike = visualise(random_inception, Channel(LAYER, 3), **settings)
    diverse = visualise(random_inception, Channel(LAYER, 3) + Diversity(LAYER, -1.0), **settings)
    assert gram_similarity(diverse, random_inception, LAYER) < gram_similarity(
        alike, random_inception, LAYER
    )


def test_each_batch_member_can_have_its_own_channel(random_inception):
    objective = Channel(LAYER, 3, member=0) + Channel(LAYER, 3, -1.0, member=1)
    images = visualise(random_inception, objective, **STEADY, batch=2, seed=5)
    up, down = (activation(image, random_inception, LAYER, 3, pre_relu=True) for image in images)
    assert up > down


def test_a_direction_between_two_photos_is_a_vector_of_the_layer(random_inception, photo):
    direction = direction_between(random_inception, LAYER, photo, photo)
    assert len(direction.vector) == 288 and not any(direction.vector)
    towards = direction_between(random_inception, LAYER, photo, photo[::-1].copy())
    updates = list(visualise_steps(random_inception, towards, **STEADY))
    assert updates[-1].objective > updates[0].objective


def test_bad_settings_are_refused_before_any_step(random_inception):
    with pytest.raises(ValueError, match="at least 75 pixels"):
        next(visualise_steps(random_inception, "mixed1:3", size=40))
    with pytest.raises(ValueError, match="288 channels"):
        next(visualise_steps(random_inception, "mixed1:300", size=SIZE))
    with pytest.raises(ValueError, match="standard"):
        next(visualise_steps(random_inception, "mixed1:3", size=SIZE, transforms="wobble"))
    with pytest.raises(ValueError, match="parameterisation"):
        next(visualise_steps(random_inception, "mixed1:3", size=SIZE, param="wavelet"))


def test_high_frequency_share_of_flat_smooth_and_checkered_images():
    y, x = np.mgrid[0:64, 0:64]
    assert high_frequency_share(np.full((64, 64, 3), 7.0)) == 0.0
    assert high_frequency_share(np.sin(2 * np.pi * x / 32.0)) < 0.01
    assert high_frequency_share((x + y) % 2) > 0.99  # a checkerboard is all Nyquist
    noise = np.random.default_rng(0).random((64, 64))
    assert 0.7 < high_frequency_share(noise) < 0.9


# Google's ImageNet InceptionV3: what the parameterisation and transforms are for.
REAL = dict(size=128, steps=48, seed=0)


@pytest.mark.slow
def test_fourier_images_hold_less_grain_than_pixel_images(imagenet_inception):
    """On mixed4 channel 97 (128 px, 48 steps) this measured: high-frequency share 0.19
    (fft, standard), 0.20 (fft, none), 0.52 (pixel, none); mean activation 9.3, 15.0 and
    14.8. The Fourier image alone keeps its activation; the transforms trade about 40% of
    the activation on the untransformed picture for robustness."""
    model, channel = imagenet_inception, Channel("mixed4", 97)
    runs = {
        (param, transforms): visualise(model, channel, param=param, transforms=transforms, **REAL)
        for param, transforms in [("fft", "standard"), ("fft", "none"), ("pixel", "none")]
    }
    share = {key: high_frequency_share(images[0]) for key, images in runs.items()}
    reached = {key: activation(images, model, "mixed4", 97) for key, images in runs.items()}
    pixel = ("pixel", "none")
    assert share[("fft", "standard")] < 0.5 * share[pixel]
    assert share[("fft", "none")] < 0.5 * share[pixel]
    assert reached[("fft", "none")] > 0.9 * reached[pixel]
    assert reached[("fft", "standard")] > 0.5 * reached[pixel]


@pytest.mark.slow
def test_diversity_gives_a_batch_different_facets(imagenet_inception):
    """Measured (mixed4:97, batch 3, 128 px, 48 steps): Gram similarity 0.96 without the
    penalty, 0.81 at weight -1, 0.31 at -5; activation 9.2, 9.0, 6.8."""
    model, settings = imagenet_inception, dict(REAL, batch=3)
    alike = visualise(model, "mixed4:97", **settings)
    diverse = visualise(model, "mixed4:97 + diversity:mixed4:-5", **settings)
    assert gram_similarity(diverse, model, "mixed4") < 0.6 * gram_similarity(alike, model, "mixed4")
