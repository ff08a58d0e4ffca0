"""The command line's moving modes: a video dreamed into a video, a photo into a zoom.

Contract:
- ``add_motion_arguments(parser)`` adds the motion options (``--blend``, ``--carried-steps``,
  ``--scene-cut``, ``--zoom-frames``, ``--zoom``, ``--rotate``, ``--fps``).
- ``wants_motion(args)`` says whether the files ask for motion: a video input (MP4, MOV,
  WebM, MKV, AVI, M4V, or a GIF going to a video), or a video output (``.mp4``, ``.m4v``,
  ``.gif``) from a photo (a zoom). Everything else stays the photo mode.
- ``run_motion(args, make_config)`` runs it with a progress bar on stderr (frames done,
  frames/s, ETA) and returns the exit code: 0 done, 2 bad input or settings (one plain
  sentence, no traceback), 3 model unavailable. Ctrl-C keeps the frames done so far as a
  playable file and exits 130.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from ..config import DreamConfig
from ..media.image import VIDEO_SUFFIXES
from .terminal import (
    EXIT_BAD_INPUT,
    EXIT_INTERRUPTED,
    CommandExit,
    config_for,
    in_option_words,
    model_or_exit,
)

VIDEO_INPUTS = {*VIDEO_SUFFIXES, ".gif"}
VIDEO_OUTPUTS = {".mp4", ".m4v", ".gif"}


def add_motion_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the moving modes, in their own group of ``--help``."""
    group = parser.add_argument_group(
        "video and zoom",
        "A video input (or a .mp4/.gif output from a photo) makes a moving dream. "
        "Video in, video out: same size, frame count, frame rate and sound.",
    )
    group.add_argument(
        "--blend",
        type=float,
        help="video: share of the previous frame's dream carried onto the next (0-1); "
        "higher = the dream clings to the scene, 0 = every frame on its own (flickers) "
        "[default 0.9]",
    )
    group.add_argument(
        "--carried-steps",
        type=int,
        help="video and zoom: steps an octave for frames that continue the previous dream "
        "[default: half of --steps]",
    )
    group.add_argument(
        "--scene-cut",
        type=float,
        help="video: a frame where more than this share of the picture is new starts a "
        "fresh dream (0-1) [default 0.5]",
    )
    group.add_argument(
        "--zoom-frames",
        type=int,
        help="photo to .mp4/.gif: number of frames of the zoom animation [default 48]",
    )
    group.add_argument(
        "--zoom", type=float, help="zoom: enlargement per frame, 1.05 = 5%% [default 1.05]"
    )
    group.add_argument(
        "--rotate", type=float, help="zoom: degrees turned per frame (anticlockwise) [default 0]"
    )
    group.add_argument("--fps", type=float, help="zoom: frames per second [default 24]")


def wants_motion(args: argparse.Namespace) -> bool:
    """Whether the input/output names (or a zoom option) ask for a moving dream."""
    source, target = args.input.suffix.lower(), args.output.suffix.lower()
    if source in VIDEO_INPUTS - {".gif"}:
        return True
    return target in VIDEO_OUTPUTS or args.zoom_frames is not None


#: Which kind of moving dream each motion option applies to.
VIDEO_ONLY = ("blend", "scene_cut")
ZOOM_ONLY = ("zoom_frames", "zoom", "rotate", "fps")
MOTION_OPTIONS = (*VIDEO_ONLY, "carried_steps", *ZOOM_ONLY)


def _given(args: argparse.Namespace, names: tuple[str, ...]) -> list[str]:
    return [
        f"--{name.replace('_', '-')}" for name in names if getattr(args, name, None) is not None
    ]


def _applies(used: list[str]) -> str:
    return f"{', '.join(used)} {'applies' if len(used) == 1 else 'apply'}"


def motion_options_without_motion(args: argparse.Namespace) -> str | None:
    """The sentence for motion options given to a photo or a folder, else None."""
    kinds = [
        (_given(args, VIDEO_ONLY), "to videos (a video input)"),
        (_given(args, ("carried_steps",)), "to videos and zooms"),
        (_given(args, ZOOM_ONLY), "to zooms (a photo to a .mp4/.gif output)"),
    ]
    said = [f"{_applies(used)} {where}" for used, where in kinds if used]
    if not said:
        return None
    return f"{'; '.join(said)}: leave {'it' if len(said) == 1 else 'them'} out for a still dream."


