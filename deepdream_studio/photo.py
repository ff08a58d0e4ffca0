"""The photo page, top to bottom as the user goes: settings in the sidebar, upload a photo (or
choose to start from noise, a feature visualisation of the chosen layers or channels),
optionally paint where the dream goes (a mask, ``paint.py``), Generate DeepDream Image, watch
it dream (Stop keeps it), then original and dream side by side with the download. The dream
runs only when the button is pressed (while the photo is looked at, the server makes its
sizes' kernels in the background: ``models.prepare_photo_sizes``); the result lives in the
session, so changing a setting afterwards does not lose it."""

from __future__ import annotations

import streamlit as st

from deepdream import fit_within
from deepdream.config import PARAMS
from deepdream.media.image import noise_canvas

from .live import ready_toast_ui
from .models import prepare_photo_sizes
from .paint import PAINT, MaskProblem, mask_ui
from .result import VIEW_SIDE, result_ui
from .run import run_dream, session_handover, time_estimate, wait_for_stopped_dream
from .settings import settings_ui
from .upload import upload_ui

BUTTON_LABEL = "Generate DeepDream Image"
START_LABELS = {"photo": "A photo", "noise": "Noise (no photo needed)"}
NOISE_SIZES = ["256×256", "512×512", "768×512", "1024×768"]
PARAM_LABELS = {"fft": "Fourier (clear shapes)", "pixel": "Pixels (classic grain)"}


def start_ui(on_new_photo, seed: int):
    """Photo or noise: returns ``(start, image, stem, picture)``; the image is None until a
    usable photo is uploaded; ``picture`` is the noise start's ``param`` and ``transforms``
    (``noise_picture_ui``), empty for a photo."""
    start = st.radio(
        "Start from",
        list(START_LABELS),
        key="start",
        format_func=START_LABELS.get,
        horizontal=True,
        help="Noise starts from a faint grey canvas: the dream then shows purely what the "
        "chosen layers or channels see. The seed picks the noise.",
    )
    if start == "noise":
        size = st.selectbox("Canvas size", NOISE_SIZES, index=1, key="noise_size")
        width, height = (int(side) for side in size.split("×"))
        return start, noise_canvas(height, width, seed), "noise", noise_picture_ui()
    photo, stem = upload_ui(on_new_photo=on_new_photo)
    return start, photo, stem, {}


def noise_picture_ui() -> dict[str, str]:
    """How a dream from noise holds its picture: ``{"param": ..., "transforms": ...}``."""
    left, right = st.columns(2)
    param = left.radio(
        "Picture",
        PARAMS,
        key="noise_param",
        format_func=PARAM_LABELS.get,
        horizontal=True,
        help="Fourier grows the picture as a colour-balanced spectrum (lucid's feature "
        "visualisation): shapes, eyes and fur instead of grain. Pixels dreams on the noise in "
        "octaves, as a photo is dreamed.",
    )
    robust = right.checkbox(
        "Jitter, scale and rotate",
        value=True,
        key="noise_transforms",
        disabled=param != "fft",
        help="Move the picture a little at every step, so only patterns the network still "
        "sees when moved grow (transformation robustness). Fourier pictures only.",
    )
    return {"param": param, "transforms": "standard" if robust else "none"}


def photo_page() -> None:
    """Draw the photo page."""
    st.write(
        "DeepDream asks a trained neural network to exaggerate what it sees in your photo, "
        "again and again at several scales, until its patterns bloom out of the picture."
    )
    config, settings_error = settings_ui()
    wait_for_stopped_dream()
    ready_toast_ui()
    handover = session_handover()
    seed = config.seed if config is not None else 0
    start, photo, stem, picture = start_ui(handover.clear, seed)
    painting = st.session_state.get("mask_on") and st.session_state.get("mask_source") == PAINT
    if start == "photo" and photo is not None and handover.result is None and not painting:
        height, width = photo.shape[:2]
        view = fit_within(photo, VIEW_SIDE)
        st.image(view, caption=f"Your photo · {width}×{height}", width=min(width, 640))
    mask, mask_problem = None, None
    if photo is not None:
        try:
            mask = mask_ui(photo, picture_id(start, photo))
        except MaskProblem as problem:
            mask_problem = str(problem)
    clicked = st.button(
        BUTTON_LABEL,
        key="generate",
        type="primary",
        disabled=photo is None,
        shortcut="Ctrl+Enter",
        help="Also Ctrl+Enter (Cmd+Enter on a Mac).",
    )
    estimate = None if photo is None or config is None else time_estimate(photo.shape[:2], config)
    if estimate and not clicked:
        st.caption(estimate)
    if settings_error:
        st.error(settings_error)
    elif clicked and mask_problem:
        st.warning(mask_problem)
    elif clicked and photo is not None and config is not None:
        run_dream(photo, config.replace(start=start, mask=mask, **picture), stem)
    elif photo is not None and config is not None:
        # While the photo is looked at, its sizes' kernels are made, not after the click.
        prepare_photo_sizes(photo.shape[:2], config.replace(start=start, **picture))
    result_ui(handover.result)


def picture_id(start: str, picture) -> str:
    """Names the picture a mask is painted on: a new photo or canvas gets a fresh canvas."""
    if start == "photo" and "upload_photo" in st.session_state:
        return str(st.session_state["upload_photo"]["file_id"])
    height, width = picture.shape[:2]
    return f"{start}-{width}x{height}"
