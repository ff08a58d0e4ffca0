"""The page, driven through Streamlit's own AppTest (no browser, real engine, small settings).

InceptionV3 weights are pointed at a missing file, so every run takes the same path whatever
the network: the visible fallback notice, then real dreams from the offline VGG16 model.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from conftest import kept_result, prepared_sizes
from streamlit.testing.v1 import AppTest

from deepdream import PRESETS
from deepdream.media.image import decode_image, png_text

APP = str(Path(__file__).parent.parent / "app.py")


def _small_settings(at: AppTest) -> None:
    at.slider(key="steps").set_value(2)
    at.slider(key="octaves").set_value(1)
    at.select_slider(key="max_side").set_value(256)
    at.run()


def _upload(at: AppTest, name: str, data: bytes, mime: str = "image/jpeg") -> None:
    at.file_uploader(key="upload").set_value((name, data, mime)).run()


def side_by_side(at: AppTest) -> list:
    """The result's two columns, original and dream (the gallery's strip has narrower ones)."""
    return [column for column in at.main.columns if column.weight == 0.5]


def test_page_has_title_button_and_helpful_widgets(app):
    assert app.title[0].value == "DeepDream Studio"
    assert app.button(key="generate").label == "Generate DeepDream Image"
    assert app.button(key="generate").disabled  # nothing uploaded yet
    widgets = [
        *app.sidebar.selectbox,
        *app.sidebar.radio,
        *app.sidebar.multiselect,
        *app.sidebar.slider,
        *app.sidebar.select_slider,
        *app.sidebar.number_input,
        *app.sidebar.checkbox,
    ]
    assert len(widgets) >= 10
    for widget in widgets:
        assert widget.key, widget.label
        assert widget.help and len(widget.help) > 20, widget.label


def test_missing_inception_weights_are_announced(app):
    notice = " ".join(w.value for w in app.warning)
    assert "InceptionV3" in notice and "not available" in notice
    assert "VGG16" in notice and "offline" in notice
    fix = " ".join(t.value for t in app.text)
    assert "DEEPDREAM_WEIGHTS" in fix and "connect to the internet once" in fix


def test_upload_generate_side_by_side_and_download(app, photo_bytes, photo):
    _upload(app, "astronaut.jpg", photo_bytes)
    assert len(app.get("image")) == 1  # the original, shown at once
    assert not app.button(key="generate").disabled
    _small_settings(app)
    app.button(key="generate").click().run()
    assert not app.exception and not app.error
    columns = side_by_side(app)
    assert len(columns) == 2
    assert len(columns[0].get("image")) == 1 and len(columns[1].get("image")) == 1
    download = app.get("download_button")[0]
    assert download.label.startswith("Download")
    result = kept_result(app)
    assert result["file_name"] == "astronaut-deepdream.png"
    dream = decode_image(result["png"])
    assert dream.shape == photo.shape
    meta = png_text(result["png"])
    assert meta["deepdream.model"] == "vgg16_offline"
    assert meta["deepdream.steps_per_octave"] == "2"
    assert "astronaut" not in " ".join(meta.values())  # settings only, no file names


def test_changing_a_setting_keeps_the_result_without_dreaming_again(app, photo_bytes):
    _upload(app, "astronaut.jpg", photo_bytes)
    _small_settings(app)
    app.button(key="generate").click().run()
    before = kept_result(app)
    app.slider(key="step_size").set_value(0.05).run()
    app.sidebar.selectbox(key="preset").set_value("deep").run()
    assert kept_result(app) is before  # same object: the model did not run again
    assert len(side_by_side(app)) == 2 and app.get("download_button")


def test_broken_file_shows_a_plain_error_and_the_next_upload_works(app, photo_bytes):
    truncated = photo_bytes[: len(photo_bytes) // 3]
    _upload(app, "broken.jpg", truncated)
    assert not app.exception
    assert "damaged or incomplete" in app.error[0].value
    assert app.button(key="generate").disabled
    _upload(app, "good.jpg", photo_bytes)
    assert not app.error and len(app.get("image")) == 1


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("notes.png", b"just some text", "not an image"),
        ("page.jpg", b"<html><body>hi</body></html>", "not an image"),
        ("empty.png", b"", "empty"),
    ],
)
def test_non_images_get_plain_errors(app, name, data, words):
    _upload(app, name, data, "image/png")
    assert not app.exception
    assert words in app.error[0].value


def _all_text(at: AppTest) -> str:
    """Everything the page would send to the browser, as text: every element's message."""

    def walk(node):
        proto = getattr(node, "proto", None)
        if proto is not None:
            yield str(proto)
        children = getattr(node, "children", {})
        for child in children.values() if isinstance(children, dict) else children:
            yield from walk(child)

    return "\n".join(walk(at._tree))


