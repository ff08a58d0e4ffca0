"""The same dream through the page and in the engine (issue 13, items 4 and 5).

Against a fresh ``streamlit run app.py`` server on 127.0.0.1 (one dream slot) dreaming with
InceptionV3 (a RANDOM-weight weights file this script writes and names in
``DEEPDREAM_WEIGHTS``: the same arithmetic, and so the same time, as the ImageNet weights that
cannot be downloaded here) at the precision the server picks, and one headless Chromium on
the same machine, the astronaut photo as a JPEG (640x427 in the full run) and the page's
default settings (the classic preset):

1. **First dream of a fresh server**, clicked as soon as the page allows (the photo uploaded
   the moment the page shows its uploader): the server's start-up warm-up
   (``deepdream_studio/models.py``) may still be running; the dream then queues behind it.
   Seconds from the click to the result on the page ("Download the dream (PNG)"), and the
   seconds the page's own caption gives (the engine's time inside the server).
2. **Later dreams**: Generate clicked again with the same settings (``--later`` times).
   While each runs, the CPU seconds of the server's process tree and of the browser's
   (chromedriver, Chromium and its helpers) say where the page's cost lies.
3. In the full run, a second fresh server where the click comes once the warm-up is over
   (the server settled: under 30 % of a core for 2 s): the first dream of a visitor who took
   a few seconds to choose a photo.
4. **The engine**: the same photo, decoded the same way, the same settings and weights file
   and precision, ``deepdream.dream`` in this process after one warm-up dream (best of
   ``--engine-runs``); the server and browser are closed by then.

Ratios (issue 13's targets): first / later dream through the page <= 1.15, and a later dream
through the page / the same dream in the engine <= 1.2. Servers and browsers are stopped by
their own PIDs (``bench/stress.py``'s helpers).

Run from the repository root (needs Debian's ``chromium`` and ``chromium-driver``):
    python bench/page.py            # 640x427 photo, 2 later dreams, both first-dream cases
    python bench/page.py --quick    # 160x107 photo, one later dream, first case only
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.harness import cpu_model, photo_jpeg  # noqa: E402
from bench.stress import (  # noqa: E402
    CHROMEDRIVER,
    CHROMIUM,
    DREAM_TIMEOUT_S,
    Deadline,
    DreamOutcome,
    browser_session,
    running_server,
    wait_until_quiet,
)

#: The ratios reported, by key: (what it is, the most it may be: issue 13's targets).
RATIOS = {
    "first_at_once": ("first dream of a fresh server, clicked at once / a later dream", 1.15),
    "first_after_warm_up": ("first dream once the server has settled / a later dream", 1.15),
    "later_vs_engine": ("a later dream in the page / the same dream in the engine", 1.2),
}
FULL_SHAPE, QUICK_SHAPE = (427, 640), (107, 160)  # height, width


@dataclass(frozen=True)
class PageDream:
    """One dream through the page."""

    case: str  # "first (clicked at once)", "later", "first (after warm-up)"
    seconds: float  # click to result on the page
    caption_seconds: float | None  # the page's caption: the engine's time inside the server
    server_cpu: float  # CPU seconds of the server's process tree during the dream
    browser_cpu: float  # CPU seconds of the browser's process tree during the dream
    waited: bool  # the page showed a waiting message (behind the warm-up) first


@dataclass
class PageReport:
    photo: str
    precision: str
    dreams: list[PageDream]
    engine_seconds: list[float]

    def later(self) -> float | None:
        seconds = [dream.seconds for dream in self.dreams if dream.case == "later"]
        return statistics.median(seconds) if seconds else None

    def first(self, case: str) -> float | None:
        return next((d.seconds for d in self.dreams if d.case == f"first ({case})"), None)

    def engine(self) -> float | None:
        return min(self.engine_seconds) if self.engine_seconds else None

    def ratios(self) -> dict[str, float]:
        """The ``RATIOS`` that could be measured in this run, by key."""
        later, engine = self.later(), self.engine()
        values = {
            "first_at_once": self.first("clicked at once"),
            "first_after_warm_up": self.first("after warm-up"),
        }
        ratios = {key: first / later for key, first in values.items() if first and later}
        if later and engine:
            ratios["later_vs_engine"] = later / engine
        return ratios


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` and all its descendants (alive now)."""
    total = 0.0
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return total
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def caption_seconds(caption: str) -> float | None:
    """12.3 from "DeepDream · 30 steps in 12.3 s"."""
    words = caption.split()
    for before, word in zip(words, words[1:]):
        if before == "in":
            try:
                return float(word)
            except ValueError:
                return None
    return None


def dream_through_page(page, case: str, server_pid: int, deadline: Deadline, previous: str):
    """Click Generate and follow the dream to its result; returns a ``PageDream``."""
    browser_pid = page.driver.service.process.pid
    server_before, browser_before = tree_cpu_seconds(server_pid), tree_cpu_seconds(browser_pid)
    clicked_at = page.click_generate(deadline)
    outcome: DreamOutcome = page.follow_dream(clicked_at, DREAM_TIMEOUT_S, deadline, previous)
    if outcome.error or outcome.seconds is None:
        raise RuntimeError(f"{case}: {outcome.error or 'no result'}")
    return PageDream(
        case=case,
        seconds=outcome.seconds,
        caption_seconds=caption_seconds(outcome.caption),
        server_cpu=tree_cpu_seconds(server_pid) - server_before,
        browser_cpu=tree_cpu_seconds(browser_pid) - browser_before,
        waited=outcome.waited,
    ), outcome.caption


