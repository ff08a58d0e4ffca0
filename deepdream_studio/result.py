"""The result: original and dream side by side, and the download.

Contract:
- ``dream_record(photo, png, description, ...)`` is what the page keeps of a dream (its PNG
  bytes with metadata, a screen-sized copy of the original, captions, download name).
- ``result_ui(record)`` shows the original on the left and the dream on the right, with the
  download button and its format (PNG, JPEG or WebP, each keeping the dream's record inside;
  the JPEG and WebP are encoded once from the PNG and kept with the record). The dream is
  given to ``st.image`` as our PNG bytes at its exact pixel width, so Streamlit serves those
  very bytes: right-click "Save image as" saves the same PNG, metadata included, as the
  download button.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from deepdream import decode_image, fit_within
from deepdream.image import DEFAULT_QUALITY, encode_image, read_record

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
    st.html(FIT_IMAGES_CSS)
    left, right = st.columns(2)
    # Both at their own size (shrunk to the column when larger), so they compare 1:1.
    left.image(record["original_view"], caption=f"Original · {width}×{height}", width=width)
    # Passing the exact width keeps Streamlit from re-encoding: right-click "Save image as"
    # gives the very PNG, metadata included. The CSS still fits it to the column.
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
