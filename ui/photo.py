"""The photo page, top to bottom as the user goes: settings in the sidebar, upload a photo,
Generate DeepDream Image, watch it dream (Stop keeps it), then original and dream side by side
with the download. The model runs only when the button is pressed; the result lives in the
session, so changing a setting afterwards does not lose it."""

from __future__ import annotations

import streamlit as st

from deepdream import fit_within

from .result import VIEW_SIDE, result_ui
from .run import run_dream, session_handover, wait_for_stopped_dream
from .settings import settings_ui
from .upload import upload_ui

BUTTON_LABEL = "Generate DeepDream Image"


def photo_page() -> None:
    """Draw the photo page."""
    st.write(
        "DeepDream asks a trained neural network to exaggerate what it sees in your photo, "
        "again and again at several scales, until its patterns bloom out of the picture."
    )
    config, settings_error = settings_ui()
    wait_for_stopped_dream()
    handover = session_handover()
    photo, stem = upload_ui(on_new_photo=handover.clear)
    if photo is not None and handover.result is None:
        height, width = photo.shape[:2]
        view = fit_within(photo, VIEW_SIDE)
        st.image(view, caption=f"Your photo · {width}×{height}", width=min(width, 640))
    clicked = st.button(BUTTON_LABEL, key="generate", type="primary", disabled=photo is None)
    if settings_error:
        st.error(settings_error)
    elif clicked and photo is not None and config is not None:
        run_dream(photo, config, stem)
    result_ui(handover.result)
