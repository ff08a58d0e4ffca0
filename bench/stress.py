"""DeepDream Studio stress and soak test (issues 6 and 9): bounded, loopback only.

What it measures, against ONE ``streamlit run app.py`` server on 127.0.0.1 with ONE dream slot
(``DEEPDREAM_MAX_DREAMS=1``, so the queue is exercised on any machine) and the offline VGG16
model (``DEEPDREAM_OFFLINE=1``, ``KERAS_HOME`` an empty temporary folder and no
``DEEPDREAM_WEIGHTS``: every run is the same with or without network); photo
``tests/data/astronaut.jpg``, 256x256, default settings:

1. Memory: the server process's resident set size (RSS, children included) sampled every 0.2 s
   in a background thread for the whole run; peak per phase and a timeline.
2. Stress and the fair queue: N headless Chromium sessions (one thread and one profile folder
   each) upload the photo and meet at a ``threading.Barrier``; once the server has settled
   (its background warm-up done: under 30 % of a core for 2 s, waited at most 2 min; a
   tracing thread holds Python's lock and would reorder clicks on their way to the queue),
   session i clicks
   "Generate DeepDream Image" ``--stagger`` seconds (1.5) after session i-1, so the server
   sees the clicks in a known order even on 2 busy cores. Per session: the queue places its
   page showed ("All dream slots are busy: 2 dreams ahead of yours..." is "2 ahead", "yours
   is next" is "next"), when it got its slot (its progress bar first showed outside the queue
   message), seconds from click to the result (the "Download the dream (PNG)" button), and
   any error or "Traceback" on the page. Slots must be granted first come, first served: the
   order of the slot times must equal the click order. No session may fail.
3. Tab close: session A starts a dream, session B queues behind it, then A's browser quits
   mid-dream. B must get the slot within 60 s of the close, and then its result (A's dream is
   stopped by the disconnect, so the slot should come free well before A would have finished).
4. Soak: one session dreams M times in a row in the same server process; RSS after each dream.
   Growth from after the warm-up (dream 3, or dream 1 in a short soak) to the end must stay
   under 10 %.

The summary (date, machine, command, results, PASS/FAIL) goes to stdout and to
``bench/results/stress.txt`` (``bench/results/quick/stress.txt`` for ``--quick``, or
``--output``); the exit code is 0 only when every check passes. Every wait has a timeout and
the whole run a global deadline; the server is stopped by its own PID.

Run from the repository root (needs Debian's ``chromium`` and ``chromium-driver``, ``selenium``
and ``psutil``):
    python -m bench.stress                      # 4 sessions, 30 soak dreams: ~4 min, 2 idle cores
    python -m bench.stress --sessions 4 --soak 30 --deadline-min 20
    python -m bench.stress --quick              # 2 sessions, 2 soak dreams (the test suite's)
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import shlex
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from bench import harness
from bench.harness import (
    CHROMEDRIVER,
    CHROMIUM,
    CHROMIUM_FLAGS,
    HOST,
    REPO_ROOT,
    RESULTS,
    TEST_PHOTO,
    Deadline,
    DeadlineExceeded,
    cpu_model,
)

PHOTO = TEST_PHOTO
GENERATE_XPATH = "//button[starts-with(normalize-space(), 'Generate DeepDream Image')]"
#: The Animate page's button (the page benchmark's ``--animate``).
GENERATE_VIDEO_XPATH = "//button[starts-with(normalize-space(), 'Generate DeepDream Video')]"

SAMPLE_INTERVAL_S = 0.2
POLL_INTERVAL_S = 0.3
PAGE_READY_TIMEOUT_S = 180  # the first page load also loads the model
DREAM_TIMEOUT_S = 180  # one dream, click to result, on a busy 2-core machine
# After A's tab closes, B must get the slot within this. (Not its result: on a loaded machine
# one dream alone can take longer than this, and the slot coming free is what is tested.)
TAB_CLOSE_LIMIT_S = 60.0
CLICK_STAGGER_S = 1.5  # session i clicks this long after session i-1: a known arrival order
DREAM_SLOTS = 1  # the server's DEEPDREAM_MAX_DREAMS: with one slot every surplus click queues
SOAK_GROWTH_LIMIT_PCT = 10.0
SOAK_WARMUP_DREAMS = 3
MB = 1024 * 1024
LOG_PROBLEMS = r"Traceback|Exception|dream failed"
LOG_WARNINGS = r"WARNING|Warning"

# One round trip per poll: what the page shows right now. Elements left over from an earlier
# script run are marked data-stale="true" by Streamlit's frontend and do not count.
PROBE_JS = r"""
const text = document.body ? document.body.innerText : "";
const live = Array.from(document.querySelectorAll(
  '[data-testid="stElementContainer"]:not([data-stale="true"])'));
