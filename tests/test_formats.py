"""The files people really have, in and out: HEIC and AVIF photos, wide-gamut colour converted
to sRGB, and dreams written as PNG, JPEG or WebP with their record inside."""

from __future__ import annotations

import io

import numpy as np
import pytest
from icc import display_p3_profile, p3_to_srgb
from PIL import Image, ImageCms

from deepdream.cli import main
from deepdream.media.image import (
    OUTPUT_FORMATS,
    PHOTO_SUFFIXES,
    ImageDecodeError,
    decode_image,
    encode_image,
    read_record,
)

RECORD = {"Software": "DeepDream Studio", "deepdream.seed": "7", "deepdream.layers": "mixed3:1"}
TINY = ["--model", "vgg16_offline", "--steps", "1", "--octaves", "1", "--max-side", "64", "--quiet"]


def _saved(pixels: np.ndarray, **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, **options)
    return buffer.getvalue()


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp"])
def test_each_output_format_keeps_the_record_and_says_srgb(photo, suffix):
    data = encode_image(photo, RECORD, suffix)
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == OUTPUT_FORMATS[suffix]
        profile = ImageCms.ImageCmsProfile(io.BytesIO(image.info["icc_profile"]))
    assert "sRGB" in ImageCms.getProfileDescription(profile)
    assert read_record(data) == RECORD
    assert decode_image(data).shape == photo.shape


def test_quality_trades_size_and_an_unknown_suffix_is_refused(photo):
    assert len(encode_image(photo, RECORD, ".jpg", 40)) < len(
        encode_image(photo, RECORD, ".jpg", 95)
    )
    with pytest.raises(ValueError, match=r"\.tiff is not one of them"):
        encode_image(photo, RECORD, ".tiff")
    with pytest.raises(ValueError, match="from 1 to 100"):
        encode_image(photo, RECORD, ".webp", 0)


