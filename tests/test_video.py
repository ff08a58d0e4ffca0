import io

import numpy as np
import pytest
from clips import TONE_HZ, audio_of, main_frequency, pan, write_clip, write_other

from deepdream.media.video import VideoDecodeError, VideoWriter, probe_video, read_frames

SIZE = (64, 96)


@pytest.fixture(scope="module")
def frames(photo):
    return pan(photo, 12, SIZE, 4)


@pytest.fixture(scope="module")
def clip(tmp_path_factory, frames):
    path = tmp_path_factory.mktemp("clip") / "pan.mp4"
    write_clip(path, frames, fps=12, audio=True)
    return path


def test_probe_reads_size_rate_count_and_sound(clip):
    info = probe_video(clip)
    assert (info.height, info.width) == SIZE
    assert info.fps == 12 and info.frames == 12
    assert info.duration == pytest.approx(1.0, abs=1e-6)
    assert info.has_audio and not info.variable_frame_rate


def test_frames_stream_in_order_close_to_the_source(clip, frames):
    decoded = list(read_frames(clip))
    assert [f.index for f in decoded] == list(range(12))
    assert [f.time for f in decoded] == pytest.approx([i / 12 for i in range(12)], abs=1e-3)
    for frame, original in zip(decoded, frames):
        assert frame.image.shape == (*SIZE, 3) and frame.image.dtype == np.uint8
        assert np.abs(frame.image.astype(int) - original).mean() < 6  # H.264 at its default


def test_writer_keeps_count_rate_size_and_sound(clip, tmp_path):
    target = tmp_path / "copy.mp4"
    with VideoWriter(target, SIZE[1], SIZE[0], 12, audio_from=clip) as writer:
        for frame in read_frames(clip):
            writer.write(255 - frame.image, frame.time)
    info = probe_video(target)
    assert (info.height, info.width, info.frames, info.fps) == (*SIZE, 12, 12)
    assert info.has_audio
    assert target.read_bytes()[4:8] == b"ftyp" and b"moov" in target.read_bytes()[:64]  # faststart
    sound, rate = audio_of(target)
    assert main_frequency(sound, rate) == pytest.approx(TONE_HZ, abs=5)
    assert len(sound) / rate == pytest.approx(1.0, abs=0.1)
    first = next(read_frames(target)).image
    assert np.abs(first.astype(int) - (255 - next(read_frames(clip)).image)).mean() < 4


def test_stopping_early_leaves_a_playable_file_with_sound_cut_to_it(clip, tmp_path):
    target = tmp_path / "stopped.mp4"

    def writing():
        with VideoWriter(target, SIZE[1], SIZE[0], 12, audio_from=clip) as writer:
            for frame in read_frames(clip):
                writer.write(frame.image)
                yield frame.index

    run = writing()
    for index in run:
        if index == 4:
            break
    run.close()
    info = probe_video(target)
    assert info.frames == 5 and info.has_audio
    sound, rate = audio_of(target)
    assert len(sound) / rate == pytest.approx(5 / 12, abs=0.1)


def test_odd_sizes_are_padded_to_even(tmp_path, frames):
    target = io.BytesIO()
    with VideoWriter(target, 95, 63, 12, format="mp4") as writer:
        for image in frames[:3]:
            writer.write(image[:63, :95])
    assert writer.encoded_size == (96, 64)
    decoded = [f.image for f in read_frames(io.BytesIO(target.getvalue()))]
    assert len(decoded) == 3 and decoded[0].shape == (64, 96, 3)
    assert np.abs(decoded[0][:63, :95].astype(int) - frames[0][:63, :95]).mean() < 6


def test_gif_output_keeps_frames_and_colours(tmp_path, frames):
    target = tmp_path / "pan.gif"
    with VideoWriter(target, SIZE[1], SIZE[0], 10) as writer:
        for image in frames:
            writer.write(image)
    info = probe_video(target)
    assert info.codec == "gif" and info.frames == 12 and info.fps == 10
    decoded = [f.image for f in read_frames(target)]
    assert np.abs(decoded[5].astype(int) - frames[5]).mean() < 4  # own palette per frame


