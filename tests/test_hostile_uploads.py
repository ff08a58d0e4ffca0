"""Everything a user can upload ends in a dream or a plain message, through the real page.

Each class of odd or hostile file is uploaded with AppTest. Readable images are then dreamed
with tiny settings and must come back at their own (upright) size; the rest must show a
plain ``st.error`` and leave the page working for the next upload.
"""

from __future__ import annotations

import contextlib
import io
import struct
import threading
import zlib
from pathlib import Path

import numpy as np
import pytest
from conftest import kept_result
from PIL import Image
from streamlit.testing.v1 import AppTest

from deepdream.media.image import decode_image
from deepdream.serving.slots import shared_slots

APP = str(Path(__file__).parent.parent / "app.py")


def _save(img: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def _photo(size=(64, 48)) -> Image.Image:
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))


def _exif_rotated() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, displayed portrait
    return _save(_photo((80, 40)), "JPEG", exif=exif)


def _bomb() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    ihdr = struct.pack(">IIBBBBB", 60_000, 60_000, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"\0" * 32)


def _animated_gif() -> bytes:
    frames = [_photo(), Image.new("RGB", (64, 48), (0, 0, 255))]
    return _save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=40)


READABLE = {
    # name: (file name, bytes, expected (height, width))
    "large photo 6000x4000": ("big.jpg", lambda: _save(_photo((6000, 4000)), "JPEG"), (4000, 6000)),
    "extreme aspect 4000x16": ("strip.png", lambda: _save(_photo((4000, 16)), "PNG"), (16, 4000)),
    "1x1": ("dot.png", lambda: _save(_photo((1, 1)), "PNG"), (1, 1)),
    "8x8": ("tiny.bmp", lambda: _save(_photo((8, 8)), "BMP"), (8, 8)),
    "16-bit": (
        "deep.png",
        lambda: _save(
            Image.fromarray(np.arange(64 * 48, dtype=np.uint16).reshape(48, 64) * 20), "PNG"
        ),
        (48, 64),
    ),
    "CMYK": ("print.jpg", lambda: _save(_photo().convert("CMYK"), "JPEG"), (48, 64)),
    "palette": ("pal.gif", lambda: _save(_photo().convert("P"), "GIF"), (48, 64)),
    "grey+alpha": ("la.png", lambda: _save(_photo().convert("LA"), "PNG"), (48, 64)),
    "RGBA": ("rgba.webp", lambda: _save(_photo().convert("RGBA"), "WEBP"), (48, 64)),
    "animated GIF": ("anim.gif", _animated_gif, (48, 64)),
    "EXIF-rotated": ("rotated.jpg", _exif_rotated, (80, 40)),
    "TIFF": ("scan.tiff", lambda: _save(_photo(), "TIFF"), (48, 64)),
}

UNREADABLE = {
    # name: (file name, bytes, words the message must contain)
    "zero bytes": ("empty.jpg", lambda: b"", "empty"),
    "truncated JPEG": ("cut.jpg", lambda: _save(_photo((300, 200)), "JPEG")[:700], "damaged"),
    "truncated PNG": ("cut.png", lambda: _save(_photo((300, 200)), "PNG")[:900], "damaged"),
    "text as .png": ("notes.png", lambda: b"dear diary\n" * 20, "not an image"),
    "HTML as .jpg": ("page.jpg", lambda: b"<html><script>alert(1)</script></html>", "not an image"),
    "SVG as .png": (
        "drawing.png",
        lambda: b'<svg xmlns="http://www.w3.org/2000/svg"><circle r="5"/></svg>',
        "not an image",
    ),
    "random bytes": (
        "noise.webp",
        lambda: np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes(),
        "not an image",
    ),
    "decompression bomb": ("bomb.png", _bomb, "smaller"),
}


@pytest.fixture
def app(without_inception_weights) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=240)
    at.run()
    at.slider(key="steps").set_value(1)
    at.slider(key="octaves").set_value(1)
    at.select_slider(key="max_side").set_value(256)
    at.run()
    return at


def _upload(at: AppTest, name: str, data: bytes) -> None:
    at.file_uploader(key="upload").set_value((name, data, "application/octet-stream")).run()


@pytest.mark.parametrize("case", list(READABLE))
def test_readable_odd_images_are_dreamed_at_their_own_upright_size(app, case):
    name, make, shape = READABLE[case]
    _upload(app, name, make())
    assert not app.exception and not app.error, case
    app.button(key="generate").click().run()
    assert not app.exception and not app.error, case
    dream = decode_image(kept_result(app)["png"])
    assert dream.shape == (*shape, 3)


@pytest.mark.parametrize("case", list(UNREADABLE))
def test_unreadable_files_get_a_plain_message_and_the_page_keeps_working(app, case, photo_bytes):
    name, make, words = UNREADABLE[case]
    _upload(app, name, make())
    assert not app.exception
    assert len(app.error) == 1 and words in app.error[0].value
    assert "Traceback" not in app.error[0].value and "<" not in app.error[0].value
    assert app.button(key="generate").disabled
    _upload(app, "good.jpg", photo_bytes)  # the next upload works
    assert not app.error
    app.button(key="generate").click().run()
    assert not app.exception and kept_result(app) is not None


def test_a_busy_server_queues_the_dream_and_says_its_place(app, photo_bytes, monkeypatch):
    import deepdream_studio.live

    _upload(app, "astronaut.jpg", photo_bytes)
    slots = shared_slots()
    places = []
    real_message = deepdream_studio.live.queue_message

    def recording_message(ahead: int, *args, **kwargs) -> str:
        places.append((ahead, slots.in_use))
        return real_message(ahead, *args, **kwargs)

    monkeypatch.setattr(deepdream_studio.live, "queue_message", recording_message)
    held = contextlib.ExitStack()
    for _ in range(slots.limit):  # every slot taken by "other users"
        held.enter_context(slots.slot())
    releaser = threading.Timer(1.0, held.close)
    releaser.start()
    app.button(key="generate").click().run()
    releaser.join()
    # It queued (first in line, every slot busy), then dreamed once a slot came free.
    assert places and places[0] == (0, slots.limit)
    assert not app.exception and kept_result(app) is not None
    assert slots.in_use == 0 and slots.waiting == 0


def test_the_queue_message_says_how_many_dreams_are_ahead():
    from deepdream_studio.live import queue_message

    assert "2 dreams ahead of yours" in queue_message(2)
    assert "1 dream ahead of yours" in queue_message(1)
    assert "yours is next" in queue_message(0)
    # Behind the server's start-up warm-up, the page says so rather than "a running dream".
    assert "getting the dreaming network ready" in queue_message(0, warming=True)
    assert "2 dreams ahead of yours" in queue_message(2, warming=True)
    # Behind a photo's preparation (it gives way within a step), it says the dream starts now.
    assert "your dream starts now" in queue_message(0, preparing=True)
    assert "2 dreams ahead of yours" in queue_message(2, preparing=True)