const progress = text.match(/Octave \d+\/\d+ . step \d+\/\d+[^\n]*/);
const caption = text.match(/DeepDream · [^\n]*/);
const failure = document.querySelector(
  '[data-testid="stException"], [data-testid="stAlertContentError"]');
let error = failure ? (failure.innerText || "error element").slice(0, 300) : "";
if (!error && text.includes("Traceback")) error = "'Traceback' in the page";
// "All dream slots are busy: 2 dreams ahead of yours..." / "...: yours is next, waiting..."
const liveText = live.map(c => c.innerText || "").join("\n");
const queued = liveText.match(
  /All dream slots are busy: (?:(yours is next)|(\d+) dreams? ahead)/);
// "The server is getting the dreaming network ready ...": behind the start-up warm-up.
const warming = liveText.includes("getting the dreaming network ready");
return {
  waiting: queued !== null || warming,
  place: queued ? (queued[1] ? "next" : queued[2] + " ahead") : (warming ? "warm-up" : ""),
  progress: progress ? progress[0] : "",
  progress_bar: live.some(c => c.querySelector('[data-testid="stProgress"]') !== null),
  download: live.some(c => c.innerText.includes("Download the dream")),
  caption: caption ? caption[0] : "",
  error: error,
};
"""


# --- the server ----------------------------------------------------------------------------


def running_server(
    workdir: Path,
    deadline: Deadline,
    weights: Path | None = None,
    slots: int = DREAM_SLOTS,
    keras_home: Path | None = None,
):
    """The harness's server with this script's settings: without ``weights`` it dreams with
    the offline VGG16; with them, with InceptionV3 and that weights file. With ``keras_home``
    it reads Keras's cache there (e.g. one holding the nsfwjs import)."""
    if keras_home is None:
        keras_home = workdir / "keras-home"
        keras_home.mkdir()
    env = {name: value for name, value in os.environ.items() if name != "DEEPDREAM_WEIGHTS"}
    env.update(
        # No weights named, no download, an empty Keras cache: the offline VGG16 model, the
        # same with or without network (a named but missing weights file is an error now).
        DEEPDREAM_OFFLINE="1",
        KERAS_HOME=str(keras_home),
        DEEPDREAM_MAX_DREAMS=str(slots),
        TF_CPP_MIN_LOG_LEVEL="2",
        **({"DEEPDREAM_WEIGHTS": str(weights)} if weights else {}),
    )
    return harness.running_server(workdir, deadline, env=env)


# --- memory --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RssSample:
    seconds: float  # since the sampler started
    rss: int
    phase: str


def tree_rss(process: psutil.Process) -> int:
    """RSS of ``process`` plus all its children, in bytes."""
    total = process.memory_info().rss
    for child in process.children(recursive=True):
        with suppress(psutil.Error):
            total += child.memory_info().rss
    return total


