"""The page on a server without Keras's ImageNet file but with Google's import: it dreams with
the whole ImageNet InceptionV3, names it, and offers every layer and the Deep preset."""

from __future__ import annotations

import pytest
from conftest import kept_result, offline_page_with_imported
from streamlit.testing.v1 import AppTest

from deepdream.media.image import png_text
from deepdream.models.weights.google_inception import TITLE, WEIGHTS_LABEL

LAYERS = [f"mixed{i}" for i in range(11)]


@pytest.fixture
def google_server(monkeypatch, google_weights_file) -> AppTest:
    return offline_page_with_imported(monkeypatch, google_weights_file)


def test_the_page_names_googles_network_and_offers_every_layer(google_server):
    at = google_server
    assert not at.warning and not at.error
    assert any(TITLE in info.value and "every layer" in info.value for info in at.info)
    assert at.multiselect(key="layers").options == LAYERS


@pytest.mark.slow
def test_the_deep_preset_dreams_and_carries_the_honest_record(google_server, photo_bytes):
    at = google_server
    at.selectbox(key="preset").set_value("deep").run()
    assert not at.sidebar.warning
    assert at.multiselect(key="layers").value == ["mixed6", "mixed7", "mixed8"]
    at.file_uploader(key="upload").set_value(("astronaut.jpg", photo_bytes, "image/jpeg")).run()
    at.slider(key="steps").set_value(2)
    at.slider(key="octaves").set_value(1)
    at.select_slider(key="max_side").set_value(256)
    at.run()
    at.button(key="generate").click().run()
    assert not at.exception and not at.error
    made_with = [c.value for c in at.main.caption if c.value.startswith("Made with")]
    assert made_with and TITLE in made_with[0]
    meta = png_text(kept_result(at)["png"])
    assert meta["deepdream.weights"] == WEIGHTS_LABEL
    assert "mixed7" in meta["deepdream.layers"]