def test_file_name_with_markup_is_never_rendered(app, photo_bytes):
    name = '<img src=x onerror="alert(1)">.jpg'
    _upload(app, name, photo_bytes)
    _small_settings(app)
    app.button(key="generate").click().run()
    shown = _all_text(app)
    assert "Your photo" in shown or "DeepDream ·" in shown  # the walk sees captions
    assert "<img src=x" not in shown and "alert(1)" not in shown
    file_name = kept_result(app)["file_name"]
    assert "<" not in file_name and '"' not in file_name and file_name.endswith("-deepdream.png")


def test_without_inception_weights_the_page_starts_on_the_offline_model(app):
    assert app.radio(key="model").value == "vgg16_offline"
    assert app.multiselect(key="layers").value == ["block4_conv1", "block4_conv2", "block4_conv3"]
    # VGG16's block4 sits at half mixed5's stride: the classic look works at half the side.
    assert app.select_slider(key="max_side").value == 512


def test_switching_networks_keeps_the_patterns_size(app):
    app.radio(key="model").set_value("inception_v3").run()
    assert app.select_slider(key="max_side").value == 1024
    app.select_slider(key="max_side").set_value(2048).run()
    app.radio(key="model").set_value("vgg16_offline").run()
    assert app.select_slider(key="max_side").value == 1024
    assert not app.exception


def test_preset_sets_the_knobs_and_model_switch_translates_layers(app):
    app.sidebar.selectbox(key="preset").set_value("gentle").run()
    assert app.slider(key="steps").value == 8
    assert app.multiselect(key="layers").value == ["block3_conv3", "block4_conv1"]
    app.radio(key="model").set_value("inception_v3").run()
    assert app.multiselect(key="layers").value == ["mixed2", "mixed3"]
    assert not app.exception
    # The notice stays: InceptionV3 was asked for, the offline model will stand in.
    assert any("not available" in w.value for w in app.warning)


def test_no_layer_chosen_is_a_plain_error(app, photo_bytes):
    _upload(app, "astronaut.jpg", photo_bytes)
    app.multiselect(key="layers").set_value([]).run()
    assert "at least one layer" in app.error[0].value
    assert not app.exception


def test_switching_networks_keeps_merged_weights_on_the_sliders(app):
    app.radio(key="model").set_value("inception_v3").run()
    app.multiselect(key="layers").set_value(["mixed6", "mixed7"]).run()
    app.slider(key="weight_mixed6").set_value(2.0)
    app.slider(key="weight_mixed7").set_value(2.5).run()
    # Both map to block5_conv1: 4.5 would be off the slider; it is kept at the maximum.
    app.radio(key="model").set_value("vgg16_offline").run()
    assert not app.exception
    assert app.multiselect(key="layers").value == ["block5_conv1"]
    assert app.slider(key="weight_block5_conv1").value == 3.0


def test_stop_keeps_a_photo_sized_partial_dream(app, photo_bytes, photo, monkeypatch):
    """Stop, as Streamlit does it: the run is interrupted at its next st.* call."""
    from streamlit.runtime.scriptrunner_utils.exceptions import StopException

    import deepdream_studio.run

    _upload(app, "astronaut.jpg", photo_bytes)
    app.slider(key="steps").set_value(6)
    app.slider(key="octaves").set_value(2)
    app.select_slider(key="max_side").set_value(256)
    app.run()
    drawn = []
    real_show = deepdream_studio.run.show_progress

    def show_then_stop(widgets, update, losses):
        drawn.append(update.done)
        if update.done == 7:  # Stop pressed during the second octave
            raise StopException()
        real_show(widgets, update, losses)

    monkeypatch.setattr(deepdream_studio.run, "show_progress", show_then_stop)
    app.button(key="generate").click().run()
    assert drawn[-1] == 7
    monkeypatch.setattr(deepdream_studio.run, "show_progress", real_show)
    app.run()  # the page drawn afresh after Stop
    record = kept_result(app)
    assert record["stopped"] and not app.exception
    dream = decode_image(record["png"])
    assert dream.shape == photo.shape  # laid onto the full-size photo like a finished dream
    assert not np.array_equal(dream, photo)
    # The last preview before step 7 came at the end of the first octave (step 6).
    assert png_text(record["png"])["deepdream.stopped_after_step"] == "6 of 12"
    assert any("stopped early" in info.value for info in app.info)
    assert len(side_by_side(app)) == 2 and app.get("download_button")