class RssSampler(threading.Thread):
    """Samples the server's RSS every ``interval`` seconds until stopped or ``deadline``."""

    def __init__(self, pid: int, deadline: Deadline, interval: float = SAMPLE_INTERVAL_S):
        super().__init__(name="rss-sampler", daemon=True)
        self.process = psutil.Process(pid)
        self.deadline = deadline
        self.interval = interval
        self.phase = "start"
        self.samples: list[RssSample] = []
        self._stop_event = threading.Event()
        self._started_at = time.monotonic()

    def run(self) -> None:
        while self.deadline.remaining() > 0 and not self._stop_event.is_set():
            try:
                self.take_sample()
            except psutil.Error:
                return  # the server is gone
            self._stop_event.wait(self.interval)

    def take_sample(self) -> int:
        rss = tree_rss(self.process)
        self.samples.append(RssSample(time.monotonic() - self._started_at, rss, self.phase))
        return rss

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)

    def peak(self, phase: str | None = None) -> int:
        return max((s.rss for s in self.samples if phase in (None, s.phase)), default=0)

    def timeline(self, points: int = 40) -> list[RssSample]:
        """The highest sample in each of about ``points`` equal time buckets."""
        if not self.samples:
            return []
        bucket = max(5.0, self.samples[-1].seconds / points)
        best: dict[int, RssSample] = {}
        for sample in self.samples:
            key = int(sample.seconds // bucket)
            if key not in best or sample.rss > best[key].rss:
                best[key] = sample
        return [best[key] for key in sorted(best)]


# --- one browser session -------------------------------------------------------------------


@dataclass(frozen=True)
class PageState:
    waiting: bool  # "All dream slots are busy: ..." (the queue message) is on the page
    place: str  # the place it says: "next" or "2 ahead" ("" when not queueing)
    progress: str  # "Octave 1/3 · step 2/10 ..." while dreaming in a slot
    progress_bar: bool  # a live (not stale) progress bar
    download: bool  # a live "Download the dream (PNG)" button: the result is shown
    caption: str  # "DeepDream · 30 steps in 4.2 s"
    error: str  # an exception or st.error on the page, or "Traceback" in its text


@dataclass
class DreamOutcome:
    clicked_at: float  # time.monotonic() of the click
    waited: bool = False
    places: list[str] = field(default_factory=list)  # queue places shown, in order, no repeats
    slot_at: float | None = None  # when its progress first showed outside the waiting message
    done_at: float | None = None  # when the result was on the page
    caption: str = ""
    error: str = ""

    @property
    def seconds(self) -> float | None:
        return None if self.done_at is None else self.done_at - self.clicked_at


class DreamPage:
    """One headless Chromium with its own profile folder, on the page."""

    def __init__(self, profile_dir: Path) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile_dir}"]:
            options.add_argument(flag)
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        self.driver.set_page_load_timeout(PAGE_READY_TIMEOUT_S)
        self.driver.set_script_timeout(30)
        self.closed = False

    def close(self) -> None:
        """Quit the browser (the tab closes; the server sees the session disconnect)."""
        if not self.closed:
            self.closed = True
            self.driver.quit()

    def open_with_photo(
        self, url: str, photo: Path, deadline: Deadline, button: str = GENERATE_XPATH
    ) -> None:
        """Load the page, upload ``photo`` (or a video) and wait until ``button`` (Generate)
        can be clicked."""
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec
        from selenium.webdriver.support.ui import WebDriverWait

        if not url.startswith(f"http://{HOST}:"):
            raise ValueError(f"loopback only, not {url}")
        self.driver.get(url)
        wait = WebDriverWait(self.driver, deadline.limit(PAGE_READY_TIMEOUT_S))
        upload = wait.until(
            ec.presence_of_element_located(
                (By.CSS_SELECTOR, "[data-testid=stMain] input[type=file]")
            )
        )
        upload.send_keys(str(photo))
        wait.until(ec.element_to_be_clickable((By.XPATH, button)))

    def click_generate(self, deadline: Deadline, button: str = GENERATE_XPATH) -> float:
        """Click Generate (retrying while Streamlit redraws it); returns the click time."""
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec
        from selenium.webdriver.support.ui import WebDriverWait

        wait = WebDriverWait(self.driver, deadline.limit(30))
        for attempt in range(5):
            found = wait.until(ec.element_to_be_clickable((By.XPATH, button)))
            try:
                clicked_at = time.monotonic()
                found.click()
                return clicked_at
            except WebDriverException:  # stale or covered while the page redraws
                if attempt == 4:
                    raise
                time.sleep(0.5)
        raise AssertionError("unreachable")

    def probe(self) -> PageState:
        return PageState(**self.driver.execute_script(PROBE_JS))

    def wait_for(
        self, condition: Callable[[PageState], bool], timeout: float, deadline: Deadline
    ) -> PageState:
        """Poll until ``condition(state)`` or an error shows; raises ``TimeoutError``."""
        stop_at = time.monotonic() + deadline.limit(timeout)
        while time.monotonic() < stop_at:
            state = self.probe()
            if state.error or condition(state):
                return state
            time.sleep(POLL_INTERVAL_S)
        raise TimeoutError(f"no matching page state within {timeout:.0f} s")

    def read_caption(self, state: PageState, previous_caption: str, tries: int = 5) -> str:
        """The result's caption ("DeepDream · 30 steps in 4.2 s"), given a moment to draw."""
        for _ in range(tries):
            if state.caption and state.caption != previous_caption:
                break
            time.sleep(POLL_INTERVAL_S)
            state = self.probe()
        return state.caption

    def follow_dream(
        self, clicked_at: float, timeout: float, deadline: Deadline, previous_caption: str = ""
    ) -> DreamOutcome:
        """Watch a dream started at ``clicked_at`` until its result, an error or the timeout."""
        outcome = DreamOutcome(clicked_at)
        started = False
        stop_at = min(clicked_at + timeout, deadline.end)
        while time.monotonic() < stop_at:
            state = self.probe()
            now = time.monotonic()
            outcome.caption = state.caption or outcome.caption
            if state.error:
                outcome.error = state.error
                return outcome
            outcome.waited |= state.waiting
            if state.place and state.place not in outcome.places[-1:]:
                outcome.places.append(state.place)
            started |= bool(
                state.waiting
                or state.progress
                or state.progress_bar
                or (state.caption and state.caption != previous_caption)
            )
            if state.progress and not state.waiting and outcome.slot_at is None:
                outcome.slot_at = now
            if started and state.download and not state.progress_bar:
                outcome.done_at = now
                outcome.caption = self.read_caption(state, previous_caption)
                return outcome
            time.sleep(POLL_INTERVAL_S)
        outcome.error = f"no result within {stop_at - clicked_at:.0f} s"
        return outcome


