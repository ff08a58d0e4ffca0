import dataclasses

import pytest

from deepdream.config import (
    MODEL_LAYERS,
    PRESETS,
    DreamConfig,
    parse_layers,
)


def test_defaults_are_valid_and_hashable():
    config = DreamConfig()
    assert hash(config) == hash(DreamConfig())
    assert dict(config.layers) == {"mixed3": 1.0, "mixed5": 1.0}


def test_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        DreamConfig().steps_per_octave = 3


def test_layers_accept_a_mapping_and_are_stored_as_pairs():
    config = DreamConfig(layers={"mixed4": 2, "mixed6": 0.5})
    assert config.layers == (("mixed4", 2.0), ("mixed6", 0.5))


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"steps_per_octave": 0}, "steps_per_octave"),
        ({"steps_per_octave": "3"}, "whole number"),
        ({"steps_per_octave": True}, "whole number"),
        ({"step_size": 0.0}, "step_size"),
        ({"step_size": -0.1}, "step_size"),
        ({"step_size": float("nan")}, "step_size"),
        ({"octaves": 0}, "octaves"),
        ({"octaves": 11}, "octaves"),
        ({"octave_scale": 1.0}, "octave_scale"),
        ({"tile_size": 10}, "tile_size"),
        ({"max_side": 10}, "max_side"),
        ({"seed": -1}, "seed"),
        ({"preview_every": 0}, "preview_every"),
        ({"layers": ()}, "at least one layer"),
        ({"channels": (("mixed4", 1),)}, "triples"),
        ({"channels": (("mixed99", 1, 1.0),)}, "mixed99"),
        ({"channels": (("mixed4", 1, 0.0),)}, "other than 0"),
        ({"channels": (("mixed4", 1, 1.0), ("mixed4", 1, 2.0))}, "only once"),
        ({"guide": "stripes.png"}, "Guide"),
        ({"guide_strength": 1.5}, "guide_strength"),
        ({"guide_layer": "block4_conv1"}, "guide layer"),
        ({"normalize": "l2"}, "normalize"),
        ({"start": "video"}, "start"),
        ({"layers": (("mixed99", 1.0),)}, "mixed99"),
        ({"layers": (("mixed3", 0.0),)}, "other than 0"),
        ({"layers": (("mixed3", float("inf")),)}, "other than 0"),
        ({"layers": (("mixed3", 1.0), ("mixed3", 2.0))}, "only once"),
        ({"model": "resnet"}, "Unknown model"),
        ({"channels": (("mixed4", -1, 1.0),)}, "Channel"),
        ({"keep_colors": "yes"}, "keep_colors"),
        ({"model": "vgg16_offline"}, "not a layer of vgg16_offline"),
    ],
)
def test_invalid_values_raise_plain_value_errors(changes, words):
    with pytest.raises(ValueError, match=words):
        DreamConfig().replace(**changes)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_are_valid_on_both_models(name):
    preset = PRESETS[name]
    assert isinstance(preset, DreamConfig)
    assert preset.notes
    offline = preset.with_model("vgg16_offline")
    assert offline.model == "vgg16_offline"
    assert all(layer in MODEL_LAYERS["vgg16_offline"] for layer, _ in offline.layers)
    # Weights are carried over: merged layers add their weights.
    assert sum(w for _, w in offline.layers) == pytest.approx(sum(w for _, w in preset.layers))
    back = offline.with_model("inception_v3")
    assert all(layer in MODEL_LAYERS["inception_v3"] for layer, _ in back.layers)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_a_moved_look_keeps_its_patterns_size(name):
    # Matched by depth, VGG16's layers sit at half InceptionV3's stride (one cell per 8 photo
    # pixels at block4, per 16 at mixed3-mixed7): VGG16 dreams at half the side, and back.
    from deepdream.models.catalog import NETWORKS

    preset = PRESETS[name].replace(max_side=1536)
    offline = preset.with_model("vgg16_offline")
    assert offline.max_side == 768
    assert offline.with_model("inception_v3").max_side == 1536

    def cell(config):
        strides = NETWORKS[config.model].stride_of
        return max(strides[layer] for layer, _ in config.layers) * 1024 / config.max_side

    assert cell(offline) == pytest.approx(cell(preset))