@pytest.mark.parametrize("kind", ["HEIF", "AVIF"])
def test_heic_and_avif_photos_decode_and_a_cut_one_gets_a_plain_error(photo, kind):
    data = _saved(photo, format=kind, quality=95)
    decoded = decode_image(data)
    assert decoded.shape == photo.shape
    assert np.abs(decoded.astype(int) - photo).mean() < 6  # lossy, but the same picture
    with pytest.raises(ImageDecodeError, match="damaged or incomplete|not an image"):
        decode_image(data[: len(data) // 2])


def test_the_photo_suffixes_are_one_table_for_uploads_and_folders():
    from deepdream.batch import IMAGE_SUFFIXES
    from deepdream_studio.upload import UPLOAD_TYPES

    assert {".heic", ".heif", ".avif"} <= set(PHOTO_SUFFIXES)
    assert frozenset(PHOTO_SUFFIXES) == IMAGE_SUFFIXES
    assert [f".{t}" for t in UPLOAD_TYPES] == list(PHOTO_SUFFIXES)


def test_a_display_p3_photo_is_converted_to_srgb(photo):
    for options in ({"format": "PNG"}, {"format": "JPEG", "quality": 100}):
        data = _saved(photo, icc_profile=display_p3_profile(), **options)
        decoded = decode_image(data)
        reference = p3_to_srgb(decode_image(_saved(photo, **options)))  # same pixels, no profile
        assert np.abs(decoded.astype(int) - reference).mean() < 0.5  # what P3 means, in sRGB
        assert np.abs(decoded.astype(int) - photo).mean() > 2  # not the numbers taken as sRGB


def test_a_broken_profile_is_read_as_srgb(photo):
    data = _saved(photo, format="PNG", icc_profile=b"not a profile at all")
    np.testing.assert_array_equal(decode_image(data), photo)


@pytest.mark.slow
def test_a_p3_photo_dreams_with_its_true_colours(tmp_path, photo):
    # A flat, saturated P3 orange beside the photo: far outside what the numbers mean in sRGB.
    canvas = np.concatenate([np.full_like(photo, (230, 90, 30)), photo], axis=1)
    source = tmp_path / "p3.png"
    source.write_bytes(_saved(canvas, format="PNG", icc_profile=display_p3_profile()))
    assert main([str(source), str(tmp_path / "dream.jpg"), *TINY]) == 0
    dream = decode_image((tmp_path / "dream.jpg").read_bytes())
    patch = dream[16:-16, 16 : photo.shape[1] - 16].reshape(-1, 3).mean(axis=0)
    truth = p3_to_srgb(np.array([[[230, 90, 30]]], np.uint8))[0, 0]
    assert np.abs(patch - truth).max() < 6, (patch, truth)  # the colour the photo really had
    assert np.abs(truth.astype(int) - (230, 90, 30)).max() > 12  # and P3's numbers are not it


@pytest.mark.slow
def test_the_cli_writes_jpeg_and_webp_whole_with_the_record(tmp_path, photo_bytes):
    source = tmp_path / "in.heic"
    source.write_bytes(_saved(decode_image(photo_bytes), format="HEIF", quality=95))
    for name, kind in (("dream.jpg", "JPEG"), ("dream.webp", "WEBP")):
        assert main([str(source), str(tmp_path / name), *TINY, "--quality", "80"]) == 0
        data = (tmp_path / name).read_bytes()
        with Image.open(io.BytesIO(data)) as image:
            assert image.format == kind
        record = read_record(data)
        assert record["deepdream.model"] == "vgg16_offline" and record["deepdream.seed"] == "0"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dream.jpg", "dream.webp", "in.heic"]


def test_the_cli_refuses_an_unknown_suffix_or_a_png_quality_before_dreaming(
    tmp_path, photo_bytes, capsys
):
    source = tmp_path / "in.jpg"
    source.write_bytes(photo_bytes)
    assert main([str(source), str(tmp_path / "dream.tiff"), *TINY]) == 2
    assert "PNG, JPEG or WebP" in capsys.readouterr().err
    assert main([str(source), str(tmp_path / "dream.png"), *TINY, "--quality", "80"]) == 2
    assert "--quality applies to .jpg and .webp" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jpg"]


def test_a_failed_write_leaves_the_old_file_and_no_half_file(tmp_path, monkeypatch):
    from deepdream.media import files  # where the command line's writes are made

    target = tmp_path / "dream.png"
    target.write_bytes(b"the dream from before")

    def broken_replace(*args):
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        files.write_atomically(target, b"a new dream")
    assert target.read_bytes() == b"the dream from before"
    assert [p.name for p in tmp_path.iterdir()] == ["dream.png"]


def test_the_pages_downloads_keep_the_record(photo):
    from deepdream_studio.result import DOWNLOAD_FORMATS, download_bytes

    record = {"png": encode_image(photo, RECORD, ".png")}
    for kind, (suffix, _) in DOWNLOAD_FORMATS.items():
        data = download_bytes(record, suffix)
        with Image.open(io.BytesIO(data)) as image:
            assert image.format == {"PNG": "PNG", "JPEG": "JPEG", "WebP": "WEBP"}[kind]
        assert read_record(data) == RECORD
    assert download_bytes(record, ".jpg") is download_bytes(record, ".jpg")  # encoded once


@pytest.mark.slow
def test_the_page_offers_jpeg_and_webp_beside_the_png(without_inception_weights, photo_bytes):
    from conftest import started_app

    at = started_app(steps=1)
    at.file_uploader(key="upload").set_value(("a.jpg", photo_bytes, "image/jpeg")).run()
    at.button(key="generate").click().run()
    assert not at.exception
    assert at.radio(key="download_format").value == "PNG"  # what right-click saves too
    at.radio(key="download_format").set_value("WebP").run()
    assert not at.exception
    labels = [b.label for b in at.get("download_button") if b.key == "download"]
    assert labels == ["Download the dream (WebP)"], labels
