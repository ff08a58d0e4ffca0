import re
import subprocess
import sys

import numpy as np
import pytest

from deepdream import PRESETS
from deepdream.cli import main
from deepdream.media.image import decode_image, png_text

SMALL = ["--steps", "2", "--octaves", "1", "--max-side", "96", "--quiet"]


def test_round_trip_writes_a_png_with_settings(tmp_path, photo_bytes, photo):
    source, target = tmp_path / "in.jpg", tmp_path / "out.png"
    source.write_bytes(photo_bytes)
    code = main([str(source), str(target), "--model", "vgg16_offline", "--seed", "4", *SMALL])
    assert code == 0
    data = target.read_bytes()
    assert decode_image(data).shape == photo.shape
    meta = png_text(data)
    assert meta["deepdream.model"] == "vgg16_offline"
    assert meta["deepdream.seed"] == "4"
    assert meta["deepdream.steps_per_octave"] == "2"
    assert meta["deepdream.max_side"] == "96"
    assert str(tmp_path) not in " ".join(meta.values())  # no file paths in the metadata
    assert not np.array_equal(decode_image(data), photo)


def test_falls_back_to_the_offline_model_and_says_so(
    tmp_path, photo_bytes, capsys, offline_download
):
    source, target = tmp_path / "in.jpg", tmp_path / "out.png"
    source.write_bytes(photo_bytes)
    assert main([str(source), str(target), "--layers", "mixed4:1", *SMALL]) == 0
    err = capsys.readouterr().err
    assert "not available" in err and "offline" in err
    meta = png_text(target.read_bytes())
    assert meta["deepdream.model"] == "vgg16_offline"
    assert meta["deepdream.layers"] == "block4_conv2:1"  # mixed4 translated by depth
    # The whole look moves, its working side too (block4's stride is half mixed4's), and
    # the terminal says so: the user asked for another size.
    from deepdream.config import MAX_SIDE_RANGE

    asked = int(SMALL[SMALL.index("--max-side") + 1])
    side = max(asked // 2, MAX_SIDE_RANGE[0])  # 96 -> 48, the least a side may be is 64
    assert meta["deepdream.max_side"] == str(side)
    assert f"max working side is {side} on this network, not {asked}" in err


def test_bad_image_exits_2_with_a_plain_message(tmp_path, capsys):
    source = tmp_path / "notes.jpg"
    source.write_text("shopping list")
    assert main([str(source), str(tmp_path / "out.png")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "not an image" in err and "Traceback" not in err
    assert not (tmp_path / "out.png").exists()


def test_bad_settings_exit_2(tmp_path, photo_bytes, capsys):
    source = tmp_path / "in.jpg"
    source.write_bytes(photo_bytes)
    assert main([str(source), str(tmp_path / "o.png"), "--steps", "0"]) == 2
    assert "--steps must be between 1 and 500" in capsys.readouterr().err  # the option typed
    assert main([str(source), str(tmp_path / "o.png"), "--layers", "mixed3:much"]) == 2
    assert main([str(tmp_path / "missing.jpg"), str(tmp_path / "o.png")]) == 2


def test_help_and_errors_from_a_real_process(tmp_path):
    shown = subprocess.run(
        [sys.executable, "-m", "deepdream", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for option in [
        "--preset",
        "--layers",
        "--steps",
        "--step-size",
        "--octaves",
        "--octave-scale",
        "--max-side",
        "--seed",
        "--model",
        "--weights",
    ]:
        assert option in shown
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    failed = subprocess.run(
        [sys.executable, "-m", "deepdream", str(empty), str(tmp_path / "o.png")],
        capture_output=True,
        text=True,
    )
    assert failed.returncode == 2
    assert "empty" in failed.stderr and "Traceback" not in failed.stderr


def test_named_weights_that_fail_exit_3_and_nothing_is_written(tmp_path, photo_bytes, capsys):
    source, target = tmp_path / "in.jpg", tmp_path / "out.png"
    source.write_bytes(photo_bytes)
    assert main([str(source), str(target), "--weights", str(tmp_path / "missing.h5")]) == 3
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "missing.h5" in err and "VGG16" in err
    assert not target.exists()


def test_an_output_that_cannot_be_written_exits_2_before_dreaming(tmp_path, photo_bytes, capsys):
    source = tmp_path / "in.jpg"
    source.write_bytes(photo_bytes)
    assert main([str(source), str(tmp_path)]) == 2  # a folder, not a file
    assert "is a folder" in capsys.readouterr().err
    assert main([str(source), str(tmp_path / "no" / "such" / "out.png")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_weights_precision_and_keep_colors_do_what_they_say(
    tmp_path, photo_bytes, photo, random_inception_weights_file
):
    from PIL import Image

    source = tmp_path / "in.jpg"
    source.write_bytes(photo_bytes)

    def dream_with(*options: str) -> tuple[dict, np.ndarray]:
        target = tmp_path / f"out{len(list(tmp_path.iterdir()))}.png"
        # A strong step: the colour change keep-colours must undo has to be clearly there.
        options = ("--step-size", "0.03", *options)
        code = main([str(source), str(target), *SMALL, "--layers", "mixed3:1", *options])
        assert code == 0
        data = target.read_bytes()
        return png_text(data), decode_image(data)

    weights = ["--weights", str(random_inception_weights_file)]
    meta, plain = dream_with(*weights, "--precision", "float32")
    assert meta["deepdream.model"] == "inception_v3"
    assert meta["deepdream.weights"] == "file:random_inception.weights.h5"
    assert meta["deepdream.precision"] == "float32"
    meta, _ = dream_with(*weights, "--precision", "bfloat16")
    assert meta["deepdream.precision"] == "bfloat16"
    meta, kept = dream_with(*weights, "--precision", "float32", "--keep-colors")
    assert meta["deepdream.keep_colors"] == "true"

    def chroma(pixels: np.ndarray) -> np.ndarray:
        return np.asarray(Image.fromarray(pixels).convert("YCbCr"))[..., 1:].astype(int)

    photo_chroma = chroma(photo)
    assert np.abs(chroma(kept) - photo_chroma).mean() < 1.0  # colours are the photo's
    assert (
        np.abs(chroma(plain) - photo_chroma).mean() > 2 * np.abs(chroma(kept) - photo_chroma).mean()
    )


def test_the_terminal_shows_only_progress_and_the_result(tmp_path, photo_bytes):
    source, target = tmp_path / "in.jpg", tmp_path / "out.png"
    source.write_bytes(photo_bytes)
    command = [sys.executable, "-m", "deepdream", str(source), str(target)]
    command += ["--model", "vgg16_offline", "--steps", "2", "--octaves", "1", "--max-side", "64"]
    shown = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == ""
    lines = [line.strip() for line in re.split(r"[\r\n]+", shown.stderr) if line.strip()]
    progress = [line for line in lines if re.search(r"\d+/2 \[", line)]
    others = [line for line in lines if line not in progress]
    assert progress and others == [others[-1]] and others[-1].startswith(f"wrote {target}")
    verbose = subprocess.run([*command, "--verbose"], capture_output=True, text=True, timeout=300)
    assert verbose.returncode == 0
    assert len(verbose.stderr.splitlines()) >= len(shown.stderr.splitlines())


def test_guide_channels_normalisation_round_trip(tmp_path, photo_bytes, photo):
    source, guide, target = tmp_path / "in.jpg", tmp_path / "stripes.png", tmp_path / "out.png"
    source.write_bytes(photo_bytes)
    stripes = np.zeros((64, 64, 3), np.uint8)
    stripes[::8] = 255
    from deepdream import Guide
    from deepdream.media.image import encode_png

    guide.write_bytes(encode_png(stripes))
    options = ["--model", "vgg16_offline", "--guide", str(guide), "--guide-strength", "0.6"]
    options += ["--channels", "block4_conv1:7:2,block4_conv1:9", "--normalize", "laplacian"]
    assert main([str(source), str(target), *options, *SMALL]) == 0
    meta = png_text(target.read_bytes())
    assert decode_image(target.read_bytes()).shape == photo.shape
    assert meta["deepdream.guide"] == Guide.from_image(stripes).digest
    assert "stripes" not in " ".join(meta.values())  # a hash, never the guide's name
    assert meta["deepdream.guide_strength"] == "0.6"
    assert meta["deepdream.channels"] == "block4_conv1:7:2,block4_conv1:9:1"
    assert meta["deepdream.layers"] == ""  # channels alone, since --layers was not given
    assert meta["deepdream.normalize"] == "laplacian"


def test_from_noise_reads_no_input_and_repeats_with_its_seed(tmp_path, capsys):
    first, second = tmp_path / "a.png", tmp_path / "b.png"
    options = ["--model", "vgg16_offline", "--layers", "block4_conv2", "--seed", "5", *SMALL]
    assert main(["--from-noise", "120x90", str(first), *options]) == 0
    assert main(["-", str(second), "--from-noise", "120x90", *options]) == 0
    assert decode_image(first.read_bytes()).shape == (90, 120, 3)
    assert first.read_bytes() == second.read_bytes()
    assert png_text(first.read_bytes())["deepdream.start"] == "noise"
    capsys.readouterr()
    assert main(["--from-noise", "12x9", str(first), *options]) == 2
    assert main(["--from-noise", "big", str(first), *options]) == 2
    assert main([str(first), *options]) == 2  # an input but no output: said plainly
    err = capsys.readouterr().err
    assert "32 to 4096" in err and "width x height" in err and "photo.jpg dream.png" in err


def test_from_noise_takes_the_picture_and_transforms_options(tmp_path, capsys):
    target = tmp_path / "pixel.png"
    options = ["--model", "vgg16_offline", "--layers", "block4_conv2", *SMALL]
    assert main(["--from-noise", "96x96", str(target), "--param", "pixel", *options]) == 0
    meta = png_text(target.read_bytes())
    assert (meta["deepdream.param"], meta["deepdream.transforms"]) == ("pixel", "standard")
    assert main(["--from-noise", "96x96", str(target), "--transforms", "none", *options]) == 0
    meta = png_text(target.read_bytes())
    assert (meta["deepdream.param"], meta["deepdream.transforms"]) == ("fft", "none")


@pytest.mark.slow
def test_the_atlas_writes_one_labelled_sheet(tmp_path, capsys, random_inception_weights_file):
    from deepdream.atlas import GAP, HEADER, LABEL_WIDTH

    target = tmp_path / "atlas.png"
    weights = ["--weights", str(random_inception_weights_file), "--quiet"]
    small = ["--atlas-channels", "2", "--atlas-side", "80", "--atlas-steps", "1"]
    # Two layers keep it quick; which layers an atlas draws unless told is test_atlas.py's.
    rows = ["--atlas-layers", "mixed5,mixed1"]
    assert main(["--atlas", str(target), *small, *rows, *weights]) == 0
    sheet = decode_image(target.read_bytes())
    side = 80 + GAP
    assert sheet.shape == (HEADER + 2 * side, LABEL_WIDTH + 2 * side, 3)
    assert main(["--atlas", str(tmp_path / "atlas.txt"), *weights]) == 2
    assert main(["--atlas", str(target), "--atlas-side", "40", *weights]) == 2
    assert main(["--atlas", str(target), "--atlas-layers", "mixed11", *weights]) == 2
    err = capsys.readouterr().err
    assert "75 pixels" in err and "mixed11: not a layer this network offers" in err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == [target]  # nothing half-written


def test_bad_guides_and_channels_get_plain_errors(tmp_path, photo_bytes, capsys):
    source, broken, target = tmp_path / "in.jpg", tmp_path / "broken.jpg", tmp_path / "out.png"
    source.write_bytes(photo_bytes)
    broken.write_bytes(photo_bytes[:300])
    vgg = ["--model", "vgg16_offline", *SMALL]
    assert main([str(source), str(target), "--guide", str(broken), *vgg]) == 2
    assert main([str(source), str(target), "--guide", str(tmp_path / "none.png"), *vgg]) == 2
    assert main([str(source), str(target), "--channels", "block4_conv1", *vgg]) == 2
    assert main([str(source), str(target), "--channels", "block4_conv1:9999", *vgg]) == 2
    assert main([str(source), str(target), "--guide-strength", "3", *vgg]) == 2
    err = capsys.readouterr().err
    assert "damaged or incomplete" in err and "no guide image" in err
    assert "LAYER:CHANNEL" in err and "channel 9999 does not exist" in err
    assert "--guide-strength must be" in err and "Traceback" not in err
    assert not target.exists()


def test_help_is_short_at_the_top_and_shows_the_presets_real_defaults(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    shown = capsys.readouterr().out
    assert shown.splitlines()[0].startswith("usage: ") and len(shown.splitlines()[0]) < 160
    flat = " ".join(shown.split())
    assert "default: None" not in flat
    steps = ", ".join(f"{name} {PRESETS[name].steps_per_octave}" for name in PRESETS)
    assert f"[{steps}]" in flat  # --steps, from the presets themselves
    assert "Exit codes: 0 done; 1 some files" in flat


def test_version_is_the_packages(capsys):
    import deepdream

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip().endswith(deepdream.__version__)
    assert deepdream.__version__ == "0.2.0" or deepdream.__version__[0].isdigit()


@pytest.mark.parametrize(
    "options, said",
    [
        (["--steps", "0"], "--steps must be between 1 and 500"),
        (["--step-size", "2"], "--step-size must be above 0 and at most 1"),
        (["--blend", "0.5"], "--blend applies to videos"),
        (["--fps", "12", "--rotate", "1"], "--rotate, --fps apply to zooms"),
    ],
)
def test_errors_name_the_option_typed_and_other_modes_options_are_refused(
    tmp_path, photo_bytes, capsys, options, said
):
    source = tmp_path / "in.jpg"
    source.write_bytes(photo_bytes)
    assert main([str(source), str(tmp_path / "out.png"), *options]) == 2
    assert said in capsys.readouterr().err
    assert not (tmp_path / "out.png").exists()


def test_a_folder_refuses_video_options_and_a_zoom_refuses_blend(tmp_path, photo_bytes, capsys):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.jpg").write_bytes(photo_bytes)
    assert main([str(tmp_path / "in"), str(tmp_path / "out"), "--scene-cut", "0.3"]) == 2
    assert "--scene-cut applies to videos" in capsys.readouterr().err
    zoom = [str(tmp_path / "in" / "a.jpg"), str(tmp_path / "z.mp4"), "--zoom-frames", "2"]
    assert main([*zoom, "--blend", "0.5"]) == 2
    assert "--blend applies to a video input" in capsys.readouterr().err
    assert not (tmp_path / "out").exists() and not (tmp_path / "z.mp4").exists()


def test_motion_errors_name_the_option_typed(tmp_path, photo_bytes, capsys):
    source = tmp_path / "in.jpg"
    source.write_bytes(photo_bytes)
    assert main([str(source), str(tmp_path / "z.mp4"), "--zoom-frames", "0"]) == 2
    assert "--zoom-frames must be between 1 and" in capsys.readouterr().err
