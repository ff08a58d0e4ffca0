"""Folders of photos in this process: outputs, failures, resume, atomic writes, exit codes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deepdream.batch import (
    BatchArgumentError,
    FileFailure,
    plan_batch,
    remove_leftovers,
    run_batch,
)
from deepdream.cli import main
from deepdream.media.files import write_atomically
from deepdream.media.image import decode_image, png_text

SMALL = ["--model", "vgg16_offline", "--precision", "float32", "--steps", "1", "--octaves", "1"]
SMALL += ["--max-side", "64", "--quiet"]
ROOT = Path(__file__).resolve().parent.parent


def make_folder(folder: Path, photo: np.ndarray) -> dict[str, tuple[int, int]]:
    """Seven good photos (two in a sub-folder) and three broken files; returns the good ones'
    relative names and (height, width)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "holiday").mkdir(exist_ok=True)
    sizes = {}
    for index, side in enumerate([64, 72, 80, 96, 100]):
        tile = np.ascontiguousarray(photo[index * 20 : index * 20 + side, : side + 8])
        name = f"photo{index}.{'png' if index % 2 else 'jpg'}"
        Image.fromarray(tile).save(folder / name)
        sizes[name] = tile.shape[:2]
    for index in range(2):
        tile = np.ascontiguousarray(photo[100 + index * 30 : 164 + index * 30, 40:120])
        name = f"holiday/beach{index}.webp"
        Image.fromarray(tile).save(folder / name, lossless=True)
        sizes[name] = tile.shape[:2]
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "notes.png").write_text("shopping list")
    jpeg = (folder / "photo0.jpg").read_bytes()
    (folder / "cut.jpg").write_bytes(jpeg[: len(jpeg) // 3])  # truncated download
    (folder / "readme.txt").write_text("not an image: not listed at all")
    return sizes


@pytest.mark.slow
def test_a_folder_with_broken_files_dreams_the_rest_then_resumes(tmp_path, photo, capsys):
    source, target = tmp_path / "photos", tmp_path / "dreams"
    sizes = make_folder(source, photo)

    assert main([str(source), str(target), "--recursive", "--seed", "3", *SMALL]) == 1
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert lines[-1] == "7 dreamed, 0 skipped, 3 failed"
    for broken in ["empty.jpg", "notes.png", "cut.jpg"]:
        assert any(line.strip().startswith(f"{broken}: ") for line in lines), broken
    assert "Traceback" not in err and "readme" not in err

    written = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    expected = sorted(str(Path(name).with_suffix(".png")) for name in sizes)
    assert written == expected  # mirrored sub-folder, no temporary files left
    for name, shape in sizes.items():
        data = (target / name).with_suffix(".png").read_bytes()
        assert decode_image(data).shape[:2] == shape
        assert png_text(data)["deepdream.seed"] == "3"
    mtimes = {p: p.stat().st_mtime_ns for p in target.rglob("*.png")}

    assert main([str(source), str(target), "--recursive", *SMALL]) == 1
    assert capsys.readouterr().err.strip().splitlines()[-1] == "0 dreamed, 7 skipped, 3 failed"
    assert {p: p.stat().st_mtime_ns for p in target.rglob("*.png")} == mtimes


def test_overwrite_dreams_again_and_without_recursive_sub_folders_stay_out(tmp_path, photo):
    source, target = tmp_path / "photos", tmp_path / "dreams"
    make_folder(source, photo)
    flat = plan_batch(source, target)
    assert {job.name for job in flat.jobs} == {
        "photo0.jpg",
        "photo1.png",
        "photo2.jpg",
        "photo3.png",
        "photo4.jpg",
        "empty.jpg",
        "notes.png",
        "cut.jpg",
    }
    (target).mkdir()
    (target / "photo1.png").write_bytes(b"old")
    assert "photo1.png" in {job.name for job in plan_batch(source, target).skipped}
    assert "photo1.png" in {job.name for job in plan_batch(source, target, overwrite=True).jobs}


def test_two_inputs_with_one_target_are_not_guessed_between(tmp_path, photo):
    source = tmp_path / "photos"
    source.mkdir()
    Image.fromarray(photo[:64, :64]).save(source / "cat.jpg")
    Image.fromarray(photo[:64, :64]).save(source / "cat.png")
    plan = plan_batch(source, tmp_path / "out")
    assert [job.name for job in plan.jobs] == ["cat.jpg"]
    [(job, failure)] = plan.refused
    assert job.name == "cat.png" and "cat.jpg" in failure.reason
    last = list(run_batch(plan, [(plan.jobs[0], b"png bytes")]))[-1]
    assert last.summary.line() == "1 dreamed, 0 skipped, 1 failed"
    assert (tmp_path / "out" / "cat.png").read_bytes() == b"png bytes"


@pytest.mark.parametrize("inside", [False, True])
def test_output_folder_that_would_feed_itself_exits_2(tmp_path, photo, capsys, inside):
    source = tmp_path / "photos"
    make_folder(source, photo)
    target = source / "dreams" if inside else source
    assert main([str(source), str(target), "--recursive", *SMALL]) == 2
    assert "must not be the input folder" in capsys.readouterr().err
    with pytest.raises(BatchArgumentError):
        plan_batch(source, target, recursive=True)


def test_bad_arguments_exit_2(tmp_path, photo_bytes, capsys):
    source = tmp_path / "photos"
    source.mkdir()
    (source / "a.jpg").write_bytes(photo_bytes)
    assert main([str(source), str(tmp_path / "out"), "--workers", "0", *SMALL]) == 2
    single = tmp_path / "one.jpg"
    single.write_bytes(photo_bytes)
    assert main([str(single), str(tmp_path / "o.png"), "--recursive"]) == 2
    assert "only apply when the input is a folder" in capsys.readouterr().err
    (tmp_path / "file.png").write_bytes(b"x")
    assert main([str(source), str(tmp_path / "file.png"), *SMALL]) == 2


def test_an_empty_folder_is_not_a_failure(tmp_path, capsys):
    (tmp_path / "photos").mkdir()
    assert main([str(tmp_path / "photos"), str(tmp_path / "out"), *SMALL]) == 0
    assert capsys.readouterr().err.strip().splitlines()[-1] == "0 dreamed, 0 skipped, 0 failed"


def test_progress_counts_files_and_rate(tmp_path):
    source = tmp_path / "in"
    source.mkdir()
    for name in "abc":
        (source / f"{name}.png").write_bytes(b"x")
    plan = plan_batch(source, tmp_path / "out")
    outcomes = [(plan.jobs[0], b"1"), (plan.jobs[1], FileFailure("bad")), (plan.jobs[2], b"3")]
    updates = list(run_batch(plan, outcomes))
    assert [(u.done, u.total, u.dreamed, u.failed) for u in updates[:3]] == [
        (1, 3, 1, 0),
        (2, 3, 1, 1),
        (3, 3, 2, 1),
    ]
    assert updates[1].failure.reason == "bad" and updates[0].eta is not None
    assert updates[2].eta == 0 and updates[2].per_minute > 0
    assert updates[-1].summary.failures == (("b.png", "bad"),)


def test_a_failed_write_leaves_neither_target_nor_temporary_file(tmp_path, monkeypatch):
    target = tmp_path / "out" / "a.png"

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError):
        write_atomically(target, b"data")
    assert list(target.parent.iterdir()) == []


@pytest.mark.slow
def test_killing_the_cli_mid_write_leaves_no_half_written_png(tmp_path, photo):
    """The CLI is killed while a dream's bytes are on disk under the temporary name; the
    next run removes the leftover and finishes the batch."""
    source, target = tmp_path / "photos", tmp_path / "dreams"
    source.mkdir()
    for index in range(3):
        Image.fromarray(photo[index * 30 : index * 30 + 64, :64]).save(source / f"p{index}.png")
    # The real CLI in a real process, with fsync slowed down so the kill lands mid-write.
    script = textwrap.dedent(
        f"""
        import os, sys, time
        real_fsync = os.fsync
        def slow_fsync(fd):
            time.sleep(30)
            real_fsync(fd)
        os.fsync = slow_fsync
        from deepdream.cli import main
        sys.exit(main({[str(source), str(target), *SMALL]!r}))
        """
    )
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    process = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 120
        while not list(target.glob(".*.partial")) and time.monotonic() < deadline:
            assert process.poll() is None, "the CLI ended before writing"
            time.sleep(0.1)
        [partial] = list(target.glob(".*.partial"))
        assert partial.stat().st_size > 0
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    assert not list(target.glob("*.png"))  # only the temporary name existed

    plan = plan_batch(source, target)
    assert remove_leftovers(plan) == 1
    assert main([str(source), str(target), *SMALL]) == 0
    assert sorted(p.name for p in target.iterdir()) == ["p0.png", "p1.png", "p2.png"]
    for output in target.iterdir():
        assert decode_image(output.read_bytes()).shape == (64, 64, 3)


def test_videos_in_a_folder_become_mp4_dreams_and_broken_ones_are_listed(tmp_path, photo, capsys):
    from clips import pan, write_clip

    from deepdream.media.video import probe_video

    source = tmp_path / "in"
    source.mkdir()
    write_clip(source / "pan.mp4", pan(photo, 5, (48, 64), step=4), fps=5, audio=True)
    (source / "broken.mov").write_bytes(b"not a video at all")
    Image.fromarray(np.ascontiguousarray(photo[:64, :64])).save(source / "still.png")
    code = main([str(source), str(tmp_path / "out"), *SMALL])
    out = capsys.readouterr().err
    assert code == 1 and "2 dreamed, 0 skipped, 1 failed" in out and "broken.mov" in out
    dreamed = probe_video(tmp_path / "out" / "pan.mp4")
    original = probe_video(source / "pan.mp4")
    assert (dreamed.width, dreamed.height, dreamed.frames) == (64, 48, 5)
    assert dreamed.fps == original.fps and dreamed.has_audio
    assert decode_image((tmp_path / "out" / "still.png").read_bytes()).shape == (64, 64, 3)
