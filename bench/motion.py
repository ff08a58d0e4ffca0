"""Motion benchmark (issue 10): frames per second, quality of the carry, and peak memory.

What it measures, on this machine, every figure in the same run:

1. Video dreams, end to end (decode -> optical flow -> dream -> H.264 encode), frames per
   second on a camera pan over the test photo at 480x320, the classic preset, default motion
   settings: the offline VGG16 (real weights) and InceptionV3 with RANDOM weights (the
   ImageNet file cannot be downloaded here; a step costs the same with any weights, but the
   pictures mean nothing). The first frame is a full dream, the rest carried ones (half the
   steps): both figures are given.
2. The quality measures of ``deepdream.motion.quality`` on the same VGG16 pan: flicker, drift,
   strength range and leading-edge strength, for our carry and for dreaming every frame on its
   own (same seed; and a new seed a frame, the way a naive script does it).
3. Zoom animation at 512x512: frames per second for both models.
4. Work beside the dream (``deepdream.motion.beside``): the InceptionV3 pan through
   ``dream_video`` with decoding, optical flow and encoding in threads beside the dream (the
   default on a GPU), and all in turn (the default on a CPU), alternated in pairs (ABBA) in
   the same run: seconds of each and their ratio. In this machine's own precision (``--quick``:
   float32, on the speed table's model).
5. Peak resident memory (``VmHWM`` of a child process) dreaming a short and a long 720p clip
   with a cheap dream (one octave, one step, max side 128): streaming means the long clip's
   peak is the short one's. Full mode: 20 s and 2 min at 24 fps.

Results: a table on stdout, also written to ``bench/results/motion.txt`` (``--quick``:
``bench/results/quick/motion.txt``; ``--beside-only``: ``motion-beside.txt`` beside it).

Run from the repository root:
    python -m bench.motion                 # full run: long on 2 CPU cores (the 2-min clip)
    python -m bench.motion --frames 4      # the full sizes, fewer frames, no long clip
    python -m bench.motion --quick         # smoke run, well under a minute
    python -m bench.motion --beside-only   # only section 4
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # must precede the TensorFlow import

import numpy as np

from bench.harness import RESULTS, TEST_PHOTO, cpu_model, peak_rss_mib
from deepdream import MotionConfig, dream_video, dream_video_frames, zoom_video
from deepdream.config import PRESETS, DreamConfig
from deepdream.media.image import decode_image, resize
from deepdream.media.video import VideoWriter, probe_video
from deepdream.motion import quality

RESULTS_DIR = RESULTS
PHOTO = TEST_PHOTO
PAN_STEP = 4  # pixels a frame
VGG = "vgg16_offline"


@dataclass(frozen=True)
class Plan:
    label: str
    video_size: tuple[int, int]  # height, width
    video_frames: int
    zoom_size: int
    zoom_frames: int
    memory_size: tuple[int, int]
    memory_fps: int
    memory_seconds: tuple[float, float]  # short, long
    dream_changes: tuple[tuple[str, object], ...] = ()
    quality: bool = True  # measure the quality table too
    beside_pairs: int = 3  # pairs of runs in section 4
    beside_precision: str = "auto"  # section 4's precision ("auto": the machine's own)


FULL = Plan("full", (320, 480), 24, 512, 8, (720, 1280), 24, (20.0, 120.0))
QUICK = Plan(
    "quick",
    (64, 96),
    4,
    96,
    2,
    (96, 160),
    12,
    (0.5, 2.0),
    (("steps_per_octave", 2), ("octaves", 1)),
    beside_pairs=1,
    beside_precision="float32",  # the speed table's model serves: no second build
)


def photo_for(height: int, width: int) -> np.ndarray:
    """The test photo scaled to cover ``height`` x ``width`` with room to pan."""
    photo = decode_image(PHOTO.read_bytes())
    side = max(height, width) * 2
    return resize(photo, (side, side))


def pan_frame(canvas: np.ndarray, size: tuple[int, int], index: int) -> np.ndarray:
    """Frame ``index`` of a pan that goes right and back (a triangle wave, any length)."""
    height, width = size
    room = canvas.shape[1] - width
    position = (index * PAN_STEP) % (2 * room)
    left = position if position <= room else 2 * room - position
    top = (canvas.shape[0] - height) // 2
    return canvas[top : top + height, left : left + width]


def write_pan_clip(path: Path, size: tuple[int, int], frames: int, fps: int) -> None:
    canvas = photo_for(*size)
    with VideoWriter(path, size[1], size[0], fps) as writer:
        for index in range(frames):
            writer.write(np.ascontiguousarray(pan_frame(canvas, size, index)))


def dream_config(model_name: str, plan: Plan, **changes: object) -> DreamConfig:
    return PRESETS["classic"].with_model(model_name).replace(**dict(plan.dream_changes), **changes)


def load(model_name: str):
    from deepdream import load_model

    if model_name == "inception_v3":
        return load_model("inception_v3", "random", precision="float32")
    return load_model("vgg16_offline", precision="float32")


def warm_up(model, config: DreamConfig) -> None:
    """Trace the step function once so no timing below includes it."""
    from deepdream import dream

    dream(np.zeros((96, 96, 3), np.uint8), config.replace(steps_per_octave=1, octaves=1), model)


def time_video(model, config: DreamConfig, source: Path, workdir: Path) -> dict[str, float]:
    """End-to-end frames/s of ``dream_video``; the first (fresh) frame and the rest apart."""
    stamps = [time.perf_counter()]
    for _ in dream_video(source, workdir / "out.mp4", config, MotionConfig(), model):
        stamps.append(time.perf_counter())
    gaps = np.diff(stamps)
    return {
        "fps": len(gaps) / (stamps[-1] - stamps[0]),
        "first_frame_s": float(gaps[0]),
        "carried_fps": float(1 / np.mean(gaps[1:])) if len(gaps) > 1 else float("nan"),
    }


def time_beside(model, config: DreamConfig, source: Path, workdir: Path, pairs: int):
    """Rows ``(beside s, in turn s, ratio)`` of ``pairs`` pairs of the same ``dream_video``,
    with the work beside the dream in threads and all in turn (``depth=0``), alternated so a
    drift in the machine's pace falls on both; and the median ratio."""
    from deepdream.motion import flow, writing
    from deepdream.motion.beside import GPU_DEPTH

    defaults = flow.FRAMES_AHEAD, writing.FRAMES_BEHIND
    ways = {"beside": (GPU_DEPTH, GPU_DEPTH), "in turn": (0, 0)}
    rows, ratios = [], []
    try:
        for index in range(pairs):
            seconds = {}
            for way in list(ways) if index % 2 == 0 else list(ways)[::-1]:
                flow.FRAMES_AHEAD, writing.FRAMES_BEHIND = ways[way]
                start = time.perf_counter()
                for _ in dream_video(source, workdir / "beside.mp4", config, MotionConfig(), model):
                    pass
                seconds[way] = time.perf_counter() - start
            ratios.append(seconds["beside"] / seconds["in turn"])
            rows.append(
                (f"{seconds['beside']:.2f}", f"{seconds['in turn']:.2f}", f"{ratios[-1]:.3f}")
            )
    finally:
        flow.FRAMES_AHEAD, writing.FRAMES_BEHIND = defaults
    return rows, float(np.median(ratios))


