"""The Animate page through AppTest: a video and a zoom dreamed, Stop, limits, bad files.

Tiny clips made here (``tests/clips.py``), one step an octave: these check the page's flow,
not the look (``test_motion.py`` measures that).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from clips import pan, write_clip
from conftest import prepared_sizes, started_app
from streamlit.testing.v1 import AppTest

from deepdream.media.video import probe_video

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
    assert (64, 96) in prepared_sizes(page)  # while the user looks: the frames' size
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
    assert {b.key for b in page.get("download_button")} >= {"download_mp4", "download_gif"}


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


def test_a_masked_video_and_a_zoom_land_in_the_gallery_and_reopen(page, photo, photo_bytes):
    """One mask for every frame (uploaded, white on the left half); the video and a zoom in
    the session's gallery, newest first; the ZIP holds both with their motion settings; Open
    on the video shows it again with its settings."""
    import zipfile

    from PIL import Image

    from deepdream import Mask
    from deepdream.media.video import read_frames

    clip = _clip_bytes(photo)
    _upload_video(page, "pan.mp4", clip)
    picture = np.zeros((32, 48), np.uint8)
    picture[:, :24] = 255
    mask_file = io.BytesIO()
    Image.fromarray(picture).save(mask_file, "PNG")
    page.toggle(key="mask_on").set_value(True).run()
    page.radio(key="mask_source").set_value("upload").run()
    page.slider(key="mask_feather").set_value(0).run()
    page.file_uploader(key="mask_upload").set_value(("m.png", mask_file.getvalue(), "image/png"))
    page.slider(key="steps").set_value(8).run()  # a strong dream, well above H.264's noise
    page.button(key="generate_video").click().run()
    assert not page.exception and not page.error
    video = _kept(page)
    strength = Mask.from_image(picture).strength(64, 96)
    for source, dreamed in zip(read_frames(clip), read_frames(video["mp4"])):
        change = np.abs(dreamed.image.astype(int) - source.image.astype(int)).max(axis=2)
        # H.264 moves a kept pixel a few grey levels (more near the edge: its blocks straddle
        # it); the dreamed half moves far more.
        kept, dreamed_part = change[strength == 0].mean(), change[strength == 1].mean()
        assert kept * 3 < dreamed_part, (kept, dreamed_part)
    page.radio(key="animate_mode").set_value("zoom").run()
    page.file_uploader(key="zoom_upload").set_value(("a.jpg", photo_bytes, "image/jpeg")).run()
    page.toggle(key="mask_on").set_value(False).run()
    page.slider(key="zoom_frames").set_value(2).run()
    page.button(key="generate_video").click().run()
    gallery = page.session_state["gallery"]
    assert [entry.kind for entry in gallery.entries] == ["zoom", "video"]
    assert gallery.entries[1].config.mask is not None
    with zipfile.ZipFile(io.BytesIO(gallery.zip_bytes())) as archive:
        assert archive.namelist() == [
            "01-pan-deepdream.mp4", "01-pan-deepdream.txt",
            "02-a-deepdream.mp4", "02-a-deepdream.txt",
        ]  # fmt: skip
        assert "motion.zoom_frames: 2" in archive.read("02-a-deepdream.txt").decode()
        assert archive.read("01-pan-deepdream.mp4") == video["mp4"]
    page.button(key=f"open_{gallery.entries[1].id}").click().run()
    assert not page.exception
    assert _kept(page) is video and page.session_state["animate_mode"] == "video"
    assert any("mask is not kept" in w.value for w in page.sidebar.warning)


def test_the_progress_shows_the_first_frame_then_at_most_one_a_second():
    """Each redraw is the browser's work taken from the dream on a shared machine: the bar
    and the latest frame are drawn for the first frame, then at most every
    ``MOTION_REDRAW_SECONDS``."""
    from types import SimpleNamespace

    import deepdream_studio.animate as animate

    drawn: list[str] = []
    widgets = {
        "progress": SimpleNamespace(progress=lambda *_, **__: drawn.append("bar")),
        "preview": SimpleNamespace(image=lambda *_, **__: drawn.append("frame")),
    }
    frame = np.zeros((32, 48, 3), np.uint8)
    for done, now in enumerate([100.0, 100.3, 100.9, 101.1, 101.5], start=1):
        update = SimpleNamespace(done=done, total=5, eta=None, frames_per_second=3.0, image=frame)
        animate.show_motion_progress(widgets, update, now=now)
    assert drawn == ["bar", "frame", "bar", "frame"]  # at 100.0 and 101.1 only
