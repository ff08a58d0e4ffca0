"""The controls of a dream, measured on real weights (the offline VGG16): a guide image steers
the structure a dream adds, a chosen channel rises above its layer, lapnorm smooths, and a
dream from noise repeats with its seed."""

import numpy as np
import pytest

from deepdream import DreamConfig, Guide, dream, fit_within
from deepdream.media.image import noise_canvas, png_text, to_model_range

VGG = "vgg16_offline"


def stripes(horizontal: bool, size: int = 192, period: int = 16) -> np.ndarray:
    """Black and white stripes, horizontal (rows) or vertical (columns)."""
    band = (np.arange(size) // (period // 2) % 2 * 255).astype(np.uint8)
    plane = np.repeat(band[:, None], size, 1) if horizontal else np.repeat(band[None, :], size, 0)
    return np.repeat(plane[:, :, None], 3, 2)


def horizontal_share(added: np.ndarray) -> float:
    """How horizontal the structure of a difference image is: energy of its vertical changes
    over energy of its horizontal changes (horizontal stripes change along y: large)."""
    grey = added.mean(axis=2)
    return float(np.mean(np.diff(grey, axis=0) ** 2) / np.mean(np.diff(grey, axis=1) ** 2))


@pytest.mark.slow
def test_a_striped_guide_steers_the_orientation_of_what_the_dream_adds(offline_vgg):
    canvas = noise_canvas(160, 160, 0)
    plain = DreamConfig(
        model=VGG,
        layers=(("block3_conv1", 1.0),),
        steps_per_octave=10,
        octaves=1,
        max_side=160,
        step_size=0.05,
        start="noise",
        param="pixel",  # the guide's steering of the pixel loop (the Fourier one: test_from_noise)
    )

    def share(config):
        return horizontal_share(dream(canvas, config, offline_vgg).image.astype(float) - canvas)

    unguided = share(plain)
    # Matched at the layer dreamed (the default, block3_conv3, is measured on photos in
    # tests/test_looks.py).
    at = {"guide_strength": 1.0, "guide_layer": "block3_conv1"}
    across = share(plain.replace(guide=Guide.from_image(stripes(True)), **at))
    down = share(plain.replace(guide=Guide.from_image(stripes(False)), **at))
    # Measured 1.46 (horizontal guide), 1.21 (none), 0.57 (vertical guide).
    assert across > 1.1 * unguided
    assert down < 0.75 * unguided
    assert across > 2 * down


def test_guided_dreams_work_with_tiles_octaves_and_a_partial_guide_strength(
    random_inception, photo
):
    guide = Guide.from_image(stripes(True, size=600))
    assert max(guide.shape) == 512  # the guide's working size
    config = DreamConfig(
        steps_per_octave=2, octaves=2, max_side=160, tile_size=96, guide=guide, guide_strength=0.5
    )
    result = dream(photo, config, random_inception)
    unguided = dream(photo, config.replace(guide=None), random_inception)
    assert result.image.shape == photo.shape
    assert not np.array_equal(result.image, unguided.image)
    assert result.metadata()["deepdream.guide"] == guide.digest
    assert result.metadata()["deepdream.guide_layer"] == "mixed2"  # GUIDE_LAYERS, the default


def _channel_means(model, layer, image):
    (activation,) = [model.extractor([layer])(model.preprocess(to_model_range(image)[None]))]
    return np.asarray(activation).mean(axis=(0, 1, 2))


@pytest.mark.slow
def test_a_chosen_channel_rises_far_more_than_the_layers_other_channels(offline_vgg, photo):
    layer, channel = "block4_conv1", 100
    start = fit_within(photo, 128)
    config = DreamConfig(
        model=VGG,
        layers=(),
        channels=((layer, channel, 1.0),),
        steps_per_octave=10,
        octaves=1,
        max_side=128,
        step_size=0.03,
    )
    before = _channel_means(offline_vgg, layer, start)
    rise = _channel_means(offline_vgg, layer, dream(start, config, offline_vgg).image) - before
    others = np.delete(rise, channel)
    # Measured: the chosen channel rose 46, the median other channel 1.9, the 95th percentile 17.
    assert rise[channel] > 10 * np.median(others)
    assert rise[channel] > 2 * np.percentile(others, 95)


def _finest_band_energy(added: np.ndarray) -> float:
    import cv2

    return float(np.mean((added - cv2.GaussianBlur(added, (0, 0), 1.5)) ** 2))


@pytest.mark.slow
def test_laplacian_normalisation_adds_less_energy_at_the_finest_scale(offline_vgg, photo):
    start = fit_within(photo, 128)
    config = DreamConfig(
        model=VGG, layers=(("block4_conv2", 1.0),), steps_per_octave=10, octaves=2, max_side=128
    )
    added = {}
    for normalize in ("std", "laplacian"):
        image = dream(start, config.replace(normalize=normalize), offline_vgg).image
        added[normalize] = image.astype(np.float32) - start.astype(np.float32)
    # Measured: 160 (std) against 94 (laplacian); the share of all added energy 0.37 vs 0.11.
    assert _finest_band_energy(added["laplacian"]) < 0.8 * _finest_band_energy(added["std"])
    share = {key: _finest_band_energy(value) / np.mean(value**2) for key, value in added.items()}
    assert share["laplacian"] < 0.5 * share["std"]


def test_a_dream_from_noise_repeats_with_its_seed_and_says_where_it_started(offline_vgg):
    config = DreamConfig(
        model=VGG, layers=(("block4_conv2", 1.0),), steps_per_octave=3, octaves=1, start="noise"
    )

    def from_noise(seed):
        return dream(noise_canvas(96, 80, seed), config.replace(seed=seed), offline_vgg)

    first, again, other = from_noise(3), from_noise(3), from_noise(4)
    assert first.image.shape == (96, 80, 3)
    assert np.array_equal(first.image, again.image)
    assert np.abs(first.image.astype(int) - other.image).mean() > 2
    assert png_text(first.to_png())["deepdream.start"] == "noise"


def test_noise_canvas_is_faint_grey_and_checks_its_size():
    canvas = noise_canvas(64, 48, 1)
    assert canvas.shape == (64, 48, 3) and canvas.dtype == np.uint8
    assert abs(float(canvas.mean()) - 128) < 2 and 0 < canvas.std() < 10
    with pytest.raises(ValueError, match="32 to 4096"):
        noise_canvas(10, 48)


def test_metadata_records_guide_hash_channels_normalisation_and_start(random_inception, photo):
    guide_pixels = stripes(False, size=100)
    config = DreamConfig(
        layers=(("mixed3", 1.0),),
        channels=(("mixed4", 97, 1.0), ("mixed4", 12, 0.5)),
        guide=Guide.from_image(guide_pixels),
        guide_strength=0.3,
        normalize="laplacian",
        steps_per_octave=1,
        octaves=1,
        max_side=96,
    )
    text = png_text(dream(photo, config, random_inception).to_png())
    assert text["deepdream.channels"] == "mixed4:97:1,mixed4:12:0.5"
    assert text["deepdream.normalize"] == "laplacian"
    assert text["deepdream.start"] == "photo"
    assert text["deepdream.guide"] == Guide(guide_pixels).digest
    assert text["deepdream.guide"].startswith("sha256:")
    assert text["deepdream.guide_strength"] == "0.3"
    assert text["deepdream.guide_layer"] == "mixed2"  # GUIDE_LAYERS, the default
    # The guide is recorded by a hash of its pixels only: never its bytes.
    assert all(len(value) < 200 for value in text.values())
