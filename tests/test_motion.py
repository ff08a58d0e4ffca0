import io
import threading

import numpy as np
import pytest
from clips import audio_of, pan, write_clip

from deepdream import dream
from deepdream.config import PRESETS
from deepdream.media.video import probe_video, read_frames
from deepdream.motion import flow, quality, writing
from deepdream.motion.config import MotionConfig
from deepdream.motion.flow import dream_video_frames
from deepdream.motion.writing import dream_video, zoom_video
from deepdream.motion.zoom import zoom_frames, zoom_step

STEP = 3  # pixels the camera moves a frame
SIZE = (64, 96)


def small(model_name):
    return (
        PRESETS["classic"]
        .with_model(model_name)
        .replace(steps_per_octave=4, octaves=1, max_side=96)
    )


@pytest.fixture(scope="module")
def panning(photo):
    return pan(photo, 24, SIZE, STEP)


@pytest.fixture(scope="module")
def carried(panning, offline_vgg):
    updates = list(dream_video_frames(panning, small("vgg16_offline"), MotionConfig(), offline_vgg))
    return [u.image for u in updates], updates


def test_motion_config_refuses_bad_values():
    for bad in [
        {"blend": 1.5},
        {"blend": -0.1},
        {"scene_cut": 2},
        {"zoom": 0},
        {"fps": 0},
        {"zoom_frames": 0},
        {"carried_steps": 0},
        {"rotate": 90},
    ]:
        with pytest.raises(ValueError):
            MotionConfig(**bad)
    assert MotionConfig().steps_for_carried(small("vgg16_offline")) == 2
    assert MotionConfig(carried_steps=3).steps_for_carried(small("vgg16_offline")) == 3


def test_carried_dream_clings_to_the_pan_unlike_independent_frames(panning, carried, offline_vgg):
    outputs, updates = carried
    assert [u.fresh for u in updates] == [True] + [False] * 23
    assert min(u.explained for u in updates[1:]) > 0.9
    alone = list(
        dream_video_frames(panning[:8], small("vgg16_offline"), MotionConfig(blend=0), offline_vgg)
    )
    independent = quality.flicker(panning[:8], [u.image for u in alone], (0, STEP))
    coherent = quality.flicker(panning, outputs, (0, STEP))
    print(f"flicker: carried {coherent:.3f}, independent {independent:.3f}")
    assert coherent <= 0.35
    assert coherent < 0.5 * independent


def test_no_brightness_creep_and_steady_strength(panning, carried):
    outputs, _ = carried
    drift = quality.drift(panning, outputs, count=4)
    ratios = quality.strength_ratios(panning, outputs)
    print(f"drift {drift:+.2f} grey levels, strength {min(ratios):.2f}-{max(ratios):.2f}")
    assert abs(drift) <= 3.0
    assert min(ratios) >= 0.6 and max(ratios) <= 1.6


def test_without_holding_the_strength_the_dream_creeps(panning, carried, offline_vgg):
    loose = MotionConfig(hold_strength=False)
    first = panning[:12]  # enough frames to see it creep
    outputs = [
        u.image for u in dream_video_frames(first, small("vgg16_offline"), loose, offline_vgg)
    ]
    held = quality.strength_ratios(first, carried[0][:12])[-1]
    crept = quality.strength_ratios(first, outputs)[-1]
    print(f"strength after 12 frames: held {held:.2f}, not held {crept:.2f}")
    assert crept > held  # the guard is what keeps it steady


def test_content_entering_on_a_pan_is_dreamed(panning, carried):
    outputs, _ = carried
    edge = quality.edge_ratio(panning, outputs, (0, STEP), strip=2 * STEP)
    print(f"edge strip strength / rest: {edge:.2f}")
    assert edge >= 0.5


def test_a_scene_cut_starts_a_fresh_dream(photo, random_inception):
    config = small("inception_v3")
    first = pan(photo, 4, SIZE, STEP)
    second = pan(np.ascontiguousarray(photo[::-1, ::-1]), 4, SIZE, STEP)  # another picture
    updates = list(dream_video_frames(first + second, config, MotionConfig(), random_inception))
    assert [u.fresh for u in updates] == [True, False, False, False, True, False, False, False]
    # The restart is a full dream of that frame alone, nothing carried across the cut.
    assert np.array_equal(updates[4].image, dream(second[0], config, random_inception).image)
    assert not np.array_equal(updates[5].image, dream(second[1], config, random_inception).image)


