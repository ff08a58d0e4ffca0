"""Where the dream goes: a mask painted on the photo in the page, or uploaded.

Contract:
- ``mask_ui(picture, picture_id)`` draws, below the photo, "Dream only where you paint": off
  by default. Painting uses streamlit-drawable-canvas (Fabric.js) with the photo behind the
  strokes: a brush and an eraser with a size, "Clear", a soft edge (feather) and "Invert".
  Or a mask image is uploaded (white = dream, black = keep, grey = part strength). Returns
  the ``Mask`` to dream through, or None (no mask: the whole photo dreams).
- The painted strokes are read from the canvas's own rendering: a pixel belongs to the dream
  when the last stroke over it was the brush's (brush and eraser have different colours;
  whichever was drawn last dominates a pixel), so the eraser takes back what the brush gave.
- A mask of another shape is fitted to the photo (``Mask.strength``); the page says how much
  of the picture it dreams. Problems (a bad mask file, a mask that dreams nowhere) are plain
  messages, and the dream then waits for a usable mask rather than dreaming everywhere.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import streamlit as st
from PIL import Image

from deepdream import ImageDecodeError, Mask, fit_within
from deepdream.media.image import decode_mask

from .upload import UPLOAD_TYPES

log = logging.getLogger("deepdream.app")

#: The canvas's longest side on screen (the mask is fitted to the full photo afterwards).
CANVAS_SIDE = 512
BRUSH = (255, 64, 160)  # a pink that shows on most photos
ERASER = (24, 24, 24)
STROKE_ALPHA = 0.6  # see-through, so the photo shows under the strokes
MASK_KEYS = ("mask_on", "mask_source", "mask_tool", "mask_brush", "mask_feather", "mask_invert")
PAINT, UPLOAD = "paint", "upload"


class MaskProblem(Exception):
    """A mask was asked for and none can be used (the message says why and what to do)."""


def _init_mask_state() -> None:
    state = st.session_state
    state.setdefault("mask_on", False)
    state.setdefault("mask_source", PAINT)
    state.setdefault("mask_tool", "brush")
    state.setdefault("mask_brush", 40)
    state.setdefault("mask_feather", 8)
    state.setdefault("mask_invert", False)
    state.setdefault("mask_canvas_round", 0)


def _clear() -> None:
    st.session_state.mask_canvas_round += 1  # a new canvas key: the strokes are gone


def mask_ui(picture: np.ndarray, picture_id: str) -> Mask | None:
    """The mask controls; see the module docstring.

    Raises:
        MaskProblem: "dream only where you paint" is on and there is no usable mask yet.
    """
    _init_mask_state()
    with st.expander("Dream only where you paint (mask)", expanded=st.session_state.mask_on):
        on = st.toggle(
            "Dream only where I paint",
            key="mask_on",
            help="Off: the whole picture dreams. On: only where you paint (or where an "
            "uploaded mask is white); the rest of the photo stays exactly as it is.",
        )
        if not on:
            return None
        source = st.radio(
            "Mask",
            [PAINT, UPLOAD],
            key="mask_source",
            horizontal=True,
            format_func={PAINT: "Paint on the photo", UPLOAD: "Upload a mask image"}.get,
        )
        tools = st.columns(4)
        feather = tools[2].slider(
            "Soft edge (px)",
            0,
            60,
            key="mask_feather",
            help="Blurs the mask's edge by this many pixels of the picture as shown here, so "
            "the dream fades out instead of stopping at a hard line.",
        )
        invert = tools[3].checkbox(
            "Invert", key="mask_invert", help="Dream everywhere except where you painted."
        )
        strokes = _paint(picture, picture_id, tools) if source == PAINT else _uploaded_mask()
        if strokes is None:
            raise MaskProblem(
                "Paint where the dream should go (or upload a mask), or turn off "
                '"Dream only where I paint".'
            )
        try:
            mask = Mask.from_image(strokes, feather=feather, invert=invert)
        except ValueError as error:
            raise MaskProblem(str(error)) from None
        st.caption(f"The dream covers {mask.coverage:.0%} of the picture.")
        return mask


def _paint(picture: np.ndarray, picture_id: str, tools: list[Any]) -> np.ndarray | None:
    """The canvas and its tools; the strokes as a grey plane (255 = dream), or None."""
    try:
        from streamlit_drawable_canvas import st_canvas
    except Exception:  # the component is not registered (e.g. outside a served page)
        log.exception("the painting canvas is unavailable")
        st.info("Painting is not available on this server; upload a mask image instead.")
        return None
    tool = tools[0].radio(
        "Tool",
        ["brush", "eraser"],
        key="mask_tool",
        format_func=str.capitalize,
        help="The brush paints where to dream; the eraser takes strokes back.",
    )
    size = tools[1].slider("Brush size (px)", 4, 120, key="mask_brush")
    tools[3].button("Clear", key="mask_clear", on_click=_clear, help="Remove every stroke.")
    shown = canvas_picture(picture)
    height, width = shown.shape[:2]
    colour = BRUSH if tool == "brush" else ERASER
    result = st_canvas(
        stroke_width=int(size),
        stroke_color="rgba({}, {}, {}, {})".format(*colour, STROKE_ALPHA),
        background_image=Image.fromarray(shown),
        height=height,
        width=width,
        drawing_mode="freedraw",
        return_image_data=True,
        key=f"mask_canvas_{picture_id}_{st.session_state.mask_canvas_round}",
    )
    image = getattr(result, "image_data", None) if result is not None else None
    return None if image is None else painted_plane(np.asarray(image))


def canvas_picture(picture: np.ndarray) -> np.ndarray:
    """The picture at the canvas's size: its long side ``CANVAS_SIDE`` (small photos are
    enlarged too, so a 256-pixel photo is not painted on a stamp)."""
    height, width = picture.shape[:2]
    scale = CANVAS_SIDE / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(picture).resize(size, Image.Resampling.BILINEAR))


def painted_plane(rgba: np.ndarray) -> np.ndarray | None:
    """The canvas's RGBA rendering as a mask plane: 255 where the brush's colour dominates a
    stroked pixel, 0 elsewhere (eraser strokes and bare canvas); None when nothing is painted."""
    if rgba.ndim != 3 or rgba.shape[2] != 4 or not rgba[..., 3].any():
        return None
    red = rgba[..., 0].astype(np.int16)
    halfway = (BRUSH[0] + ERASER[0]) // 2
    plane = ((rgba[..., 3] > 0) & (red > halfway)).astype(np.uint8) * 255
    return plane if plane.any() else None


def _uploaded_mask() -> np.ndarray | None:
    uploaded = st.file_uploader(
        "Mask image",
        type=UPLOAD_TYPES,
        key="mask_upload",
        help="White where the dream goes, black where the photo stays, grey for part "
        "strength; any size (it is stretched to the photo). Transparent counts as black.",
    )
    if uploaded is None:
        return None
    try:
        pixels = decode_mask(uploaded.getvalue())
    except ImageDecodeError as error:
        st.error(str(error))
        return None
    st.image(fit_within(pixels[..., :3], 240), caption="Your mask")
    return pixels
