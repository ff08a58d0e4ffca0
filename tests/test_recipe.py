"""Recipes: a dream's settings read back from its file or a link, and dreamed again."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from deepdream import PRESETS, DreamConfig, Guide, Mask
from deepdream.cli import main
from deepdream.media.image import decode_image, encode_image, png_text
from deepdream.media.recipe import (
    RecipeError,
    link_settings,
    read_recipe,
    recipe_from_link,
    recipe_from_record,
)

SMALL = ["--steps", "2", "--octaves", "1", "--max-side", "96", "--quiet"]


def recorded(config: DreamConfig, **more: str) -> dict[str, str]:
    """A record as a dream file carries it."""
    return {"Software": "DeepDream Studio", **more} | {
        f"deepdream.{key}": value for key, value in config.describe().items()
    }


@pytest.mark.parametrize(
    "config",
    [
        PRESETS["classic"].replace(seed=41, keep_colors=True, tile_size=256),
        PRESETS["gentle"].replace(
            layers=(), channels=(("mixed4", 97, -1.0), ("mixed3", 5, 0.5)), normalize="laplacian"
        ),
        PRESETS["classic"].with_model("vgg16_offline").replace(start="noise", octave_scale=1.25),
    ],
    ids=["classic", "channels", "vgg-noise"],
)
def test_every_setting_comes_back_from_the_record_and_from_a_link(config):
    restored = recipe_from_record(recorded(config, **{"deepdream.weights": "w"}))
    assert restored.config == config
    assert restored.weights == "w" and restored.problems == ()
    assert recipe_from_link(link_settings(config)).config == config


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp"])
def test_a_recipe_is_read_from_each_format_a_dream_is_saved_in(suffix):
    config = PRESETS["classic"].replace(seed=7)
    picture = np.full((24, 32, 3), 90, np.uint8)
    data = encode_image(picture, recorded(config), suffix, 90)
    assert read_recipe(data).config == config


def test_what_cannot_be_restored_is_said_and_the_rest_is_kept():
    guide = Guide.from_image(np.full((16, 16, 3), 200, np.uint8))
    mask = Mask.from_image(np.full((16, 16), 255, np.uint8))
    config = PRESETS["classic"].replace(guide=guide, guide_strength=0.6, mask=mask, seed=3)
    recipe = recipe_from_record(recorded(config, **{"deepdream.stopped_after_step": "5 of 40"}))
    assert recipe.config.guide is None and recipe.config.mask is None
    assert recipe.config.seed == 3 and recipe.config.guide_strength == 0.6
    said = " ".join(recipe.problems)
    assert "guide" in said and "mask" in said and "stopped after step 5 of 40" in said
    assert "guide" not in link_settings(config) and "mask" not in link_settings(config)
    assert recipe.differences("w", "float32") == []  # nothing recorded to differ from
    other = recipe_from_record(recorded(config, **{"deepdream.weights": "imagenet"}))
    assert "imagenet" in other.differences("nsfwjs:4.4.0", "float32")[0]


def test_files_without_a_recipe_get_plain_errors():
    plain = io.BytesIO()
    Image.new("RGB", (8, 8)).save(plain, "PNG")
    with pytest.raises(RecipeError, match="no DeepDream settings"):
        read_recipe(plain.getvalue())
    with pytest.raises(RecipeError, match="not a picture"):
        read_recipe(b"shopping list")
    with pytest.raises(RecipeError, match="does not have"):
        recipe_from_record({"deepdream.model": "resnet50", "deepdream.layers": "x:1"})
    with pytest.raises(RecipeError, match="steps_per_octave"):
        recipe_from_record(recorded(PRESETS["classic"]) | {"deepdream.steps_per_octave": "0"})


def test_the_cli_dreams_a_recipe_to_the_very_same_bytes(tmp_path, photo_bytes, capsys):
    source, first, again = tmp_path / "in.jpg", tmp_path / "first.png", tmp_path / "again.png"
    source.write_bytes(photo_bytes)
    made = [str(source), str(first), "--model", "vgg16_offline", "--seed", "9", "--layers"]
    assert main([*made, "block3_conv3:1,block4_conv2:-0.5", "--keep-colors", *SMALL]) == 0
    assert main([str(source), str(again), "--settings-from", str(first), "--quiet"]) == 0
    assert again.read_bytes() == first.read_bytes()  # pixels and record, byte for byte
    # An option given on top of a recipe wins; the rest still comes from the recipe.
    other = tmp_path / "other.jpg"
    assert main([str(source), str(other), "--settings-from", str(first), "--seed", "2"]) == 0
    meta = read_recipe(other.read_bytes()).config
    assert meta.seed == 2 and meta.layers == (("block3_conv3", 1.0), ("block4_conv2", -0.5))
    assert main([str(source), str(again), "--settings-from", str(source)]) == 2
    assert "no DeepDream settings" in capsys.readouterr().err
    assert main([str(source), str(again), "--settings-from", str(first), "--preset", "gentle"]) == 2


def test_the_cli_redreams_a_noise_recipe_without_an_input(tmp_path):
    first, again = tmp_path / "noise.png", tmp_path / "again.png"
    made = ["--from-noise", "80x64", str(first), "--model", "vgg16_offline", *SMALL]
    assert main(made) == 0
    assert main(["--settings-from", str(first), str(again), "--quiet"]) == 0
    assert again.read_bytes() == first.read_bytes()


def test_the_cli_dreams_through_a_mask(tmp_path, photo_bytes, photo, capsys):
    source, target, mask = tmp_path / "in.jpg", tmp_path / "out.png", tmp_path / "mask.png"
    source.write_bytes(photo_bytes)
    picture = np.zeros((50, 50), np.uint8)  # another size than the photo: fitted to it
    picture[:, :25] = 255
    Image.fromarray(picture).save(mask)
    command = [str(source), str(target), "--model", "vgg16_offline", "--mask", str(mask), *SMALL]
    assert main(command) == 0
    dreamed = decode_image(target.read_bytes())
    change = np.abs(dreamed.astype(int) - photo.astype(int)).max(axis=2)
    half = photo.shape[1] // 2
    assert change[:, half + 2 :].max() <= 1 and change[:, : half - 2].max() > 5
    expected = Mask.from_image(np.asarray(Image.open(mask).convert("RGBA")))
    assert png_text(target.read_bytes())["deepdream.mask"] == expected.digest
    assert main([*command, "--invert-mask"]) == 0
    inverted = np.abs(decode_image(target.read_bytes()).astype(int) - photo.astype(int))
    assert inverted.max(axis=2)[:, : half - 2].max() <= 1
    (tmp_path / "black.png").write_bytes(_png(np.zeros((8, 8), np.uint8)))
    assert main([str(source), str(target), "--mask", str(tmp_path / "black.png")]) == 2
    assert "nowhere to dream" in capsys.readouterr().err
    assert main([str(source), str(target), "--mask-feather", "4"]) == 2


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def _huge_black_png(width: int, height: int) -> bytes:
    """A valid greyscale PNG of ``width`` x ``height`` black pixels, built row by row (a few
    hundred KB on disk; decoding it would need width*height bytes)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    packer = zlib.compressobj(9)
    row = bytes(width + 1)  # filter byte 0, then black
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


def test_a_huge_picture_is_refused_from_its_header_without_decoding(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "huge.png"
    path.write_bytes(_huge_black_png(12000, 12000))
    assert path.stat().st_size < 1_000_000
    script = (
        "import sys; from deepdream.media.recipe import read_recipe, RecipeError\n"
        "try:\n    read_recipe(open(sys.argv[1], 'rb').read())\n"
        "except RecipeError as error:\n    print(error)\n"
        "print([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1])\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=True
    )
    said, peak_kib = run.stdout.strip().splitlines()
    assert "12000x12000" in said and "50 megapixels" in said
    assert int(peak_kib) < 150 * 1024  # decoding all 144 megapixels peaked at ~600 MB


def test_the_record_is_read_from_the_headers_as_it_was_written(photo):
    from deepdream.media.image import encode_image, png_text, read_record

    record = {"deepdream.layers": "mixed7:1", "deepdream.steps_per_octave": "3"}
    for suffix in (".png", ".jpg", ".webp"):
        data = encode_image(photo, record, suffix)
        found = read_record(data)
        assert {k: found[k] for k in record} == record, suffix
    png = encode_image(photo, record, ".png")
    assert read_record(png) == png_text(png)  # every chunk precedes the pixels
