"""What the page must never do with what users send: write it to disk, render it as HTML,
or turn off Streamlit's cross-site request protection."""

from __future__ import annotations

import builtins
import contextlib
import io
import tomllib
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

from conftest import kept_result
from PIL import Image
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).parent.parent


@contextlib.contextmanager
def recording_writes() -> Iterator[list[str]]:
    """Record every file opened for writing, by open() or by pathlib (io.open)."""
    written: list[str] = []
    real_open = io.open

    def watching_open(file, mode="r", *args, **kwargs):
        if any(flag in mode for flag in "wax+"):
            written.append(str(file))
        return real_open(file, mode, *args, **kwargs)

    with (
        mock.patch.object(builtins, "open", watching_open),
        mock.patch.object(io, "open", watching_open),
    ):
        yield written


def test_the_write_recorder_sees_writes(tmp_path):
    with recording_writes() as written:
        (tmp_path / "a.txt").write_text("pathlib")
        with open(tmp_path / "b.txt", "w") as handle:
            handle.write("open")
    assert written == [str(tmp_path / "a.txt"), str(tmp_path / "b.txt")]


def test_uploads_are_never_written_to_disk(without_inception_weights, photo_bytes):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240)
    at.run()
    at.slider(key="steps").set_value(1)
    at.slider(key="octaves").set_value(1)
    at.select_slider(key="max_side").set_value(128)
    at.run()
    # Warm up first: tracing the step lets TensorFlow's autograph write generated code to
    # temporary files, which is its business. After that, a user's upload and dream must
    # write nothing at all.
    warm = io.BytesIO()
    Image.new("RGB", (90, 90), (10, 120, 200)).save(warm, format="PNG")
    at.file_uploader(key="upload").set_value(("warm.png", warm.getvalue(), "image/png")).run()
    at.button(key="generate").click().run()
    with recording_writes() as written:
        at.file_uploader(key="upload").set_value(("secret.jpg", photo_bytes, "image/jpeg")).run()
        at.button(key="generate").click().run()
    assert not at.exception and kept_result(at) is not None
    assert written == []


def test_the_page_never_renders_html_from_users():
    parts = (ROOT / "deepdream_studio").glob("*.py")
    sources = {path: path.read_text() for path in [ROOT / "app.py", *parts]}
    assert len(sources) > 5  # the entry and the page's parts were all read
    for path, source in sources.items():
        assert "unsafe_allow_html" not in source, path
        # st.html shows a constant style rule, or the before/after view: our own markup
        # and script around two pictures we encoded, never anything from a user.
        allowed = ("st.html(FIT_IMAGES_CSS)", 'st.html(record["compare_html"], unsafe_allow_')
        for start in [i for i in range(len(source)) if source.startswith("st.html(", i)]:
            assert source[start:].startswith(allowed), path
    from deepdream_studio.result import COMPARE_HTML, FIT_IMAGES_CSS, compare_html

    assert FIT_IMAGES_CSS.startswith("<style>") and FIT_IMAGES_CSS.endswith("</style>")
    assert "<script" not in FIT_IMAGES_CSS and "{" not in FIT_IMAGES_CSS.replace("{max-width", "")
    import string

    import numpy as np

    fields = {name for _, name, _, _ in string.Formatter().parse(COMPARE_HTML) if name}
    assert fields == {"width", "dream", "photo"}  # a number and two base64 JPEGs
    from deepdream.media.image import encode_png

    hostile = "<script>alert(1)</script>"
    picture = np.full((20, 30, 3), 99, np.uint8)
    record = {"png": encode_png(picture, {"x": hostile}), "original_view": picture,
              "summary": hostile, "file_name": hostile, "model": hostile}  # fmt: skip
    assert "alert" not in compare_html(record)


def test_the_installed_command_serves_with_the_checkouts_settings():
    from deepdream_studio.serve import SETTINGS, production_flags

    checkout = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert tomllib.loads(SETTINGS.read_text()) == checkout  # one set of settings, two places
    flags = production_flags()
    assert flags[flags.index("--server.enableXsrfProtection") + 1] == "true"
    assert flags[flags.index("--server.maxUploadSize") + 1] == "50"


def test_streamlit_keeps_xsrf_protection_and_sane_limits():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["enableXsrfProtection"] is True
    assert 1 <= config["server"]["maxUploadSize"] <= 200
    assert config["browser"]["gatherUsageStats"] is False
    assert config["client"]["showErrorDetails"] in ("none", False)
