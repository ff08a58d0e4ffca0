"""The page's dream controls through AppTest: guide image, channels and their explorer,
normalisation, and starting from noise. As in test_app.py, InceptionV3's weights are missing,
so the page runs on the offline VGG16 (real weights) and says so; the channel explorer's and
the atlas's tests serve InceptionV3 with random weights instead (``inception_app``)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from conftest import APP, kept_result, started_app
from streamlit.testing.v1 import AppTest

from deepdream import Guide
from deepdream.media.image import decode_image, encode_png, png_text


@pytest.fixture
def app(without_inception_weights) -> AppTest:
    return started_app(steps=2)


@pytest.fixture
def inception_app(monkeypatch, random_inception_weights_file) -> AppTest:
    """The page serving InceptionV3 with random weights, a file named as a user would: these
    tests check how the explorer and the atlas work, not what they show, and VGG16 drew the
    explorer's 16 channels six times slower (94 s against 14 s on a 2-core AVX2 CPU)."""
    monkeypatch.setenv("DEEPDREAM_WEIGHTS", str(random_inception_weights_file))
    return started_app(steps=2)


def _stripes() -> np.ndarray:
    stripes = np.zeros((96, 96, 3), np.uint8)
    stripes[::8] = 255
    return stripes


def test_a_guide_shows_its_thumbnail_and_strength_and_steers_the_dream(app, photo_bytes):
    app.file_uploader(key="upload").set_value(("me.jpg", photo_bytes, "image/jpeg")).run()
    guide_png = encode_png(_stripes())
    app.file_uploader(key="guide_upload").set_value(("stripes.png", guide_png, "image/png"))
    app.run()
    assert not app.exception and not app.error
    assert any("Guide" in str(image.proto) for image in app.sidebar.get("image"))
    app.slider(key="guide_strength").set_value(0.6).run()
    app.button(key="generate").click().run()
    assert not app.exception and not app.error
    meta = png_text(kept_result(app)["png"])
    assert meta["deepdream.guide"] == Guide.from_image(_stripes()).digest
    assert meta["deepdream.guide_strength"] == "0.6"
    assert "stripes" not in " ".join(meta.values())


