"""The "Explore channels" panel in the sidebar: what single channels of a layer see.

Contract:
- ``explorer_ui(model)`` draws, in a sidebar expander, a layer picker (every layer the served
  network has: ``backend.offered_layers``), the first channel of a page of ``PAGE`` channels
  and a **Draw** button. Drawing renders the page's missing sketches (Fourier feature
  visualisations, ``deepdream.explore``) in one batched run into a grid, captioned with
  their channel numbers; under each sketch a "+" button adds that channel to the channel
  picker (``control.add_channel``) and a "−" pushes it down, and the page reruns.
- Below the grid, a channel of the page can be opened larger with N diverse versions
  (``diverse_sketches``: one run of N pictures pushed apart in style), kept like sketches.
- A second expander, "Atlas of every layer", draws the first K channels of every mixed layer
  into one sheet (``deepdream.atlas``) with a progress bar a layer, kept per server.
- Sketches are kept per server (``SKETCHES``: every session shares them), keyed by model,
  precision, weights, where dreams run, layer and channel. Only a press of Draw computes;
  any other run shows the kept ones, so a dream never waits behind the explorer.
- The panel is a fragment: drawing reruns only the panel, not the whole page.
- A sketch runs where the page's dreams run, through the same runner, in the same first
  come, first served slots: in this process a page is one batched run on the runner's
  model; on the Ray cluster each sketch is its channel's config (``channel_config``) dreamed
  on a worker (the same pixels), and diverse versions are versions of other seeds (the
  diversity penalty needs the model here).
- Kept sheets and versions use the server-wide ``LruCache`` as sketches do, rather than
  ``st.cache_data``: every session shares them, and a second session asking for the same
  sheet waits for the first one's work instead of starting its own.
"""

from __future__ import annotations

import os

import streamlit as st

from deepdream.atlas import ATLAS_SIDE, atlas_sheet, default_atlas_layers
from deepdream.config import MODEL_CHANNELS
from deepdream.explore import (
    LARGE_SIDE,
    channel_canvas,
    channel_config,
    channel_sketches,
    diverse_sketches,
)
from deepdream.media.image import decode_image, encode_png
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
MAX_VERSIONS = 6
MAX_ATLAS_CHANNELS = 16
SKETCHES: LruCache = LruCache(2048)  # PNG bytes, about 30 KB each
VERSIONS: LruCache = LruCache(64)  # lists of PNG bytes, a channel opened larger
ATLASES: LruCache = LruCache(8)  # PNG bytes of whole sheets
DEFAULT_LAYER = {key: network.explore_layer for key, network in NETWORKS.items()}


def _served(model: str) -> tuple:
    env = os.environ
    precision = st.session_state.get("precision", "auto")
    return (model, precision, env.get("DEEPDREAM_WEIGHTS", ""), cluster_address())


def _sketch_key(model: str, layer: str, channel: int) -> tuple:
    return (*_served(model), layer, channel)


def _runner(model: str, layer: str, channel: int):
    config = channel_config(model, layer, channel)
    runner = runner_for(config)
    if runner.config.model != model:
        raise ValueError(
            f"{model} is not available here, so its channels cannot be drawn; "
            "choose the network this server has."
        )
    return runner


def draw_sketch(config) -> bytes:
    """The PNG of one sketch config, run like a dream (here or on the cluster)."""
    runner = runner_for(config)
    try:
        with runner.slot(wait=lambda ahead: None):
            last = None
            for update in runner.updates(channel_canvas(config)):
                last = update
    finally:
        runner.close()
    png, _ = runner.finished(last.result)
    return png


def draw_sketches(model: str, layer: str, channels: list[int]) -> list[bytes]:
    """The PNGs of ``channels``' sketches: one batched run here, or one dream each on the
    cluster."""
    runner = _runner(model, layer, channels[0])
    local_model = getattr(runner, "model", None)
    if local_model is None:
        runner.close()
        return [draw_sketch(channel_config(model, layer, c)) for c in channels]
    try:
        with runner.slot(wait=lambda ahead: None):
            images = channel_sketches(local_model, layer, channels)
    finally:
        runner.close()
    return [encode_png(image) for image in images]