@contextmanager
def browser_session(profile_root: Path, name: str) -> Iterator[DreamPage]:
    page = DreamPage(Path(tempfile.mkdtemp(prefix=f"{name}-", dir=profile_root)))
    try:
        yield page
    finally:
        page.close()


# --- phase 1: concurrent sessions ----------------------------------------------------------


@dataclass
class StressResult:
    sessions: int
    stagger: float  # seconds between one session's click and the next one's
    outcomes: dict[int, DreamOutcome] = field(default_factory=dict)
    failures: dict[int, str] = field(default_factory=dict)  # sessions that never got to click
    peak_rss: int = 0
    released_at: float = 0.0  # time.monotonic() when all sessions were ready (the barrier)
    settled_after: float = 0.0  # seconds the ready sessions waited for the server to settle

    def mark_released(self) -> None:
        self.released_at = time.monotonic()

    def click_spread(self) -> float:
        clicks = [o.clicked_at for o in self.outcomes.values()]
        return max(clicks) - min(clicks) if clicks else 0.0

    def click_order(self) -> list[int]:
        """Sessions in the order they clicked Generate."""
        return sorted(self.outcomes, key=lambda index: self.outcomes[index].clicked_at)

    def slot_order(self) -> list[int]:
        """Sessions in the order they got a dream slot (those that never did are left out)."""
        got = [index for index, o in self.outcomes.items() if o.slot_at is not None]
        return sorted(got, key=lambda index: self.outcomes[index].slot_at)

    def first_come_first_served(self) -> bool:
        """Every session clicked and got a slot, and the slots went in click order."""
        return (
            len(self.outcomes) == self.sessions
            and not self.failures
            and self.slot_order() == self.click_order()
        )

    def all_finished(self) -> bool:
        return (
            len(self.outcomes) == self.sessions
            and not self.failures
            and all(o.done_at is not None and not o.error for o in self.outcomes.values())
        )


def stress_session(
    index: int,
    url: str,
    barrier: threading.Barrier,
    profile_root: Path,
    deadline: Deadline,
    result: StressResult,
) -> None:
    """One thread: prepare, meet the others at the barrier, wait for this session's turn to
    click (``index - 1`` staggers after the barrier), click, follow the dream."""
    try:
        with browser_session(profile_root, f"stress{index}") as page:
            page.open_with_photo(url, PHOTO, deadline)
            barrier.wait(timeout=deadline.limit(PAGE_READY_TIMEOUT_S * 2))
            turn = result.released_at + (index - 1) * result.stagger
            time.sleep(deadline.limit(max(0.0, turn - time.monotonic())))
            clicked_at = page.click_generate(deadline)
            timeout = DREAM_TIMEOUT_S * result.sessions
            result.outcomes[index] = page.follow_dream(clicked_at, timeout, deadline)
    except Exception as error:  # reported, never raised: the other sessions carry on
        barrier.abort()
        result.failures[index] = f"{type(error).__name__}: {error}".strip()[:300]


#: The server counts as settled once it uses less than this share of one core ...
QUIET_CPU_SHARE = 0.3
#: ... for this long (seconds); waited for at most QUIET_WAIT_LIMIT_S.
QUIET_FOR_S, QUIET_WAIT_LIMIT_S = 2.0, 120.0


def wait_until_quiet(process: psutil.Process, deadline: Deadline) -> float:
    """Wait until the server has settled (its background warm-up of the default dream done:
    a tracing thread holds Python's lock and would reorder the sessions' clicks on their way to
    the queue); returns the seconds waited."""
    started = time.monotonic()
    quiet_since = None
    process.cpu_percent(None)
    while time.monotonic() - started < min(QUIET_WAIT_LIMIT_S, deadline.remaining()):
        time.sleep(0.5)
        with suppress(psutil.Error):
            busy = process.cpu_percent(None) / 100.0
            if busy >= QUIET_CPU_SHARE:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= QUIET_FOR_S:
                break
    return time.monotonic() - started


