"""The benchmark's quick mode runs here, so the script cannot rot (its numbers are not tested:
speed belongs to the benchmark, not to unit tests)."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


@pytest.mark.slow
def test_benchmark_quick_mode_runs_every_section(tmp_path):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    shown = subprocess.run(
        # One network: the other runs the very same code, and each costs two model builds.
        [sys.executable, "-m", "bench.benchmark", "--quick", "--models", "inception_v3"]
        + ["--out", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert shown.returncode == 0, shown.stderr[-3000:]
    sections = ["== 1.", "== 1b.", "== 2.", "== 3.", "== 4.", "== 5."]
    sections.append("== HEADLINE")
    for section in sections:
        assert section in shown.stdout, section
    assert "traced exactly once" in shown.stdout
    with open(tmp_path / "benchmark.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    names = {row["name"] for row in rows}
    for expected in ["step_throughput", "conv_share", "preset_classic", "peak_rss_full_size"]:
        assert expected in names, names
    # The step against a plain Keras step (issue 13).
    assert {"plain_keras_throughput", "step_speedup_vs_plain_keras"} <= names
    assert "step vs plain Keras step" in shown.stdout
    assert "speedup_vs_reference" in names
    assert all(float(row["value"]) >= 0 for row in rows if row["value"])
    assert (tmp_path / "throughput.png").stat().st_size > 1000
    shares = [float(row["value"]) for row in rows if row["name"] == "conv_share"]
    assert shares and all(0 < share < 5 for share in shares)  # a share of a step, not garbage


@pytest.mark.slow
def test_the_gpu_benchmark_quick_mode_writes_every_figure(tmp_path, capsys):
    """``python -m bench.gpu --quick --cpu-ok`` (the GPU machine's one command) in this
    process: every section's row in the results file, no verdict on quick sizes; without a
    GPU and without ``--cpu-ok`` it says what it is for and stops."""
    from bench import gpu

    out = tmp_path / "gpu.txt"
    assert gpu.main(["--quick", "--cpu-ok", "--out", str(out)]) == 0
    written = out.read_text()
    rows = ["classic preset", "deep preset", "classic, full size", "video, 3 frames",
            "video, work beside / in turn"]  # fmt: skip
    for row in rows:
        assert row in written, written
    assert "frames/s" in written and "no verdict" in written
    _, on_gpu = gpu.accelerator()
    if not on_gpu:
        capsys.readouterr()
        assert gpu.main(["--quick"]) == 2
        assert "for a GPU machine" in capsys.readouterr().out


def test_the_preparation_benchmark_quick_mode_times_both_ways_on_new_sizes(capsys):
    """``python -m bench.prepare --quick`` in this process: each photo size dreamed twice,
    cold and prepared alternated, the preparation timed apart, and the medians."""
    from bench import prepare

    assert prepare.main(["--quick"]) == 0
    written = (prepare.RESULTS / "quick" / "prepare.txt").read_text()
    rows = [
        line.split()
        for line in written.splitlines()
        if line.split()[:1] in (["cold"], ["prepared"])
    ]
    assert [row[0] for row in rows] == ["cold", "cold", "prepared", "prepared"], written
    for row in rows:
        first, second, ratio = map(float, row[1:4])
        assert first > 0 and second > 0 and ratio == pytest.approx(first / second, rel=0.1)
    assert all(float(row[4]) > 0 for row in rows if row[0] == "prepared")
    assert "first / second, medians: cold" in written and "prepared" in capsys.readouterr().out


def test_the_classic_target_follows_the_cpu_class():
    # Issue 29 set 12 s for an AVX2-only CPU; issue 13 5 s for AMX; the others keep 10 s.
    from bench.benchmark import classic_cpu_class

    assert classic_cpu_class({"avx2", "fma"}) == "avx2-only"
    assert classic_cpu_class({"avx2", "avx512f", "avx512_bf16"}) == "other"
    assert classic_cpu_class({"avx2", "avx512f", "amx_bf16", "amx_tile"}) == "amx"
    assert classic_cpu_class(set()) == "other"


@pytest.mark.slow
def test_the_allocator_benchmark_quick_mode_runs_both_ways(capsys):
    """``python -m bench.allocator --quick``: one child process each way, and both ratios."""
    from bench import allocator

    assert allocator.main(["--quick"]) == 0
    written = (allocator.RESULTS / "quick" / "allocator.txt").read_text()
    rows = [
        line.split() for line in written.splitlines() if line.split()[:1] in (["kept"], ["system"])
    ]
    assert sorted(row[0] for row in rows) == ["kept", "system"], written
    assert all(float(row[1]) > 0 and float(row[4]) > 0 for row in rows), written
    assert written.count("(medians):") == 2 and "kept" in capsys.readouterr().out


@pytest.mark.slow
def test_the_startup_benchmark_quick_mode_times_each_part_of_the_cold_path():
    """``python -m bench.startup --quick``: one fresh process, every part of the cold path timed."""
    from bench import startup

    assert startup.main(["--quick"]) == 0
    written = (startup.RESULTS / "quick" / "startup.txt").read_text()
    (child,) = [line.split() for line in written.splitlines() if line.split()[:1] == ["1"]]
    parts = [float(value) for value in child[1:]]
    assert len(parts) == len(startup.PARTS) + 1 and all(value > 0 for value in parts), written
    # The cold path is the sum of its parts, and a warm step costs a fraction of it.
    assert parts[-1] == pytest.approx(sum(parts[:4]), abs=0.02), written
    assert parts[4] < parts[-1] and "random weights" in written, written
