"""Handing a stopped dream from the run that made it to the run that shows it.

Why this exists: when the user presses Stop (or changes a setting) while a dream runs,
Streamlit interrupts that script run by raising at its next ``st.*`` call, and starts the new
run *while* the old one is still finishing its TensorFlow step. The old run can then no longer
touch ``st.session_state``; the new one must wait for it before drawing, or the partial dream
is lost. So a run that dreams:

1. ``run = handover.begin()``: it is now the current run;
2. ``handover.keep(run, result)``: keeps its (finished or partial) result, unless a newer run
   has begun since (a late hand-over must never overwrite a newer dream);
3. ``run.settle()`` in a ``finally``: whatever happened, the next run may go on.

The next run calls ``handover.wait(timeout)`` before drawing. Everything here is plain Python
(a lock and an ``Event`` per run), safe to call while Streamlit is stopping a run.
"""

from __future__ import annotations

import threading
from typing import Any


class DreamRun:
    """One run's claim on the hand-over; ``settle()`` says it has kept all it will keep."""

    def __init__(self) -> None:
        self._settled = threading.Event()

    def settle(self) -> None:
        """Called once the run has kept its result, or failed: waiters go on."""
        self._settled.set()

    @property
    def settled(self) -> bool:
        """True once ``settle()`` was called."""
        return self._settled.is_set()

    def wait(self, timeout: float | None) -> bool:
        """Wait for ``settle()``; True if it came within ``timeout`` seconds."""
        return self._settled.wait(timeout)


class ResultHandover:
    """The latest kept result of one browser session, and who may still change it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: DreamRun | None = None
        self._result: Any = None

    def begin(self) -> DreamRun:
        """Start a run; from now on only it may keep a result."""
        run = DreamRun()
        with self._lock:
            self._current = run
        return run

    def keep(self, run: DreamRun, result: Any) -> bool:
        """Keep ``result`` if ``run`` is still the current run; returns whether it was kept."""
        with self._lock:
            if self._current is not run:
                return False
            self._result = result
            return True

    @property
    def result(self) -> Any:
        """The kept result, or None."""
        with self._lock:
            return self._result

    def show(self, result: Any) -> None:
        """Show ``result`` (a dream reopened from the gallery) as the kept one."""
        with self._lock:
            self._result = result

    def clear(self) -> None:
        """Forget the kept result (a new photo makes it meaningless)."""
        with self._lock:
            self._result = None

    @property
    def busy(self) -> bool:
        """True while the current run has not settled."""
        with self._lock:
            return self._current is not None and not self._current.settled

    def wait(self, timeout: float | None = 60) -> bool:
        """Wait until the current run settles; True if it has (or there is none)."""
        with self._lock:
            run = self._current
        return run is None or run.wait(timeout)
