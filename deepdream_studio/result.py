"""The result: original and dream side by side, and the download.

Contract:
- ``dream_record(photo, png, description, ...)`` is what the page keeps of a dream (its PNG
  bytes with metadata, a screen-sized copy of the original, captions, download name).
- ``result_ui(record)`` shows the original on the left and the dream on the right, with the
  download button. The dream is given to ``st.image`` as our PNG bytes at its exact pixel
  width, so Streamlit serves those very bytes: right-click "Save image as" saves the same PNG,
  metadata included, as the download button.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from deepdream import fit_within

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
    st.download_button(
        "Download the dream (PNG)",
        data=record["png"],
        file_name=record["file_name"],
        mime="image/png",
        key="download",
        on_click="ignore",
        type="primary",
    )
