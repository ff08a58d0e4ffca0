import os
import subprocess
import sys

import pytest
from clips import pan, write_clip

from deepdream.cli import main
from deepdream.media.video import probe_video

SMALL = ["--model", "vgg16_offline", "--steps", "2", "--octaves", "1", "--max-side", "96"]
SIZE = (64, 96)


@pytest.fixture
def clip(tmp_path, photo):
    path = tmp_path / "clip.mp4"
    write_clip(path, pan(photo, 5, SIZE, 3), fps=10, audio=True)
    return path


def test_a_video_dreams_into_a_video_with_its_sound(tmp_path, clip, capsys):
    target = tmp_path / "dream.mp4"
    assert main([str(clip), str(target), *SMALL, "--blend", "0.8"]) == 0
    info = probe_video(target)
    assert (info.height, info.width, info.frames, info.fps) == (*SIZE, 5, 10)
    assert info.has_audio
    err = capsys.readouterr().err
    assert "5/5" in err and "frame/s" in err and "wrote" in err  # progress: frames, speed


def test_a_photo_zooms_into_a_gif(tmp_path, photo_bytes):
    source, target = tmp_path / "photo.jpg", tmp_path / "zoom.gif"
    source.write_bytes(photo_bytes)
    args = ["--zoom-frames", "3", "--zoom", "1.1", "--rotate", "3", "--fps", "8", "--quiet"]
    assert main([str(source), str(target), *SMALL, *args]) == 0
    info = probe_video(target)
    assert info.codec == "gif" and info.frames == 3 and (info.width, info.height) == (256, 256)


def test_a_photo_to_mp4_is_a_zoom(tmp_path, photo_bytes):
    source, target = tmp_path / "photo.jpg", tmp_path / "zoom.mp4"
    source.write_bytes(photo_bytes)
    assert main([str(source), str(target), *SMALL, "--zoom-frames", "2", "--quiet"]) == 0
    info = probe_video(target)
    assert info.codec == "h264" and info.frames == 2 and info.fps == 24


@pytest.mark.parametrize(
    "name, content, words",
    [
        ("empty.mp4", b"", "empty"),
        ("notes.mov", b"shopping list\n" * 40, "not a video"),
        ("photo.mp4", "astronaut", "still image"),
        ("sound.mp4", "sound", "only sound"),
    ],
)
def test_bad_videos_exit_2_with_one_plain_sentence(
    tmp_path, photo_bytes, photo, capsys, name, content, words
):
    source = tmp_path / name
    if content == "astronaut":
        source.write_bytes(photo_bytes)
    elif content == "sound":
        write_clip(source, pan(photo, 1, SIZE, 3), audio=True, video=False)
    else:
        source.write_bytes(content)
    assert main([str(source), str(tmp_path / "out.mp4"), *SMALL]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and words in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_bad_motion_settings_and_outputs_exit_2(tmp_path, clip, capsys):
    assert main([str(clip), str(tmp_path / "o.mp4"), "--blend", "1.5"]) == 2
    assert "blend" in capsys.readouterr().err
    assert main([str(clip), str(tmp_path / "o.png")]) == 2
    assert ".mp4 or .gif" in capsys.readouterr().err
    assert main([str(tmp_path / "missing.mp4"), str(tmp_path / "o.mp4")]) == 2
    assert "no file" in capsys.readouterr().err


def test_truncated_video_from_a_real_process(tmp_path, clip):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])
    failed = subprocess.run(
        [sys.executable, "-m", "deepdream", str(broken), str(tmp_path / "o.mp4"), *SMALL],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        timeout=120,
    )
    assert failed.returncode == 2
    assert "damaged" in failed.stderr and "Traceback" not in failed.stderr
    shown = subprocess.run(
        [sys.executable, "-m", "deepdream", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for option in [
        "--blend",
        "--carried-steps",
        "--scene-cut",
        "--zoom-frames",
        "--zoom",
        "--rotate",
        "--fps",
    ]:
        assert option in shown


def test_variable_frame_rate_is_kept_and_said(tmp_path, photo, capsys):
    from deepdream.media.video import read_frames

    source, target = tmp_path / "vfr.mp4", tmp_path / "out.mp4"
    times = [0.0, 0.1, 0.4, 0.45]
    write_clip(source, pan(photo, 4, SIZE, 3), fps=10, times=times)
    assert main([str(source), str(target), *SMALL]) == 0
    assert "frame rate varies" in capsys.readouterr().err
    assert [f.time for f in read_frames(target)] == pytest.approx(times, abs=0.002)
