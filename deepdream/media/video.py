"""One place for video frames: files or bytes in, uint8 RGB arrays through, MP4 or GIF out.

Contract:
- ``probe_video(source)`` reads a video's header and its packets (no pixels are decoded) and
  returns ``VideoInfo``: size, frame rate, frame count, duration, whether it has sound and
  whether its frame rate varies. Anything we cannot use raises ``VideoDecodeError`` with one
  plain sentence: an empty file, a file that is not a video, sound only, a still image
  (whatever its name), a damaged or truncated file (fewer frames than its header lists, or
  unreadable data), a frame larger than ``max_pixels``.
- ``read_frames(source)`` is a generator of ``VideoFrame`` (index, time in seconds, uint8 RGB
  array ``(height, width, 3)``), decoded one at a time: a long video never sits in memory.
  Damage found while decoding raises ``VideoDecodeError`` after the frames before it.
- ``VideoWriter`` (a context manager) encodes frames one at a time: H.264 in MP4
  (``yuv420p``; ``+faststart`` when the target is a path, so browsers can start before the
  end is loaded), or a GIF when the target's name ends in ``.gif`` (``format="gif"`` for file
  objects). The frame rate is the given one; frames may carry their own time (a variable
  frame rate is kept). With
  ``audio_from`` the source's sound is re-encoded to AAC alongside, interleaved with the
  frames, and cut where the last written frame ends. Leaving the ``with`` block for any reason
  (an error, a stopped generator) writes a complete, playable file of the frames written so
  far. H.264 in 4:2:0 needs even sides: an odd width or height is padded by repeating the
  last column or row (``VideoWriter.encoded_size`` says so).
- Sources and targets are paths or binary file objects (``io.BytesIO`` works: an upload need
  never touch the disk).
Nothing here knows about models or dreams; nothing here prints.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

import av
import numpy as np
from PIL import Image

#: Largest frame we agree to decode: 4K UHD (3840x2160). Dreaming is per pixel; more belongs
#: to a bigger machine than this tool is made for.
MAX_FRAME_PIXELS = 3840 * 2160

#: Frame rates outside this range are not real videos (or damaged headers).
MIN_FPS, MAX_FPS = 0.1, 240.0

#: Demuxer names of still-image readers: FFmpeg recognises a PNG or JPEG by its content,
#: whatever the file is called, and would offer it as a one-frame "video".
_STILL_IMAGE_FORMATS = ("image2", "_pipe")

Source = str | os.PathLike | BinaryIO | bytes


class VideoDecodeError(ValueError):
    """The file is not a video we can use; ``str(error)`` is one plain sentence for users."""


@dataclass(frozen=True)
class VideoInfo:
    """What ``probe_video`` learns about a video without decoding its pixels.

    Attributes:
        width, height: frame size in pixels.
        fps: average frames per second (exact as a ``Fraction``).
        frames: number of frames (counted from the packets).
        duration: seconds, from the first frame's start to the last frame's end.
        has_audio: whether there is a sound track.
        variable_frame_rate: whether the gaps between frames differ (phones, screen
            recordings, many GIFs); frames then keep their own times when written.
        codec: the video codec's name, e.g. ``"h264"``.
    """

    width: int
    height: int
    fps: Fraction
    frames: int
    duration: float
    has_audio: bool
    variable_frame_rate: bool
    codec: str


@dataclass(frozen=True)
class VideoFrame:
    """One decoded frame: its position, its time in seconds from the first frame, its pixels."""

    index: int
    time: float
    image: np.ndarray


def reopenable(source: Source) -> str | os.PathLike | bytes:
    """``source`` in a form that can be opened several times at once (a path, or bytes).

    A file object has one read position: two readers at once (pictures and sound) would
    corrupt each other, so its bytes are taken (compressed data only; frames still stream).
    """
    if isinstance(source, str | os.PathLike | bytes):
        return source
    if isinstance(source, bytearray):
        return bytes(source)
    if hasattr(source, "getvalue"):
        return source.getvalue()
    source.seek(0)
    return source.read()


def _open(source: Source) -> av.container.InputContainer:
    """Open ``source`` for reading, turning every FFmpeg refusal into a plain sentence."""
    if isinstance(source, bytes | bytearray):
        source = io.BytesIO(source)
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.exists():
            raise VideoDecodeError(f"There is no file {path}; check the name.")
        if path.stat().st_size == 0:
            raise VideoDecodeError("The file is empty. Please choose a video (MP4, MOV, WebM...).")
    else:
        source.seek(0)  # a video is read from its start, wherever an earlier reader left it
        empty = not source.read(1)
        source.seek(0)
        if empty:
            raise VideoDecodeError("The file is empty. Please choose a video (MP4, MOV, WebM...).")
    try:
        return av.open(source if not isinstance(source, os.PathLike) else os.fspath(source))
    except av.error.FFmpegError:
        raise VideoDecodeError(
            "This file is not a video we can read, or it is damaged or incomplete. Please "
            "choose an MP4, MOV, WebM, MKV or animated GIF."
        ) from None


def _rewind(source: Source) -> None:
    if hasattr(source, "seek"):
        source.seek(0)


def _video_stream(container: av.container.InputContainer, max_pixels: int) -> av.VideoStream:
    """The first video stream, refused with a plain sentence when it is not a usable video."""
    if not container.streams.video:
        if container.streams.audio:
            raise VideoDecodeError(
                "This file holds only sound, no pictures. Please choose a video with images."
            )
        raise VideoDecodeError("This file holds no video. Please choose an MP4, MOV or WebM.")
    name = container.format.name
    if any(marker in name for marker in _STILL_IMAGE_FORMATS):
        raise VideoDecodeError(
            "This file is a still image, not a video. Dream it as a photo, or make a zoom "
            "animation from it."
        )
    stream = container.streams.video[0]
    width, height = stream.codec_context.width, stream.codec_context.height
    if width < 1 or height < 1:
        raise VideoDecodeError("This video has no picture size; it is probably damaged.")
    if width * height > max_pixels:
        raise VideoDecodeError(
            f"This video is {width}x{height} pixels, larger than this tool handles "
            f"(at most {max_pixels / 1e6:.1f} megapixels a frame, e.g. 3840x2160). Please "
            "scale it down first."
        )
    return stream


def probe_video(source: Source, max_pixels: int = MAX_FRAME_PIXELS) -> VideoInfo:
    """Size, frame rate, frame count, duration, sound and timing of a video.

    Reads the packets (cheap: no pixel is decoded) to count frames and to see whether the
    gaps between frames vary.

    Raises:
        VideoDecodeError: see the module docstring.
    """
    with _open(source) as container:
        stream = _video_stream(container, max_pixels)
        times = []
        try:
            for packet in container.demux(stream):
                if packet.size and packet.pts is not None:
                    times.append(float(packet.pts * stream.time_base))
        except av.error.FFmpegError:
            raise VideoDecodeError(
                "This video is damaged or incomplete and could not be read to its end. "
                "Please save it again or choose another file."
            ) from None
        if stream.frames and len(times) < stream.frames:
            # The header lists every frame; the data of some never came: a cut-short copy.
            raise VideoDecodeError(
                f"This video is incomplete: it stops after {len(times)} of its {stream.frames} "
                "frames (damaged, or cut short while copying). Please get the whole file again."
            )
        info = _info_from(stream, sorted(times), bool(container.streams.audio))
    _rewind(source)
    return info


def _info_from(stream: av.VideoStream, times: list[float], has_audio: bool) -> VideoInfo:
    if not times:
        raise VideoDecodeError("This video has no frames in it. Please choose another file.")
    gaps = np.diff(times) if len(times) > 1 else np.array([])
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    if gaps.size:
        typical = float(np.median(gaps))
        if typical <= 0:
            raise VideoDecodeError("This video's frame times are broken; it is probably damaged.")
        measured = Fraction(1 / typical).limit_denominator(1001)
        rate = rate if rate else measured
        # More than half a frame off the usual gap, more than rounding: timing varies.
        variable = bool(np.any(np.abs(gaps - typical) > 0.5 * typical))
        duration = times[-1] - times[0] + typical
    else:
        variable, duration = False, float(1 / rate) if rate else 0.0
    if not rate or not MIN_FPS <= float(rate) <= MAX_FPS:
        raise VideoDecodeError(
            "This video's frame rate could not be read or makes no sense; it is probably damaged."
        )
    fps = _usual_rate(len(times) / duration if variable else float(rate))
    return VideoInfo(
        width=stream.codec_context.width,
        height=stream.codec_context.height,
        fps=fps,
        frames=len(times),
        duration=duration,
        has_audio=has_audio,
        variable_frame_rate=variable,
        codec=stream.codec_context.name,
    )


#: Frame rates cameras and editors use; a measured rate this close to one of them is it.
_USUAL_RATES = [Fraction(n * 1000, 1001) for n in (24, 30, 48, 60, 120)] + [
    Fraction(n) for n in range(1, 241)
]


def _usual_rate(measured: float) -> Fraction:
    """``measured`` snapped to a usual rate when within 0.5 % (millisecond clocks round)."""
    nearest = min(_USUAL_RATES, key=lambda rate: abs(float(rate) - measured))
    if abs(float(nearest) - measured) <= 0.005 * measured:
        return nearest
    return Fraction(measured).limit_denominator(1001)


def read_frames(source: Source, max_pixels: int = MAX_FRAME_PIXELS) -> Iterator[VideoFrame]:
    """Decode a video one frame at a time (uint8 RGB), with each frame's time in seconds.

    Raises:
        VideoDecodeError: see the module docstring; raised mid-stream for damage found late.
    """
    with _open(source) as container:
        stream = _video_stream(container, max_pixels)
        stream.thread_type = "AUTO"
        first = None
        index = 0
        try:
            for frame in container.decode(stream):
                if frame.pts is not None:
                    seconds = float(frame.pts * frame.time_base)
                else:
                    seconds = index / float(stream.average_rate or 25)
                first = seconds if first is None else first
                yield VideoFrame(index, seconds - first, frame.to_ndarray(format="rgb24"))
                index += 1
        except av.error.FFmpegError:
            raise VideoDecodeError(
                f"This video is damaged after frame {index}; the frames before it were used. "
                "Please save it again or choose another file."
            ) from None
        if index == 0:
            raise VideoDecodeError("This video has no frames in it. Please choose another file.")


def even_size(width: int, height: int) -> tuple[int, int]:
    """The size H.264 4:2:0 encodes ``width`` x ``height`` at: each side rounded up to even."""
    return width + width % 2, height + height % 2


class VideoWriter:
    """Write frames to an MP4 (H.264 + AAC) or GIF, one at a time; see the module docstring.

    Args:
        target: a path, or a seekable binary file object (then give ``format``).
        width, height: frame size; every frame written must have it.
        fps: frames per second (a float or ``Fraction``); frames without a time are spaced
            by it.
        audio_from: a video source whose sound is copied (re-encoded to AAC) into the MP4;
            ignored for GIFs and when it has no sound. A file object is read from its own
            copy of the bytes, so it may be decoded for pictures at the same time.
        format: ``"mp4"`` or ``"gif"``; default from the target's name (``.gif`` -> GIF).
        quality: x264's constant rate factor (lower is better and bigger; 18 looks
            lossless, 23 is x264's default).

    Raises:
        ValueError: bad size, frame rate or format (a plain sentence).
    """

    def __init__(
        self,
        target: str | os.PathLike | BinaryIO,
        width: int,
        height: int,
        fps: float | Fraction,
        *,
        audio_from: Source | None = None,
        format: str | None = None,
        quality: int = 18,
    ) -> None:
        if width < 1 or height < 1:
            raise ValueError("A video needs at least one pixel each way.")
        if not MIN_FPS <= float(fps) <= MAX_FPS:
            raise ValueError(f"The frame rate must be between {MIN_FPS:g} and {MAX_FPS:g}.")
        if format is None:
            name = os.fspath(target) if isinstance(target, str | os.PathLike) else ""
            format = "gif" if str(name).lower().endswith(".gif") else "mp4"
        if format not in ("mp4", "gif"):
            raise ValueError("Videos are written as MP4 or GIF.")
        self.format = format
        self.width, self.height = width, height
        self.fps = Fraction(fps).limit_denominator(1001)
        self.frames_written = 0
        self.duration = 0.0  # seconds up to the end of the last frame written
        self._last_pts = -1
        if isinstance(target, str | os.PathLike):
            target = os.fspath(target)
        # faststart moves the index to the front so browsers can start playing before the
        # end is loaded; FFmpeg does it by reopening the file by name, so only for paths.
        by_name = isinstance(target, str)
        options = {"movflags": "+faststart"} if format == "mp4" and by_name else {}
        self._container = av.open(target, mode="w", format=format, options=options)
        if format == "gif":
            self.encoded_size = (width, height)
            self._time_base = Fraction(1, 100)  # GIF delays are in hundredths of a second
            self._video = self._container.add_stream("gif", rate=self.fps)
            self._video.pix_fmt = "pal8"
        else:
            self.encoded_size = even_size(width, height)
            self._time_base = Fraction(1, 90_000)  # MPEG's clock: exact for every usual rate
            self._video = self._container.add_stream("libx264", rate=self.fps)
            self._video.pix_fmt = "yuv420p"
            self._video.options = {"crf": str(quality), "preset": "veryfast"}
        self._video.width, self._video.height = self.encoded_size
        self._video.codec_context.time_base = self._time_base
        self._video.time_base = self._time_base
        self._audio = _AudioCopy(audio_from, self._container) if format == "mp4" else None

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def write(self, image: np.ndarray, time: float | None = None) -> None:
        """Encode one uint8 RGB frame, shown at ``time`` seconds (default: after the last).

        Raises:
            ValueError: wrong shape or dtype.
        """
        if image.shape != (self.height, self.width, 3) or image.dtype != np.uint8:
            raise ValueError(
                f"Each frame must be a {self.width}x{self.height} RGB uint8 array; got "
                f"{image.shape} {image.dtype}."
            )
        if time is None:
            time = self.frames_written / self.fps
        pts = round(time / self._time_base)
        pts = max(pts, self._last_pts + 1)  # strictly increasing, whatever the source said
        self._last_pts = pts
        frame = self._frame(image)
        frame.pts, frame.time_base = pts, self._time_base
        if self._audio is not None:
            self._audio.copy_until(float(pts * self._time_base))
        for packet in self._video.encode(frame):
            self._container.mux(packet)
        self.frames_written += 1
        self.duration = float(pts * self._time_base + 1 / self.fps)

    def _frame(self, image: np.ndarray) -> av.VideoFrame:
        if self.format == "gif":
            # Each frame gets its own 256-colour palette (Pillow's median cut): far better
            # than the fixed 3-3-2 palette FFmpeg would convert to.
            paletted = Image.fromarray(image).quantize(256, method=Image.Quantize.MEDIANCUT)
            rgb = np.zeros((256, 3), np.uint8)
            used = np.asarray(paletted.getpalette() or [], np.uint8).reshape(-1, 3)[:256]
            rgb[: len(used)] = used
            argb = np.concatenate([np.full((256, 1), 255, np.uint8), rgb], axis=1)
            return av.VideoFrame.from_ndarray((np.asarray(paletted), argb), format="pal8")
        padded = _pad_to(image, self.encoded_size)
        return av.VideoFrame.from_ndarray(padded, format="rgb24")

    def close(self) -> None:
        """Flush the encoders and finish the file (idempotent)."""
        if self._container is None:
            return
        try:
            if self.frames_written:
                for packet in self._video.encode(None):
                    self._container.mux(packet)
                if self._audio is not None:
                    self._audio.copy_until(self.duration, final=True)
        finally:
            if self._audio is not None:
                self._audio.close()
            self._container.close()
            self._container = None


def _pad_to(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    width, height = size
    extra_rows, extra_cols = height - image.shape[0], width - image.shape[1]
    if not extra_rows and not extra_cols:
        return image
    return np.pad(image, ((0, extra_rows), (0, extra_cols), (0, 0)), mode="edge")


class _AudioCopy:
    """The sound of a source, decoded and re-encoded to AAC into an output, up to a time."""

    def __init__(self, source: Source | None, output: av.container.OutputContainer) -> None:
        self._input = None
        self._stream = None
        if source is None:
            return
        source = reopenable(source)
        if isinstance(source, bytes):
            source = io.BytesIO(source)
        container = av.open(source if not isinstance(source, os.PathLike) else os.fspath(source))
        if not container.streams.audio:
            container.close()
            return
        self._input = container
        incoming = container.streams.audio[0]
        rate = incoming.codec_context.sample_rate or 44_100
        layout = "stereo" if incoming.codec_context.layout.nb_channels >= 2 else "mono"
        self._stream = output.add_stream("aac", rate=rate)
        self._stream.layout = layout
        self._stream.bit_rate = 160_000
        self._rate = rate
        self._start = None  # time of the first sound, so sound and pictures both start at 0
        self._samples = 0
        self._frames = container.decode(incoming)
        self._pending = None
        self._output = output

    def copy_until(self, seconds: float, final: bool = False) -> None:
        """Encode the source's sound up to ``seconds`` (cut exactly there when ``final``)."""
        if self._input is None:
            return
        while True:
            try:
                frame = self._pending or next(self._frames, None)
            except av.error.FFmpegError:
                # Damaged sound: keep what was read; the pictures matter more than the rest.
                self._frames, frame = iter(()), None
            self._pending = None
            if frame is None:
                break
            if self._start is None:
                self._start = float(frame.pts * frame.time_base) if frame.pts is not None else 0
            begins = self._samples / self._rate
            if begins >= seconds:
                self._pending = frame
                break
            if final and begins + frame.samples / frame.sample_rate > seconds:
                frame = _cut_audio(frame, seconds - begins)
            # Sound restarts at 0 with the pictures: times count the samples already written.
            frame.pts, frame.time_base = self._samples, Fraction(1, self._rate)
            for packet in self._stream.encode(frame):
                self._output.mux(packet)
            self._samples += round(frame.samples * self._rate / frame.sample_rate)
        if final:
            for packet in self._stream.encode(None):
                self._output.mux(packet)

    def close(self) -> None:
        if self._input is not None:
            self._input.close()
            self._input = None


def _cut_audio(frame: av.AudioFrame, seconds: float) -> av.AudioFrame:
    """The first ``seconds`` of an audio frame."""
    keep = max(1, int(seconds * frame.sample_rate))
    samples = frame.to_ndarray()
    planar = frame.format.is_planar
    cut = samples[:, :keep] if planar else samples[:, : keep * len(frame.layout.channels)]
    shorter = av.AudioFrame.from_ndarray(cut, format=frame.format.name, layout=frame.layout.name)
    shorter.sample_rate = frame.sample_rate
    return shorter