def test_zoom_frames_each_continue_the_previous_one(photo, offline_vgg):
    motion = MotionConfig(zoom=1.1, rotate=2.0, zoom_frames=5)
    image = photo[64:160, 64:160]
    updates = list(zoom_frames(image, small("vgg16_offline"), motion, offline_vgg))
    frames = [u.image for u in updates]
    assert len(frames) == 5 and updates[-1].eta == 0
    assert np.array_equal(frames[0], dream(image, small("vgg16_offline"), offline_vgg).image)
    for before, after in zip(frames, frames[1:]):
        expected = zoom_step(before, 1.1, 2.0).astype(float)
        close = np.abs(after - expected).mean()
        assert 0.3 < close < 0.5 * np.abs(after - before.astype(float)).mean()
        assert abs((after - expected).mean()) < 1.0  # what each frame adds keeps brightness


def test_dream_video_keeps_count_size_rate_and_sound(tmp_path, photo, offline_vgg):
    source, target = tmp_path / "in.mp4", tmp_path / "out.mp4"
    frames = pan(photo, 6, SIZE, STEP)
    write_clip(source, frames, fps=12, audio=True)
    updates = list(dream_video(source, target, small("vgg16_offline"), MotionConfig(), offline_vgg))
    assert [u.done for u in updates] == [1, 2, 3, 4, 5, 6]
    assert updates[0].total == 6 and updates[-1].eta == 0 and updates[-1].frames_per_second > 0
    info = probe_video(target)
    assert (info.height, info.width, info.frames, info.fps) == (*SIZE, 6, 12)
    assert info.has_audio
    sound, rate = audio_of(target)
    assert len(sound) / rate == pytest.approx(0.5, abs=0.1)
    last = list(read_frames(target))[-1].image.astype(int)
    # What was written is the dream (up to H.264 4:2:0 loss at this tiny size), not the source.
    assert np.abs(last - updates[-1].image).mean() < 0.7 * np.abs(last - frames[-1]).mean()


def test_frames_made_and_written_beside_the_dream_give_the_same_video(
    photo, random_inception, monkeypatch
):
    """Threads beside the dream (the GPU default) change when the work is done, not what."""
    source = io.BytesIO()
    write_clip(source, pan(photo, 4, SIZE, STEP), fps=12)
    videos = []
    for depth in (0, 2):
        monkeypatch.setattr(flow, "FRAMES_AHEAD", depth)
        monkeypatch.setattr(writing, "FRAMES_BEHIND", depth)
        target = io.BytesIO()
        run = dream_video(
            source.getvalue(), target, small("inception_v3"), MotionConfig(), random_inception,
            format="mp4",
        )  # fmt: skip
        images = [update.image for update in run]
        videos.append((images, target.getvalue()))
    (in_turn, file_in_turn), (beside, file_beside) = videos
    assert len(beside) == 4 and all(np.array_equal(a, b) for a, b in zip(in_turn, beside))
    assert probe_video(file_beside).frames == 4
    assert [f.image.tolist() for f in read_frames(file_beside)] == [
        f.image.tolist() for f in read_frames(file_in_turn)
    ]


@pytest.mark.parametrize("depth", [0, 2], ids=["in turn", "beside"])
def test_stopping_a_video_keeps_the_frames_done_as_a_playable_file(
    photo, random_inception, monkeypatch, depth
):
    monkeypatch.setattr(flow, "FRAMES_AHEAD", depth)
    monkeypatch.setattr(writing, "FRAMES_BEHIND", depth)
    source = io.BytesIO()
    write_clip(source, pan(photo, 8, SIZE, STEP), fps=12, audio=True)
    target = io.BytesIO()
    run = dream_video(
        source.getvalue(),
        target,
        small("inception_v3"),
        MotionConfig(),
        random_inception,
        format="mp4",
    )
    for update in run:
        if update.done == 3:
            break
    run.close()
    # Nothing goes on decoding or encoding beside it once the run is closed.
    beside = {"deepdream-frames", "deepdream-encoder"}
    assert not [thread for thread in threading.enumerate() if thread.name in beside]
    info = probe_video(target.getvalue())
    assert info.frames == 3 and info.has_audio
    assert info.duration == pytest.approx(0.25, abs=0.01)


def test_zoom_video_writes_a_gif(tmp_path, photo, random_inception):
    target = tmp_path / "zoom.gif"
    motion = MotionConfig(zoom_frames=3, fps=10)
    list(zoom_video(photo[:96, :96], target, small("inception_v3"), motion, random_inception))
    info = probe_video(target)
    assert info.codec == "gif" and info.frames == 3 and (info.width, info.height) == (96, 96)
