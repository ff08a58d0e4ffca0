"""The page on a server without Keras's ImageNet file but with the nsfwjs import: it dreams with
InceptionV3's ImageNet layers, says so, and offers only mixed0-mixed5."""

from __future__ import annotations

import pytest
from conftest import kept_result, offline_page_with_imported
from streamlit.testing.v1 import AppTest

from deepdream.media.image import png_text

IMAGENET = ["mixed0", "mixed1", "mixed2", "mixed3", "mixed4", "mixed5"]


@pytest.fixture
def imported_server(monkeypatch, nsfwjs_weights_file) -> AppTest:
    return offline_page_with_imported(monkeypatch, nsfwjs_weights_file)


def test_the_page_says_which_layers_it_really_has(imported_server):
    at = imported_server
    assert at.radio(key="model").value == "inception_v3"
    assert not at.warning and not at.error
    assert any("mixed0-mixed5" in info.value and "nsfwjs" in info.value for info in at.info)
    assert at.multiselect(key="layers").options == IMAGENET


def test_a_deeper_preset_gets_a_plain_message_and_changes_nothing(imported_server):
    at = imported_server
    before = at.multiselect(key="layers").value
    at.selectbox(key="preset").set_value("deep").run()
    assert not at.exception
    assert at.multiselect(key="layers").value == before
    assert at.selectbox(key="preset").value == "classic"
    said = " ".join(w.value for w in at.sidebar.warning)
    assert "mixed6, mixed7, mixed8" in said and "mixed0-mixed5" in said


def test_switching_from_vgg16_keeps_to_the_offered_layers(imported_server):
    at = imported_server
    at.radio(key="model").set_value("vgg16_offline").run()
    at.multiselect(key="layers").set_value(["block5_conv3"]).run()
    at.radio(key="model").set_value("inception_v3").run()
    assert not at.exception
    assert at.multiselect(key="layers").value == ["mixed5"]  # block5 is mixed10's depth


@pytest.mark.slow
def test_a_dream_on_the_page_carries_the_honest_record(imported_server, photo_bytes):
    at = imported_server
    at.file_uploader(key="upload").set_value(("astronaut.jpg", photo_bytes, "image/jpeg")).run()
    at.slider(key="steps").set_value(2)
    at.slider(key="octaves").set_value(1)
    at.select_slider(key="max_side").set_value(256)
    at.run()
    at.button(key="generate").click().run()
    assert not at.exception and not at.error
    made_with = [c.value for c in at.main.caption if c.value.startswith("Made with")]
    assert made_with and "ImageNet layers mixed0-mixed5 (8-bit, from nsfwjs 4.4.0)" in made_with[0]
    meta = png_text(kept_result(at)["png"])
    assert meta["deepdream.weights"] == "nsfwjs:4.4.0"