def draw_versions(model: str, layer: str, channel: int, count: int) -> list[bytes]:
    """PNGs of ``count`` diverse versions of one channel, drawn larger."""
    runner = _runner(model, layer, channel)
    local_model = getattr(runner, "model", None)
    if local_model is None:
        runner.close()
        config = channel_config(model, layer, channel, LARGE_SIDE)
        return [draw_sketch(config.replace(seed=seed)) for seed in range(count)]
    try:
        with runner.slot(wait=lambda ahead: None):
            images = diverse_sketches(local_model, layer, channel, count)
    finally:
        runner.close()
    return [encode_png(image) for image in images]


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
        help="Grow each channel's picture from a faint Fourier spectrum, all of the page in "
        "one run (some seconds the first time; kept for everyone on this server afterwards).",
    )
    channels = _page_channels(model, layer, int(first))
    missing = [c for c in channels if _sketch_key(model, layer, c) not in SKETCHES]
    if draw and missing:
        try:
            with st.spinner(f"Drawing {len(missing)} channels in one run..."):
                drawn = draw_sketches(model, layer, missing)
        except (ValueError, *PLAIN_ERRORS) as error:
            st.error(str(error))
            return
        for channel, png in zip(missing, drawn):
            SKETCHES.get_or_build(_sketch_key(model, layer, channel), lambda png=png: png)
    kept = [c for c in channels if _sketch_key(model, layer, c) in SKETCHES]
    columns = st.columns(COLUMNS) if kept else []
    for index, channel in enumerate(kept):
        # Kept ones come straight back (one forgotten since is drawn again, alone).
        png = SKETCHES.get_or_build(
            _sketch_key(model, layer, channel),
            lambda c=channel: draw_sketches(model, layer, [c])[0],
        )
        _sketch_cell(columns[index % COLUMNS], png, layer, channel)
    if len(kept) < len(channels):
        st.caption(
            f"{len(channels) - len(kept)} of these {len(channels)} channels are not drawn yet."
        )
    if kept:
        _versions_ui(model, layer, kept)


def _versions_ui(model: str, layer: str, channels: list[int]) -> None:
    """A channel of the page opened larger, with N diverse versions."""
    left, right = st.columns(2)
    channel = left.selectbox("Open channel", channels, key="explore_open")
    count = right.number_input("Versions", 2, MAX_VERSIONS, 4, key="explore_versions")
    key = (*_served(model), layer, int(channel), int(count))
    opened = st.button(
        f"Open larger with {int(count)} diverse versions",
        key="explore_diverse",
        help="Draw this channel several times at once, each pushed away from the others' "
        "style, so they show different sides of what it sees.",
    )
    if not opened and key not in VERSIONS:
        return
    try:
        with st.spinner(f"Drawing {int(count)} versions of {layer}:{channel}..."):
            versions = VERSIONS.get_or_build(
                key, lambda: draw_versions(model, layer, int(channel), int(count))
            )
    except (ValueError, *PLAIN_ERRORS) as error:
        st.error(str(error))
        return
    spots = st.columns(2)
    for index, png in enumerate(versions):
        spots[index % 2].image(png, caption=f"{layer}:{channel} #{index + 1}", width="stretch")


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


def draw_atlas(model: str, channels: int, layers, progress) -> bytes:
    """The PNG of the atlas sheet of ``model``'s first ``channels`` channels of each of
    ``layers``; ``progress(done, total, layer)`` is called after each layer."""
    runner = _runner(model, layers[0], 0)
    local_model = getattr(runner, "model", None)
    runner.close()
    rows = []
    for index, layer in enumerate(layers):
        count = min(channels, MODEL_CHANNELS[model][layer])
        if local_model is not None:
            images = channel_sketches(local_model, layer, list(range(count)), ATLAS_SIDE)
        else:  # on the cluster: each sketch dreamed on a worker
            configs = [channel_config(model, layer, c, ATLAS_SIDE) for c in range(count)]
            images = [decode_image(draw_sketch(config)) for config in configs]
        rows.append((layer, images))
        progress(index + 1, len(layers), layer)
    return encode_png(atlas_sheet(rows, ATLAS_SIDE))


@st.fragment
def _atlas(model: str) -> None:
    count = st.number_input(
        "Channels a layer",
        1,
        MAX_ATLAS_CHANNELS,
        4,
        key="atlas_channels",
        help="The first channels of every mixed layer, a row a layer, shallow to deep.",
    )
    offered = default_atlas_layers(offered_layers(model))
    chosen = st.multiselect(
        "Layers",
        offered,
        default=offered,
        key=f"atlas_layers_{model}",
        help="A row each, shallow to deep; fewer layers draw sooner.",
    )
    if not chosen:
        st.caption("Choose at least one layer for the atlas.")
        return
    layers = [layer for layer in offered if layer in chosen]  # shallow to deep, as offered
    key = (*_served(model), "atlas", int(count), *layers)
    draw = st.button("Draw the atlas", key="atlas_draw", help="A few seconds a layer.")
    if not draw and key not in ATLASES:
        st.caption("What the network sees, from strokes to animal parts, in one sheet.")
        return
    bar = st.progress(0.0, text="Drawing the atlas...") if key not in ATLASES else None

    def progress(done: int, total: int, layer: str) -> None:
        if bar is not None:
            bar.progress(done / total, text=f"Drew {layer} ({done} of {total} layers)...")

    try:
        png = ATLASES.get_or_build(key, lambda: draw_atlas(model, int(count), layers, progress))
    except (ValueError, *PLAIN_ERRORS) as error:
        st.error(str(error))
        return
    if bar is not None:
        bar.empty()
    st.image(png, caption=f"Channels 0-{int(count) - 1} of each layer", width="stretch")
    st.download_button(
        "Download the atlas", png, file_name=f"atlas-{model}.png", key="atlas_download"
    )


def explorer_ui(model: str) -> None:
    """The panels; see the module docstring."""
    with st.sidebar, st.expander("Explore channels"):
        _explorer(model)
    with st.sidebar, st.expander("Atlas of every layer"):
        _atlas(model)
