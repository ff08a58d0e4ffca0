"""Channel sketches drawn the lucid way: a sketch's config dreams the very sketch, a batch
draws each channel asked, diverse versions differ. On a random InceptionV3 (machinery only),
small and few steps."""

import numpy as np
import pytest

from deepdream import dream
from deepdream.explore import (
    channel_canvas,
    channel_config,
    channel_sketch,
    channel_sketches,
    diverse_sketches,
)

SIZE = 80  # the smallest picture InceptionV3 takes
LAYER = "mixed1"


def test_a_sketch_config_is_a_fourier_dream_from_noise_of_one_channel():
    config = channel_config("inception_v3", "mixed4", 97, SIZE)
    assert config.visualises and config.transforms == "standard"
    assert config.channels == (("mixed4", 97, 1.0),) and config.layers == ()
    assert channel_canvas(config).shape == (SIZE, SIZE, 3)


def test_the_sketch_config_dreamed_gives_the_sketch_pixels(random_inception):
    # What the page's cluster path dreams (the config through dream_steps) is what this
    # process draws (channel_sketch).
    config = channel_config("inception_v3", LAYER, 3, SIZE).replace(steps_per_octave=3)
    dreamed = dream(channel_canvas(config), config, random_inception).image
    drawn = channel_sketch(random_inception, LAYER, 3, SIZE, steps=3)
    assert drawn.shape == (SIZE, SIZE, 3) and drawn.dtype == np.uint8
    np.testing.assert_array_equal(dreamed, drawn)


def test_a_batch_draws_one_picture_per_channel_in_order(random_inception):
    sketches = channel_sketches(random_inception, LAYER, [3, 5, 7], SIZE, steps=3)
    assert [s.shape for s in sketches] == [(SIZE, SIZE, 3)] * 3
    assert not np.array_equal(sketches[0], sketches[1])
    assert channel_sketches(random_inception, LAYER, [], SIZE) == []
    with pytest.raises(ValueError, match="channels"):
        channel_sketches(random_inception, LAYER, [3, 100_000], SIZE, steps=1)


def test_diverse_versions_of_a_channel_differ(random_inception):
    versions = diverse_sketches(random_inception, LAYER, 3, n=3, size=SIZE, steps=3)
    assert len(versions) == 3 and versions[0].shape == (SIZE, SIZE, 3)
    assert not np.array_equal(versions[0], versions[1])
    with pytest.raises(ValueError, match="at least one"):
        diverse_sketches(random_inception, LAYER, 3, n=0)