def beside_report(plan: Plan, source: Path, workdir: Path, loaded=None) -> str:
    """Section 4: the pan with its work beside the dream and in turn (see the docstring), on
    the random InceptionV3 ``loaded`` when it has the plan's precision, else on one built."""
    from deepdream import load_model
    from deepdream.models.precision import resolve_precision

    precision = resolve_precision(plan.beside_precision)
    model = loaded
    if model is None or model.precision != precision:
        model = load_model("inception_v3", "random", precision=precision)
    config = dream_config("inception_v3", plan)
    warm_up(model, config)
    list(dream_video(source, workdir / "beside.mp4", config, MotionConfig(), model))  # sizes
    from deepdream.motion.beside import machine_depth

    rows, ratio = time_beside(model, config, source, workdir, plan.beside_pairs)
    height, width = plan.video_size
    default = "beside" if machine_depth() else "in turn"
    return table(
        f"\nWork beside the dream: InceptionV3 (RANDOM weights, {model.precision}), video "
        f"{width}x{height} ({plan.video_frames} frames, classic preset); decoding, flow and "
        f"encoding in threads beside the dream, or in turn (this machine's default: "
        f"{default}); median ratio {ratio:.3f}",
        ("beside s", "in turn s", "beside / in turn"),
        rows,
    )


def time_zoom(model, config: DreamConfig, size: int, frames: int, workdir: Path) -> float:
    photo = resize(decode_image(PHOTO.read_bytes()), (size, size))
    motion = MotionConfig(zoom_frames=frames)
    start = time.perf_counter()
    for _ in zoom_video(photo, workdir / "zoom.mp4", config, motion, model):
        pass
    return frames / (time.perf_counter() - start)


