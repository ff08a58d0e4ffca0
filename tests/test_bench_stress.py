"""``python -m bench.stress --quick`` runs in the test suite, so the stress script cannot rot.

It starts its own server on loopback, drives two headless Chromium sessions that click in a
known order, closes a tab mid-dream and dreams twice in a row; this test runs it as a
subprocess, its summary written under the test's tmp folder, and requires every check to pass,
the first-come-first-served queue check included. The script stops its server by its own PID;
if it outlives its own deadline this test stops it (SIGTERM, then kill) by its PID too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).parent.parent
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
DEADLINE_MIN = 12  # the script's own global deadline (its --quick default)


def _need_browser() -> None:
    """As in test_browser.py: skip without Chromium, except under CI, where it must exist."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.path.exists(p)]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must install chromium and chromium-driver; missing {missing}")
        pytest.skip(f"needs Debian's chromium and chromium-driver ({missing} missing)")


def _run_to_the_end(command: list[str], timeout: float) -> subprocess.CompletedProcess:
    """Run ``command``; past ``timeout`` stop it by its PID (SIGTERM lets it stop its server)."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.terminate()
        try:
            output, _ = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        pytest.fail(f"python -m bench.stress ran past {timeout:.0f} s:\n{output[-3000:]}")
    return subprocess.CompletedProcess(command, process.returncode, output, "")


def test_quick_stress_run_passes_with_a_first_come_first_served_queue(tmp_path):
    _need_browser()
    summary_path = tmp_path / "stress.txt"
    command = [sys.executable, "-m", "bench.stress", "--quick", "--output", str(summary_path)]
    run = _run_to_the_end(command, timeout=DEADLINE_MIN * 60 + 120)

    assert summary_path.exists(), run.stdout[-3000:]
    summary = summary_path.read_text()
    assert run.returncode == 0, summary
    assert summary.rstrip().endswith("RESULT: PASS"), summary
    assert "  FAIL  " not in summary, summary
    assert "PASS  slots granted first come, first served (click order 1, 2, slot order 1, 2)" in (
        summary
    ), summary
    # The second session queued behind the first and its page said so.
    assert "  places seen: 1: none; 2: next" in summary, summary


def test_quick_page_benchmark_times_the_page_against_the_engine():
    """``python -m bench.page --quick --animate``: a fresh server, one first and one later
    dream through Chromium, then a video through the Animate page, each against the same in
    the engine, and the ratios against the goals."""
    _need_browser()
    command = [sys.executable, "-m", "bench.page", "--quick", "--no-settled-case", "--animate"]
    run = _run_to_the_end(command, timeout=15 * 60)
    assert run.returncode == 0, run.stdout[-3000:]
    rows = {line.split("  ")[1]: line for line in run.stdout.splitlines() if "  " in line[2:]}
    assert "first (clicked at once)" in rows and "later" in rows, run.stdout
    later_seconds = float(rows["later"].split()[1])
    assert later_seconds > 0, run.stdout
    engine = next(line for line in run.stdout.splitlines() if "engine (deepdream.dream" in line)
    assert float(engine.split(":")[-1].split()[0].rstrip(",")) > 0, run.stdout
    assert "a later dream in the page / the same dream in the engine: " in run.stdout
    assert float(rows["video"].split()[1]) > 0, run.stdout  # the Animate page's video
    assert "a later video in the Animate page / the same video in the engine: " in run.stdout
    assert "frames per second: " in run.stdout and "on the Animate page" in run.stdout


def test_the_page_ratio_pairs_each_page_dream_with_the_engine_s_right_after_it():
    """The machine's pace drifts: each page dream is divided by the engine's best of the runs
    timed right after it, not by the best engine run of the whole session."""
    from bench.page import paired_ratios

    page = [2.0, 4.0]  # the second page dream came while the machine was slow
    engine = [1.0, 1.2, 2.0, 2.5]  # two engine runs after each
    assert paired_ratios(page, engine) == [2.0, 2.0]
    assert paired_ratios(page, engine[:1]) == []  # too few engine runs: no ratio


def test_a_first_dream_is_paired_with_the_dream_right_after_it_on_its_server():
    """Not with the fastest later dream of the run (minutes away, on another server)."""
    from bench.page import FIRST_AT_ONCE, FIRST_SETTLED, PageDream, PageReport

    def dream(case: str, seconds: float) -> PageDream:
        return PageDream(case, seconds, None, None, 0.0, 0.0, None, None, False)

    dreams = [dream(FIRST_AT_ONCE, 6.0), dream("later", 2.0), dream("later", 1.0),
              dream(FIRST_SETTLED, 3.0), dream("later", 2.5)]  # fmt: skip
    ratios = PageReport("160x107", "random", "float32", dreams, []).ratios()
    assert ratios == {"first_at_once": 3.0, "first_after_warm_up": 1.2}


def test_the_page_profile_names_each_sampled_stack_s_phase():
    from bench.page import phase_samples

    stacks = [
        "_run_script (streamlit/runtime/x.py:1);dream_steps (deepdream/render.py:9);"
        "__call__ (tensorflow/python/eager/y.py:3) 30",
        "live_run (deepdream_studio/live.py:2);to_png (deepdream/result.py:5);"
        "encode_png (deepdream/media/image.py:7) 5",
        "_run_script (streamlit/runtime/x.py:1);settings_ui (deepdream_studio/settings.py:4) 2",
        "run (threading.py:982) 1",
        "not a stack line",
    ]
    assert phase_samples(stacks) == {
        "the dream's steps (TensorFlow)": 30,
        "encoding the PNG and its record": 5,
        "the settings sidebar": 2,
        "other (waiting for the browser, the script's own Python)": 1,
    }
