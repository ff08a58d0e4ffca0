"""Masks: the dream goes only where the mask says, with no seam at a soft edge."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from PIL import Image, ImageDraw

from bench.harness import edge_steps, kept_change, kind_photo
from deepdream import PRESETS, DreamConfig, Mask, dream


def half_mask(height: int, width: int, feather: float = 0) -> Mask:
    """White on the left half (dream), black on the right (keep)."""
    picture = np.zeros((height, width), np.uint8)
    picture[:, : width // 2] = 255
    return Mask.from_image(picture, feather=feather)


def test_a_painted_rgba_layer_counts_its_strokes_and_not_the_transparency():
    layer = np.zeros((40, 60, 4), np.uint8)  # a canvas: transparent, one white stroke
    layer[10:20, 5:30] = (255, 255, 255, 255)
    layer[25:30, 5:30] = (255, 255, 255, 128)  # half-transparent: part strength
    mask = Mask.from_image(layer)
    assert mask.pixels[15, 10] == 255
    assert mask.pixels[0, 0] == 0
    assert 120 <= mask.pixels[27, 10] <= 135
    inverted = Mask.from_image(layer, invert=True)
    assert inverted.pixels[0, 0] == 255 and inverted.pixels[15, 10] == 0


def test_feather_softens_the_edge_and_the_mask_is_a_value():
    sharp = half_mask(64, 64)
    soft = half_mask(64, 64, feather=16)
    row = soft.pixels[32].astype(int)
    assert sharp.pixels[32, 31] == 255 and sharp.pixels[32, 32] == 0
    assert 0 < row[32] < 255 and np.all(np.diff(row) <= 0)  # falls off gradually
    assert half_mask(64, 64) == sharp and hash(half_mask(64, 64)) == hash(sharp)
    assert soft != sharp and soft.digest != sharp.digest
    assert pickle.loads(pickle.dumps(soft)) == soft


def test_a_mask_that_dreams_nowhere_gets_a_plain_error():
    with pytest.raises(ValueError, match="nowhere to dream"):
        Mask.from_image(np.zeros((8, 8), np.uint8))
    with pytest.raises(ValueError, match="feather"):
        Mask.from_image(np.ones((8, 8), np.uint8), feather=-1)
    with pytest.raises(ValueError, match="Mask"):
        DreamConfig(mask=np.ones((8, 8), np.uint8))


def test_a_mask_of_another_size_is_fitted_and_lay_keeps_the_photo_exactly():
    mask = half_mask(10, 20)  # 2:1, fitted to a 3:2 photo
    photo = np.full((30, 45, 3), 100, np.uint8)
    dreamed = np.full((30, 45, 3), 200, np.uint8)
    laid = mask.lay(photo, dreamed)
    assert laid.shape == photo.shape
    assert np.all(laid[:, :18] == 200) and np.all(laid[:, 27:] == 100)


def test_the_record_names_the_mask_by_its_hash():
    config = PRESETS["classic"].replace(mask=half_mask(32, 32))
    assert config.describe()["mask"] == config.mask.digest
    assert PRESETS["classic"].describe()["mask"] == "none"
    assert config != PRESETS["classic"]


@pytest.mark.slow
def test_a_masked_dream_keeps_the_kept_part_and_has_no_seam(imagenet_inception):
    """The issue's two measurements, on a real photo with InceptionV3's ImageNet layers."""
    photo = kind_photo("chelsea", 320)
    height, width = photo.shape[:2]
    mask = half_mask(height, width, feather=24)
    config = PRESETS["classic"].replace(octaves=2, steps_per_octave=6, mask=mask)
    dreamed = dream(photo, config, imagenet_inception).image
    strength = mask.strength(height, width)
    assert kept_change(photo, dreamed, strength) <= 1
    steps = edge_steps(photo, dreamed, strength)
    assert steps["inside"] > 2  # the painted half really dreamed
    assert steps["edge"] <= steps["inside"], steps
    unmasked = dream(photo, config.replace(mask=None), imagenet_inception).image
    assert kept_change(photo, unmasked, strength) > 10  # without it, that half dreams too


def test_a_mask_holds_from_noise_and_through_a_stopped_dream(random_inception):
    from deepdream import dream_steps, partial_result
    from deepdream.media.image import noise_canvas

    canvas = noise_canvas(160, 160, seed=3)
    mask = Mask.from_image(circle(160, 160))
    config = DreamConfig(
        layers=(("mixed3", 1.0),), steps_per_octave=4, octaves=2, start="noise", mask=mask
    )
    strength = mask.strength(160, 160)
    updates = []
    for update in dream_steps(canvas, config, random_inception):
        updates.append(update)
    finished = updates[-1].result.image
    assert kept_change(canvas, finished, strength) <= 1
    assert kept_change(canvas, finished, np.zeros_like(strength)) > 5  # inside, it dreamed
    stopped = next(u for u in updates if u.preview is not None)
    partial = partial_result(canvas, stopped, config, random_inception).image
    assert kept_change(canvas, partial, strength) <= 1


def circle(height: int, width: int) -> np.ndarray:
    picture = Image.new("L", (width, height), 0)
    ImageDraw.Draw(picture).ellipse((width // 4, height // 4, 3 * width // 4, 3 * height // 4), 255)
    return np.asarray(picture)


def test_one_mask_holds_for_every_frame_of_a_video_and_a_zoom(random_inception, photo):
    from deepdream import MotionConfig, dream_video_frames
    from deepdream.motion.zoom import zoom_frames

    small = np.asarray(Image.fromarray(photo).resize((96, 96)))
    frames = [small, np.roll(small, 6, axis=1), np.roll(small, 12, axis=1)]
    mask = half_mask(48, 48)  # another size than the frames: fitted to them
    config = DreamConfig(layers=(("mixed3", 1.0),), steps_per_octave=3, octaves=1, mask=mask)
    strength = mask.strength(96, 96)
    motion = MotionConfig(blend=0.9, zoom_frames=3, zoom=1.1)
    for update, frame in zip(dream_video_frames(frames, config, motion, random_inception), frames):
        assert kept_change(frame, update.image, strength) <= 1
    previous = small
    for update in zoom_frames(small, config, motion, random_inception):
        if update.index:  # each frame dreams the last one zoomed, only inside the mask
            from deepdream.motion.zoom import zoom_step

            source = zoom_step(previous, motion.zoom, motion.rotate)
            assert kept_change(source, update.image, strength) <= 1
        previous = update.image