def measure_quality(model, config: DreamConfig, plan: Plan) -> list[tuple[str, ...]]:
    """Flicker, drift, strength and edge for our carry vs independent frames, same pan."""
    from deepdream import dream

    canvas = photo_for(*plan.video_size)
    frames = [
        np.ascontiguousarray(pan_frame(canvas, plan.video_size, i))
        for i in range(plan.video_frames)
    ]
    runs = {
        "carry (blend 0.9)": [
            u.image for u in dream_video_frames(frames, config, MotionConfig(), model)
        ],
        "independent, same seed": [
            u.image for u in dream_video_frames(frames, config, MotionConfig(blend=0), model)
        ],
    }
    if plan.label != "quick":  # the smoke run keeps to the two that matter
        runs["independent, new seed a frame"] = [
            dream(f, config.replace(seed=i), model).image for i, f in enumerate(frames)
        ]
    if plan.label != "quick":
        loose = MotionConfig(hold_strength=False)
        runs["carry, strength not held"] = [
            u.image for u in dream_video_frames(frames, config, loose, model)
        ]
    rows = []
    shift = (0, PAN_STEP)
    count = max(1, min(4, len(frames) // 4))
    for name, outputs in runs.items():
        ratios = quality.strength_ratios(frames, outputs)
        rows.append(
            (
                name,
                f"{quality.flicker(frames, outputs, shift):.3f}",
                f"{quality.drift(frames, outputs, count):+.2f}",
                f"{min(ratios):.2f}-{max(ratios):.2f}",
                f"{quality.edge_ratio(frames, outputs, shift, 2 * PAN_STEP):.2f}",
            )
        )
    return rows


def memory_child(source: Path, result: Path) -> None:
    """The child's side: dream ``source`` cheaply, end to end, and record the peak memory."""
    model = load("vgg16_offline")
    config = PRESETS["classic"].with_model("vgg16_offline")
    config = config.replace(steps_per_octave=1, octaves=1, max_side=128)
    start = time.perf_counter()
    frames = 0
    for update in dream_video(
        source, source.with_suffix(".out.mp4"), config, MotionConfig(), model
    ):
        frames = update.done
    result.write_text(
        json.dumps({"vmhwm_mb": peak_rss_mib(), "frames": frames, "s": time.perf_counter() - start})
    )


def start_child(source: Path) -> subprocess.Popen:
    argv = [sys.executable, "-m", f"bench.{Path(__file__).stem}", "--memory-child", str(source)]
    argv += ["--result", str(source.with_suffix(".json"))]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def child_peak(process: subprocess.Popen, source: Path) -> dict[str, float]:
    try:
        _, err = process.communicate(timeout=3600)
    finally:
        if process.poll() is None:
            process.kill()  # our own child, by its handle
            process.wait()
    if process.returncode != 0:
        raise RuntimeError(f"memory child failed:\n{err.decode(errors='replace')[-2000:]}")
    return json.loads(source.with_suffix(".json").read_text())


def measure_memory(plan: Plan, workdir: Path) -> list[tuple[str, ...]]:
    """Both clips dreamed at once, each in its own child: a peak is per process."""
    height, width = plan.memory_size
    clips = []
    for seconds in plan.memory_seconds:
        clip = workdir / f"mem_{seconds:g}s.mp4"
        write_pan_clip(clip, plan.memory_size, round(seconds * plan.memory_fps), plan.memory_fps)
        clips.append((seconds, clip, start_child(clip)))
    rows = []
    for seconds, clip, process in clips:
        peak = child_peak(process, clip)
        rows.append(
            (
                f"{width}x{height}, {seconds:g} s ({peak['frames']} frames)",
                f"{peak['vmhwm_mb']:.0f}",
                f"{peak['frames'] / peak['s']:.2f}",
            )
        )
    return rows


def table(title: str, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = [title, "  ".join(h.ljust(w) for h, w in zip(header, widths))]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)) for row in rows]
    return "\n".join(lines) + "\n"


def run(
    plan: Plan,
    out: Path,
    skip_memory: bool,
    memory_only: bool = False,
    quality_only: bool = False,
    beside_only: bool = False,
) -> str:
    report = [
        f"Motion benchmark ({plan.label}), {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} "
        f"UTC, {cpu_model()}, {os.cpu_count()} CPUs, float32 (the work-beside pairs: the "
        "machine's own precision)\n",
        f"command: python -m bench.motion {' '.join(sys.argv[1:])}\n",
        "InceptionV3 is timed with RANDOM weights (its ImageNet file cannot be had here); a step "
        "costs the same with any weights. Quality is measured on the offline VGG16 only.\n",
    ]
    with tempfile.TemporaryDirectory(prefix="deepdream-motion-") as folder:
        workdir = Path(folder)
        if beside_only:
            source = workdir / "pan.mp4"
            write_pan_clip(source, plan.video_size, plan.video_frames, 24)
            report.append(beside_report(plan, source, workdir))
        elif quality_only:
            model = load("vgg16_offline")
            report.append(
                quality_table(plan, measure_quality(model, dream_config(VGG, plan), plan))
            )
        elif not memory_only:
            report += measure_speed_and_quality(plan, workdir)
        if not (skip_memory or quality_only or beside_only):
            report.append(
                table(
                    "\nPeak memory (VmHWM of a child process; VGG16, 1 octave, 1 step, max side "
                    "128): must not grow with length",
                    ("clip", "peak MB", "frames/s"),
                    measure_memory(plan, workdir),
                )
            )
    text = "".join(report)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    return text


