"""``bench/cpu_levers.py --quick`` runs, so the profile and the levers cannot rot (its numbers
are printed, not judged: speed belongs to the benchmark, not to unit tests)."""

from pathlib import Path

import pytest
from conftest import run_bench

REPO = Path(__file__).resolve().parents[1]
BLOCKS = ["stem", "mixed0", "mixed1", "mixed2", "mixed3", "mixed4", "mixed5"]


@pytest.mark.slow
def test_the_cpu_levers_quick_mode_profiles_each_lever_in_its_own_process(tmp_path):
    out = tmp_path / "levers.txt"
    done = run_bench("cpu_levers.py", "--quick", "--out", str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    report = out.read_text()
    assert "AVX2" in report.splitlines()[0] or "no AVX2" in report.splitlines()[0]
    levers = [line.split() for line in report.splitlines() if line.startswith("  default ")]
    levers += [line.split() for line in report.splitlines() if line.startswith("  eigen ")]
    assert len(levers) == 2 and levers[1][1] == "off"  # TF_ENABLE_ONEDNN_OPTS=0 took effect
    for profile in ("default", "eigen"):
        section = report.split(f"== profile ({profile})", 1)[1].split("==", 1)[0]
        assert [line.split()[0] for line in section.splitlines()[2:] if line.strip()] == BLOCKS
        assert "% of the step" in section.splitlines()[0]