def test_with_inception_weights_the_page_uses_inception_and_says_so(
    monkeypatch, random_inception_weights_file, photo_bytes
):
    monkeypatch.setenv("DEEPDREAM_WEIGHTS", str(random_inception_weights_file))
    at = AppTest.from_file(APP, default_timeout=240)
    at.run()
    assert not at.exception and not at.warning and not at.error  # no notice at all
    assert at.radio(key="model").value == "inception_v3"
    assert at.multiselect(key="layers").value == ["mixed3", "mixed4", "mixed5"]
    _upload(at, "astronaut.jpg", photo_bytes)
    _small_settings(at)
    at.button(key="generate").click().run()
    assert not at.exception and not at.error
    made_with = [c.value for c in at.main.caption if c.value.startswith("Made with")]
    assert len(made_with) == 1
    assert made_with[0].startswith("Made with InceptionV3 with weights from random_inception")
    meta = png_text(kept_result(at)["png"])
    assert meta["deepdream.model"] == "inception_v3"
    assert meta["deepdream.weights"] == "file:random_inception.weights.h5"


def test_a_broken_weights_file_is_an_error_never_a_silent_fallback(
    monkeypatch, tmp_path, photo_bytes
):
    broken = tmp_path / "broken.h5"
    broken.write_bytes(b"not weights at all")
    monkeypatch.setenv("DEEPDREAM_WEIGHTS", str(broken))
    at = AppTest.from_file(APP, default_timeout=240)
    at.run()
    assert not at.exception and not at.warning
    assert "broken.h5" in at.error[0].value and "Nothing else is used" in at.error[0].value
    assert at.radio(key="model").value == "inception_v3"  # still what the user asked for
    _upload(at, "astronaut.jpg", photo_bytes)
    _small_settings(at)
    at.button(key="generate").click().run()
    assert not at.exception and kept_result(at) is None  # no VGG16 dream behind their back
    assert any("broken.h5" in error.value for error in at.error)


def test_the_server_warms_the_default_dream_up_in_the_background(app):
    from deepdream.gradients import cached_steps
    from deepdream_studio.models import start_warm_up

    thread = start_warm_up()  # the one the page started: once per server process
    assert thread is start_warm_up()
    thread.join(timeout=180)
    assert not thread.is_alive()
    classic = {
        ("block4_conv1", "block4_conv2", "block4_conv3")
    }  # the classic preset on the offline VGG16
    warmed = [s for s in cached_steps() if s.layers in classic and s.trace_count == 1]
    assert warmed, [s.layers for s in cached_steps()]


def test_the_warm_up_holds_a_dream_slot_so_early_dreams_queue_behind_it(
    monkeypatch, without_inception_weights
):
    from deepdream import render
    from deepdream.models.precision import resolve_precision
    from deepdream.serving.slots import shared_slots
    from deepdream_studio.models import warm_up_in_slot

    slots = shared_slots()
    seen = []

    def fake_warm_up(model, config, give_way):
        seen.append((model.name, config.steps_per_octave, slots.in_use, give_way()))
        return 0.0

    monkeypatch.setattr(render, "warm_up", fake_warm_up)  # where the page takes it from
    assert slots.in_use == 0
    warm_up_in_slot(resolve_precision("auto"))
    # It ran inside a slot (one taken while it ran), and gave the slot back.
    assert len(seen) == 1 and seen[0][2] == 1
    assert seen[0][3] is False  # nobody queued behind it: it does not give way
    assert slots.in_use == 0 and slots.waiting == 0


def test_an_uploaded_photo_s_sizes_are_prepared_before_the_click(app, photo_bytes, monkeypatch):
    from deepdream.gradients import cached_steps
    from deepdream_studio import models

    _upload(app, "astronaut.jpg", photo_bytes)
    _small_settings(app)  # each rerun with a photo asks; one preparation runs at a time
    assert (256, 256) in prepared_sizes(app)
    # The offline VGG16 dreams here (InceptionV3 is asked for, and stood in for: nothing to
    # do for it); the latest VGG16 preparation is the page's.
    prepared = [k for k in models._prepared if k[5] == (256, 256) and k[0] == "vgg16_offline"]
    assert prepared, list(models._prepared)
    layers = prepared[-1][2]
    assert any(step.layers == layers for step in cached_steps())  # the step is traced
    started = []
    monkeypatch.setattr(models, "_prepare", lambda *args: started.append(args))
    app.run()  # asked again for what is ready: nothing runs
    assert started == []
    app.button(key="generate").click().run()  # and the dream runs as ever
    assert not app.exception and kept_result(app) is not None


def _dream_for_a_moment(slots) -> None:
    with slots.slot(interval=0.01):
        time.sleep(0.05)