def test_a_moved_working_side_stays_within_its_limits():
    from deepdream.config import MAX_SIDE_RANGE

    least, most = MAX_SIDE_RANGE
    assert PRESETS["classic"].replace(max_side=least).with_model("vgg16_offline").max_side == least
    big = DreamConfig(model="vgg16_offline", layers=(("block4_conv3", 1.0),), max_side=most)
    assert big.with_model("inception_v3").max_side == most
    # VGG16's first blocks map to mixed0 (stride 8 against 1): one octave of scale at most.
    shallow = DreamConfig(model="vgg16_offline", layers=(("block1_conv2", 1.0),), max_side=512)
    assert shallow.with_model("inception_v3").max_side == 1024


def test_presets_differ_from_gentle_to_deep():
    gentle, classic, deep = PRESETS["gentle"], PRESETS["classic"], PRESETS["deep"]
    depth = MODEL_LAYERS["inception_v3"].index

    def mean_depth(config):
        return sum(depth(name) for name, _ in config.layers) / len(config.layers)

    assert mean_depth(gentle) < mean_depth(classic) < mean_depth(deep)
    assert gentle.total_steps < classic.total_steps < deep.total_steps


def test_with_model_rejects_unknown_model():
    with pytest.raises(ValueError, match="Unknown model"):
        DreamConfig().with_model("alexnet")


def test_parse_layers():
    assert parse_layers("mixed3:1,mixed5:1.5") == (("mixed3", 1.0), ("mixed5", 1.5))
    assert parse_layers(" mixed4 , mixed6:2 ") == (("mixed4", 1.0), ("mixed6", 2.0))
    with pytest.raises(ValueError, match="mixed3:1.5"):
        parse_layers("mixed3:lots")
    with pytest.raises(ValueError, match="at least one layer"):
        parse_layers(" , ")


def test_describe_names_every_setting():
    described = DreamConfig(seed=7, keep_colors=True).describe()
    assert described["seed"] == "7"
    assert described["keep_colors"] == "true"
    assert described["layers"] == "mixed3:1,mixed5:1"
    fields = {f.name for f in dataclasses.fields(DreamConfig)} - {"notes", "preview_every"}
    assert fields - {"guide_strength", "guide_layer"} <= set(described)
    from deepdream import Guide
    from deepdream.media.image import noise_canvas

    guided = DreamConfig(guide=Guide.from_image(noise_canvas(40, 40))).describe()
    assert fields <= set(guided)


def test_channels_parse_format_and_validate():
    from deepdream.config import format_channels, parse_channels

    channels = parse_channels("mixed4:97, mixed4:12:0.5")
    assert channels == (("mixed4", 97, 1.0), ("mixed4", 12, 0.5))
    assert parse_channels(format_channels(channels)) == channels
    for bad in ["mixed4", "mixed4:x", "mixed4:1:2:3", ""]:
        with pytest.raises(ValueError, match="LAYER:CHANNEL|at least one channel"):
            parse_channels(bad)
    only_channels = DreamConfig(layers=(), channels=channels)
    assert only_channels.dreamed_layers == ("mixed4",)


def test_channels_do_not_travel_to_another_model_but_the_guide_layer_does():
    from deepdream import Guide
    from deepdream.media.image import noise_canvas

    with pytest.raises(ValueError, match="channel number"):
        DreamConfig(channels=(("mixed4", 1, 1.0),)).with_model("vgg16_offline")
    guide = Guide.from_image(noise_canvas(40, 40))
    moved = DreamConfig(guide=guide, guide_layer="mixed4").with_model("vgg16_offline")
    assert moved.guide == guide and moved.guide_layer == "block4_conv2"
    assert moved.matched_layer == "block4_conv2"
    assert DreamConfig(guide=guide).matched_layer == "mixed2"  # GUIDE_LAYERS: where it shows
    assert (
        DreamConfig(model="vgg16_offline", layers={"block4_conv3": 1}, guide=guide).matched_layer
        == "block3_conv3"
    )
    assert DreamConfig().matched_layer is None


def test_a_guide_is_a_value_compared_by_its_pixels_and_pickles():
    import pickle

    from deepdream import Guide
    from deepdream.media.image import noise_canvas

    guide = Guide.from_image(noise_canvas(700, 300, 1))
    assert guide.shape == (512, 219)  # shrunk to its working size
    assert guide == Guide(guide.pixels.copy()) and hash(guide) == hash(Guide(guide.pixels))
    assert guide != Guide.from_image(noise_canvas(700, 300, 2))
    assert pickle.loads(pickle.dumps(guide)) == guide
    config = DreamConfig(guide=guide)
    assert pickle.loads(pickle.dumps(config)) == config and hash(config) == hash(config)