def run_stress(
    url: str,
    sessions: int,
    stagger: float,
    profile_root: Path,
    sampler: RssSampler,
    deadline: Deadline,
) -> StressResult:
    result = StressResult(sessions, stagger)

    def release() -> None:  # every page is open: let the server settle, then click in turn
        result.settled_after = wait_until_quiet(sampler.process, deadline)
        result.mark_released()

    barrier = threading.Barrier(sessions, action=release)
    threads = [
        threading.Thread(
            target=stress_session,
            args=(i, url, barrier, profile_root, deadline, result),
            name=f"stress-{i}",
            daemon=True,
        )
        for i in range(1, sessions + 1)
    ]
    sampler.phase = "stress"
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(1.0, deadline.remaining()))
        if thread.is_alive():
            index = int(thread.name.split("-")[1])
            result.failures.setdefault(index, "still running at the global deadline")
    result.peak_rss = sampler.peak("stress")
    return result


# --- phase 2: closing a tab mid-dream frees the slot ---------------------------------------


@dataclass
class TabCloseResult:
    a_progress_at_close: str = ""
    b_waited_before_close: bool = False
    slot_freed_after: float | None = None  # seconds from A's close to B's first progress
    b_result_after: float | None = None  # seconds from A's close to B's result
    error: str = ""

    def a_seconds_left(self) -> float | None:
        """A's own estimate of its remaining time at the close ("about 5 s left")."""
        found = re.search(r"about (\d+) s left", self.a_progress_at_close)
        return float(found.group(1)) if found else None

    def passed(self) -> bool:
        return (
            not self.error
            and self.b_waited_before_close
            and self.b_result_after is not None
            and self.slot_freed_after is not None
            and self.slot_freed_after <= TAB_CLOSE_LIMIT_S
        )


def run_tab_close(
    url: str, profile_root: Path, sampler: RssSampler, deadline: Deadline
) -> TabCloseResult:
    """A dreams, B queues behind it, A's browser quits: B must get the slot and its result."""
    sampler.phase = "tab-close"
    result = TabCloseResult()
    try:
        with (
            browser_session(profile_root, "close-a") as page_a,
            browser_session(profile_root, "close-b") as page_b,
        ):
            page_a.open_with_photo(url, PHOTO, deadline)
            page_b.open_with_photo(url, PHOTO, deadline)
            page_a.click_generate(deadline)
            state_a = page_a.wait_for(lambda s: bool(s.progress), DREAM_TIMEOUT_S, deadline)
            clicked_b = page_b.click_generate(deadline)
            state_b = page_b.wait_for(lambda s: s.waiting or s.download, 60, deadline)
            result.b_waited_before_close = state_b.waiting
            if state_a.error or state_b.error:
                result.error = state_a.error or state_b.error
                return result
            result.a_progress_at_close = page_a.probe().progress
            closed_at = time.monotonic()
            page_a.close()
            outcome = page_b.follow_dream(clicked_b, DREAM_TIMEOUT_S, deadline)
            result.error = outcome.error
            if outcome.slot_at is not None:
                result.slot_freed_after = outcome.slot_at - closed_at
            if outcome.done_at is not None:
                result.b_result_after = outcome.done_at - closed_at
    except DeadlineExceeded:
        raise
    except Exception as error:
        result.error = f"{type(error).__name__}: {error}".strip()[:300]
    return result


# --- phase 3: many dreams in one session ---------------------------------------------------


@dataclass
class SoakResult:
    planned: int
    seconds: list[float] = field(default_factory=list)  # click to result, per dream
    captions: list[str] = field(default_factory=list)
    rss_after: list[int] = field(default_factory=list)  # server RSS right after each dream
    error: str = ""

    @property
    def warmup_index(self) -> int:
        """The dream whose RSS is the base for growth: the warm-up, or the first of a short
        soak (so that even two dreams compare two different moments)."""
        return max(0, min(SOAK_WARMUP_DREAMS, len(self.rss_after) - 1) - 1)

    def growth_pct(self) -> float | None:
        if len(self.rss_after) < 2:
            return None
        base = self.rss_after[self.warmup_index]
        return 100.0 * (self.rss_after[-1] - base) / base

    def slope_mb_per_dream(self) -> float | None:
        """Least-squares RSS trend after the warm-up, in MB per dream."""
        points = self.rss_after[self.warmup_index :]
        if len(points) < 3:
            return None
        xs = range(len(points))
        return statistics.linear_regression(xs, [p / MB for p in points]).slope

    def passed(self) -> bool:
        growth = self.growth_pct()
        return (
            not self.error
            and len(self.rss_after) == self.planned
            and growth is not None
            and growth < SOAK_GROWTH_LIMIT_PCT
        )