def page_dreams(
    photo: Path, weights: Path, workdir: Path, later: int, settle: bool, deadline: Deadline
) -> list[PageDream]:
    """A fresh server and browser: the first dream (clicked at once, or once the server has
    settled when ``settle``), then ``later`` more."""
    dreams = []
    case = "first (after warm-up)" if settle else "first (clicked at once)"
    with (
        running_server(workdir, deadline, weights=weights) as server,
        browser_session(workdir, "page") as page,
    ):
        page.open_with_photo(server.url, photo, deadline)
        if settle:
            wait_until_quiet(psutil.Process(server.process.pid), deadline)
        dream, caption = dream_through_page(page, case, server.process.pid, deadline, "")
        dreams.append(dream)
        for _ in range(later):
            dream, caption = dream_through_page(
                page, "later", server.process.pid, deadline, caption
            )
            dreams.append(dream)
    return dreams


def engine_seconds(jpeg: bytes, weights: Path, runs: int) -> tuple[list[float], str]:
    """The page's default dream in this process: ``runs`` timings after one warm-up dream,
    and the precision used."""
    from deepdream import DEFAULT_PRESET, PRESETS, decode_image, dream, load_model

    model = load_model("inception_v3", weights)
    # The page's defaults (deepdream_studio/settings.py): the preset, longest side 1024, seed 0,
    # 512 tiles.
    config = PRESETS[DEFAULT_PRESET].replace(max_side=1024, seed=0, tile_size=512)
    photo = decode_image(jpeg)
    dream(photo, config, model)  # traces the step and prepares the kernels
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        dream(photo, config, model)
        seconds.append(time.perf_counter() - start)
    return seconds, model.precision


def write_random_inception(path: Path) -> None:
    """An InceptionV3 weights file with random weights (ImageNet's cannot be fetched here)."""
    from deepdream import load_model

    load_model("inception_v3", "random").backbone.save_weights(path)


def measure_page(
    quick: bool,
    later: int | None = None,
    engine_runs: int | None = None,
    settled_case: bool | None = None,
):
    """Run the cases of the module docstring (the settled first dream: full run only, unless
    ``settled_case`` says); returns a ``PageReport``."""
    shape = QUICK_SHAPE if quick else FULL_SHAPE
    later = later if later is not None else (1 if quick else 2)
    engine_runs = engine_runs if engine_runs is not None else (1 if quick else 2)
    deadline = Deadline.after(15 * 60 if quick else 40 * 60)
    jpeg = photo_jpeg(shape)
    with tempfile.TemporaryDirectory(prefix="deepdream-page-") as tmp:
        workdir = Path(tmp)
        photo, weights = workdir / "photo.jpg", workdir / "random_inception.weights.h5"
        photo.write_bytes(jpeg)
        write_random_inception(weights)
        settled_case = not quick if settled_case is None else settled_case
        cases = [False, True] if settled_case else [False]
        dreams = []
        for settle in cases:
            server_dir = Path(tempfile.mkdtemp(dir=workdir))
            dreams += page_dreams(photo, weights, server_dir, later if not settle else 0,
                                  settle, deadline)  # fmt: skip
        seconds, precision = engine_seconds(jpeg, weights, engine_runs)
    return PageReport(f"{shape[1]}x{shape[0]}", precision, dreams, seconds)


def report_lines(report: PageReport) -> list[str]:
    lines = [
        f"  photo {report.photo} JPEG, classic preset (the page's defaults), inception_v3 "
        f"with RANDOM weights, {report.precision}",
        "  case                     click->result s  caption s  server cpu s  browser cpu s"
        "  waited",
    ]
    for dream in report.dreams:
        caption = f"{dream.caption_seconds:.1f}" if dream.caption_seconds is not None else "-"
        lines.append(
            f"  {dream.case:25s}  {dream.seconds:15.1f}  {caption:>9s}  {dream.server_cpu:12.1f}"
            f"  {dream.browser_cpu:13.1f}  {'yes' if dream.waited else 'no'}"
        )
    engine = ", ".join(f"{s:.1f}" for s in report.engine_seconds)
    lines.append(f"  engine (deepdream.dream, this process, warm): {engine} s")
    for key, value in report.ratios().items():
        what, target = RATIOS[key]
        verdict = "ok" if value <= target else "MISS"
        lines.append(f"  {what}: {value:.2f}  [target <= {target:g}] {verdict}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small photo, fewer dreams")
    parser.add_argument("--later", type=int, help="later dreams through the page (2; 1)")
    parser.add_argument("--engine-runs", type=int, help="timed engine dreams (2; 1)")
    parser.add_argument(
        "--settled-case",
        action=argparse.BooleanOptionalAction,
        help="also a first dream on a second server, once settled (full run: yes)",
    )
    args = parser.parse_args(argv)
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.path.exists(path):
            print(f"needs Debian's chromium and chromium-driver: {path} is missing")
            return 2
    print(f"cpu: {cpu_model()}, {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}")
    report = measure_page(args.quick, args.later, args.engine_runs, args.settled_case)
    print("\n".join(report_lines(report)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
