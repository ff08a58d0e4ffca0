"""One driver for every live run on the page: a photo's dream, a video, a zoom.

Why one: the photo page and the Animate page each had their own copy of this skeleton, and
the copies had begun to differ. What a run shows and what it keeps is its own (a ``LiveJob``);
how it waits, streams, fails, stops and hands over is the same for all.

Contract: ``live_run(job)``
1. begins a run on the job's ``ResultHandover`` (see ``handover.py``): from now on only this
   run may keep a result there;
2. waits in ``job.slot(wait, owner)`` (first come, first served: one of this process's
   dream slots or one of the cluster's workers, in the one queue of ``deepdream.serving.slots``),
   the waiting page saying how many dreams are ahead (or that the server's warm-up holds the
   slot). The owner is the page's hand-over, so a run cut short while it queues (a rerun, a
   reconnect) and started afresh takes back its place instead of joining at the back;
3. hands every update to ``job.draw``;
4. on a failure shows ``job.failure(error)``, a plain sentence, never a traceback (the log
   keeps the details), and keeps nothing;
5. finally, in plain Python (Streamlit may be stopping the run: Stop, a changed setting, a
   closed tab), calls ``job.close`` (stop the remote work, finish the file) and keeps
   ``job.record(stopped)`` if it gives one (``stopped``: the run did not reach its end), then
   ``job.kept(record)`` (the gallery), and lets the next run go on;
6. after a run that reached its end, leaves a toast (``job.ready``) and reruns the page to
   show the result.

``redraw_due(widgets, every)`` is how a job's ``draw`` keeps its redraws apart: each is a
message the browser must render, on a server it may share with the dream.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import streamlit as st

from .handover import ResultHandover
from .models import preparation_holds_slot, warming_up

log = logging.getLogger("deepdream.app")


@dataclass
class LiveJob:
    """What one kind of live run shows and keeps; see the module docstring."""

    handover: ResultHandover
    slot: Callable[[Callable[[int], None], Hashable], AbstractContextManager]
    updates: Iterator[Any]
    status: Any  # an st.empty() for the queue's message
    live: Any  # the st.empty() holding the progress widgets, cleared at the end
    draw: Callable[[Any], None]
    record: Callable[[bool], dict[str, Any] | None]
    kept: Callable[[dict[str, Any]], None]
    failure: Callable[[Exception], str]
    ready: str
    close: Callable[[], None]


def redraw_due(widgets: dict[str, Any], every: float, now: float | None = None) -> bool:
    """Whether the live widgets may be redrawn: the first time, then once ``every`` seconds
    have passed since the last redraw (kept in ``widgets["drawn_at"]``, which a redraw
    allowed here sets). ``now``: the monotonic clock's reading, read here by default."""
    now = time.monotonic() if now is None else now
    if now - widgets.get("drawn_at", -every) < every:
        return False
    widgets["drawn_at"] = now
    return True


def queue_message(ahead: int, warming: bool = False, preparing: bool = False) -> str:
    """What a waiting page says, ``ahead`` dreams queueing in front of this one; ``warming``:
    the server's start-up warm-up holds the slot this one waits for; ``preparing``: a photo's
    sizes are being prepared (``models.prepare_photo_sizes``), which stops within a step."""
    if ahead <= 0 and warming:
        return (
            "The server is getting the dreaming network ready (once, after it starts); your "
            "dream starts as soon as that is done..."
        )
    if ahead <= 0 and preparing:
        return "Getting the network ready for your picture's size; your dream starts now..."
    if ahead <= 0:
        return "All dream slots are busy: yours is next, waiting for a running dream to end..."
    dreams = "dream" if ahead == 1 else "dreams"
    return f"All dream slots are busy: {ahead} {dreams} ahead of yours in the queue..."


def live_run(job: LiveJob) -> None:
    """Run ``job`` with live progress; see the module docstring."""
    run = job.handover.begin()  # plain Python: usable while Streamlit stops this run
    outcome = "stopped"  # until the updates end or fail

    def waiting(ahead: int) -> None:
        job.status.info(queue_message(ahead, warming_up(), preparation_holds_slot()))

    try:
        with job.slot(waiting, job.handover):
            job.status.empty()
            for update in job.updates:
                job.draw(update)
        outcome = "finished"
        job.live.empty()
    except Exception as error:  # never a traceback in the browser; the log keeps the details
        outcome = "failed"
        log.exception("live run failed")
        st.error(job.failure(error))
    finally:
        # Stop pressed, a setting changed, or the tab closed: Streamlit interrupts this run by
        # raising at the next st.* call (st.session_state included), so only plain Python
        # runs here. Stop the remote work, keep what was made, let the next run go on.
        try:
            job.close()
            record = None if outcome == "failed" else job.record(outcome == "stopped")
            if record is not None and job.handover.keep(run, record):
                job.kept(record)
        finally:
            run.settle()
    if outcome == "finished":
        st.session_state.ready_toast = job.ready  # ready_toast_ui shows it after the rerun
        st.rerun()  # draw the page afresh: the result, no progress widgets


def ready_toast_ui() -> None:
    """Show, once, the toast a run that reached its end left."""
    if text := st.session_state.pop("ready_toast", None):
        st.toast(text, icon="🌀")