def test_a_preparation_takes_only_a_spare_slot_and_gives_way_to_a_dream(
    monkeypatch, without_inception_weights
):
    import threading

    from deepdream import render
    from deepdream.serving import slots as slots_module
    from deepdream.serving.slots import DreamSlots
    from deepdream_studio import models

    monkeypatch.setattr(models, "chosen_precision", lambda: "float32")  # no script run here
    slots = DreamSlots(1)  # one slot, whatever this machine's cores
    monkeypatch.setattr(slots_module, "shared_slots", lambda: slots)
    config = PRESETS["classic"].with_model("vgg16_offline")
    seen = []

    def fake_warm_up(model, config, shape, give_way):
        seen.append((shape, slots.in_use, give_way()))
        if len(seen) == 2:  # a dream asks for the slot meanwhile: it must be given way to
            waiter = threading.Thread(target=_dream_for_a_moment, args=(slots,))
            waiter.start()
            deadline = time.monotonic() + 5
            while not slots.waiting and time.monotonic() < deadline:
                time.sleep(0.01)
            seen.append(("asked", give_way()))
        return 0.0

    monkeypatch.setattr(render, "warm_up", fake_warm_up)
    with slots.slot():  # a dream holds the only slot: the preparation does nothing
        models.prepare_photo_sizes((300, 400), config).join(60)
    assert seen == [] and not any(key[5] == (300, 400) for key in models._prepared)
    models.prepare_photo_sizes((300, 400), config).join(60)  # the slot is spare now
    assert seen == [((300, 400), 1, False)]
    assert any(key[5] == (300, 400) for key in models._prepared)
    models.prepare_photo_sizes((310, 400), config).join(60)
    assert seen[1:] == [((310, 400), 1, False), ("asked", True)]
    assert not any(key[5] == (310, 400) for key in models._prepared)  # given way: not done
    deadline = time.monotonic() + 5
    while (slots.in_use or slots.waiting) and time.monotonic() < deadline:
        time.sleep(0.01)  # the waiting dream got the slot the preparation gave back
    assert slots.in_use == 0 and slots.waiting == 0


class _Recorder:
    """Stands in for a page spot: records each drawing call (name, args, kwargs)."""

    def __init__(self) -> None:
        self.calls = []

    def __getattr__(self, name):
        return lambda *args, **kwargs: self.calls.append((name, args, kwargs))


def test_the_live_chart_is_a_light_vega_lite_spec_of_every_loss_so_far():
    from types import SimpleNamespace

    from deepdream_studio.run import show_progress

    widgets = {name: _Recorder() for name in ("progress", "chart", "preview")}
    losses = [0.5, 0.75, 1.25]
    update = SimpleNamespace(
        preview=np.zeros((900, 1200, 3), np.uint8),
        result=None,
        work=0.5,
        eta=3.0,
        octave=1,
        octaves=2,
        step=3,
        steps=5,
    )
    show_progress(widgets, update, losses)
    ((name, (spec,), _),) = widgets["chart"].calls
    assert name == "vega_lite_chart"  # not st.line_chart: pandas + Altair cost 100+ ms a draw
    points = spec["data"]["values"]
    assert [p["objective"] for p in points] == losses and [p["step"] for p in points] == [1, 2, 3]
    assert spec["encoding"]["y"]["field"] == "objective" and spec["mark"]["type"] == "line"
    (preview_call,) = widgets["preview"].calls
    assert preview_call[1][0].shape[:2] == (480, 640)  # previews sized for the screen
    # A second update right after, without a preview: throttled, nothing redrawn.
    show_progress(widgets, SimpleNamespace(**{**vars(update), "preview": None}), losses)
    assert len(widgets["chart"].calls) == 1 and len(widgets["progress"].calls) == 1


def test_script_runs_keep_keras_and_tensorflow_state(app, monkeypatch):
    """Streamlit resets Keras after each run (TensorFlow's kernel cache with it, ~1.5 s on a
    warm server); the page turns that off, and the next dream starts warm."""
    import keras

    resets = []
    monkeypatch.setattr(keras.backend, "clear_session", lambda *a, **k: resets.append(1))
    app.run()
    app.run()
    assert not app.exception and resets == []


def test_streamlit_still_closes_matplotlib_figures_after_a_run():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from streamlit.runtime.scriptrunner import script_runner

    from deepdream_studio.process import keep_keras_state

    assert keep_keras_state()
    plt.figure()
    script_runner._clean_problem_modules()  # what the script runner calls after each run
    assert plt.get_fignums() == []


def test_start_up_objects_are_frozen_out_of_the_collectors_sight():
    import gc
    import threading

    from deepdream_studio.models import WARM_UP_THREAD
    from deepdream_studio.process import freeze_start_up_objects

    # An earlier test's server warm-up freezes too when it ends: let it end first, or the two
    # freezes race and the counts differ.
    for thread in threading.enumerate():
        if thread.name == WARM_UP_THREAD:
            thread.join(timeout=300)
    try:
        frozen = freeze_start_up_objects()
        assert frozen == gc.get_freeze_count() > 10_000  # TensorFlow and friends, at least
        assert len(gc.get_objects()) < frozen  # a full collection now walks far fewer
    finally:
        gc.unfreeze()
