"""How long a dream will take here: the work it is, and this process's measured pace.

Pure Python, no TensorFlow: a caller asks before anything runs.

Contract:
- ``dream_work(shape, config, min_side)`` is a dream's work in pixel-steps: over its octaves,
  each octave's height x width x steps per octave (a step costs about its pixel count);
  ``pixel_steps(shapes, steps_per_octave, done)`` is the same for given octave sizes and the
  steps done so far.
- ``Pace`` (thread-safe) learns this machine's speed from dreams: ``record(result)`` keeps
  the pixel-steps per second of a ``DreamResult`` (a stopped one counts the steps it did),
  per model, weights and precision, the median of the last ``KEPT``. ``estimate(work,
  model)`` is the seconds a dream of that much work should take, or None before any dream
  of that model was measured. (A server's first dream would also pay for tracing the step;
  its warm-up takes that on, and the median shrugs off one slow dream.)
- ``shared_pace()`` is the process's one.
"""

from __future__ import annotations

import statistics
import threading
from collections import deque
from collections.abc import Sequence
from typing import Any

from ..config import DreamConfig
from ..octaves import octave_plan

#: How many recent dreams a model's pace is the median of.
KEPT = 5


def dream_work(shape: tuple[int, int], config: DreamConfig, min_side: int) -> float:
    """Pixel-steps of a dream of a ``shape`` (height, width) photo with ``config``."""
    return pixel_steps(octave_plan(shape, config, min_side), config.steps_per_octave)


def pixel_steps(
    shapes: Sequence[tuple[int, int]], steps_per_octave: int, done: int | None = None
) -> float:
    """Pixel-steps of the first ``done`` steps (all of them by default) over the octaves
    ``shapes``, small to large, ``steps_per_octave`` each."""
    left = steps_per_octave * len(shapes) if done is None else done
    work = 0.0
    for height, width in shapes:
        steps = min(steps_per_octave, left)
        work += height * width * steps
        left -= steps
    return work


class Pace:
    """Pixel-steps per second of recent dreams, per model, weights and precision."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rates: dict[tuple[str, str, str], deque[float]] = {}

    def record(self, result: Any) -> None:
        """Learn from a ``DreamResult`` (its config, octave sizes, steps done and seconds)."""
        if result.elapsed <= 0:
            return
        work = pixel_steps(result.shapes, result.config.steps_per_octave, result.steps_done)
        if work <= 0:
            return
        with self._lock:
            key = (result.model, result.weights, result.precision)
            rates = self._rates.setdefault(key, deque(maxlen=KEPT))
            rates.append(work / result.elapsed)

    def estimate(self, work: float, model: Any) -> float | None:
        """Seconds a dream of ``work`` pixel-steps should take on ``model`` here, or None."""
        with self._lock:
            rates = self._rates.get((model.name, model.weights, model.precision))
            if not rates:
                return None
            return work / statistics.median(rates)


_shared = Pace()


def shared_pace() -> Pace:
    """This process's pace (every dream it runs teaches it)."""
    return _shared
