"""One place for pixels: bytes in, arrays through, PNG bytes out.

Contract:
- ``decode_image(data)`` turns uploaded bytes into an upright ``uint8`` RGB array
  ``(height, width, 3)`` using Pillow: EXIF orientation applied; CMYK, palette, grey, 16-bit and
  float images converted; transparency flattened onto white; the first frame of an animation.
  Anything that is not a readable image, including a decompression bomb (a small file that
  claims an enormous size, refused from its header before any pixel is decoded), raises
  ``ImageDecodeError`` with a message that says what to do.
- ``fit_within`` / ``resize`` scale arrays with Pillow's Lanczos filter.
- ``to_model_range`` / ``from_model_range`` map ``uint8`` [0, 255] to float32 [-1, 1] and
  back; [-1, 1] is the one range the dream works in, whatever the model.
- Colour: a photo with an embedded ICC profile (a Display-P3 phone photo, Adobe RGB, a CMYK
  print file) is converted to sRGB on decode (Pillow's ImageCms, perceptual intent); one
  without is taken as sRGB. HEIC/HEIF (pillow-heif) and AVIF decode like any other photo, with
  the same limits and errors. Nothing of the photo's EXIF is kept: its orientation is applied
  to the pixels, and the rest (camera, time, GPS) never reaches a result.
- ``PHOTO_SUFFIXES`` are the photo files everything reads (page, CLI, batch, guide);
  ``OUTPUT_FORMATS`` maps the suffixes a dream can be written as to Pillow's format names.
- ``encode_png(image, text)`` writes PNG bytes with the given text chunks (settings, model);
  ``encode_image(image, text, suffix, quality)`` writes PNG, JPEG or WebP by the suffix, the
  same record kept in the file (PNG text chunks; for JPEG and WebP an XMP packet holding it as
  JSON); every output carries an sRGB ICC profile. ``read_record(data)`` reads it back from
  any of the three.
- ``keep_colors(dream, photo)`` takes brightness from the dream and colour from the photo.
- ``noise_canvas(height, width, seed)`` is the start of a dream from noise: mid-grey with
  low-amplitude uniform noise, the same for the same seed.
- ``detail_of(dreamed, photo)`` / ``add_detail(photo, detail)``: what a dream added, as a
  difference image, and laying it onto the full-resolution photo (no TensorFlow needed).
Nothing here reads or writes files or knows about models.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from xml.sax.saxutils import escape

import numpy as np
from PIL import Image, ImageCms, ImageOps, PngImagePlugin, UnidentifiedImageError
from pillow_heif import register_heif_opener

register_heif_opener()  # HEIC/HEIF photos (iPhones) open like any other format

#: Largest image (in pixels) we agree to decode: about a 50-megapixel photo.
MAX_PIXELS = 50_000_000

#: Photo files read everywhere a photo is taken (uploads, the CLI, folders, guides).
PHOTO_SUFFIXES = (
    ".png", ".jpg", ".jpeg", ".webp", ".heic", ".heif", ".avif", ".bmp", ".gif", ".tif", ".tiff",
)  # fmt: skip
#: Video files read everywhere a video is taken (the Animate page, the CLI, folders): decoded
#: by PyAV. (An animated GIF is a video on the Animate page and the CLI, a photo in a folder.)
VIDEO_SUFFIXES = (".mp4", ".mov", ".webm", ".mkv", ".avi", ".m4v")
#: What a dream can be written as, by the output's suffix.
OUTPUT_FORMATS: Mapping[str, str] = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".webp": "WEBP",
}
#: JPEG and WebP quality when none is asked for.
DEFAULT_QUALITY = 92

_SRGB = ImageCms.createProfile("sRGB")
SRGB_ICC = ImageCms.ImageCmsProfile(_SRGB).tobytes()


class ImageDecodeError(ValueError):
    """The bytes are not an image we can use; ``str(error)`` is a plain sentence for users."""


def decode_image(data: bytes, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode image bytes to an upright RGB ``uint8`` array of shape (height, width, 3).

    Raises:
        ImageDecodeError: empty, truncated, not an image, or larger than ``max_pixels``.
    """
    return _decode(data, max_pixels, lambda upright: _to_rgb_array(to_srgb(upright)))