def measure_speed_and_quality(plan: Plan, workdir: Path) -> list[str]:
    """Frames/s of video and zoom for both models, and the quality table on VGG16."""
    height, width = plan.video_size
    report = []
    source = workdir / "pan.mp4"
    write_pan_clip(source, plan.video_size, plan.video_frames, 24)
    assert probe_video(source).frames == plan.video_frames
    speed_rows = []
    for name in ("vgg16_offline", "inception_v3"):
        model = load(name)
        config = dream_config(name, plan)
        warm_up(model, config)
        video = time_video(model, config, source, workdir)
        zoom = time_zoom(model, config, plan.zoom_size, plan.zoom_frames, workdir)
        speed_rows.append(
            (
                name + (" (random weights)" if name == "inception_v3" else ""),
                f"{video['fps']:.3f}",
                f"{video['first_frame_s']:.2f}",
                f"{video['carried_fps']:.3f}",
                f"{zoom:.3f}",
            )
        )
        if name == "vgg16_offline":
            quality_rows = measure_quality(model, config, plan)
    report.append(
        table(
            f"\nSpeed: video {width}x{height} ({plan.video_frames} frames, classic preset), "
            f"zoom {plan.zoom_size}x{plan.zoom_size} ({plan.zoom_frames} frames)",
            ("model", "video frames/s", "first frame s", "carried frames/s", "zoom frames/s"),
            speed_rows,
        )
    )
    if plan.quality:
        report.append(quality_table(plan, quality_rows))
    report.append(beside_report(plan, source, workdir, model))  # the InceptionV3 loaded last
    return report


def quality_table(plan: Plan, rows: list[tuple[str, ...]]) -> str:
    height, width = plan.video_size
    settings = ", ".join(f"{k} {v}" for k, v in plan.dream_changes) or "as the preset"
    return table(
        f"\nQuality on the VGG16 pan ({width}x{height}, {plan.video_frames} frames, {PAN_STEP} px "
        f"a frame; classic preset, {settings}; limits: flicker <= 0.35, |drift| <= 3 grey "
        "levels, strength 0.6-1.6x the first frame)",
        ("method", "flicker", "drift", "strength", "edge strip / rest"),
        rows,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, well under a minute")
    parser.add_argument("--frames", type=int, help="frames of the video clip (default: plan's)")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory children")
    parser.add_argument("--memory-only", action="store_true", help="only the memory children")
    parser.add_argument("--quality-only", action="store_true", help="only the quality table")
    parser.add_argument("--no-quality", action="store_true", help="skip the quality table")
    parser.add_argument("--beside-only", action="store_true", help="only the work-beside pairs")
    parser.add_argument("--pairs", type=int, help="pairs in the work-beside section (plan's)")
    parser.add_argument("--video-size", help="video clip size WxH (default: plan's)")
    parser.add_argument("--steps", type=int, help="steps per octave (default: the preset's)")
    parser.add_argument("--octaves", type=int, help="octaves (default: the preset's)")
    parser.add_argument(
        "--memory-seconds",
        type=float,
        nargs=2,
        metavar=("SHORT", "LONG"),
        help="lengths of the two memory clips (default: plan's)",
    )
    parser.add_argument("--out", type=Path, help="where to write the results text")
    parser.add_argument("--memory-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child, args.result)
        return
    plan = QUICK if args.quick else FULL
    if args.frames:
        plan = Plan(**{**plan.__dict__, "video_frames": args.frames, "zoom_frames": args.frames})
    if args.video_size:
        width, height = (int(v) for v in args.video_size.lower().split("x"))
        plan = Plan(**{**plan.__dict__, "video_size": (height, width)})
    changes = dict(plan.dream_changes)
    if args.steps:
        changes["steps_per_octave"] = args.steps
    if args.octaves:
        changes["octaves"] = args.octaves
    plan = Plan(**{**plan.__dict__, "dream_changes": tuple(changes.items())})
    if args.no_quality:
        plan = Plan(**{**plan.__dict__, "quality": False})
    if args.pairs:
        plan = Plan(**{**plan.__dict__, "beside_pairs": args.pairs})
    if args.memory_seconds:
        plan = Plan(**{**plan.__dict__, "memory_seconds": tuple(args.memory_seconds)})
    name = "motion-beside.txt" if args.beside_only else "motion.txt"  # not the full report
    default = RESULTS_DIR / ("quick" if args.quick else "") / name
    out = args.out or default
    print(run(plan, out, args.no_memory, args.memory_only, args.quality_only, args.beside_only))


if __name__ == "__main__":
    main()
