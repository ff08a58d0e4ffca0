"""The atlas: which layers it draws, how its sheet is laid out, what it refuses. The drawing
itself is tested end to end in test_cli.py (slow) and on the page in test_app_control.py."""

import numpy as np
import pytest

from deepdream.atlas import (
    BACKGROUND,
    GAP,
    HEADER,
    LABEL_WIDTH,
    atlas_layers,
    atlas_rows,
    atlas_sheet,
)


def test_the_atlas_draws_every_mixed_layer_shallow_to_deep(random_inception, offline_vgg):
    assert atlas_layers(random_inception) == tuple(f"mixed{i}" for i in range(11))
    assert atlas_layers(offline_vgg) == offline_vgg.layers  # no mixed layers: all of them


def test_the_sheet_puts_a_layer_a_row_with_its_label_and_channel_numbers():
    side = 20
    white = np.full((side, side, 3), 255, np.uint8)
    rows = [("mixed0", [white, white, white]), ("mixed1", [white])]
    sheet = atlas_sheet(rows, side)
    assert sheet.shape == (HEADER + 2 * (side + GAP), LABEL_WIDTH + 3 * (side + GAP), 3)
    first = (HEADER, LABEL_WIDTH)
    assert (sheet[first[0] : first[0] + side, first[1] : first[1] + side] == 255).all()
    # The second row has one sketch; the rest of it is background.
    top = HEADER + side + GAP
    assert (sheet[top, LABEL_WIDTH + side + GAP + 1] == BACKGROUND).all()
    assert (sheet[:HEADER, LABEL_WIDTH:] != BACKGROUND).any()  # the channel numbers
    assert (sheet[HEADER:, :LABEL_WIDTH] != BACKGROUND).any()  # the layer names
    with pytest.raises(ValueError, match="at least one row"):
        atlas_sheet([], side)


def test_the_atlas_refuses_no_channels_and_sketches_too_small(random_inception):
    with pytest.raises(ValueError, match="at least one channel"):
        next(atlas_rows(random_inception, channels=0))
    with pytest.raises(ValueError, match="75 pixels"):
        next(atlas_rows(random_inception, side=40))


def test_the_atlas_draws_the_layers_named_in_their_order_and_refuses_unknown_ones(
    random_inception,
):
    rows = list(
        atlas_rows(random_inception, channels=1, side=75, steps=1, layers=["mixed4", "mixed1"])
    )
    assert [layer for layer, _ in rows] == ["mixed4", "mixed1"]
    assert [len(sketches) for _, sketches in rows] == [1, 1]
    with pytest.raises(ValueError, match="mixed11: not a layer this network offers"):
        next(atlas_rows(random_inception, layers=["mixed2", "mixed11"]))
    with pytest.raises(ValueError, match="at least one layer"):
        next(atlas_rows(random_inception, layers=[]))
