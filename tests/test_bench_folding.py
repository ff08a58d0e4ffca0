from pathlib import Path

import pytest
from conftest import run_bench

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_folding_benchmark_quick_mode_times_every_variant():
    done = run_bench("folding.py", "--quick")
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [line.split() for line in done.stdout.splitlines() if "96x96" in line]
    variants = {(row[0], row[3]) for row in rows}
    assert variants == {
        ("inception_v3", "reference"),
        ("inception_v3", "keras"),
        ("inception_v3", "folded"),
        ("inception_v3", "constants"),
        ("inception_v3", "steps4"),
        ("inception_v3", "onetile"),
        ("vgg16_offline", "reference"),
        ("vgg16_offline", "keras"),
        ("vgg16_offline", "constants"),
        ("vgg16_offline", "steps4"),
        ("vgg16_offline", "onetile"),
    }
    assert all(float(row[4]) > 0 and row[7].endswith("x") for row in rows)
