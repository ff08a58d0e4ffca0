"""Controlling the dream, in the sidebar: a guide image, chosen channels, the normalisation.

Contract:
- ``guide_ui()`` draws the guide uploader; with a readable guide it shows its thumbnail and a
  strength slider and returns ``(Guide, strength)``, else ``(None, strength)``. A file that is
  not a readable image gets the same plain message as a bad photo, in the sidebar.
- ``channels_ui(model)`` draws the channel picker: a text field of ``LAYER:CHANNEL[:WEIGHT]``
  items (the command line's syntax; the explorer's buttons fill it in) and "only these
  channels". Returns ``(channels, only_channels)``; a typo raises ``ValueError`` with a plain
  sentence, which the page shows like any clash of settings.
- ``add_channel(layer, channel)`` queues a channel for the picker (applied on the next run,
  before the field is drawn: Streamlit forbids changing a drawn widget's value).
- ``normalize_ui()`` returns ``"std"`` or ``"laplacian"``.
"""

from __future__ import annotations

import streamlit as st

from deepdream import Guide, fit_within
from deepdream.config import parse_channels
from deepdream.models.catalog import NETWORKS

from .upload import UPLOAD_TYPES, decoded_upload

CONTROL_KEYS = ("guide_strength", "channels_text", "channels_only", "normalize")
GUIDE_THUMBNAIL = 160  # pixels, the sidebar's thumbnail of the guide

NORMALIZE_LABELS = {
    "std": "Standard",
    "laplacian": "Laplacian (smoother, larger patterns)",
}


def init_control() -> None:
    """First-run defaults of the control widgets."""
    state = st.session_state
    state.setdefault("guide_strength", 0.8)
    state.setdefault("channels_text", "")
    state.setdefault("channels_only", True)
    state.setdefault("normalize", "std")


def guide_ui() -> tuple[Guide | None, float]:
    """The guide uploader, its thumbnail and strength; see the module docstring."""
    uploaded = st.sidebar.file_uploader(
        "Guide image (optional)",
        type=UPLOAD_TYPES,
        key="guide_upload",
        help="Dream like this picture: wherever the dream's features resemble something in "
        "the guide, they are pushed towards it. Only a hash of its pixels is stored in the "
        "result.",
    )
    strength = float(st.session_state.guide_strength)
    if uploaded is None:
        return None, strength
    pixels = decoded_upload(uploaded, "guide", lambda: None, st.sidebar)
    if pixels is None:
        return None, strength
    guide = Guide.from_image(pixels)
    height, width = pixels.shape[:2]
    st.sidebar.image(fit_within(guide.pixels, GUIDE_THUMBNAIL), caption=f"Guide · {width}×{height}")
    strength = st.sidebar.slider(
        "Guide strength",
        0.0,
        1.0,
        step=0.05,
        key="guide_strength",
        help="How much of the dream follows the guide: 1 is the guide alone, 0 ignores it.",
    )
    return guide, float(strength)


def add_channel(layer: str, channel: int, weight: float = 1.0) -> None:
    """Queue ``layer:channel`` with ``weight`` (1: amplify it; -1: push it down) for the
    channel picker."""
    st.session_state.setdefault("pending_channels", []).append((layer, int(channel), weight))


def _apply_pending_channels() -> None:
    pending = st.session_state.pop("pending_channels", [])
    if not pending:
        return
    text = st.session_state.channels_text.strip().strip(",")
    # One entry per layer:channel, in the order given; a click replaces that channel's weight.
    items = {}
    for item in (i.strip() for i in text.split(",") if i.strip()):
        items[":".join(item.split(":")[:2])] = item
    for layer, channel, weight in pending:
        items[f"{layer}:{channel}"] = channel_item(layer, channel, weight)
    st.session_state.channels_text = ", ".join(items.values())


def channel_item(layer: str, channel: int, weight: float) -> str:
    """One channel as the field writes it: ``LAYER:CHANNEL``, with ``:WEIGHT`` unless 1."""
    return f"{layer}:{channel}" + ("" if weight == 1 else f":{weight:g}")


def channels_ui(model: str):
    """The channel picker; see the module docstring."""
    _apply_pending_channels()
    text = st.sidebar.text_input(
        "Channels",
        key="channels_text",
        placeholder=NETWORKS[model].example_channels,
        help="Single feature detectors to amplify, as LAYER:CHANNEL or LAYER:CHANNEL:WEIGHT, "
        "separated by commas. A negative weight pushes that feature down instead, e.g. fewer "
        "dog faces: mixed4:97:-0.1 with Only these channels unticked lowers it while the "
        "layers dream (-1 silences it but holds the layers back too). Find them with "
        "Explore channels below.",
    )
    if not text.strip():
        return (), False
    only = st.sidebar.checkbox(
        "Only these channels",
        key="channels_only",
        help="Dream only the chosen channels; untick to add them to the layers above.",
    )
    return parse_channels(text), bool(only)


def normalize_ui() -> str:
    """The gradient normalisation."""
    return st.sidebar.radio(
        "Gradient normalisation",
        list(NORMALIZE_LABELS),
        key="normalize",
        format_func=NORMALIZE_LABELS.get,
        help="How each step's push is scaled. Laplacian evens out the scales of the push, so "
        "patterns come out smoother and larger.",
    )
