"""Dreams that move: a whole video without flicker, and a zoom into a dream.

Contract:
- ``MotionConfig`` (frozen, validated like ``DreamConfig``) holds every knob of motion: how
  much of the previous frame's dream is carried (``blend``), how many steps a carried frame
  gets, when a scene cut starts a fresh dream, the zoom factor, rotation, frame count and
  frame rate of a zoom, and whether the dream's strength is held steady.
- ``dream_video_frames(frames, config, motion, model)`` takes any iterable of ``uint8`` RGB
  frames of one size and yields a ``MotionUpdate`` per frame, its ``image`` the dreamed frame.
  The first frame gets a full dream. For each next frame, dense optical flow between the two
  *input* frames (OpenCV DIS) moves what the dream added to the previous frame,
  ``D(t-1) = out(t-1) - in(t-1)``, onto the current frame; ``blend`` of it is laid onto the
  input, and that is dreamed further with ``carried_steps`` steps an octave. Pixels the flow
  cannot explain (new content at an edge, things coming out from behind others) get no
  carried detail; what this frame's steps add there is scaled up by the ratio of full to
  carried steps, so new content is as dreamed as the rest. When more than ``scene_cut`` of
  the picture is unexplained the frame is a scene cut and gets a full, fresh dream.
- Against brightness creep (re-dreaming a dream adds up): only the detail is carried, never
  the whole output; with ``hold_strength`` each frame's detail keeps the mean colour of its
  scene's first dream, and its mid-frequency strength is capped at ``STRENGTH_CAP`` times
  that first dream's.
- ``zoom_frames(photo, config, motion, model)`` yields ``motion.zoom_frames`` updates: the
  dreamed photo, then each frame the previous one zoomed in by ``motion.zoom`` about the
  centre (turned by ``motion.rotate`` degrees), dreamed again with ``carried_steps``.
- A ``config.mask`` is one mask for the whole clip, fitted to the frames' size: every frame
  is laid onto its input through it, so carried detail never drifts past the mask's edge.
  (A zoom enlarges earlier frames, so their dreamed part grows outward as it dives.)
- ``moving_dream(kind, source, ...)`` is either of the above from a video file (or bytes),
  or from a zoom's photo, writing nothing; ``write_motion(kind, source, updates, target, ...)``
  writes such updates (made here or on a Ray worker) into an MP4 or GIF target as they come.
  ``dream_video(source, target, ...)`` and ``zoom_video(photo, target, ...)`` are the two
  together.
- Cancelling is stopping iteration (``close()`` on the generator, or ``break``): the
  ``*_video`` generators then finish the file with the frames done so far, playable.
- Same frames + same configs + same model => the same output.
Nothing here prints or writes files other than the ``target`` the caller names.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction

import cv2
import numpy as np

from .config import DreamConfig, _check_float, _check_int
from .motion_quality import added_detail, detail_strength
from .video import (
    MAX_FRAME_PIXELS,
    Source,
    VideoWriter,
    probe_video,
    read_frames,
    reopenable,
)

#: A carried frame's detail may be at most this many times as strong as its scene's first
#: dream: carrying and re-dreaming adds up, and a cap keeps the look the user chose.
STRENGTH_CAP = 1.15

#: Grey levels a pixel may differ from where the flow says it came from and still count as
#: the same thing seen again. Video noise and compression stay well below it.
MATCH_TOLERANCE = 24.0


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
        _check_float("blend", self.blend, 0.0, 1.0)
        if self.carried_steps is not None:
            _check_int("carried_steps", self.carried_steps, 1, 500)
        _check_float("scene_cut", self.scene_cut, 0.0, 1.0)
        _check_float("zoom", self.zoom, 0.5, 2.0)
        _check_float("rotate", self.rotate, -45.0, 45.0)
        _check_int("zoom_frames", self.zoom_frames, 1, 10_000)
        _check_float("fps", self.fps, 0.1, 240.0)
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


def _dream_image(image: np.ndarray, config: DreamConfig, model) -> np.ndarray:
    from .render import dream  # TensorFlow loads only when a dream runs

    return dream(image, config, model).image


def _grey(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


class _Flow:
    """Where each pixel of a frame was in the previous frame (OpenCV DIS optical flow)."""

    def __init__(self) -> None:
        self._dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)

    def carry(
        self, previous: np.ndarray, current: np.ndarray, detail: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, float]:
        """``detail`` (float32, on ``previous``) moved onto ``current``, where it was carried
        (a 0..1 weight per pixel), and the share of pixels explained.

        Pixels whose source lies outside the previous frame, or whose colour there differs
        by more than ``MATCH_TOLERANCE``, get no detail (a soft edge, no hard seam).
        """
        height, width = current.shape[:2]
        flow = self._dis.calc(_grey(current), _grey(previous), None)
        grid_x, grid_y = np.meshgrid(
            np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32)
        )
        map_x, map_y = grid_x + flow[..., 0], grid_y + flow[..., 1]
        moved = cv2.remap(
            detail, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
        )
        seen = cv2.remap(previous, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        inside = (map_x >= 0) & (map_x <= width - 1) & (map_y >= 0) & (map_y <= height - 1)
        mismatch = np.abs(seen.astype(np.float32) - current.astype(np.float32)).mean(axis=2)
        explained = inside & (mismatch < MATCH_TOLERANCE)
        weight = cv2.GaussianBlur(explained.astype(np.float32), (5, 5), 0)
        return moved * weight[..., None], weight, float(explained.mean())


@dataclass(frozen=True)
class _Reference:
    """A scene's first dream: what the carried frames' detail is held to."""

    mean: np.ndarray  # per channel, grey levels
    strength: float

    @classmethod
    def of(cls, detail: np.ndarray) -> _Reference:
        return cls(detail.mean(axis=(0, 1)), detail_strength(detail))

    def hold(self, detail: np.ndarray) -> np.ndarray:
        """``detail`` with this reference's mean colour, at most ``STRENGTH_CAP`` x its strength."""
        centred = detail - detail.mean(axis=(0, 1))
        strength = detail_strength(centred)
        limit = STRENGTH_CAP * self.strength
        if strength > limit > 0:
            centred *= limit / strength
        return centred + self.mean


