"""Saying a dream's time before it is spent: its work, and the pace measured here."""

from __future__ import annotations

import time

import numpy as np

from deepdream import PRESETS, dream
from deepdream.serving.pace import Pace, dream_work


def test_work_counts_each_octaves_pixels_times_its_steps():
    config = PRESETS["classic"].replace(octaves=2, octave_scale=2.0, steps_per_octave=3)
    assert dream_work((400, 600), config, min_side=75) == 3 * (400 * 600 + 200 * 300)
    smaller = config.replace(max_side=300)  # the working size, not the photo's
    assert dream_work((400, 600), smaller, min_side=75) == 3 * (200 * 300 + 100 * 150)


def test_a_measured_dream_predicts_a_larger_one(offline_vgg):
    pace = Pace()
    config = PRESETS["classic"].with_model(offline_vgg.name).replace(octaves=1, steps_per_octave=3)
    small, large = np.full((96, 128, 3), 120, np.uint8), np.full((192, 256, 3), 120, np.uint8)
    assert pace.estimate(1.0, offline_vgg) is None  # nothing measured yet
    for image in (small, large, small):  # traced, and each size's kernels made: steps alone next
        dream(image, config, offline_vgg)
    for _ in range(3):  # the pace is a median: one dream slowed by a busy neighbour is shrugged off
        pace.record(dream(small, config, offline_vgg))
    guess = pace.estimate(dream_work(large.shape[:2], config, offline_vgg.min_side), offline_vgg)
    took = min(_seconds_to_dream(large, config, offline_vgg) for _ in range(2))
    # Four times the pixels: the guess is within a factor of 2.5 of the time it took (a
    # guess for the page, not a benchmark; small dreams carry a fixed cost per step).
    assert took / 2.5 < guess < took * 2.5, (guess, took)


def _seconds_to_dream(image: np.ndarray, config, model) -> float:
    started = time.perf_counter()
    dream(image, config, model)
    return time.perf_counter() - started
