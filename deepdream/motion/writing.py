"""A moving dream from its source to its file: the video or zoom, written as it comes.

Contract:
- ``moving_dream(kind, source, ...)`` is a ``"video"`` (``source``: its file or bytes) or a
  ``"zoom"`` (``source``: the photo) dreamed, one ``MotionUpdate`` a frame, writing nothing:
  what a Ray worker runs.
- ``write_motion(kind, source, updates, target, ...)`` writes such updates (made here or on a
  worker) into an MP4 or GIF ``target`` as they come, passing each on: a video keeps its
  source's size, frame times and sound, a zoom plays at ``motion.fps``.
- ``dream_video(source, target, ...)`` and ``zoom_video(photo, target, ...)`` are the two
  together.
- Where the dream runs on a GPU, frames are encoded beside it (``beside.written_beside``, up
  to ``FRAMES_BEHIND`` frames behind); on a CPU in turn (``beside.py`` says why). Either way
  the target is finished only once every frame passed on is in it.
- Cancelling is stopping iteration: the target is then finished with the frames done so far,
  playable. Nothing here writes a file other than the ``target`` the caller names.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

import numpy as np

from ..config import DreamConfig
from ..media.video import MAX_FRAME_PIXELS, Source, VideoWriter, probe_video, reopenable
from .beside import written_beside
from .config import MotionConfig, MotionUpdate
from .flow import video_frames_dreamed
from .zoom import zoom_frames

#: Frames waiting to be encoded in a thread while the next ones dream; None: as
#: ``beside.machine_depth()`` says (2 on a GPU, 0 = in turn on a CPU).
FRAMES_BEHIND: int | None = None


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
    runs this; whoever asked writes the file (``write_motion``) where it is."""
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
        with (
            VideoWriter(target, *size, fps, audio_from=sound, format=format) as writer,
            written_beside(writer.write, FRAMES_BEHIND, "deepdream-encoder") as write,
        ):
            for update in updates:
                write(update.image, update.time)
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