def _lay(source: np.ndarray, detail: np.ndarray) -> np.ndarray:
    return np.clip(source.astype(np.float32) + detail + 0.5, 0, 255).astype(np.uint8)


def dream_video_frames(
    frames: Iterable[np.ndarray],
    config: DreamConfig,
    motion: MotionConfig,
    model=None,
    total: int | None = None,
) -> Iterator[MotionUpdate]:
    """Dream a sequence of frames coherently; see the module docstring.

    Args:
        frames: uint8 RGB arrays, all of one size (a generator is fine: one is held at a time).
        total: the number of frames when known, for the ETA.

    Raises:
        ValueError: a frame of another size or type than the first.
        WeightsUnavailableError: ``model`` omitted and its weights cannot be had.
    """
    carried_config = config.replace(steps_per_octave=motion.steps_for_carried(config))
    fresh_gain = config.steps_per_octave / carried_config.steps_per_octave
    flow = _Flow()
    start = time.perf_counter()
    previous = detail = reference = None
    for index, frame in enumerate(frames):
        if previous is not None and frame.shape != previous.shape:
            raise ValueError("Every frame of a video must have the same size.")
        explained = 0.0
        if previous is not None and motion.blend > 0:
            moved, carried, explained = flow.carry(previous, frame, detail)
        fresh = previous is None or motion.blend == 0 or 1 - explained > motion.scene_cut
        if fresh:
            output = _dream_image(frame, config, model)
            added = added_detail(frame, output)
            reference = _Reference.of(added)
            explained = 0.0
        else:
            start_from = _lay(frame, motion.blend * moved)
            output = _dream_image(start_from, carried_config, model)
            # Pixels nothing was carried to (content entering at an edge) got only this
            # frame's few steps: scale what they got up to a fresh dream's step count, so a
            # newly seen strip looks as dreamed as the rest.
            boost = (1.0 - carried) * (fresh_gain - 1.0)
            added = added_detail(frame, output) + boost[..., None] * added_detail(
                start_from, output
            )
            output = _lay(frame, added)
            added = added_detail(frame, output)
            if motion.hold_strength:
                output = _lay(frame, reference.hold(added))
                added = added_detail(frame, output)
            if config.mask is not None:  # carried detail may have moved past the mask's edge
                output = config.mask.lay(frame, output)
                added = added_detail(frame, output)
        yield MotionUpdate(
            index=index,
            total=total,
            elapsed=time.perf_counter() - start,
            image=output,
            fresh=fresh,
            explained=explained,
        )
        previous, detail = frame, added