def test_variable_frame_rate_is_detected_and_times_kept(tmp_path, frames):
    times = [0.0, 0.1, 0.2, 0.5, 0.6, 1.0, 1.05, 1.1]
    source = tmp_path / "vfr.mp4"
    write_clip(source, frames[:8], fps=10, times=times)
    info = probe_video(source)
    assert info.variable_frame_rate and info.frames == 8
    target = tmp_path / "out.mp4"
    with VideoWriter(target, SIZE[1], SIZE[0], info.fps) as writer:
        for frame in read_frames(source):
            writer.write(frame.image, frame.time)
    assert [f.time for f in read_frames(target)] == pytest.approx(times, abs=0.002)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, photo_bytes, frames):
    """A folder of files that are not usable videos, made once."""
    tmp_path = tmp_path_factory.mktemp("hostile")
    tmp_path.joinpath("empty.mp4").write_bytes(b"")
    tmp_path.joinpath("notes.mp4").write_text("shopping list\n" * 50)
    tmp_path.joinpath("photo.mp4").write_bytes(photo_bytes)
    write_clip(tmp_path / "sound.mp4", frames[:1], audio=True, video=False)
    whole = io.BytesIO()
    write_clip(whole, frames)
    tmp_path.joinpath("truncated.mp4").write_bytes(whole.getvalue()[: len(whole.getvalue()) // 2])
    with VideoWriter(tmp_path / "indexed.mp4", SIZE[1], SIZE[0], 12) as writer:  # index first
        for image in frames:
            writer.write(image)
    indexed = tmp_path.joinpath("indexed.mp4").read_bytes()
    tmp_path.joinpath("cut.mp4").write_bytes(indexed[: len(indexed) * 2 // 3])
    write_clip(tmp_path / "huge.mp4", [np.zeros((2176, 3856, 3), np.uint8)])  # just over 4K
    return tmp_path


@pytest.mark.parametrize(
    "name, words",
    [
        ("empty.mp4", "empty"),
        ("notes.mp4", "not a video"),
        ("photo.mp4", "still image"),
        ("sound.mp4", "only sound"),
        ("truncated.mp4", "damaged"),
        ("cut.mp4", "incomplete"),
        ("huge.mp4", "3856x2176 pixels, larger than"),
        ("missing.mp4", "no file"),
    ],
)
def test_hostile_files_get_one_plain_sentence(hostile, name, words):
    folder = hostile
    with pytest.raises(VideoDecodeError) as caught:
        probe_video(folder / name)
        list(read_frames(folder / name))
    message = str(caught.value)
    assert words in message and message.endswith(".") and "\n" not in message


def test_huge_frames_are_refused_from_the_header(clip):
    with pytest.raises(VideoDecodeError, match="96x64 pixels, larger than"):
        probe_video(clip, max_pixels=96 * 63)
    with pytest.raises(VideoDecodeError, match="larger than"):
        next(read_frames(clip, max_pixels=1000))


def test_bytes_in_and_out_never_touch_the_disk(clip):
    data = clip.read_bytes()
    target = io.BytesIO()
    with VideoWriter(target, SIZE[1], SIZE[0], 12, audio_from=data, format="mp4") as writer:
        for frame in read_frames(data):
            writer.write(frame.image)
    info = probe_video(target.getvalue())
    assert info.frames == 12 and info.has_audio


@pytest.mark.parametrize(
    "container, video, audio",
    [("webm", "libvpx-vp9", "libopus"), ("mov", "mpeg4", "pcm_s16le")],
)
def test_webm_and_mov_come_out_as_mp4_with_their_sound(frames, container, video, audio):
    source = io.BytesIO()
    write_other(source, frames[:6], container, video, audio)
    info = probe_video(source.getvalue())
    assert (info.frames, info.fps, info.has_audio) == (6, 12, True)
    target = io.BytesIO()
    with VideoWriter(target, SIZE[1], SIZE[0], info.fps, audio_from=source, format="mp4") as w:
        for frame in read_frames(source):
            w.write(frame.image, frame.time)
    out = probe_video(target.getvalue())
    assert (out.codec, out.frames, out.fps, out.has_audio) == ("h264", 6, 12, True)
    sound, rate = audio_of(io.BytesIO(target.getvalue()))
    assert main_frequency(sound, rate) == pytest.approx(TONE_HZ, abs=5)