def options_of_the_other_motion(args: argparse.Namespace, is_video: bool) -> str | None:
    """The sentence for zoom options given to a video, or video options to a zoom."""
    if is_video and (used := _given(args, ZOOM_ONLY[1:])):
        return f"{_applies(used)} to zooms from a photo; a video keeps its own motion."
    if not is_video and (used := _given(args, VIDEO_ONLY)):
        return f"{_applies(used)} to a video input, not to a zoom from a photo."
    return None


def motion_config_from_args(args: argparse.Namespace):
    """The ``MotionConfig`` the options ask for (defaults for those not given).

    Raises:
        ValueError: an invalid value (the message says which and why).
    """
    from ..motion.config import MotionConfig

    changes = {}
    for option, field_name in [
        ("blend", "blend"),
        ("carried_steps", "carried_steps"),
        ("scene_cut", "scene_cut"),
        ("zoom_frames", "zoom_frames"),
        ("zoom", "zoom"),
        ("rotate", "rotate"),
        ("fps", "fps"),
    ]:
        value = getattr(args, option)
        if value is not None:
            changes[field_name] = value
    try:
        return MotionConfig(**changes)
    except ValueError as error:
        raise in_option_words(error) from None


def run_motion(args: argparse.Namespace, make_config: Callable[[], DreamConfig]) -> int:
    """Dream a video or make a zoom, as ``args`` say; returns the exit code."""
    from ..media.image import decode_image
    from ..media.video import probe_video

    source_suffix, target_suffix = args.input.suffix.lower(), args.output.suffix.lower()
    try:
        config = make_config()
        motion = motion_config_from_args(args)
        if target_suffix not in VIDEO_OUTPUTS:
            raise ValueError(
                f"A moving dream is written as a video: name the output .mp4 or .gif, "
                f"not {args.output.name}."
            )
        if not args.input.exists():
            raise ValueError(f"There is no file {args.input}; check the name.")
        is_video = source_suffix in VIDEO_INPUTS and args.zoom_frames is None
        if misplaced := options_of_the_other_motion(args, is_video):
            raise ValueError(misplaced)
        if is_video:
            info = probe_video(args.input)
            photo = None
        else:
            photo = decode_image(args.input.read_bytes())
    except (ValueError, OSError) as error:  # VideoDecodeError and ImageDecodeError included
        raise CommandExit(error, EXIT_BAD_INPUT) from None

    model = model_or_exit(args)
    from ..motion.writing import dream_video, zoom_video

    config = config_for(config, model)
    if is_video:
        if info.variable_frame_rate and not args.quiet:
            print("note: the frame rate varies; each frame keeps its time.", file=sys.stderr)
        total = info.frames
        updates = dream_video(args.input, str(args.output), config, motion, model)
    else:
        total = motion.zoom_frames
        updates = zoom_video(photo, str(args.output), config, motion, model)
    return _drive(updates, total, args)


def _drive(updates, total: int, args: argparse.Namespace) -> int:
    """Pull every frame with a progress bar; Ctrl-C keeps what is done as a playable file."""
    from tqdm import tqdm

    from ..media.video import VideoDecodeError

    done = 0
    with tqdm(total=total, disable=args.quiet, unit="frame", file=sys.stderr) as bar:
        try:
            for update in updates:
                done = update.done
                bar.set_postfix_str("fresh dream" if update.fresh else "carried")
                bar.update(1)
        except KeyboardInterrupt:
            updates.close()  # finishes the file with the frames done so far
            print(f"\nstopped: kept {done} frames in {args.output}", file=sys.stderr)
            return EXIT_INTERRUPTED
        except VideoDecodeError as error:
            updates.close()
            raise CommandExit(
                f"{error} ({done} frames written to {args.output})", EXIT_BAD_INPUT
            ) from None
        except OSError as error:
            raise CommandExit(error, EXIT_BAD_INPUT) from None
    if not args.quiet:
        print(f"wrote {args.output} ({done} frames)", file=sys.stderr)
    return 0


__all__ = ["add_motion_arguments", "run_motion", "wants_motion"]
