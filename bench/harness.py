"""What every benchmark and the browser tests share: the machine, the photo, deadlines, peak
memory, tables, a Streamlit server on loopback and headless Chromium.

Contract:
- ``REPO_ROOT``, ``RESULTS``: the checkout and ``bench/results``; ``cpu_model()``,
  ``cpu_flag_set()`` and ``cpu_flags()`` name the machine (and the vector units that
  decide TensorFlow's kernels).
- ``astronaut_photo(shape)`` / ``photo_jpeg(shape)``: the test photo at any size;
  ``kind_photo(name, side)``: scikit-image's photos of other kinds (``PHOTOS``), the ones the
  looks benchmark and the tests judge presets on.
- ``kept_change`` and ``edge_steps``: what a mask left unchanged, and whether its soft edge
  shows a seam (the looks benchmark's figures and the mask tests' limits).
- ``Deadline``: a point no wait may pass (``DeadlineExceeded`` when it has).
- ``peak_rss_mib()``: this process's peak resident memory (the kernel's ``VmHWM``).
- ``table(header, rows)``: fixed-width lines for the printed reports; ``write_report(lines,
  out)`` writes one to its results file.
- ``running_server(workdir, deadline, env=..., prefix=...)``: ``streamlit run app.py`` on a
  free loopback port (inside ``prefix``, e.g. ``nsenter`` into a private network), its health
  waited for, stopped by its own PID on exit (SIGTERM, then SIGKILL after a grace period);
  ``stop_server(process)`` returns the exit code.
- ``chromium(profile_dir)``: a headless Chromium driven by Selenium (Debian's chromium and
  chromium-driver), quit on exit. Started inside a network namespace, it sees only that one.
Nothing here imports TensorFlow.
"""

from __future__ import annotations

import io
import os
import platform
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS = REPO_ROOT / "bench" / "results"
TEST_PHOTO = REPO_ROOT / "tests" / "data" / "astronaut.jpg"
HOST = "127.0.0.1"  # the only address the harness ever serves or browses
CHROMIUM = os.environ.get("DEEPDREAM_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("DEEPDREAM_CHROMEDRIVER", "/usr/bin/chromedriver")
CHROMIUM_FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--window-size=1400,1000",
]  # fmt: skip
SERVER_START_TIMEOUT_S = 120
SERVER_STOP_GRACE_S = 20


# --- the machine and the photo ----------------------------------------------------------------


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def cpu_flag_set() -> set[str]:
    """Every flag /proc/cpuinfo lists for the first CPU (empty where it cannot be read)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_flags() -> str:
    """The vector units that decide which kernels run: AVX2, AVX512F, AVX512_BF16, AMX."""
    flags = cpu_flag_set()
    named = {"avx2": "AVX2", "avx512f": "AVX512F", "avx512_bf16": "AVX512_BF16"}
    found = [label for flag, label in named.items() if flag in flags]
    if "amx_tile" in flags:
        found.append("AMX")
    return "+".join(found) or "no AVX2"


def astronaut_photo(shape: tuple[int, int]) -> np.ndarray:
    """The test astronaut resized (Lanczos) to ``shape`` (height, width), as uint8 RGB."""
    with Image.open(TEST_PHOTO) as photo:
        resized = photo.convert("RGB").resize((shape[1], shape[0]), Image.Resampling.LANCZOS)
        return np.asarray(resized, dtype=np.uint8)


def photo_jpeg(shape: tuple[int, int]) -> bytes:
    """JPEG bytes of the test photo at ``shape``: what a user would upload."""
    buffer = io.BytesIO()
    Image.fromarray(astronaut_photo(shape)).save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


PHOTOS = ("astronaut", "chelsea", "rocket", "coffee")


def kind_photo(name: str, side: int) -> np.ndarray:
    """scikit-image's photo ``name`` as RGB uint8, its long side ``side`` pixels."""
    import skimage.data

    picture = Image.fromarray(getattr(skimage.data, name)()).convert("RGB")
    scale = side / max(picture.size)
    size = (round(picture.width * scale), round(picture.height * scale))
    return np.asarray(picture.resize(size, Image.Resampling.LANCZOS))


def kept_change(photo: np.ndarray, dream: np.ndarray, strength: np.ndarray) -> int:
    """The most any pixel moved (grey levels) where the mask's ``strength`` is 0."""
    kept = strength == 0
    change = np.abs(dream.astype(np.int16) - photo.astype(np.int16)).max(axis=2)
    return int(change[kept].max()) if kept.any() else 0


