"""The studio around a dream, through AppTest: recipes restored from a file or a link, the
session's gallery (thumbnails, Open, Download all, its caps), the before/after view, the
toast. The offline VGG16 dreams (no InceptionV3 weights here), with small settings."""

from __future__ import annotations

import io
import zipfile

import numpy as np
from conftest import APP, kept_result
from streamlit.testing.v1 import AppTest

from deepdream import PRESETS, Guide
from deepdream.media.image import decode_image, encode_image, png_text
from deepdream.media.recipe import link_settings

RECIPE = (
    PRESETS["classic"]
    .with_model("vgg16_offline")
    .replace(
        seed=41,
        steps_per_octave=7,
        step_size=0.031,  # none of these are the preset's own values
        octaves=2,
        octave_scale=1.25,
        keep_colors=True,
        max_side=512,
        channels=(("block4_conv2", 7, -1.0),),
    )
)


def recipe_png(config, **more: str) -> bytes:
    record = {f"deepdream.{key}": value for key, value in config.describe().items()}
    return encode_image(np.zeros((12, 12, 3), np.uint8), record | more, ".png", 90)


def widget_settings(at: AppTest) -> dict:
    state = at.session_state
    keys = ["model", "layers", "steps", "step_size", "octaves", "octave_scale", "seed"]
    keys += ["keep_colors", "max_side", "channels_text", "channels_only", "precision"]
    return {key: state[key] for key in keys}


EXPECTED = {
    "model": "vgg16_offline",
    "layers": ["block4_conv1", "block4_conv2", "block4_conv3"],
    "steps": 7,
    "step_size": 0.031,
    "octaves": 2,
    "octave_scale": 1.25,
    "seed": 41,
    "keep_colors": True,
    "max_side": 512,
    "channels_text": "block4_conv2:7:-1",
    "channels_only": False,
    "precision": "float32",
}


def test_a_dropped_dream_brings_every_setting_back(app):
    data = recipe_png(RECIPE, **{"deepdream.precision": "float32"})
    app.file_uploader(key="recipe_upload").set_value(("dream.png", data, "image/png")).run()
    assert not app.exception
    assert widget_settings(app) == EXPECTED
    assert "Settings restored" in app.sidebar.success[0].value
    assert not app.sidebar.warning  # everything came back as it was


def test_what_the_page_cannot_restore_is_said(app):
    guide = Guide.from_image(np.full((16, 16, 3), 90, np.uint8))
    odd = RECIPE.replace(guide=guide, steps_per_octave=90, tile_size=300)
    odd = odd.replace(layers=(("block4_conv1", -0.5),))
    data = recipe_png(odd)
    app.file_uploader(key="recipe_upload").set_value(("dream.png", data, "image/png")).run()
    said = " ".join(w.value for w in app.sidebar.warning)
    assert "guide image" in said and "upload the guide again" in said
    assert "Steps per octave was 90" in said and "tile size was 300" in said
    assert "weight of block4_conv1 was -0.5" in said
    assert app.session_state["steps"] == 60 and app.session_state["seed"] == 41
    text = b"shopping list"
    app.file_uploader(key="recipe_upload").set_value(("notes.png", text, "image/png")).run()
    assert not app.exception
    assert "not a picture" in app.sidebar.error[0].value


def test_a_link_restores_the_settings_and_copy_link_makes_one(without_inception_weights):
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params.update(link_settings(RECIPE))
    at.run()
    assert not at.exception
    restored = widget_settings(at)
    assert {k: v for k, v in restored.items() if k != "precision"} == {
        k: v for k, v in EXPECTED.items() if k != "precision"
    }
    at.slider(key="steps").set_value(3).run()
    at.button(key="copy_link").click().run()
    link = at.sidebar.code[0].value
    assert "steps_per_octave=3" in link and "seed=41" in link
    assert at.query_params["steps_per_octave"] == "3"
    assert "upload" not in link and "png" not in link  # the settings, never the photo