def run_soak(
    url: str, dreams: int, profile_root: Path, sampler: RssSampler, deadline: Deadline
) -> SoakResult:
    sampler.phase = "soak"
    result = SoakResult(dreams)
    try:
        with browser_session(profile_root, "soak") as page:
            page.open_with_photo(url, PHOTO, deadline)
            caption = ""
            for _ in range(dreams):
                clicked_at = page.click_generate(deadline)
                outcome = page.follow_dream(clicked_at, DREAM_TIMEOUT_S, deadline, caption)
                if outcome.error or outcome.seconds is None:
                    result.error = outcome.error or "no result"
                    break
                caption = outcome.caption
                result.seconds.append(outcome.seconds)
                result.captions.append(caption)
                result.rss_after.append(sampler.take_sample())
    except DeadlineExceeded:
        result.error = "the global deadline passed"
    except Exception as error:
        result.error = f"{type(error).__name__}: {error}".strip()[:300]
    return result


# --- the report ----------------------------------------------------------------------------


def mb(value: int) -> str:
    return f"{value / MB:,.0f} MB"


def secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def server_log_lines(log_path: Path, pattern: str) -> list[str]:
    """Lines of the server log that match ``pattern`` (a regular expression)."""
    try:
        lines = log_path.read_text(errors="replace").splitlines()
    except OSError:
        return []
    return [line for line in lines if re.search(pattern, line)]


def order_text(indices: list[int]) -> str:
    return ", ".join(map(str, indices)) or "-"


def stress_lines(stress: StressResult, slots: int) -> list[str]:
    """The stress phase: one line per session (times from the first click), then the queue."""
    clicks = [o.clicked_at for o in stress.outcomes.values()]
    first = min(clicks, default=0.0)

    def at(moment: float | None) -> str:
        return "-" if moment is None else f"+{moment - first:.1f} s"

    lines = [
        f"Stress: {stress.sessions} sessions, each clicking {stress.stagger:g} s after the one "
        f"before (clicks spread over {stress.click_spread():.1f} s), {slots} dream slot(s); "
        f"times from the first click (the server settled {stress.settled_after:.0f} s after "
        "every page was open)"
    ]
    for index in range(1, stress.sessions + 1):
        outcome = stress.outcomes.get(index)
        if outcome is None:
            failure = stress.failures.get(index, "did not run")
            lines.append(f"  session {index}: FAILED before its dream: {failure}")
            continue
        places = " > ".join(outcome.places) or "none"
        status = f"ERROR: {outcome.error}" if outcome.error else "ok"
        lines.append(
            f"  session {index}: clicked {at(outcome.clicked_at)}, queue places seen: {places}; "
            f"slot {at(outcome.slot_at)}, result {at(outcome.done_at)} "
            f"({secs(outcome.seconds)} after its click) [{outcome.caption or 'no caption'}] "
            f"{status}"
        )
    queued = sum(o.waited for o in stress.outcomes.values())
    lines.append(
        f"  queued: {queued} of {stress.sessions} (with {slots} slot(s), at least "
        f"{max(0, stress.sessions - slots)} expected)"
    )
    lines.append(f"  peak server RSS during stress: {mb(stress.peak_rss)}")
    lines.append("Queue (slots must go first come, first served):")
    lines.append(f"  click order: {order_text(stress.click_order())}")
    lines.append(f"  slot order:  {order_text(stress.slot_order())}")
    seen = "; ".join(
        f"{index}: {' > '.join(stress.outcomes[index].places) or 'none'}"
        for index in stress.click_order()
    )
    lines.append(f"  places seen: {seen or '-'}")
    return lines


def tab_close_lines(tab: TabCloseResult) -> list[str]:
    left, freed = tab.a_seconds_left(), tab.slot_freed_after
    if left is None or freed is None:
        verdict = "-"
    elif freed < left:
        verdict = "yes: the disconnect stopped A's dream"
    else:
        verdict = "no: the slot came free only about when A would have finished anyway"
    return [
        "Tab close: A dreams, B queues, A's browser quits mid-dream",
        f"  B saw the queue message before the close: {tab.b_waited_before_close}",
        f"  A's progress at the close: {tab.a_progress_at_close or '-'}",
        f"  B got the slot {secs(tab.slot_freed_after)} after the close (limit "
        f"{TAB_CLOSE_LIMIT_S:.0f} s), its result {secs(tab.b_result_after)} after",
        f"  slot freed before A would have finished: {verdict}",
        f"  error: {tab.error or 'none'}",
    ]


