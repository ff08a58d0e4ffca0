"""A dream from noise as a feature visualisation: the render loop's updates and result, the
same pixels for a seed, negative channels, the mask, and the pixel loop kept on request.
Random InceptionV3, small pictures, few steps."""

import numpy as np
import pytest

from deepdream import DreamConfig, Guide, Mask, dream, dream_steps
from deepdream.feature_objectives import Channel, Layer
from deepdream.from_noise import objective_for
from deepdream.media.image import noise_canvas, png_text

CANVAS = noise_canvas(96, 80, seed=0)  # (height, width) = (96, 80)


def noise_config(**changes) -> DreamConfig:
    settings = dict(
        layers=(("mixed1", 1.0),),
        channels=(("mixed2", 5, -1.0),),
        steps_per_octave=2,
        octaves=2,
        start="noise",
        preview_every=3,
        seed=3,
    )
    return DreamConfig(**{**settings, **changes})


def test_the_objective_holds_every_layer_and_channel_with_its_weight():
    objective = objective_for(noise_config())
    assert objective.terms == (Layer("mixed1", 1.0), Channel("mixed2", 5, -1.0))


def test_updates_count_octaves_of_steps_and_end_with_the_canvas_sized_result(random_inception):
    config = noise_config()
    assert config.param == "fft" and config.visualises  # the default for noise starts
    updates = list(dream_steps(CANVAS, config, random_inception))
    assert [(u.octave, u.step, u.done) for u in updates] == [
        (1, 1, 1), (1, 2, 2), (2, 1, 3), (2, 2, 4), (2, 2, 4)
    ]  # fmt: skip
    assert [u.preview is not None for u in updates] == [False, False, True, True, True]
    assert updates[-2].preview.shape == (96, 80, 3) and updates[-1].work == 1.0
    result = updates[-1].result
    assert result.image.shape == CANVAS.shape and result.image.dtype == np.uint8
    record = png_text(result.to_png())
    assert (record["deepdream.param"], record["deepdream.transforms"]) == ("fft", "standard")
    assert record["deepdream.octave_sizes"] == "80x96 80x96"


def test_a_seed_gives_the_same_pixels_and_another_seed_others(random_inception):
    config = noise_config(transforms="standard")
    first = dream(CANVAS, config, random_inception).image
    again = dream(CANVAS, config, random_inception).image
    other = dream(CANVAS, config.replace(seed=4), random_inception).image
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_the_mask_keeps_the_canvas_where_it_is_black(random_inception):
    left = np.zeros((96, 80), np.uint8)
    left[:, 40:] = 255
    config = noise_config(transforms="none", mask=Mask.from_image(left))
    image = dream(CANVAS, config, random_inception).image
    np.testing.assert_array_equal(image[:, :30], CANVAS[:, :30])
    assert not np.array_equal(image[:, 50:], CANVAS[:, 50:])


def test_a_guide_composes_with_the_fourier_dream(random_inception):
    stripes = np.zeros((96, 96, 3), np.uint8)
    stripes[::8] = 255
    plain = noise_config(transforms="none")
    guided = plain.replace(guide=Guide.from_image(stripes), guide_layer="mixed1")
    image = dream(CANVAS, guided, random_inception).image
    assert not np.array_equal(image, dream(CANVAS, plain, random_inception).image)


def test_the_pixel_param_keeps_the_octave_loop(random_inception):
    config = noise_config(param="pixel")
    assert not config.visualises
    result = dream(CANVAS, config, random_inception)
    fourier = dream(CANVAS, noise_config(), random_inception)
    assert result.shapes != fourier.shapes  # the octave loop's own sizes
    assert png_text(result.to_png())["deepdream.param"] == "pixel"


def test_the_settings_are_checked():
    with pytest.raises(ValueError, match="param must be one of"):
        noise_config(param="wavelet")
    with pytest.raises(ValueError, match="transforms must be one of"):
        noise_config(transforms="some")
    assert DreamConfig().describe()["param"] == "fft"
