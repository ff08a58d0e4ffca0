"""The photo and guide uploaders: bytes in, an upright RGB array out, or a plain error.

Contract: ``upload_ui(on_new_photo)`` draws the uploader and returns ``(photo, file_stem)``,
or ``(None, "")`` when there is no usable photo. A file that is not a readable photo gets the
engine's plain message (``ImageDecodeError``) as an error on the page, never a traceback; the
page keeps working and the next upload is read as usual. ``on_new_photo()`` is called once
when a different, valid photo arrives (the page forgets the old dream then). Uploads are kept
in memory only, never written to disk. The file name is used only as a sanitised stem for
the download's name; it is never shown. ``decoded_upload`` is the shared part: the guide
uploader in the sidebar uses it too, so a bad guide gets the same plain errors as a photo.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import streamlit as st

from deepdream import ImageDecodeError, decode_image
from deepdream.media.image import PHOTO_SUFFIXES

UPLOAD_TYPES = [suffix.removeprefix(".") for suffix in PHOTO_SUFFIXES]


def upload_ui(
    on_new_photo: Callable[[], None] = lambda: None, key: str = "upload"
) -> tuple[np.ndarray | None, str]:
    """The uploader; see the module docstring."""
    uploaded = st.file_uploader(
        "Choose a photo",
        type=UPLOAD_TYPES,
        key=key,
        help="PNG, JPEG, WebP, BMP, GIF or TIFF. Large photos are fine: the dream is "
        "computed at the working size and laid onto the full photo.",
    )
    if uploaded is None:
        return None, ""
    photo = decoded_upload(uploaded, key, on_new_photo, st)
    return (None, "") if photo is None else (photo, safe_stem(uploaded.name))


def decoded_upload(uploaded: Any, key: str, on_new: Callable[[], None], where: Any):
    """The pixels of an uploaded file, decoded once per file and kept in the session under
    ``{key}_photo``; None after showing the plain error in ``where`` (``st`` or
    ``st.sidebar``). ``on_new()`` runs once when a different, valid file arrives."""
    cached = st.session_state.get(f"{key}_photo")
    if cached is None or cached["file_id"] != uploaded.file_id:
        try:
            pixels = decode_image(uploaded.getvalue())
        except ImageDecodeError as error:
            where.error(str(error))
            return None
        st.session_state[f"{key}_photo"] = {"file_id": uploaded.file_id, "pixels": pixels}
        on_new()
    return st.session_state[f"{key}_photo"]["pixels"]


def safe_stem(name: str) -> str:
    """A file name's stem reduced to letters, digits, ``_`` and ``-`` (at most 60), for the
    download's name; ``"photo"`` when nothing is left."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", name.rsplit(".", 1)[0])[:60].strip("_")
    return stem or "photo"