def soak_lines(soak: SoakResult) -> list[str]:
    done = len(soak.rss_after)
    lines = [f"Soak: {done} of {soak.planned} dreams in a row in one session"]
    if soak.seconds:
        lines.append(
            f"  time per dream (click to result): median {statistics.median(soak.seconds):.1f} s,"
            f" min {min(soak.seconds):.1f} s, max {max(soak.seconds):.1f} s;"
            f" server: [{soak.captions[-1]}]"
        )
    if done >= 2:
        warm = soak.warmup_index
        growth = soak.growth_pct()
        lines.append(
            f"  RSS after dream {warm + 1} (warm-up): {mb(soak.rss_after[warm])}; after dream "
            f"{done}: {mb(soak.rss_after[-1])}; growth {growth:+.1f} % "
            f"(target < {SOAK_GROWTH_LIMIT_PCT:.0f} %)"
        )
        slope = soak.slope_mb_per_dream()
        trend = "-" if slope is None else f"{slope:+.2f} MB per dream (least squares)"
        lines.append(
            f"  RSS after the first dream: {mb(soak.rss_after[0])}; trend after warm-up: {trend}"
        )
    per_dream = ", ".join(f"{i}:{r / MB:.0f}" for i, r in enumerate(soak.rss_after, start=1))
    lines.append(f"  RSS (MB) after each dream: {per_dream or '-'}")
    lines.append(f"  error: {soak.error or 'none'}")
    return lines


def timeline_lines(sampler: RssSampler) -> list[str]:
    lines = [
        f"Server RSS timeline ({len(sampler.samples)} samples every {sampler.interval} s; "
        "highest per time bucket):"
    ]
    for sample in sampler.timeline():
        lines.append(f"  t={sample.seconds:6.1f} s  {mb(sample.rss):>9}  {sample.phase}")
    for phase in ("start", "stress", "tab-close", "soak"):
        if any(s.phase == phase for s in sampler.samples):
            lines.append(f"  peak in {phase}: {mb(sampler.peak(phase))}")
    return lines


@dataclass
class RunReport:
    args: argparse.Namespace
    started: datetime.datetime
    stress: StressResult | None = None
    tab_close: TabCloseResult | None = None
    soak: SoakResult | None = None
    sampler: RssSampler | None = None
    log_problems: list[str] = field(default_factory=list)
    log_warnings: list[str] = field(default_factory=list)
    fatal: str = ""
    wall_seconds: float = 0.0

    def checks(self) -> list[tuple[bool, str]]:
        peak = self.sampler.peak() if self.sampler else 0
        limit = self.args.max_rss_mb * MB
        stress_ok = self.stress is not None and self.stress.all_finished()
        fifo_ok = self.stress is not None and self.stress.first_come_first_served()
        orders = (
            f"click order {order_text(self.stress.click_order())}, slot order "
            f"{order_text(self.stress.slot_order())}"
            if self.stress
            else "no stress run"
        )
        growth = self.soak.growth_pct() if self.soak else None
        growth_text = "-" if growth is None else f"{growth:+.1f} %"
        tab = self.tab_close
        return [
            (stress_ok, f"all {self.args.sessions} stress sessions finished without error"),
            (fifo_ok, f"slots granted first come, first served ({orders})"),
            (0 < peak <= limit, f"peak server RSS {mb(peak)} <= {mb(limit)}"),
            (
                self.soak is not None and self.soak.passed(),
                f"soak RSS growth {growth_text} < {SOAK_GROWTH_LIMIT_PCT:.0f} % over "
                f"{len(self.soak.rss_after) if self.soak else 0} dreams",
            ),
            (
                tab is not None and tab.passed(),
                f"closing a tab mid-dream freed the slot: the queued dream got it "
                f"{secs(tab.slot_freed_after if tab else None)} after (<= "
                f"{TAB_CLOSE_LIMIT_S:.0f} s) and finished",
            ),
            (not self.log_problems, f"server log free of tracebacks ({len(self.log_problems)})"),
            (
                not self.fatal,
                f"run completed within the deadline{': ' + self.fatal if self.fatal else ''}",
            ),
        ]

    def render(self) -> str:
        args = self.args
        memory = psutil.virtual_memory().total / 1024**3
        lines = [
            f"DeepDream Studio stress and soak (issues 6, 9): "
            f"{'QUICK' if args.quick else 'FULL'} run",
            f"date: {self.started.isoformat(timespec='seconds')}",
            f"machine: {os.cpu_count()} cores, {cpu_model()}, {memory:.1f} GiB RAM, "
            f"{platform.platform()}, Python {platform.python_version()}",
            f"command: python -m bench.stress {shlex.join(sys.argv[1:])}".rstrip(),
            f"settings: sessions {args.sessions} (clicks {args.stagger:g} s apart), soak "
            f"{args.soak}, deadline {args.deadline_min:g} min, {DREAM_SLOTS} dream slot(s), "
            f"photo {PHOTO.relative_to(REPO_ROOT)}, offline VGG16 (DEEPDREAM_OFFLINE=1, empty "
            f"KERAS_HOME), default preset; server on {HOST} only",
            f"wall time: {self.wall_seconds:.0f} s",
            "",
        ]
        if self.stress:
            lines += [*stress_lines(self.stress, DREAM_SLOTS), ""]
        if self.tab_close:
            lines += [*tab_close_lines(self.tab_close), ""]
        if self.soak:
            lines += [*soak_lines(self.soak), ""]
        if self.sampler:
            lines += [*timeline_lines(self.sampler), ""]
        if self.log_problems:
            lines += ["Server log problems (first 10):", *self.log_problems[:10], ""]
        if self.log_warnings:
            lines += [f"Server log warnings: {len(self.log_warnings)} (first 5):"]
            lines += [f"  {line[:200]}" for line in self.log_warnings[:5]] + [""]
        checks = self.checks()
        lines.append("Checks:")
        lines += [f"  {'PASS' if ok else 'FAIL'}  {text}" for ok, text in checks]
        lines.append(f"RESULT: {'PASS' if all(ok for ok, _ in checks) else 'FAIL'}")
        return "\n".join(lines) + "\n"


