"""``deepdream-studio``: serve the page with the project's production settings.

Contract: ``main(argv)`` runs ``streamlit run <this package>/app.py`` in this process's place
(``os.execv``, so the PID a host or a test holds is the server's), with every setting of
``server.toml`` beside this file given as a command-line flag (the upload limit, XSRF
protection, no source-file watcher, no usage statistics, no error details in the browser, fast
reruns), TensorFlow's start-up chatter held back (``TF_CPP_MIN_LOG_LEVEL=2`` unless set), and
``argv`` passed on after them: Streamlit's own options, which win
(``deepdream-studio --server.port 8600 --server.address 127.0.0.1``). ``--help`` says so.
``server.toml`` is the same file as a checkout's ``.streamlit/config.toml`` (a test holds them
equal), so ``streamlit run app.py`` and this command serve the same page the same way.
"""

from __future__ import annotations

import os
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
SETTINGS = HERE / "server.toml"


def production_flags(settings: Path = SETTINGS) -> list[str]:
    """``server.toml`` as Streamlit flags: ``--section.key value`` for every setting."""
    flags = []
    for section, values in tomllib.loads(settings.read_text()).items():
        for key, value in values.items():
            text = str(value).lower() if isinstance(value, bool) else str(value)
            flags += [f"--{section}.{key}", text]
    return flags


def command(argv: Sequence[str]) -> list[str]:
    """The Streamlit command line this entry runs."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(HERE / "app.py"),
        *production_flags(),
        *argv,
    ]


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("-h", "--help"):
        print(
            "usage: deepdream-studio [STREAMLIT OPTIONS]\n\n"
            "Serve the DeepDream Studio page (the same page as `streamlit run app.py` in a "
            "checkout) with its production settings: 50 MB uploads, XSRF protection on, no "
            "file watcher, no usage statistics. Streamlit's own options pass through and win, "
            "e.g. deepdream-studio --server.port 8600 --server.address 127.0.0.1"
        )
        return 0
    if argv and argv[0] == "--version":
        from deepdream import __version__

        print(f"deepdream-studio {__version__}")
        return 0
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    line = command(argv)
    os.execv(line[0], line)
    return 0  # not reached: the server has taken this process's place
