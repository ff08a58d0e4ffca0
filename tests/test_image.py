import io

import numpy as np
import pytest
from PIL import Image

from deepdream.media.image import (
    ImageDecodeError,
    decode_image,
    encode_png,
    fit_within,
    from_model_range,
    keep_colors,
    png_text,
    to_model_range,
)


def _encode(img: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def test_real_photo_decodes_to_rgb_uint8(photo_bytes):
    pixels = decode_image(photo_bytes)
    assert pixels.shape == (256, 256, 3)
    assert pixels.dtype == np.uint8
    assert pixels.std() > 20  # a real picture, not a blank


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "BMP", "GIF", "TIFF"])
def test_every_offered_format_decodes(fmt):
    img = Image.new("RGB", (30, 20), (200, 40, 10))
    pixels = decode_image(_encode(img, fmt))
    assert pixels.shape == (20, 30, 3)


# How a camera stores an upright picture for each EXIF orientation (the inverse of what a
# viewer does to display it): 1 as is, 2 mirrored, 3 upside down, 4 flipped, 5 transposed,
# 6 turned a quarter anticlockwise, 7 transversed, 8 turned a quarter clockwise.
_STORED_AS = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def _upright_test_card() -> Image.Image:
    """40x24 landscape: a red top-left quarter, a green top-right, blue bottom, so every
    turn and mirror gives a different picture."""
    card = Image.new("RGB", (40, 24), (0, 0, 255))
    card.paste((255, 0, 0), (0, 0, 20, 12))
    card.paste((0, 255, 0), (20, 0, 40, 12))
    return card


@pytest.mark.parametrize("orientation", sorted(_STORED_AS))
def test_every_exif_orientation_comes_out_upright(orientation):
    upright = _upright_test_card()
    transform = _STORED_AS[orientation]
    stored = upright if transform is None else upright.transpose(transform)
    exif = Image.Exif()
    exif[0x0112] = orientation
    pixels = decode_image(_encode(stored, "JPEG", exif=exif, quality=95))
    expected = np.asarray(upright)
    assert pixels.shape == expected.shape
    # JPEG blurs the colour edges a little; away from them, every pixel is where it belongs.
    assert np.abs(pixels.astype(int) - expected).mean() < 12


def test_cmyk_jpeg_becomes_rgb():
    pixels = decode_image(_encode(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), "JPEG"))
    assert pixels.shape == (16, 16, 3)
    assert pixels[..., 0].mean() > 200 and pixels[..., 1].mean() < 60  # red


def test_transparency_is_flattened_onto_white():
    rgba = Image.new("RGBA", (10, 10), (255, 0, 0, 0))
    assert decode_image(_encode(rgba, "PNG")).min() == 255
    grey_alpha = Image.new("LA", (10, 10), (0, 0))
    assert decode_image(_encode(grey_alpha, "PNG")).min() == 255
    palette = Image.new("P", (10, 10), 0)
    palette.putpalette([0, 0, 0] * 256)
    palette.info["transparency"] = 0
    assert decode_image(_encode(palette, "PNG", transparency=0)).min() == 255


def test_sixteen_bit_grey_uses_the_whole_range():
    ramp = (np.linspace(0, 65535, 64 * 8).reshape(8, 64)).astype(np.uint16)
    pixels = decode_image(_encode(Image.fromarray(ramp), "PNG"))
    assert pixels.shape == (8, 64, 3)
    assert pixels.min() == 0 and pixels.max() == 255


def test_animated_gif_gives_its_first_frame():
    frames = [Image.new("RGB", (12, 12), c) for c in [(255, 0, 0), (0, 0, 255)]]
    data = _encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50)
    pixels = decode_image(data)
    assert pixels[..., 0].mean() > 200 and pixels[..., 2].mean() < 60