# --- main ----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=None, help="concurrent sessions (4)")
    parser.add_argument("--soak", type=int, default=None, help="dreams in a row (30)")
    parser.add_argument(
        "--quick", "--smoke", action="store_true", help="2 sessions, 2 soak dreams (test suite)"
    )
    parser.add_argument(
        "--stagger", type=float, default=CLICK_STAGGER_S, help="seconds between clicks (1.5)"
    )
    parser.add_argument("--deadline-min", type=float, default=None, help="whole run (20; 12)")
    parser.add_argument("--max-rss-mb", type=int, default=4096, help="peak RSS limit (4096)")
    parser.add_argument("--output", type=Path, default=None, help="where the summary goes")
    args = parser.parse_args(argv)
    quick = args.quick
    args.sessions = args.sessions or (2 if quick else 4)
    args.soak = args.soak or (2 if quick else 30)
    # Generous for a short run: on a shared, loaded 2-core machine it took 7.7 min.
    args.deadline_min = args.deadline_min or (12.0 if quick else 20.0)
    args.output = args.output or RESULTS / ("quick" if quick else "") / "stress.txt"
    if not 1 <= args.sessions <= 8:
        parser.error("--sessions must be 1..8 (each is a Chromium on this machine)")
    if not 1 <= args.soak <= 200:
        parser.error("--soak must be 1..200")
    if not 0 <= args.stagger <= 10:
        parser.error("--stagger must be 0..10 seconds")
    return args


def run(args: argparse.Namespace) -> RunReport:
    report = RunReport(args, datetime.datetime.now().astimezone())
    deadline = Deadline.after(args.deadline_min * 60)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="deepdream-stress-") as tmp:
        workdir = Path(tmp)
        try:
            with running_server(workdir, deadline) as server:
                sampler = report.sampler = RssSampler(server.process.pid, deadline)
                sampler.start()
                try:
                    print(f"server up at {server.url}; stress with {args.sessions} sessions")
                    report.stress = run_stress(
                        server.url, args.sessions, args.stagger, workdir, sampler, deadline
                    )
                    print("tab close")
                    report.tab_close = run_tab_close(server.url, workdir, sampler, deadline)
                    print(f"soak: {args.soak} dreams")
                    report.soak = run_soak(server.url, args.soak, workdir, sampler, deadline)
                finally:
                    sampler.stop()
                    report.log_problems = server_log_lines(server.log_path, LOG_PROBLEMS)
                    report.log_warnings = server_log_lines(server.log_path, LOG_WARNINGS)
        except Exception as error:  # the summary still gets written, marked FAIL
            report.fatal = f"{type(error).__name__}: {error}".strip()[:500]
    report.wall_seconds = time.monotonic() - started
    return report


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.path.exists(path):
            print(f"needs Debian's chromium and chromium-driver: {path} is missing")
            return 2
    # A caller that gives up on us (a test's timeout) sends SIGTERM: unwind, so the server is
    # still stopped by the ``finally`` blocks.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    report = run(args)
    text = report.render()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(text)
    print(f"written to {args.output}")
    return 0 if text.rstrip().endswith("PASS") else 1


if __name__ == "__main__":
    sys.exit(main())
