from pathlib import Path

import pytest
from conftest import run_bench

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_motion_benchmark_quick_mode_runs_and_reports(tmp_path):
    out = tmp_path / "motion.txt"
    done = run_bench("motion", "--quick", "--out", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    text = out.read_text()
    assert "RANDOM weights" in text
    for heading in ["video frames/s", "zoom frames/s", "flicker", "peak MB", "beside / in turn"]:
        assert heading in text
    speed = text.split("zoom frames/s")[1].splitlines()[1].split()
    assert speed[0] == "vgg16_offline" and all(float(v) > 0 for v in speed[1:])
    memory = [line for line in text.splitlines() if line.startswith("160x96")]
    assert len(memory) == 2 and all(float(line.split()[-2]) > 100 for line in memory)
    beside = text.split("beside / in turn")[1].splitlines()[1].split()
    assert len(beside) == 3 and all(float(v) > 0 for v in beside)  # both ways ran, and a ratio
