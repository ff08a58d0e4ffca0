import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_control_benchmark_quick_mode_runs_and_reports(tmp_path, capsys):
    # In this process (TensorFlow is already loaded here): only the script's own work counts.
    sys.path.insert(0, str(REPO))
    from bench import control

    out = tmp_path / "control.txt"
    assert control.main(["--quick", "--out", str(out)]) == 0
    text = out.read_text()
    assert "RANDOM weights" in text and "cpu:" in text
    rows = [line.split() for line in text.splitlines() if line.startswith(("inception", "vgg"))]
    assert [row[0] for row in rows] == ["inception_v3", "vgg16_offline"] * 2
    for row in rows[:2]:  # seconds, then (ratio) after guided, laplacian and channels
        assert float(row[1]) > 0 and all(cell.endswith("x)") for cell in row[3::2])
    for row in rows[2:]:
        assert all(float(cell) > 0 for cell in row[1:])