@pytest.mark.parametrize(
    "data",
    [
        b"hello, this is a text file\n",
        b"<html><script>alert(1)</script></html>",
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>',
        bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8)),
    ],
    ids=["text", "html", "svg", "random"],
)
def test_non_images_raise_a_plain_decode_error(data):
    with pytest.raises(ImageDecodeError, match="not an image"):
        decode_image(data)


def test_empty_file_raises_a_plain_decode_error():
    with pytest.raises(ImageDecodeError, match="empty"):
        decode_image(b"")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_files_raise_a_plain_decode_error(photo_bytes, fmt):
    data = _encode(Image.open(io.BytesIO(photo_bytes)), fmt)
    with pytest.raises(ImageDecodeError, match="damaged or incomplete"):
        decode_image(data[: len(data) // 2])


def _png_header_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge size and whose pixel data is garbage."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", b"x" * 20)
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("side", [20_000, 100_000])
def test_decompression_bombs_are_refused_from_the_header(side):
    data = _png_header_claiming(side, side)
    assert len(data) < 100
    # Garbage pixel data: reaching the decoder would say "damaged"; the size check comes first.
    with pytest.raises(ImageDecodeError, match="smaller"):
        decode_image(data)


def test_pixel_limit_is_configurable():
    data = _encode(Image.new("RGB", (200, 100)), "PNG")
    with pytest.raises(ImageDecodeError, match="too large"):
        decode_image(data, max_pixels=10_000)


def test_model_range_round_trip_is_exact():
    values = np.arange(256, dtype=np.uint8).reshape(16, 16, 1).repeat(3, axis=2)
    scaled = to_model_range(values)
    assert scaled.dtype == np.float32
    assert scaled.min() == -1.0 and scaled.max() == 1.0
    assert np.array_equal(from_model_range(scaled), values)
    assert from_model_range(np.array([[[-5.0, 5.0, 0.0]]])).tolist() == [[[0, 255, 128]]]


def test_fit_within_shrinks_only():
    big = np.zeros((300, 600, 3), np.uint8)
    assert fit_within(big, 200).shape == (100, 200, 3)
    assert fit_within(big, 1000) is big


def test_png_keeps_pixels_and_text():
    pixels = np.random.default_rng(1).integers(0, 256, (9, 7, 3), dtype=np.uint8)
    data = encode_png(pixels, {"deepdream.seed": "3", "deepdream.model": "vgg16_offline"})
    assert np.array_equal(decode_image(data), pixels)
    assert png_text(data) == {"deepdream.seed": "3", "deepdream.model": "vgg16_offline"}


def test_keep_colors_takes_brightness_from_dream_and_colour_from_photo():
    photo = np.zeros((8, 8, 3), np.uint8)
    photo[...] = (120, 60, 60)  # dull red photo (its colour stays in gamut when brightened)
    dream = np.full((8, 8, 3), 150, np.uint8)  # grey, brighter dream
    mixed = keep_colors(dream, photo).astype(int)
    assert mixed[..., 0].mean() > mixed[..., 1].mean() + 40  # red again
    luma = 0.299 * mixed[..., 0] + 0.587 * mixed[..., 1] + 0.114 * mixed[..., 2]
    assert abs(luma.mean() - 150) < 4


def test_detail_is_laid_onto_the_full_photo_at_its_size():
    from deepdream.media.image import add_detail, detail_of, resize

    photo = np.random.default_rng(0).integers(40, 200, (300, 400, 3), dtype=np.uint8)
    small = resize(photo, (75, 100)).astype(np.int16)
    small[:, :50] += 30  # the dream brightened the left half
    dreamed = np.clip(small, 0, 255).astype(np.uint8)
    result = add_detail(photo, detail_of(dreamed, photo))
    assert result.shape == photo.shape and result.dtype == np.uint8
    added = result.astype(int) - photo
    assert abs(added[:, :180].mean() - 30) < 2 and abs(added[:, 220:].mean()) < 2
    # Nothing added: the photo comes back exactly, with its own fine detail.
    assert np.array_equal(add_detail(photo, np.zeros((75, 100, 3), np.float32)), photo)