def test_a_broken_guide_gets_the_photo_errors_and_the_page_keeps_working(app, photo_bytes):
    app.file_uploader(key="upload").set_value(("me.jpg", photo_bytes, "image/jpeg")).run()
    broken = photo_bytes[: len(photo_bytes) // 3]
    app.file_uploader(key="guide_upload").set_value(("g.jpg", broken, "image/jpeg")).run()
    assert not app.exception
    assert "damaged or incomplete" in app.sidebar.error[0].value
    app.button(key="generate").click().run()  # dreams unguided, as the sidebar shows
    assert not app.exception
    assert png_text(kept_result(app)["png"])["deepdream.guide"] == "none"


def test_channels_typed_in_the_picker_are_dreamed_alone_and_typos_are_explained(app):
    app.radio(key="start").set_value("noise").run()
    app.selectbox(key="noise_size").set_value("256×256").run()
    app.text_input(key="channels_text").input("block4_conv1:7, block4_conv1:9:0.5").run()
    app.radio(key="normalize").set_value("laplacian").run()
    assert not app.button(key="generate").disabled  # no photo needed
    app.button(key="generate").click().run()
    assert not app.exception and not app.error
    record = kept_result(app)
    meta = png_text(record["png"])
    assert meta["deepdream.channels"] == "block4_conv1:7:1,block4_conv1:9:0.5"
    assert meta["deepdream.layers"] == ""  # "Only these channels" is on by default
    assert meta["deepdream.normalize"] == "laplacian"
    assert meta["deepdream.start"] == "noise"
    assert (meta["deepdream.param"], meta["deepdream.transforms"]) == ("fft", "standard")
    assert decode_image(record["png"]).shape == (256, 256, 3)
    assert record["file_name"] == "noise-deepdream.png"
    app.text_input(key="channels_text").input("block4_conv1:seven").run()
    assert "LAYER:CHANNEL" in app.error[0].value
    app.text_input(key="channels_text").input("block4_conv1:600").run()
    assert "has 512 channels" in app.error[0].value
    assert not app.exception


def test_the_explorer_draws_a_grid_and_adds_a_channel(inception_app):
    app = inception_app
    app.selectbox(key="explore_layer").set_value("mixed2").run()
    start = time.perf_counter()
    app.button(key="explore_draw").click().run()
    seconds = time.perf_counter() - start
    assert not app.exception and not app.error
    sketches = [image for image in app.sidebar.get("image")]
    assert len(sketches) == 16
    print(f"16 channel sketches drawn in {seconds:.1f} s")
    app.button(key="explore_add_mixed2_3").click().run()
    app.button(key="explore_add_mixed2_5").click().run()
    assert app.text_input(key="channels_text").value == "mixed2:3, mixed2:5"
    # "-" pushes a channel down instead (fewer dogs); on a channel already there, it replaces it.
    app.button(key="explore_less_mixed2_5").click().run()
    app.button(key="explore_less_mixed2_7").click().run()
    assert app.text_input(key="channels_text").value == ("mixed2:3, mixed2:5:-0.1, mixed2:7:-0.1")
    # Kept for the server: another page run shows them without drawing again.
    again = AppTest.from_file(APP, default_timeout=60)
    again.run()
    again.selectbox(key="explore_layer").set_value("mixed2").run()
    assert len(again.sidebar.get("image")) == 16


def test_a_noise_start_can_keep_the_pixel_loop(app):
    app.radio(key="start").set_value("noise").run()
    app.selectbox(key="noise_size").set_value("256×256").run()
    app.checkbox(key="noise_transforms").uncheck().run()
    app.radio(key="noise_param").set_value("pixel").run()
    assert app.checkbox(key="noise_transforms").disabled  # transforms are Fourier-only
    app.button(key="generate").click().run()
    assert not app.exception and not app.error
    meta = png_text(kept_result(app)["png"])
    assert (meta["deepdream.param"], meta["deepdream.transforms"]) == ("pixel", "none")


def test_a_channel_opens_larger_with_diverse_versions(inception_app):
    from deepdream_studio.explore import VERSIONS

    app = inception_app
    app.selectbox(key="explore_layer").set_value("mixed2").run()
    app.button(key="explore_draw").click().run()
    app.selectbox(key="explore_open").set_value(5).run()
    app.number_input(key="explore_versions").set_value(2).run()
    start = time.perf_counter()
    app.button(key="explore_diverse").click().run()
    print(f"2 diverse versions drawn in {time.perf_counter() - start:.1f} s")
    assert not app.exception and not app.error
    assert len(app.sidebar.get("image")) == 16 + 2
    first, second = (decode_image(png) for png in VERSIONS.values()[-1])
    assert first.shape == (192, 192, 3) and not np.array_equal(first, second)


@pytest.mark.slow
def test_the_atlas_draws_the_chosen_layers_in_one_sheet(inception_app):
    from deepdream.atlas import ATLAS_SIDE, GAP, HEADER, LABEL_WIDTH
    from deepdream_studio.explore import ATLASES

    app = inception_app
    layers = app.multiselect(key="atlas_layers_inception_v3")
    assert len(layers.value) == 11  # every layer InceptionV3 offers, unless told
    layers.set_value(["mixed5", "mixed1"]).run()
    app.number_input(key="atlas_channels").set_value(2).run()
    start = time.perf_counter()
    app.button(key="atlas_draw").click().run()
    print(f"a two-channel atlas of 2 layers drawn in {time.perf_counter() - start:.1f} s")
    assert not app.exception and not app.error
    sheet = decode_image(ATLASES.values()[-1])
    side = ATLAS_SIDE + GAP
    assert sheet.shape == (HEADER + 2 * side, LABEL_WIDTH + 2 * side, 3)
    assert app.sidebar.get("download_button")
    layers.set_value([]).run()
    assert not app.exception and "at least one layer" in " ".join(c.value for c in app.caption)


def test_a_preset_click_clears_channels_and_brings_its_own_smoothing(app):
    app.text_input(key="channels_text").input("block4_conv1:7").run()
    app.sidebar.selectbox(key="preset").set_value("deep").run()
    assert app.text_input(key="channels_text").value == ""
    assert app.radio(key="normalize").value == "laplacian"  # part of the Deep look
    assert app.multiselect(key="layers").value == ["block5_conv1", "block5_conv2"]  # deep, on VGG16
    app.sidebar.selectbox(key="preset").set_value("classic").run()
    assert app.radio(key="normalize").value == "std"  # lapnorm chosen before would hide it
