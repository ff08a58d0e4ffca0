"""The project installs like any Python tool: a wheel, into a fresh virtual environment outside
the checkout, gives the ``deepdream`` command (version, a dream) and ``deepdream-studio`` (the
page, answering its health check), and puts no top-level ``ui`` or ``app`` module anywhere.

The environment sees this machine's packages (``--system-site-packages``) so the test needs
no network and no second copy of TensorFlow; what it installs and checks is our wheel."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A virtual environment with our wheel installed (its bin folder)."""
    work = tmp_path_factory.mktemp("package")
    # Built from a copy: setuptools writes build/ and *.egg-info beside the sources.
    skip = shutil.ignore_patterns(
        ".git", "build", "*.egg-info", "assets", "tests", "bench", "__pycache__"
    )
    shutil.copytree(ROOT, work / "source", ignore=skip)
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    subprocess.run(
        [*build, "-w", str(work / "dist"), str(work / "source")], check=True, capture_output=True
    )
    (wheel,) = (work / "dist").glob("deepdream_studio-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert not any(n.startswith(("ui/", "app.py", "bench/", "tests/")) for n in names), names
    assert "deepdream/py.typed" in names and "deepdream_studio/server.toml" in names
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--no-index", "--quiet"]
    subprocess.run([*pip, f"{wheel}[app]"], check=True, capture_output=True, cwd=work)
    return venv / "bin"


def _run(bin_dir: Path, *command: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DEEPDREAM_WEIGHTS")}
    return subprocess.run(
        [str(bin_dir / command[0]), *command[1:]],
        capture_output=True, text=True, cwd=cwd, env=env, timeout=600,
    )  # fmt: skip


@pytest.mark.slow
def test_the_installed_command_says_its_version_and_dreams(installed, tmp_path, photo_bytes):
    import deepdream

    shown = _run(installed, "deepdream", "--version", cwd=tmp_path)
    assert shown.returncode == 0 and shown.stdout.strip() == f"deepdream {deepdream.__version__}"
    where = _run(
        installed, "python", "-c", "import deepdream; print(deepdream.__file__)", cwd=tmp_path
    )
    assert str(installed.parent) in where.stdout  # the installed copy, not the checkout
    assert _run(installed, "python", "-c", "import ui", cwd=tmp_path).returncode != 0
    (tmp_path / "photo.jpg").write_bytes(photo_bytes)
    tiny = ["--model", "vgg16_offline", "--steps", "1", "--octaves", "1", "--max-side", "64"]
    dreamed = _run(installed, "deepdream", "photo.jpg", "dream.png", *tiny, "--quiet", cwd=tmp_path)
    assert dreamed.returncode == 0, dreamed.stderr
    assert (tmp_path / "dream.png").read_bytes().startswith(b"\x89PNG")
    usage = _run(installed, "deepdream", "--help", cwd=tmp_path).stdout.splitlines()[0]
    assert usage.startswith("usage: deepdream IN OUT")


@pytest.mark.slow
def test_the_installed_page_answers_its_health_check(installed, tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(DEEPDREAM_OFFLINE="1", KERAS_HOME=str(tmp_path / "keras"))
    command = [str(installed / "deepdream-studio"), "--server.port", str(port)]
    command += ["--server.address", "127.0.0.1", "--server.headless", "true"]
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/_stcore/health", timeout=2
                ) as r:
                    if r.status == 200:
                        break
            except OSError:
                assert server.poll() is None, (tmp_path / "server.log").read_text()
                time.sleep(0.5)
        else:
            pytest.fail(f"no health answer: {(tmp_path / 'server.log').read_text()[-2000:]}")
        import psutil

        # The command became the server (same PID) with the production settings.
        line = psutil.Process(server.pid).cmdline()
        assert line[1:4] == ["-m", "streamlit", "run"] and line[4].endswith(
            "deepdream_studio/app.py"
        )
        assert line[line.index("--server.enableXsrfProtection") + 1] == "true"
        assert line[line.index("--server.fileWatcherType") + 1] == "none"
        assert line[-6:-4] == ["--server.port", str(port)]  # the user's options come last, win
    finally:
        server.send_signal(signal.SIGTERM)  # the PID is the server's own (the command execs it)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)
        log.close()
