"""Objectives as data: terms add and scale, print and parse back, and refuse what a layer has
not. (Their values on a network are checked in test_visualise.py.)"""

import numpy as np
import pytest

from deepdream.feature_objectives import (
    Channel,
    Direction,
    Diversity,
    Layer,
    Neuron,
    Objective,
    as_objective,
    mean_gram_similarity,
    parse,
)


def test_terms_add_and_scale_like_lucids():
    combined = Channel("mixed4", 97) + 2 * Neuron("mixed3", 5) - Diversity("mixed4", 1.0)
    assert combined == Objective(
        (Channel("mixed4", 97), Neuron("mixed3", 5, 2.0), Diversity("mixed4", -1.0))
    )
    assert combined.layers == ("mixed4", "mixed3")
    assert sum([Layer("mixed3"), Layer("mixed5")]).layers == ("mixed3", "mixed5")
    assert -Channel("mixed4", 1) == Channel("mixed4", 1, -1.0)


@pytest.mark.parametrize(
    "text",
    [
        "mixed4:97",
        "mixed4:97:-1",
        "neuron:mixed4:97",
        "layer:mixed3:2",
        "diversity:mixed4:-1",
        "mixed4:97 + diversity:mixed4:-10 + neuron:mixed5:3:0.5",
        "mixed4:97@0 + mixed4:12@1:2 + neuron:mixed4:5@2",
    ],
)
def test_text_round_trips(text):
    assert parse(text).to_text() == text
    assert parse(parse(text).to_text()) == parse(text)


def test_parse_reads_the_short_and_long_forms():
    assert parse("mixed4:97") == parse("channel:mixed4:97:1") == as_objective("mixed4:97")
    assert parse("mixed4:97, layer:mixed3") == Channel("mixed4", 97) + Layer("mixed3")
    assert parse("diversity:mixed4") == Objective((Diversity("mixed4", -1.0),))
    assert parse("mixed4:97@2:-1") == Objective((Channel("mixed4", 97, -1.0, member=2),))


@pytest.mark.parametrize(
    "text",
    ["", "mixed4", "mixed4:x", "neuron:mixed4", "layer:", "mixed4:1:2:3", "direction:a", "m:1@x"],
)
def test_bad_text_is_refused_plainly(text):
    with pytest.raises(ValueError):
        parse(text)


def test_a_direction_prints_its_layer_and_length():
    assert Direction("mixed4", (0.5, -1.0, 2.0)).to_text() == "direction:mixed4:3d"


def test_a_channel_or_direction_the_layer_has_not_is_refused():
    with pytest.raises(ValueError, match="768 channels"):
        Channel("mixed4", 768).check({"mixed4": 768})
    with pytest.raises(ValueError, match="768 channels"):
        Direction("mixed4", (1.0, 2.0)).check({"mixed4": 768})
    Neuron("mixed4", 767).check({"mixed4": 768})


def test_gram_similarity_is_one_for_alike_members_and_zero_for_one():
    rng = np.random.default_rng(0)
    one = rng.random((1, 4, 4, 6)).astype(np.float32)
    assert float(mean_gram_similarity(np.concatenate([one, one * 3]))) == pytest.approx(1.0)
    assert float(mean_gram_similarity(one)) == 0.0
    # Members that use disjoint channels have orthogonal Gram matrices.
    apart = np.zeros((2, 4, 4, 6), np.float32)
    apart[0, ..., :3], apart[1, ..., 3:] = 1.0, 1.0
    assert float(mean_gram_similarity(apart)) == pytest.approx(0.0)
