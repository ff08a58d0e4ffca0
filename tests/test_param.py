"""The image parameterisations: flat grey from zeros, seeded, and a Fourier image that starts
smooth where raw pixels start as grain."""

import numpy as np
import pytest

from deepdream.param import COLOR_DECORRELATION, PARAMS, ImageParam, spectrum_scale
from deepdream.visualise import high_frequency_share


@pytest.mark.parametrize("kind", PARAMS)
def test_zero_variables_give_flat_grey(kind):
    param = ImageParam(kind, (24, 31), batch=2)
    image = param.to_image(param.zeros()).numpy()
    assert image.shape == (2, 24, 31, 3)
    np.testing.assert_allclose(image, 0.5, atol=1e-6)


@pytest.mark.parametrize("kind", PARAMS)
def test_the_same_seed_gives_the_same_image_and_another_seed_another(kind):
    param = ImageParam(kind, (32, 32))
    first = param.to_image(param.init(seed=3)).numpy()
    again = param.to_image(param.init(seed=3)).numpy()
    other = param.to_image(param.init(seed=4)).numpy()
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)
    assert first.min() >= 0.0 and first.max() <= 1.0


def test_the_fourier_image_starts_with_far_less_high_frequency_energy_than_pixels():
    fft = ImageParam("fft", (64, 64))
    pixel = ImageParam("pixel", (64, 64))
    smooth = high_frequency_share(fft.to_image(fft.init(seed=0)).numpy()[0])
    grain = high_frequency_share(pixel.to_image(pixel.init(seed=0)).numpy()[0])
    # White noise has about 1 - pi / 16 of its energy above 0.25 cycles per pixel; a 1/f
    # spectrum puts most of it at the low frequencies (about a quarter stays above).
    assert grain > 0.7
    assert smooth < 0.3


def test_the_spectrum_scale_falls_as_one_over_frequency():
    scale = spectrum_scale(64, 64)
    assert scale.shape == (64, 33)
    # The lowest frequencies share the floor 1 / max(h, w); beyond it, twice the frequency
    # gets half the scale.
    assert scale[0, 0] == scale[0, 1]
    assert scale[0, 2] == pytest.approx(scale[0, 4] * 2)


def test_colour_decorrelation_is_normalised_by_its_largest_column():
    assert np.linalg.norm(COLOR_DECORRELATION, axis=0).max() == pytest.approx(1.0)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="parameterisation"):
        ImageParam("wavelet", (8, 8))
    with pytest.raises(ValueError, match="at least 1"):
        ImageParam("fft", (0, 8))