def zoom_step(image: np.ndarray, zoom: float, rotate: float = 0.0) -> np.ndarray:
    """``image`` enlarged by ``zoom`` and turned by ``rotate`` degrees about its centre.

    The size stays the same; corners uncovered by a rotation are filled by reflection.
    """
    height, width = image.shape[:2]
    centre = ((width - 1) / 2, (height - 1) / 2)
    matrix = cv2.getRotationMatrix2D(centre, rotate, zoom)
    return cv2.warpAffine(
        image, matrix, (width, height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT
    )


def zoom_frames(
    photo: np.ndarray, config: DreamConfig, motion: MotionConfig, model=None
) -> Iterator[MotionUpdate]:
    """Dream ``photo``, then zoom in and dream again, ``motion.zoom_frames`` frames in all.

    With ``hold_strength`` each frame's newly added detail has zero mean, so the zoom keeps
    its brightness however long it runs.

    Raises:
        ValueError: bad photo array.
        WeightsUnavailableError: ``model`` omitted and its weights cannot be had.
    """
    carried_config = config.replace(steps_per_octave=motion.steps_for_carried(config))
    start = time.perf_counter()
    output = None
    for index in range(motion.zoom_frames):
        if output is None:
            output = _dream_image(photo, config, model)
        else:
            zoomed = zoom_step(output, motion.zoom, motion.rotate)
            output = _dream_image(zoomed, carried_config, model)
            if motion.hold_strength:
                added = added_detail(zoomed, output)
                output = _lay(zoomed, added - added.mean(axis=(0, 1)))
            if config.mask is not None:  # each frame dreams only where the mask says
                output = config.mask.lay(zoomed, output)
        yield MotionUpdate(
            index=index,
            total=motion.zoom_frames,
            elapsed=time.perf_counter() - start,
            image=output,
            fresh=index == 0,
            explained=0.0,
        )


def video_frames_dreamed(
    source: Source,
    config: DreamConfig,
    motion: MotionConfig,
    model=None,
    max_pixels: int = MAX_FRAME_PIXELS,
) -> Iterator[MotionUpdate]:
    """``dream_video_frames`` over the frames of the video ``source`` (a file or bytes),
    each update carrying its frame's time.

    Raises:
        VideoDecodeError: the source is not a usable video (a plain sentence).
    """
    info = probe_video(source, max_pixels)  # a plain error before any work
    frames = read_frames(source, max_pixels)
    times: list[float] = []

    def images() -> Iterator[np.ndarray]:
        for frame in frames:
            times.append(frame.time)
            yield frame.image

    try:
        for update in dream_video_frames(images(), config, motion, model, total=info.frames):
            yield dataclasses.replace(update, time=times[update.index])
    finally:
        frames.close()


def moving_dream(
    kind: str,
    source: Source | np.ndarray,
    config: DreamConfig,
    motion: MotionConfig,
    model=None,
    max_pixels: int = MAX_FRAME_PIXELS,
) -> Iterator[MotionUpdate]:
    """The frames of a ``"video"`` (``source``: its file or bytes) or a ``"zoom"``
    (``source``: the photo), dreamed, one update a frame; nothing is written. A Ray worker
    runs this for the page, which writes the file (``write_motion``) where it is."""
    if kind == "video":
        return video_frames_dreamed(source, config, motion, model, max_pixels)
    if kind == "zoom":
        return zoom_frames(source, config, motion, model)
    raise ValueError(f"Unknown kind of moving dream {kind!r}: 'video' or 'zoom'.")


def write_motion(
    kind: str,
    source: Source | np.ndarray,
    updates: Iterator[MotionUpdate],
    target,
    motion: MotionConfig,
    *,
    format: str | None = None,
    max_pixels: int = MAX_FRAME_PIXELS,
) -> Iterator[MotionUpdate]:
    """Write ``updates`` (``moving_dream``'s, made here or on a worker) into ``target`` as
    they come, passing each on. A video keeps ``source``'s size, frame times and sound; a
    zoom plays at ``motion.fps``. Stopping this generator stops ``updates`` and finishes
    ``target`` with the frames done so far, playable.

    Raises:
        VideoDecodeError: the video ``source`` is not a usable video (a plain sentence).
    """
    if kind == "video":
        info = probe_video(source, max_pixels)
        size, fps, sound = (info.width, info.height), info.fps, source
    else:
        size, fps, sound = (source.shape[1], source.shape[0]), motion.fps, None
        fps = Fraction(fps).limit_denominator(1001)
    try:
        with VideoWriter(target, *size, fps, audio_from=sound, format=format) as writer:
            for update in updates:
                writer.write(update.image, update.time)
                yield update
    finally:
        close = getattr(updates, "close", None)
        if close is not None:
            close()


def dream_video(
    source: Source,
    target,
    config: DreamConfig,
    motion: MotionConfig,
    model=None,
    *,
    format: str | None = None,
    max_pixels: int = MAX_FRAME_PIXELS,
) -> Iterator[MotionUpdate]:
    """Dream the video ``source`` into ``target`` (MP4 with its sound, or GIF), frame by frame.

    Same size, frame count and frame times as the source (a variable frame rate is kept).
    Stopping the generator finishes ``target`` with the frames done so far.

    Raises:
        VideoDecodeError: the source is not a usable video (a plain sentence).
        WeightsUnavailableError: ``model`` omitted and its weights cannot be had.
    """
    source = reopenable(source)  # read for pictures and for sound at once
    updates = video_frames_dreamed(source, config, motion, model, max_pixels)
    yield from write_motion(
        "video", source, updates, target, motion, format=format, max_pixels=max_pixels
    )


def zoom_video(
    photo: np.ndarray,
    target,
    config: DreamConfig,
    motion: MotionConfig,
    model=None,
    *,
    format: str | None = None,
) -> Iterator[MotionUpdate]:
    """A zoom animation of ``photo`` into ``target`` (MP4 or GIF) at ``motion.fps``.

    Stopping the generator finishes ``target`` with the frames done so far.
    """
    updates = zoom_frames(photo, config, motion, model)
    yield from write_motion("zoom", photo, updates, target, motion, format=format)


__all__ = [
    "STRENGTH_CAP",
    "MotionConfig",
    "MotionUpdate",
    "dream_video",
    "dream_video_frames",
    "moving_dream",
    "video_frames_dreamed",
    "write_motion",
    "zoom_frames",
    "zoom_step",
    "zoom_video",
]
