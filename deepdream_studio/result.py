"""The result: original and dream side by side, and the download.

Contract:
- ``dream_record(photo, png, description, ...)`` is what the page keeps of a dream (its PNG
  bytes with metadata, a screen-sized copy of the original, captions, download name).
- ``result_ui(record)`` shows the original on the left and the dream on the right (or, as
  "Before and after", the photo over the dream split by a slider), with the download button
  and its format (PNG, JPEG or WebP, each keeping the dream's record inside; the JPEG and
  WebP are encoded once from the PNG and kept with the record). The dream is
  given to ``st.image`` as our PNG bytes at its exact pixel width, so Streamlit serves those
  very bytes: right-click "Save image as" saves the same PNG, metadata included, as the
  download button.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np
import streamlit as st
from PIL import Image

from deepdream import decode_image, fit_within
from deepdream.media.image import DEFAULT_QUALITY, encode_image, read_record

VIEW_SIDE = 1400  # longest side of the copies shown on screen (the saved dream is full size)

# Our own static CSS (no user data): images given their exact pixel width still shrink to fit
# their column, so a 4000-pixel dream does not spill over the page.
FIT_IMAGES_CSS = (
    "<style>[data-testid='stColumn'] [data-testid='stElementContainer'],"
    "[data-testid='stImage'], [data-testid='stImageContainer'], [data-testid='stImage'] img"
    "{max-width: 100%; height: auto;}</style>"
)


def dream_record(
    photo: np.ndarray,
    png: bytes,
    description: str,
    stem: str,
    notice: str | None,
    summary: str,
    stopped: bool = False,
) -> dict[str, Any]:
    """What the page keeps of a dream (see the module docstring)."""
    return {
        "size": photo.shape[:2],
        # A screen-sized copy: re-encoding a 24-megapixel original on every rerun is slow.
        "original_view": fit_within(photo, VIEW_SIDE),
        "png": png,
        "file_name": f"{stem}-deepdream.png",
        "notice": notice,
        "stopped": stopped,
        "summary": summary,
        "model": description,
        "where": "",
    }


def result_ui(record: dict[str, Any] | None) -> None:
    """Original and dream side by side, with the download button (nothing without a record)."""
    if not record:
        return
    height, width = record["size"]
    view = st.radio(
        "View",
        list(VIEWS),
        key="compare_view",
        horizontal=True,
        format_func=VIEWS.get,
        help="Side by side shows both whole; before and after lays the dream over the "
        "photo with a slider between them.",
    )
    if view == "slider":
        if "compare_html" not in record:  # built once: a rerun must not re-encode the dream
            record["compare_html"] = compare_html(record)
        st.html(record["compare_html"], unsafe_allow_javascript=True)
        st.caption(f"DeepDream · {record['summary']} · drag the slider: photo left, dream right")
    else:
        st.html(FIT_IMAGES_CSS)
        left, right = st.columns(2)
        # Both at their own size (shrunk to the column when larger), so they compare 1:1.
        left.image(record["original_view"], caption=f"Original · {width}×{height}", width=width)
        # Passing the exact width keeps Streamlit from re-encoding: right-click "Save image
        # as" gives the very PNG, metadata included. The CSS still fits it to the column.
        right.image(
            record["png"],
            caption=f"DeepDream · {record['summary']}",
            width=width,
            output_format="PNG",
        )
    if record["stopped"]:
        st.info(
            "This dream was stopped early (Stop was pressed, or a setting changed while it "
            "ran); this is how far it got."
        )
    st.caption(f"Made with {record['model']}. {record['where']}".strip())
    kind = st.radio(
        "Download as",
        list(DOWNLOAD_FORMATS),
        key="download_format",
        horizontal=True,
        help='PNG is lossless (what right-click "Save image as" gives); JPEG and WebP are '
        f"much smaller (quality {DEFAULT_QUALITY}). Each keeps the dream's settings inside.",
    )
    suffix, mime = DOWNLOAD_FORMATS[kind]
    st.download_button(
        f"Download the dream ({kind})",
        data=download_bytes(record, suffix),
        file_name=record["file_name"].removesuffix(".png") + suffix,
        mime=mime,
        key="download",
        on_click="ignore",
        type="primary",
    )


VIEWS = {"side": "Side by side", "slider": "Before and after"}

# Our own markup and script, no user data but the two pictures (as base64 JPEGs we encoded):
# the dream below, the photo above it clipped to the slider's left part.
COMPARE_HTML = """
<div class="dd-compare" style="position:relative;display:inline-block;max-width:100%;
  line-height:0;width:{width}px">
  <img alt="The dream" src="data:image/jpeg;base64,{dream}" style="width:100%;height:auto">
  <img alt="The photo" class="dd-before" src="data:image/jpeg;base64,{photo}"
    style="position:absolute;top:0;left:0;width:100%;height:auto;clip-path:inset(0 50% 0 0)">
  <div class="dd-line" style="position:absolute;top:0;bottom:0;left:50%;width:2px;
    background:white;box-shadow:0 0 3px black;pointer-events:none"></div>
  <input class="dd-slider" type="range" min="0" max="100" value="50" step="0.5"
    aria-label="Before and after: photo on the left, dream on the right"
    style="position:absolute;inset:0;width:100%;height:100%;margin:0;opacity:0;cursor:ew-resize">
</div>
<script>
for (const box of document.querySelectorAll(".dd-compare")) {{
  const slider = box.querySelector(".dd-slider");
  const move = () => {{
    box.querySelector(".dd-before").style.clipPath = `inset(0 ${{100 - slider.value}}% 0 0)`;
    box.querySelector(".dd-line").style.left = `${{slider.value}}%`;
  }};
  slider.addEventListener("input", move);
  move();
}}
</script>
"""
#: Longest side of the before/after pictures: the screen's, not the dream's full size.
COMPARE_SIDE = 1400


def compare_html(record: dict[str, Any]) -> str:
    """The before/after view of a dream: photo over dream, split by a slider."""
    dream = fit_within(decode_image(record["png"]), COMPARE_SIDE)
    photo = np.asarray(
        Image.fromarray(record["original_view"]).resize(
            (dream.shape[1], dream.shape[0]), Image.Resampling.BILINEAR
        )
    )
    return COMPARE_HTML.format(
        width=dream.shape[1], dream=_jpeg_base64(dream), photo=_jpeg_base64(photo)
    )


def _jpeg_base64(pixels: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=90)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


#: The download's formats: suffix and MIME type.
DOWNLOAD_FORMATS = {
    "PNG": (".png", "image/png"),
    "JPEG": (".jpg", "image/jpeg"),
    "WebP": (".webp", "image/webp"),
}


def download_bytes(record: dict[str, Any], suffix: str) -> bytes:
    """The dream as ``suffix``'s format, its record kept inside: the PNG itself, or encoded
    once from it and kept with the record (a rerun must not re-encode a large dream)."""
    if suffix == ".png":
        return record["png"]
    encoded = record.setdefault("encoded", {})
    if suffix not in encoded:
        encoded[suffix] = encode_image(
            decode_image(record["png"]), read_record(record["png"]), suffix, DEFAULT_QUALITY
        )
    return encoded[suffix]
