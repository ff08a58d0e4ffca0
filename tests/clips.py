"""Small video clips made for the tests, written with PyAV directly (not with our writer)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

TONE_HZ = 440.0
AUDIO_RATE = 22_050


def pan(photo: np.ndarray, count: int, size: tuple[int, int], step: int) -> list[np.ndarray]:
    """A camera panning right over ``photo``: frame t+1 shows frame t's content ``step`` px left."""
    height, width = size
    top = (photo.shape[0] - height) // 2
    return [photo[top : top + height, i * step : i * step + width].copy() for i in range(count)]


def write_clip(
    target,
    frames: list[np.ndarray],
    fps: int = 12,
    *,
    audio: bool = False,
    times: list[float] | None = None,
    video: bool = True,
) -> None:
    """An H.264 MP4 of ``frames`` (optionally at given ``times``), with a 440 Hz tone if asked."""
    if isinstance(target, Path):
        target = str(target)
    seconds = len(frames) / fps if times is None else times[-1] + 1 / fps
    with av.open(target, "w", format="mp4") as out:
        if video:
            stream = out.add_stream("libx264", rate=fps)
            stream.height, stream.width = frames[0].shape[:2]
            stream.pix_fmt = "yuv420p"
            clock = Fraction(1, 1000)
            stream.codec_context.time_base = clock
        if audio:
            sound = out.add_stream("aac", rate=AUDIO_RATE)
            sound.layout = "mono"
            samples = int(seconds * AUDIO_RATE)
            t = np.arange(samples) / AUDIO_RATE
            tone = (0.3 * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.float32)[None]
            for start in range(0, samples, 1024):
                chunk = av.AudioFrame.from_ndarray(
                    np.ascontiguousarray(tone[:, start : start + 1024]), format="flt", layout="mono"
                )
                chunk.sample_rate, chunk.pts = AUDIO_RATE, start
                chunk.time_base = Fraction(1, AUDIO_RATE)
                for packet in sound.encode(chunk):
                    out.mux(packet)
            for packet in sound.encode(None):
                out.mux(packet)
        if video:
            for index, image in enumerate(frames):
                frame = av.VideoFrame.from_ndarray(image, format="rgb24")
                moment = index / fps if times is None else times[index]
                frame.pts, frame.time_base = round(moment * 1000), clock
                for packet in stream.encode(frame):
                    out.mux(packet)
            for packet in stream.encode(None):
                out.mux(packet)


def audio_of(source) -> tuple[np.ndarray, int]:
    """The first audio track as mono float samples, and its sample rate."""
    with av.open(source if not isinstance(source, Path) else str(source)) as container:
        stream = container.streams.audio[0]
        chunks = [
            f.to_ndarray().reshape(-1, f.samples).mean(axis=0) for f in container.decode(stream)
        ]
        return np.concatenate(chunks), stream.codec_context.sample_rate


def main_frequency(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.argmax(spectrum) * rate / len(samples))


def write_other(target, frames: list[np.ndarray], container: str, video: str, audio: str) -> None:
    """A clip in another container and codecs (WebM with VP9 + Opus, MOV with MPEG-4 + PCM)."""
    rate = 48_000
    with av.open(target, "w", format=container) as out:
        stream = out.add_stream(video, rate=12)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        sound = out.add_stream(audio, rate=rate)
        sound.layout = "mono"
        samples = int(len(frames) / 12 * rate)
        tone = 0.3 * np.sin(2 * np.pi * TONE_HZ * np.arange(samples) / rate)
        planar = audio != "pcm_s16le"
        for start in range(0, samples, 960):
            chunk = tone[None, start : start + 960]
            data = chunk.astype(np.float32) if planar else (chunk * 32767).astype(np.int16)
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(data), format="fltp" if planar else "s16", layout="mono"
            )
            frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
            for packet in sound.encode(frame):
                out.mux(packet)
        for packet in sound.encode(None):
            out.mux(packet)
        for index, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, 12)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
