import pytest

from deepdream.octaves import octave_shapes, tile_spans, working_shape


def test_single_octave_is_the_full_size():
    assert octave_shapes((300, 400), 1, 1.4, 75) == [(300, 400)]


def test_octaves_grow_by_the_scale_and_end_at_full_size():
    shapes = octave_shapes((300, 400), 3, 1.4, 75)
    assert shapes == [(153, 204), (214, 286), (300, 400)]


def test_octaves_below_the_model_minimum_are_dropped():
    # 300x400 / 2^3 = 37x50 is too small for InceptionV3 (75 px); the rest are kept.
    assert octave_shapes((300, 400), 4, 2.0, 75) == [(75, 100), (150, 200), (300, 400)]


@pytest.mark.parametrize("shape", [(1, 1), (8, 8), (16, 4000), (4000, 16), (74, 1000)])
def test_inputs_smaller_than_the_model_keep_just_their_own_size(shape):
    assert octave_shapes(shape, 5, 1.4, 75) == [shape]


def test_shapes_are_distinct_and_growing_even_for_tiny_scales():
    shapes = octave_shapes((80, 80), 10, 1.001, 75)
    assert shapes[-1] == (80, 80)
    assert all(a[0] < b[0] or a[1] < b[1] for a, b in zip(shapes, shapes[1:]))
    assert len(set(shapes)) == len(shapes)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (((0, 5), 3, 1.4, 75), "empty"),
        (((5, 5), 0, 1.4, 75), "at least one octave"),
        (((5, 5), 3, 1.0, 75), "above 1"),
    ],
)
def test_octave_shapes_rejects_nonsense(args, words):
    with pytest.raises(ValueError, match=words):
        octave_shapes(*args)


def test_working_shape_shrinks_but_never_enlarges():
    assert working_shape((3000, 4000), 1024) == (768, 1024)
    assert working_shape((4000, 3000), 1024) == (1024, 768)
    assert working_shape((200, 100), 1024) == (200, 100)
    assert working_shape((16, 4000), 1024) == (4, 1024)
    assert working_shape((1, 10000), 1024) == (1, 1024)
    with pytest.raises(ValueError):
        working_shape((0, 10), 100)


@pytest.mark.parametrize("length", [1, 2, 63, 64, 65, 127, 128, 129, 500, 1000, 1023, 4000])
@pytest.mark.parametrize("tile", [64, 100, 512])
def test_tiles_cover_every_pixel_once_without_slivers(length, tile):
    spans = tile_spans(length, tile)
    covered = [i for start, size in spans for i in range(start, start + size)]
    assert covered == list(range(length))
    sizes = [size for _, size in spans]
    assert max(sizes) <= tile
    assert max(sizes) - min(sizes) <= len(spans)  # near-equal: no thin last tile
    assert len(spans) == -(-length // tile)
