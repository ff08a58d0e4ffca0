"""The "Explore channels" panel in the sidebar: what single channels of a layer dream.

Contract:
- ``explorer_ui(model)`` draws, in a sidebar expander, a layer picker, the first channel of a
  page of ``PAGE`` channels and a **Draw** button. Drawing renders each channel's sketch (what
  it dreams from a grey canvas, ``deepdream.explore``) one after another into a grid, with a
  progress bar, the first one as soon as it is ready, captioned with its channel number;
  under each sketch a "+" button adds that channel to the channel picker
  (``control.add_channel``) and reruns the page.
- Sketches are kept per server (``SKETCHES``: every session shares them), keyed by model,
  precision, weights, where dreams run, layer and channel. Only a press of Draw computes;
  any other run shows the kept ones, so a dream never waits behind the explorer.
- The panel is a fragment: drawing reruns only the panel, not the whole page.
- A sketch runs where the page's dreams run (this process, or the Ray cluster), through the
  same runner, in the same first come, first served slots.
"""

from __future__ import annotations

import os

import streamlit as st

from deepdream.config import MODEL_CHANNELS
from deepdream.explore import channel_canvas, channel_config
from deepdream.models.catalog import NETWORKS
from deepdream.serving.cache import LruCache

from .backend import cluster_address, offered_layers, runner_for
from .control import add_channel
from .run import PLAIN_ERRORS

PAGE = 16  # channels per page of the grid
#: The weight the "-" button gives a channel: enough to push it below the photo's while the
#: chosen layers still rise (bench figures in tests/test_looks.py).
PUSH_DOWN = -0.1
COLUMNS = 4
SKETCHES: LruCache = LruCache(2048)  # PNG bytes, about 30 KB each
DEFAULT_LAYER = {key: network.explore_layer for key, network in NETWORKS.items()}


def _sketch_key(model: str, layer: str, channel: int) -> tuple:
    env = os.environ
    precision = st.session_state.get("precision", "auto")
    return (model, precision, env.get("DEEPDREAM_WEIGHTS", ""), cluster_address(), layer, channel)


def draw_sketch(model: str, layer: str, channel: int) -> bytes:
    """The PNG of one channel's sketch, run like a dream (here or on the cluster)."""
    config = channel_config(model, layer, channel)
    runner = runner_for(config)
    if runner.config.model != model:
        raise ValueError(
            f"{model} is not available here, so its channels cannot be drawn; "
            "choose the network this server has."
        )
    last = None
    try:
        with runner.slot(wait=lambda ahead: None):
            for update in runner.updates(channel_canvas(config)):
                last = update
    finally:
        runner.close()
    png, _ = runner.finished(last.result)
    return png


def _page_channels(model: str, layer: str, first: int) -> list[int]:
    count = MODEL_CHANNELS[model][layer]
    return list(range(first, min(first + PAGE, count)))


@st.fragment
def _explorer(model: str) -> None:
    layers = offered_layers(model)
    state = st.session_state
    if state.get("explore_layer") not in layers:
        state.explore_layer = DEFAULT_LAYER[model]
    layer = st.selectbox(
        "Layer to explore",
        layers,
        key="explore_layer",
        help="Shallow layers' channels see strokes and textures; deep ones see parts of "
        "objects and animals.",
    )
    count = MODEL_CHANNELS[model][layer]
    state.explore_first = min(int(state.get("explore_first", 0)), count - 1)
    first = st.number_input(
        f"First channel (of {count})",
        0,
        count - 1,
        step=PAGE,
        key="explore_first",
        help=f"The grid shows {PAGE} channels from this one on.",
    )
    draw = st.button(
        f"Draw {PAGE} channels",
        key="explore_draw",
        help="Dream each channel on a small grey canvas (a few seconds each the first time; "
        "kept for everyone on this server afterwards).",
    )
    channels = _page_channels(model, layer, int(first))
    missing = [c for c in channels if _sketch_key(model, layer, c) not in SKETCHES]
    progress = st.progress(0.0, text="Drawing...") if draw and missing else None
    shown = draw or len(missing) < len(channels)
    columns = st.columns(COLUMNS) if shown else []
    done = 0
    for index, channel in enumerate(channels):
        key = _sketch_key(model, layer, channel)
        if key not in SKETCHES and not draw:
            continue
        was_missing = channel in missing
        try:
            # Kept ones come straight back; a missing one is drawn (or, when another session
            # is drawing it right now, waited for).
            png = SKETCHES.get_or_build(key, lambda c=channel: draw_sketch(model, layer, c))
        except (ValueError, *PLAIN_ERRORS) as error:
            st.error(str(error))
            return
        if was_missing and progress is not None:
            done += 1
            progress.progress(done / len(missing), text=f"Drew {done} of {len(missing)}...")
        _sketch_cell(columns[index % COLUMNS], png, layer, channel)
    if progress is not None:
        progress.empty()
    if missing and not draw:
        st.caption(f"{len(missing)} of these {len(channels)} channels are not drawn yet.")


def _sketch_cell(spot, png: bytes, layer: str, channel: int) -> None:
    # The number goes in the caption and the button is a bare "+": a sidebar column is too
    # narrow for "+ 123" (it was cut to "+...").
    spot.image(png, caption=str(channel), width="stretch")
    add = spot.button(
        "+", key=f"explore_add_{layer}_{channel}", help=f"Add channel {layer}:{channel}"
    )
    less = spot.button(
        "−",
        key=f"explore_less_{layer}_{channel}",
        help=f"Push channel {layer}:{channel} down (weight -0.1): less of what it sees, while "
        "the layers keep dreaming (-1 silences it, and holds the layers back too)",
    )
    if add or less:
        add_channel(layer, channel, 1.0 if add else PUSH_DOWN)
        st.rerun(scope="app")  # the channel field lives outside this fragment


def explorer_ui(model: str) -> None:
    """The panel; see the module docstring."""
    with st.sidebar, st.expander("Explore channels"):
        _explorer(model)
