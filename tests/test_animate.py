"""The Animate page through AppTest: a video and a zoom dreamed, Stop, limits, bad files.

Tiny clips made here (``tests/clips.py``), one step an octave: these check the page's flow,
not the look (``test_motion.py`` measures that).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from clips import pan, write_clip
from conftest import started_app
from streamlit.testing.v1 import AppTest

from deepdream.video import probe_video

APP = str(Path(__file__).parent.parent / "app.py")
PAGE = "deepdream_studio/pages/animate.py"


def _kept(at: AppTest):
    key = "animate_handover"
    handover = at.session_state[key] if key in at.session_state else None  # noqa: SIM401
    return None if handover is None else handover.result


def _clip_bytes(photo, count: int = 6, fps: int = 6, size=(64, 96)) -> bytes:
    target = io.BytesIO()
    write_clip(target, pan(photo, count, size, step=4), fps=fps)
    return target.getvalue()


@pytest.fixture
def page(without_inception_weights) -> AppTest:
    return started_app(steps=1, page=PAGE)


def _upload_video(at: AppTest, name: str, data: bytes) -> None:
    at.file_uploader(key="video_upload").set_value((name, data, "video/mp4")).run()


def test_the_page_says_its_limits_and_waits_for_a_video(page):
    assert page.button(key="generate_video").label == "Generate DeepDream Video"
    assert page.button(key="generate_video").disabled
    assert any("command line" in c.value for c in page.caption)


def test_a_video_is_dreamed_with_its_frames_size_and_rate(page, photo):
    clip = _clip_bytes(photo)
    _upload_video(page, "pan.mp4", clip)
    assert not page.error, [e.value for e in page.error]
    assert not page.button(key="generate_video").disabled
    page.button(key="generate_video").click().run()
    assert not page.exception and not page.error
    record = _kept(page)
    assert record and not record["stopped"] and record["mode"] == "video"
    source, dreamed = probe_video(clip), probe_video(record["mp4"])
    assert (dreamed.width, dreamed.height, dreamed.frames) == (96, 64, 6)
    assert dreamed.fps == source.fps
    assert len(page.main.columns) >= 2 and page.get("download_button")
    assert record["gif"] is None  # GIFs are offered for zooms


def test_a_zoom_makes_an_mp4_and_a_gif(page, photo_bytes):
    page.radio(key="animate_mode").set_value("zoom").run()
    page.file_uploader(key="zoom_upload").set_value(("a.jpg", photo_bytes, "image/jpeg")).run()
    page.slider(key="zoom_frames").set_value(3).run()
    page.button(key="generate_video").click().run()
    assert not page.exception and not page.error
    record = _kept(page)
    assert probe_video(record["mp4"]).frames == 3
    assert record["gif"][:6] in (b"GIF87a", b"GIF89a")
    assert len(page.get("download_button")) == 2


def test_stop_keeps_the_frames_done_as_a_playable_video(page, photo, monkeypatch):
    from streamlit.runtime.scriptrunner_utils.exceptions import StopException

    import deepdream_studio.animate

    _upload_video(page, "pan.mp4", _clip_bytes(photo, count=8))
    real_show = deepdream_studio.animate.show_motion_progress

    def show_then_stop(widgets, update):
        if update.done == 3:
            raise StopException()
        real_show(widgets, update)

    monkeypatch.setattr(deepdream_studio.animate, "show_motion_progress", show_then_stop)
    page.button(key="generate_video").click().run()
    monkeypatch.setattr(deepdream_studio.animate, "show_motion_progress", real_show)
    page.run()
    record = _kept(page)
    assert record["stopped"] and not page.exception
    assert probe_video(record["mp4"]).frames == 3  # the frames done, playable
    assert any("stopped early" in info.value for info in page.info)


def test_videos_beyond_the_limits_and_bad_files_get_plain_messages(page, photo, photo_bytes):
    long_clip = _clip_bytes(photo, count=24, fps=2, size=(32, 48))  # 12 s
    _upload_video(page, "long.mp4", long_clip)
    assert not page.exception
    assert "up to 10 s" in page.error[0].value and "command line" in page.error[0].value
    assert page.button(key="generate_video").disabled
    _upload_video(page, "notes.mp4", b"just some text, not a video")
    assert not page.exception and len(page.error) == 1
    assert "Traceback" not in page.error[0].value
    _upload_video(page, "photo.mp4", photo_bytes)  # a still image named .mp4
    assert not page.exception and len(page.error) == 1
    _upload_video(page, "pan.mp4", _clip_bytes(photo))  # and the next good one works
    assert not page.error and not page.button(key="generate_video").disabled


def test_settings_chosen_on_the_photo_page_are_kept_on_the_animate_page(
    without_inception_weights,
):
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.slider(key="steps").set_value(7).run()
    at.sidebar.selectbox(key="preset")  # the sidebar is drawn on both pages
    at.switch_page(PAGE).run()
    assert not at.exception and not at.error
    assert at.slider(key="steps").value == 7
    assert at.multiselect(key="layers").value == ["block4_conv1", "block4_conv2", "block4_conv3"]