def decode_mask(data: bytes, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode a mask picture to an upright grey-and-alpha ``uint8`` array (height, width, 4):
    RGBA, so a transparent part counts as black (``Mask.from_image`` reads it).

    Raises:
        ImageDecodeError: as ``decode_image``.
    """
    return _decode(data, max_pixels, lambda upright: np.asarray(upright.convert("RGBA")))


def _refuse_if_larger(size: tuple[int, int], max_pixels: int, what: str, advice: str) -> None:
    """``ImageDecodeError`` when a picture's header says it has more than ``max_pixels``."""
    width, height = size
    if width * height > max_pixels:
        raise ImageDecodeError(
            f"This {what} is {width}x{height} pixels, too large to process "
            f"(the limit is {max_pixels / 1e6:.0f} megapixels). {advice}"
        )


def _decode(data: bytes, max_pixels: int, finish) -> np.ndarray:
    """``finish(upright image)`` of the first frame of ``data``, every failure a plain
    ``ImageDecodeError``."""
    if not data:
        raise ImageDecodeError("The file is empty. Please choose a photo (PNG, JPEG, WebP...).")
    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
            # Checked from the header, before any pixel is decoded: a bomb never allocates.
            _refuse_if_larger(
                img.size, max_pixels, "image", "Please upload a smaller version of it."
            )
            if width < 1 or height < 1:
                raise ImageDecodeError("The image has no pixels. Please choose another file.")
            img.seek(0)  # first frame of an animation
            img.load()
            return finish(ImageOps.exif_transpose(img))
    except ImageDecodeError:
        raise
    except UnidentifiedImageError:
        raise ImageDecodeError(
            "This file is not an image we can read. Please upload a PNG, JPEG, WebP, HEIC, "
            "AVIF, BMP, GIF or TIFF photo."
        ) from None
    except Image.DecompressionBombError:
        raise ImageDecodeError(
            "This image claims to be enormous and was refused. Please upload a smaller photo."
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError) as error:
        raise ImageDecodeError(
            "This image file is damaged or incomplete and could not be read "
            f"({type(error).__name__}). Please save it again or choose another file."
        ) from None


def to_srgb(img: Image.Image) -> Image.Image:
    """``img`` converted to sRGB from its embedded ICC profile; as it is without one (or with
    one that cannot be read, or one that is sRGB already)."""
    icc = img.info.get("icc_profile")
    if not icc or img.mode not in ("RGB", "RGBA", "CMYK", "L", "LA", "P", "PA"):
        return img
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if ImageCms.getProfileDescription(source).strip().lower().startswith("srgb"):
            return img
        if img.mode in ("P", "PA", "LA"):
            img = img.convert("RGBA")
        output = "RGBA" if img.mode == "RGBA" else "RGB"
        return ImageCms.profileToProfile(
            img, source, _SRGB, renderingIntent=ImageCms.Intent.PERCEPTUAL, outputMode=output
        )
    except (ImageCms.PyCMSError, OSError, ValueError):
        return img  # a broken profile: the pixels as they are, like a photo without one


def _to_rgb_array(img: Image.Image) -> np.ndarray:
    """Any Pillow mode to RGB uint8, transparency flattened onto white."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        # High bit depth: stretch the actual range to 8 bits instead of clipping at 255.
        values = np.asarray(img, dtype=np.float64)
        low, high = float(values.min()), float(values.max())
        if img.mode.startswith("I;16") and high <= 65535:
            low, high = 0.0, 65535.0
        span = high - low if high > low else 1.0
        grey = np.clip((values - low) / span * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    return np.asarray(img.convert("RGB"), dtype=np.uint8).copy()


def resize(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Resize a uint8 RGB array to (height, width) with Lanczos."""
    height, width = shape
    if image.shape[:2] == (height, width):
        return image
    pil = Image.fromarray(image).resize((width, height), Image.Resampling.LANCZOS)
    return np.asarray(pil, dtype=np.uint8)


def fit_within(image: np.ndarray, max_side: int) -> np.ndarray:
    """Shrink (never enlarge) so the longer side is at most ``max_side`` pixels."""
    height, width = image.shape[:2]
    longer = max(height, width)
    if longer <= max_side:
        return image
    factor = max_side / longer
    return resize(image, (max(1, round(height * factor)), max(1, round(width * factor))))


#: Half the spread of a noise canvas around mid-grey, in grey levels: enough texture for the
#: gradient to grow features from, faint enough that what appears comes from the network.
NOISE_AMPLITUDE = 8


def noise_canvas(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A (height, width, 3) uint8 mid-grey canvas with faint noise; same seed, same canvas.

    Raises:
        ValueError: for a size outside 32..4096 pixels a side.
    """
    for name, value in (("width", width), ("height", height)):
        if isinstance(value, bool) or not isinstance(value, int) or not 32 <= value <= 4096:
            raise ValueError(f"The noise {name} must be a whole number from 32 to 4096 pixels.")
    rng = np.random.default_rng(seed)
    noise = rng.integers(-NOISE_AMPLITUDE, NOISE_AMPLITUDE + 1, size=(height, width, 3))
    return (128 + noise).astype(np.uint8)


def to_model_range(image: np.ndarray) -> np.ndarray:
    """uint8 [0, 255] -> float32 [-1, 1]."""
    return image.astype(np.float32) / 127.5 - 1.0


def from_model_range(values: np.ndarray) -> np.ndarray:
    """float [-1, 1] -> uint8 [0, 255], clipped and rounded."""
    return np.clip((np.asarray(values) + 1.0) * 127.5 + 0.5, 0, 255).astype(np.uint8)


def detail_of(dreamed: np.ndarray, photo: np.ndarray) -> np.ndarray:
    """What a dream added to ``photo``, at the dreamed image's size, in [-1, 1] units
    (float32): the dreamed image minus the photo resized to it."""
    return to_model_range(dreamed) - to_model_range(resize(photo, dreamed.shape[:2]))


def add_detail(photo: np.ndarray, detail: np.ndarray) -> np.ndarray:
    """``photo`` (uint8 RGB) with ``detail`` ([-1, 1] units, any size) added, the detail
    brought to the photo's size bilinearly: how a dream made at the working size lands on
    the full-resolution photo, so the photo keeps its own sharpness.

    One colour plane at a time, so a 12-megapixel photo costs two full-size float planes,
    not five full-size float images.
    """
    height, width = photo.shape[:2]
    result = np.empty_like(photo)
    for channel in range(3):
        plane = np.ascontiguousarray(detail[..., channel], dtype=np.float32)
        if plane.shape != (height, width):
            resized = Image.fromarray(plane).resize((width, height), Image.Resampling.BILINEAR)
            plane = np.asarray(resized, dtype=np.float32)
        total = plane * 127.5  # one [-1, 1] unit is 127.5 grey levels
        total += photo[..., channel]
        np.clip(total, 0.0, 255.0, out=total)
        result[..., channel] = np.rint(total)
    return result


def keep_colors(dream: np.ndarray, photo: np.ndarray) -> np.ndarray:
    """The dream's brightness with the photo's colour (YCbCr: Y from dream, CbCr from photo)."""
    dream_ycc = np.asarray(Image.fromarray(dream).convert("YCbCr"))
    photo_ycc = np.asarray(Image.fromarray(photo).convert("YCbCr"))
    mixed = np.concatenate([dream_ycc[:, :, :1], photo_ycc[:, :, 1:]], axis=2)
    return np.asarray(Image.fromarray(mixed, mode="YCbCr").convert("RGB"), dtype=np.uint8)


def encode_png(image: np.ndarray, text: Mapping[str, str] | None = None) -> bytes:
    """PNG bytes of a uint8 RGB array, with ``text`` stored as PNG text chunks."""
    info = PngImagePlugin.PngInfo()
    for key, value in (text or {}).items():
        info.add_text(str(key), str(value))
    buffer = io.BytesIO()
    Image.fromarray(image).save(
        buffer, format="PNG", pnginfo=info, optimize=False, icc_profile=SRGB_ICC
    )
    return buffer.getvalue()


#: Our XMP namespace: the dream's record, as one JSON object.
XMP_NAMESPACE = "urn:deepdream-studio:record:1"


def _xmp_packet(text: Mapping[str, str]) -> bytes:
    record = escape(json.dumps(dict(text), ensure_ascii=False, sort_keys=True))
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
        f'xmlns:deepdream="{XMP_NAMESPACE}">'
        "<xmp:CreatorTool>DeepDream Studio</xmp:CreatorTool>"
        f"<deepdream:record>{record}</deepdream:record>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    ).encode()


def encode_image(
    image: np.ndarray,
    text: Mapping[str, str] | None = None,
    suffix: str = ".png",
    quality: int = DEFAULT_QUALITY,
) -> bytes:
    """The dream as PNG, JPEG or WebP bytes by ``suffix`` (see the module docstring).

    Raises:
        ValueError: a suffix that is not one of ``OUTPUT_FORMATS``, or a quality outside 1-100.
    """
    kind = OUTPUT_FORMATS.get(suffix.lower())
    if kind is None:
        raise ValueError(
            f"A dream is written as {', '.join(OUTPUT_FORMATS)}; {suffix or 'no suffix'} is "
            "not one of them."
        )
    if kind == "PNG":
        return encode_png(image, text)
    if isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 100:
        raise ValueError(f"The quality must be a whole number from 1 to 100, not {quality!r}.")
    exif = Image.Exif()
    exif[0x0131] = "DeepDream Studio"  # Software: the only EXIF field written
    buffer = io.BytesIO()
    Image.fromarray(image).save(
        buffer,
        format=kind,
        quality=quality,
        icc_profile=SRGB_ICC,
        exif=exif.tobytes(),
        xmp=_xmp_packet(text or {}),
    )
    return buffer.getvalue()


def read_record(data: bytes, max_pixels: int = MAX_PIXELS) -> dict[str, str]:
    """The record ``encode_image`` kept in PNG, JPEG or WebP bytes ({} when there is none).

    Only the file's headers are read, never its pixels (``encode_image`` writes the record
    before the image data: PNG text chunks before IDAT, the XMP packet in JPEG's APP1 and
    WebP's XMP chunk), so a huge picture costs nothing to ask.

    Raises:
        ImageDecodeError: larger than ``max_pixels`` by its header (as ``decode_image``).
        PIL.UnidentifiedImageError, OSError: not a picture Pillow can open.
    """
    import xml.etree.ElementTree as ElementTree

    with Image.open(io.BytesIO(data)) as img:
        advice = "Its settings were not read: choose a dream saved by DeepDream Studio."
        _refuse_if_larger(img.size, max_pixels, "picture", advice)
        if img.format == "PNG":  # the text chunks met before the image data, undecoded
            return {str(k): v for k, v in img.info.items() if isinstance(v, str)}
        packet = img.info.get("xmp") or img.info.get("XML:com.adobe.xmp")
    if not packet:
        return {}
    try:
        root = ElementTree.fromstring(packet)
    except ElementTree.ParseError:
        return {}
    found = root.find(f".//{{{XMP_NAMESPACE}}}record")
    if found is None or not found.text:
        return {}
    try:
        record = json.loads(found.text)
    except json.JSONDecodeError:
        return {}
    return {str(k): str(v) for k, v in record.items()} if isinstance(record, dict) else {}


def png_text(data: bytes) -> dict[str, str]:
    """The text chunks of PNG bytes (what ``encode_png`` stored)."""
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        return dict(getattr(img, "text", {}))