def dream_once(at: AppTest, seed: int) -> dict:
    at.number_input(key="seed").set_value(seed).run()
    at.button(key="generate").click().run()
    assert not at.exception
    return kept_result(at)


def test_two_dreams_two_thumbnails_a_zip_with_both_and_open(app, photo_bytes, monkeypatch):
    import deepdream.serving.pace

    monkeypatch.setattr(
        deepdream.serving.pace, "_shared", deepdream.serving.pace.Pace()
    )  # nothing measured
    app.slider(key="steps").set_value(2)
    app.slider(key="octaves").set_value(1)
    app.select_slider(key="max_side").set_value(256)
    app.file_uploader(key="upload").set_value(("astro.jpg", photo_bytes, "image/jpeg")).run()
    assert not [c for c in app.main.caption if "on this server" in c.value]  # none measured
    first = dream_once(app, 1)
    assert [t.value for t in app.toast] == ["Your dream is ready."]
    # The time is said before the next dream is spent, from the one just measured.
    said = [c.value for c in app.main.caption if "on this server" in c.value]
    assert len(said) == 1 and said[0].startswith("About "), said
    second = dream_once(app, 2)
    gallery = app.session_state["gallery"]
    assert [entry.record for entry in gallery.entries] == [second, first]  # newest first
    thumbnails = [i for i in app.main.get("image") if "Photo ·" in str(i.proto)]
    assert len(thumbnails) == 2
    assert "last 12 dreams" in " ".join(c.value for c in app.main.caption)
    with zipfile.ZipFile(io.BytesIO(gallery.zip_bytes())) as archive:
        names = archive.namelist()
        assert names == [
            "01-astro-deepdream.png",
            "01-astro-deepdream.txt",
            "02-astro-deepdream.png",
            "02-astro-deepdream.txt",
        ]
        assert archive.read("01-astro-deepdream.png") == first["png"]
        assert "seed: 1" in archive.read("01-astro-deepdream.txt").decode()
        assert "seed: 2" in archive.read("02-astro-deepdream.txt").decode()
    # Open the older one: it is shown again, with its seed back in the sidebar.
    app.button(key=f"open_{gallery.entries[1].id}").click().run()
    assert not app.exception
    assert kept_result(app) is first and app.session_state["seed"] == 1
    assert png_text(kept_result(app)["png"])["deepdream.seed"] == "1"


def test_the_before_and_after_view_lays_the_photo_over_the_dream(app, photo_bytes):
    app.slider(key="steps").set_value(1)
    app.slider(key="octaves").set_value(1)
    app.select_slider(key="max_side").set_value(256)
    app.file_uploader(key="upload").set_value(("astro.jpg", photo_bytes, "image/jpeg")).run()
    dream_once(app, 0)
    app.radio(key="compare_view").set_value("slider").run()
    assert not app.exception
    markup = " ".join(str(h.proto) for h in app.main.get("html"))
    assert "dd-slider" in markup and markup.count("data:image/jpeg;base64,") == 2
    labels = [button.proto.label for button in app.get("download_button")]
    assert any(label.startswith("Download the dream") for label in labels)  # either view


def test_the_gallery_drops_the_oldest_beyond_its_caps(photo):
    from deepdream import DreamConfig
    from deepdream.media.image import encode_png
    from deepdream_studio.gallery import Gallery

    png = encode_png(photo, {})
    record = {"png": png, "file_name": "a-deepdream.png", "summary": "", "model": "m"}
    by_count = Gallery(max_dreams=2)
    kept = [by_count.add("photo", dict(record), DreamConfig()) for _ in range(3)]
    assert by_count.entries == [kept[2], kept[1]]
    by_bytes = Gallery(max_bytes=int(len(png) * 1.5))
    newest = [by_bytes.add("photo", dict(record), DreamConfig()) for _ in range(2)][-1]
    assert by_bytes.entries == [newest]  # two would pass the cap: only the newest stays
    assert decode_image(newest.thumbnail).shape[:2] == (160, 160)
