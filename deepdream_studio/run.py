"""Running a dream from the page: the queue, live progress, Stop, and keeping the result.

Contract:
- ``run_dream(photo, config, stem)`` waits for a dream slot (first come, first served; the
  page says how many dreams are ahead), then dreams with a progress bar (octave, step, time
  left), a Stop button, a live preview and a chart of the objective. A finished dream, or a
  stopped one laid onto the full-size photo like a finished one, is kept through the session's
  ``ResultHandover`` (see ``handover.py`` for why). A failure shows a plain message, never a
  traceback, and is never labelled as stopped.
- ``wait_for_stopped_dream()`` lets a new run wait for a stopped one to hand its dream over.
- ``session_handover()`` is this browser session's hand-over (it holds the shown result).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import streamlit as st

from deepdream import DreamConfig, WeightsUnavailableError, fit_within
from deepdream.cluster import ClusterError  # Ray-free
from deepdream.serving.pace import dream_work, shared_pace

from .backend import DreamRunner, cluster_address, runner_for
from .gallery import session_gallery
from .handover import ResultHandover
from .live import LiveJob, live_run, redraw_due
from .models import load_dream_model, remember_prepared
from .result import dream_record

log = logging.getLogger("deepdream.app")


#: Errors whose message is written for users and shown as is.
PLAIN_ERRORS: tuple[type[Exception], ...] = (WeightsUnavailableError, ClusterError)


def session_handover(key: str = "handover") -> ResultHandover:
    """This browser session's hand-over for one page (created on first use)."""
    if key not in st.session_state:
        st.session_state[key] = ResultHandover()
    return st.session_state[key]


#: Least seconds between two redraws of the bar and chart: each redraw is a message to the
#: browser, and drawing every step of a fast dream costs more than the step itself.
REDRAW_SECONDS = 0.5
#: Longest side of the live preview: the screen's size, not the working size.
PREVIEW_SIDE = 640


def objective_chart(losses: list[float]) -> dict[str, Any]:
    """A Vega-Lite line chart of the objective, step by step, its data inline.

    Built by hand because ``st.line_chart`` builds it through pandas and Altair: about 120 ms
    a redraw here, a third of a small dream's step; this spec costs about 1 ms.
    """
    return {
        "data": {"values": [{"step": i, "objective": loss} for i, loss in enumerate(losses, 1)]},
        "mark": {"type": "line"},
        "encoding": {
            "x": {"field": "step", "type": "quantitative", "title": "step"},
            "y": {
                "field": "objective",
                "type": "quantitative",
                "title": "objective",
                "scale": {"zero": False},
            },
        },
    }


def show_progress(widgets: dict[str, Any], update: Any, losses: list[float]) -> None:
    """Draw one progress update: bar, objective chart, and the preview when there is one.
    Bar and chart are redrawn at most every ``REDRAW_SECONDS`` (always with a preview)."""
    with_preview = update.preview is not None and update.result is None
    if not redraw_due(widgets, 0.0 if with_preview else REDRAW_SECONDS):
        return
    eta = f" · about {update.eta:.0f} s left" if update.eta else ""
    widgets["progress"].progress(
        min(update.work, 1.0),
        text=f"Octave {update.octave}/{update.octaves} · step {update.step}/{update.steps}{eta}",
    )
    widgets["chart"].vega_lite_chart(objective_chart(losses), width="stretch", height=220)
    if with_preview:
        preview = fit_within(update.preview, PREVIEW_SIDE)
        widgets["preview"].image(preview, caption="Dreaming...", width="stretch")


def _progress_widgets() -> tuple[Any, dict[str, Any]]:
    live = st.empty()  # progress, preview and chart: cleared when the dream is done
    with live.container():
        status = st.empty()
        progress = st.progress(0.0, text="Waiting to start...")
        st.button("Stop", key="stop", help="Stop now and keep the dream as far as it got.")
        preview_spot, chart_spot = st.columns([3, 2])
    widgets = {
        "status": status,
        "progress": progress,
        "preview": preview_spot.empty(),
        "chart": chart_spot.empty(),
    }
    return live, widgets


def runner_or_error(config: DreamConfig) -> DreamRunner | None:
    """Where this dream runs (``backend.runner_for``), or None after showing the plain error
    on the page (weights named but broken, the cluster unreachable)."""
    try:
        return runner_for(config)
    except Exception as error:
        if not isinstance(error, PLAIN_ERRORS):
            raise
        st.error(str(error))
        return None


def run_dream(photo: np.ndarray, config: DreamConfig, stem: str) -> None:
    """Dream with live progress (``live.live_run``); see the module docstring."""
    runner = runner_or_error(config)
    if runner is None:
        return
    live, widgets = _progress_widgets()
    gallery = session_gallery()  # plain Python: still usable while Streamlit stops this run
    losses: list[float] = []
    seen: dict[str, Any] = {}  # the last update with a preview, the finished one

    def draw(update: Any) -> None:
        losses.append(update.loss)
        if update.preview is not None:
            seen["preview"] = update
        if update.result is not None:
            seen["finished"] = update
            if runner.where == "":  # this process's pace: the next estimate's base
                shared_pace().record(update.result)
                remember_prepared(photo.shape[:2], config)  # its sizes are made now
        show_progress(widgets, update, losses)

    def record(stopped: bool) -> dict[str, Any] | None:
        if finished := seen.get("finished"):  # finished, even if stopped while drawing it
            summary = f"{finished.total} steps in {finished.elapsed:.1f} s"
            png, description = runner.finished(finished.result)
        elif stopped and (last := seen.get("preview")) is not None:
            summary = f"stopped after step {last.done} of {last.total}"
            png, description = runner.stopped(photo, last)
        else:
            return None
        is_stopped = "finished" not in seen
        kept = dream_record(photo, png, description, stem, runner.notice, summary, is_stopped)
        kept["where"] = runner.where
        return kept

    live_run(
        LiveJob(
            handover=session_handover(),
            slot=runner.slot,
            updates=runner.updates(photo),
            status=widgets["status"],
            live=live,
            draw=draw,
            record=record,
            kept=lambda kept: gallery.add("photo", kept, runner.config),
            failure=lambda error: (
                str(error)
                if isinstance(error, PLAIN_ERRORS)
                else "Something went wrong while dreaming. Please try again, perhaps with a "
                "smaller max working side."
            ),
            ready="Your dream is ready.",
            close=runner.close,
        )
    )


def time_estimate(shape: tuple[int, int], config: DreamConfig) -> str | None:
    """The line "About 12 s on this server" for a dream of a ``shape`` photo with ``config``,
    from this server's measured pace (``deepdream.serving.pace``); None before a dream was measured
    here, or when the dreams run on a cluster."""
    if cluster_address():
        return None
    try:
        model, _ = load_dream_model(config.model)
        moved = config.with_model(model.name)
    except (WeightsUnavailableError, ValueError):  # said elsewhere on the page
        return None
    seconds = shared_pace().estimate(dream_work(shape, moved, model.min_side), model)
    if seconds is None:
        return None
    said = f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"
    return f"About {said} on this server (from the dreams it has made)."


def wait_for_stopped_dream(key: str = "handover") -> None:
    """After Stop, Streamlit starts the new run while the old one finishes its current step;
    wait for it to hand over the partial dream so this run can show it."""
    handover = session_handover(key)
    if handover.busy:
        with st.spinner("Stopping, and keeping the dream as far as it got..."):
            handover.wait(timeout=60)
