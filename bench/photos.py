"""The benchmarks' input photo: the test astronaut at any size, as pixels or as JPEG bytes.

Shared by ``benchmark.py`` and ``page.py``; Pillow and NumPy only (no TensorFlow).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

TEST_PHOTO = Path(__file__).resolve().parents[1] / "tests" / "data" / "astronaut.jpg"


def astronaut_photo(shape: tuple[int, int]) -> np.ndarray:
    """The test astronaut resized (Lanczos) to ``shape`` (height, width), as uint8 RGB."""
    with Image.open(TEST_PHOTO) as photo:
        resized = photo.convert("RGB").resize((shape[1], shape[0]), Image.Resampling.LANCZOS)
        return np.asarray(resized, dtype=np.uint8)


def photo_jpeg(shape: tuple[int, int]) -> bytes:
    """JPEG bytes of the test photo at ``shape``: what a user would upload."""
    buffer = io.BytesIO()
    Image.fromarray(astronaut_photo(shape)).save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()
