import pytest
from conftest import run_bench


@pytest.mark.slow
def test_visualise_benchmark_quick_mode_measures_both_ways_and_draws_the_sheet(tmp_path):
    sheet = tmp_path / "sheet.png"
    done = run_bench("visualise", "--quick", "--sheet", str(sheet))
    assert done.returncode == 0, done.stderr[-2000:]
    text = done.stdout
    assert "RANDOM" in text
    ways = [line.split() for line in text.splitlines() if line.strip().startswith("mixed5:7")]
    assert {row[1] for row in ways if len(row) == 5} == {"pixel+none", "fft+standard"}
    shares = {
        row[1]: float(row[2])
        for row in (line.split() for line in text.splitlines())
        if len(row) == 5 and row[1] in ("pixel+none", "fft+standard")
    }
    # Even on random weights the Fourier picture holds far less grain than raw pixels.
    assert shares["fft+standard"] < 0.5 * shares["pixel+none"]
    assert "Gram similarity" in text
    from deepdream.media.image import decode_image

    assert decode_image(sheet.read_bytes()).shape[0] > 3 * 80  # px, fft and diverse rows
