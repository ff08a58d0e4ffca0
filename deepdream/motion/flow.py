"""A whole video dreamed without flicker: the previous frame's dream carried along the flow.

Contract:
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
- A ``config.mask`` is one mask for the whole clip, fitted to the frames' size: every frame
  is laid onto its input through it, so carried detail never drifts past the mask's edge.
- ``video_frames_dreamed(source, ...)`` is the same over a video file (or bytes), each update
  carrying its source frame's time.
- Where the dream runs on a GPU, the next frames and their flow are made beside it
  (``beside.made_ahead``, ``FRAMES_AHEAD`` frames ahead: decoding and OpenCV's flow need
  only the input frames); what needs the last frame's dream (moving its detail) is done in
  turn. On a CPU all is done in turn (see ``beside.py`` for the measured reason).
- Cancelling is stopping iteration (``close()`` on the generator, or ``break``): the thread
  making frames ahead is stopped before the generator's ``close()`` returns.
- Same frames + same configs + same model => the same output.
Nothing here writes files.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from ..config import DreamConfig
from ..media.video import MAX_FRAME_PIXELS, Source, probe_video, read_frames
from .beside import made_ahead
from .config import STRENGTH_CAP, MotionConfig, MotionUpdate
from .frame import dream_frame, lay_detail
from .quality import added_detail, detail_strength

#: Grey levels a pixel may differ from where the flow says it came from and still count as
#: the same thing seen again. Video noise and compression stay well below it.
MATCH_TOLERANCE = 24.0
#: Frames (with their flow) made ahead of the one dreaming, in a thread; None: as
#: ``beside.machine_depth()`` says (2 on a GPU, 0 = in turn on a CPU). A 4K frame and its
#: flow hold about 90 MB.
FRAMES_AHEAD: int | None = None


def _grey(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def frames_with_flow(
    frames: Iterable[np.ndarray], with_flow: bool = True
) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """Each frame with where each of its pixels was in the frame before (OpenCV DIS optical
    flow, ``(height, width, 2)``); None for the first frame, and for all without
    ``with_flow``. Needs only the input frames, so it runs ahead of the dream.

    Raises:
        ValueError: a frame of another size than the first.
    """
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    previous = None
    for frame in frames:
        if previous is not None and frame.shape != previous.shape:
            raise ValueError("Every frame of a video must have the same size.")
        flow = None
        if previous is not None and with_flow:
            flow = dis.calc(_grey(frame), _grey(previous), None)
        yield frame, flow
        previous = frame


def carry_detail(
    previous: np.ndarray, current: np.ndarray, detail: np.ndarray, flow: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float]:
    """``detail`` (float32, on ``previous``) moved along ``flow`` onto ``current``, where it
    was carried (a 0..1 weight per pixel), and the share of pixels explained.

    Pixels whose source lies outside the previous frame, or whose colour there differs by
    more than ``MATCH_TOLERANCE``, get no detail (a soft edge, no hard seam).
    """
    height, width = current.shape[:2]
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


def _carried_frame(
    frame: np.ndarray,
    moved: np.ndarray,
    carried: np.ndarray,
    config: DreamConfig,
    carried_config: DreamConfig,
    motion: MotionConfig,
    model,
    reference: _Reference,
) -> tuple[np.ndarray, np.ndarray]:
    """A frame dreamed on from the detail ``moved`` onto it (``carried``: where, 0..1), and
    the detail it ends with (held to ``reference``, through the mask)."""
    start_from = lay_detail(frame, moved)
    output = dream_frame(start_from, carried_config, model)
    # Pixels nothing was carried to (content entering at an edge) got only this frame's few
    # steps: scale what they got up to a fresh dream's step count, so a newly seen strip
    # looks as dreamed as the rest.
    fresh_gain = config.steps_per_octave / carried_config.steps_per_octave
    boost = (1.0 - carried) * (fresh_gain - 1.0)
    added = added_detail(frame, output) + boost[..., None] * added_detail(start_from, output)
    output = lay_detail(frame, added)
    added = added_detail(frame, output)
    if motion.hold_strength:
        output = lay_detail(frame, reference.hold(added))
        added = added_detail(frame, output)
    if config.mask is not None:  # carried detail may have moved past the mask's edge
        output = config.mask.lay(frame, output)
        added = added_detail(frame, output)
    return output, added


def dream_video_frames(
    frames: Iterable[np.ndarray],
    config: DreamConfig,
    motion: MotionConfig,
    model=None,
    total: int | None = None,
) -> Iterator[MotionUpdate]:
    """Dream a sequence of frames coherently; see the module docstring.

    Args:
        frames: uint8 RGB arrays, all of one size (a generator is fine; on a GPU it is
            pulled in a thread, ``FRAMES_AHEAD`` frames ahead of the dream, and closed there).
        total: the number of frames when known, for the ETA.

    Raises:
        ValueError: a frame of another size or type than the first.
        WeightsUnavailableError: ``model`` omitted and its weights cannot be had.
    """
    carried_config = config.replace(steps_per_octave=motion.steps_for_carried(config))
    start = time.perf_counter()
    previous = detail = reference = None
    paired = frames_with_flow(frames, motion.blend > 0)
    ahead = made_ahead(paired, FRAMES_AHEAD, "deepdream-frames")
    try:
        for index, (frame, flow) in enumerate(ahead):
            explained = 0.0
            if flow is not None:
                moved, carried, explained = carry_detail(previous, frame, detail, flow)
            fresh = flow is None or 1 - explained > motion.scene_cut
            if fresh:
                output = dream_frame(frame, config, model)
                added = added_detail(frame, output)
                reference = _Reference.of(added)
                explained = 0.0
            else:
                output, added = _carried_frame(
                    frame,
                    motion.blend * moved,
                    carried,
                    config,
                    carried_config,
                    motion,
                    model,
                    reference,
                )
            yield MotionUpdate(
                index=index,
                total=total,
                elapsed=time.perf_counter() - start,
                image=output,
                fresh=fresh,
                explained=explained,
            )
            previous, detail = frame, added
    finally:
        ahead.close()  # the thread making frames ahead stops here, not at garbage collection


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

    dreamed = dream_video_frames(images(), config, motion, model, total=info.frames)
    try:
        for update in dreamed:
            yield dataclasses.replace(update, time=times[update.index])
    finally:
        dreamed.close()  # first: its thread decodes from ``frames``
        frames.close()