def edge_steps(photo: np.ndarray, dream: np.ndarray, strength: np.ndarray) -> dict[str, float]:
    """The added detail's neighbour-to-neighbour step (99th percentile, grey levels) across a
    mask's soft edge (strength 0.05-0.95) and inside its dreamed part (strength 1): a seam
    would make the edge's step the larger."""
    from deepdream.motion.quality import added_detail

    detail = added_detail(photo, dream).mean(axis=2)
    steps = np.maximum(
        np.abs(np.diff(detail, axis=1))[:-1, :], np.abs(np.diff(detail, axis=0))[:, :-1]
    )
    where = strength[:-1, :-1]
    edge = (where > 0.05) & (where < 0.95)
    inside = where >= 0.999
    return {
        "edge": float(np.percentile(steps[edge], 99)),
        "inside": float(np.percentile(steps[inside], 99)),
    }


# --- time, memory, tables --------------------------------------------------------------------


class DeadlineExceeded(RuntimeError):
    """The global deadline passed; the run stops and reports what it has."""


@dataclass(frozen=True)
class Deadline:
    """A point in ``time.monotonic()`` that no wait may go past."""

    end: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds)

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def limit(self, seconds: float) -> float:
        """``seconds``, shortened to what is left; raises when nothing is left."""
        left = self.remaining()
        if left <= 0:
            raise DeadlineExceeded("the global deadline passed")
        return min(seconds, left)


def peak_rss_mib() -> float:
    """This process's peak resident memory in MiB (``VmHWM`` in /proc/self/status)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("/proc/self/status has no VmHWM line")


def write_report(lines: Sequence[str], out: Path) -> None:
    """Write a benchmark's printed report to ``out`` (its folder made), and say so on stderr."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out}", file=sys.stderr)


def table(header: Sequence[str], rows: Sequence[Sequence[object]], indent: str = "  ") -> list[str]:
    """Plain left-aligned fixed-width lines: the header, then each row."""
    cells = [[str(cell) for cell in row] for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return [indent + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]


# --- a server on loopback ---------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen
    url: str
    log_path: Path


def free_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def server_command(port: int) -> list[str]:
    return [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.address", HOST, "--server.port", str(port),
        "--browser.gatherUsageStats", "false", "--server.headless", "true",
    ]  # fmt: skip


def wait_until_healthy(server: Server, deadline: Deadline, prefix: Sequence[str] = ()) -> None:
    """Until the server answers its health check (asked from inside ``prefix`` too)."""
    stop_at = time.monotonic() + deadline.limit(SERVER_START_TIMEOUT_S)
    probe = f"import urllib.request; urllib.request.urlopen('{server.url}/_stcore/health')"
    while time.monotonic() < stop_at:
        if prefix:  # another network: ask from there
            healthy = subprocess.run([*prefix, sys.executable, "-c", probe]).returncode == 0
        else:
            try:
                with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=2) as reply:
                    healthy = reply.status == 200
            except OSError:
                healthy = False
        if healthy:
            return
        if server.process.poll() is not None:
            break
        time.sleep(0.5)
    tail = server.log_path.read_text(errors="replace")[-3000:]
    raise RuntimeError(f"streamlit did not start:\n{tail}")


def stop_server(process: subprocess.Popen, grace: float = SERVER_STOP_GRACE_S) -> int:
    """SIGTERM our own server process (what a host sends), SIGKILL if it is still there after
    ``grace`` seconds; returns its exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=grace)
    return process.returncode


@contextmanager
def running_server(
    workdir: Path,
    deadline: Deadline,
    env: Mapping[str, str] | None = None,
    prefix: Sequence[str] = (),
) -> Iterator[Server]:
    """A server on a free loopback port, stopped by its PID on exit; see the module
    docstring. ``env`` is its whole environment (default: this process's)."""
    port = free_loopback_port()
    log_path = workdir / "streamlit.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [*prefix, *server_command(port)],
            cwd=REPO_ROOT,
            env=dict(os.environ if env is None else env),
            stdout=log,
            stderr=log,
        )
    server = Server(process, f"http://{HOST}:{port}", log_path)
    try:
        wait_until_healthy(server, deadline, prefix)
        yield server
    finally:
        stop_server(process)


# --- a browser -------------------------------------------------------------------------------


def need_chromium() -> list[str]:
    """What is missing of Debian's chromium and chromium-driver (empty: both are there)."""
    return [path for path in (CHROMIUM, CHROMEDRIVER) if not os.path.exists(path)]


@contextmanager
def chromium(profile_dir: Path, flags: Sequence[str] = ()) -> Iterator:
    """A headless Chromium (Selenium's driver) with its own profile folder, quit on exit."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*CHROMIUM_FLAGS, *flags, f"--user-data-dir={profile_dir}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
