"""Every knob of motion in one frozen, validated dataclass, and a moving dream's progress.

Contract:
- ``MotionConfig`` (frozen, validated like ``DreamConfig``) holds every knob of motion: how
  much of the previous frame's dream is carried (``blend``), how many steps a carried frame
  gets, when a scene cut starts a fresh dream, the zoom factor, rotation, frame count and
  frame rate of a zoom, and whether the dream's strength is held steady. Construction
  raises ``ValueError`` with a plain sentence.
- ``MotionUpdate`` is one finished frame: its index, the total when known, the time so far,
  the dreamed image, whether it was a fresh dream and how much of it the flow explained.
- Pure Python and NumPy: importing this module imports neither TensorFlow nor OpenCV.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ..checks import check_float, check_int
from ..config import DreamConfig

#: A carried frame's detail may be at most this many times as strong as its scene's first
#: dream: carrying and re-dreaming adds up, and a cap keeps the look the user chose.
STRENGTH_CAP = 1.15


@dataclass(frozen=True)
class MotionConfig:
    """All settings of motion (the dream itself is a ``DreamConfig``).

    Attributes:
        blend: share of the previous frame's dream carried onto the next, 0..1. 0 dreams
            every frame on its own (flickers); near 1 the dream clings to the scene.
        carried_steps: steps an octave for a carried frame; ``None`` means half the dream's
            ``steps_per_octave`` (at least 1). A fresh frame gets the full steps.
        scene_cut: a frame where more than this share of the pixels cannot be explained by
            motion from the previous frame starts a fresh dream (a cut), 0..1.
        zoom: how much each zoom frame enlarges the previous one (1.05 = 5 %).
        rotate: degrees each zoom frame turns the previous one (anticlockwise).
        zoom_frames: number of frames of a zoom animation, the first dream included.
        fps: frames per second of a zoom animation (a video keeps its own).
        hold_strength: keep each frame's added detail at its scene's first dream's mean
            colour and no stronger than ``STRENGTH_CAP`` times it (against creep).
    """

    blend: float = 0.9
    carried_steps: int | None = None
    scene_cut: float = 0.5
    zoom: float = 1.05
    rotate: float = 0.0
    zoom_frames: int = 48
    fps: float = 24.0
    hold_strength: bool = True

    def __post_init__(self) -> None:
        check_float("blend", self.blend, 0.0, 1.0)
        if self.carried_steps is not None:
            check_int("carried_steps", self.carried_steps, 1, 500)
        check_float("scene_cut", self.scene_cut, 0.0, 1.0)
        check_float("zoom", self.zoom, 0.5, 2.0)
        check_float("rotate", self.rotate, -45.0, 45.0)
        check_int("zoom_frames", self.zoom_frames, 1, 10_000)
        check_float("fps", self.fps, 0.1, 240.0)
        if not isinstance(self.hold_strength, bool):
            raise ValueError("hold_strength must be true or false.")

    def replace(self, **changes: object) -> MotionConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def describe(self) -> dict[str, str]:
        """The motion settings as short strings (``motion.<field>``), like
        ``DreamConfig.describe``: for a gallery's settings file."""
        return {
            f"motion.{field.name}": str(getattr(self, field.name))
            for field in dataclasses.fields(self)
        }

    def steps_for_carried(self, config: DreamConfig) -> int:
        """Steps an octave a carried frame gets under ``config``."""
        if self.carried_steps is not None:
            return self.carried_steps
        return max(1, config.steps_per_octave // 2)


@dataclass(frozen=True)
class MotionUpdate:
    """Progress of a moving dream, one per finished frame.

    Attributes:
        index: 0-based index of the frame just finished.
        total: frames in all when known (a video's count from its header), else None.
        elapsed: seconds since the first frame started.
        image: the dreamed frame (uint8 RGB, the input's size): the preview.
        fresh: this frame got a full dream (the first frame, or a scene cut).
        explained: share of the pixels the flow carried from the previous frame (0 for a
            fresh frame).
        time: a video frame's time in seconds (its source frame's); None for a zoom, whose
            frames play at a steady rate.
    """

    index: int
    total: int | None
    elapsed: float
    image: np.ndarray
    fresh: bool
    explained: float
    time: float | None = None

    @property
    def done(self) -> int:
        """Frames finished so far."""
        return self.index + 1

    @property
    def frames_per_second(self) -> float:
        """Dreaming speed so far."""
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        """Rough seconds left, from the pace so far; None when the total is unknown."""
        if self.total is None or self.elapsed <= 0:
            return None
        return max(0, self.total - self.done) * self.elapsed / self.done
