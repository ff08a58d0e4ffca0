"""The Animate page: a video dreamed frame by frame without flicker, or a zoom into a dream.

Top to bottom: the same dream settings in the sidebar as the photo page; choose a video, or a
photo to zoom into; optionally a mask (one for every frame, painted on the first); the motion
settings; Generate DeepDream Video; progress with the latest
frame, frames per second and time left (Stop keeps the frames done so far as a playable
video); then the original and the dream playing side by side, with MP4 (and, for a zoom, GIF)
downloads. Limits that protect a public server are said on the page; longer work belongs to
the command line. Uploads stay in memory: the video is read and the dream encoded in memory.
"""

from __future__ import annotations

import io
import logging
from typing import Any

import numpy as np
import streamlit as st

from deepdream import DreamConfig, fit_within
from deepdream.media.image import VIDEO_SUFFIXES

from .gallery import session_gallery
from .live import LiveJob, live_run, ready_toast_ui, redraw_due
from .models import prepare_photo_sizes
from .paint import MaskProblem, mask_ui
from .run import PLAIN_ERRORS, runner_or_error, session_handover, wait_for_stopped_dream
from .settings import settings_ui
from .upload import safe_stem, upload_ui

log = logging.getLogger("deepdream.app")

KEY = "animate_handover"  # this page's result, apart from the photo page's
BUTTON_LABEL = "Generate DeepDream Video"
VIDEO_TYPES = [suffix.removeprefix(".") for suffix in (*VIDEO_SUFFIXES, ".gif")]
#: What one page visitor may ask of a shared server; the CLI has no such limits.
MAX_SECONDS = 10.0
MAX_FRAMES = 300
MAX_SIDE = 480
MAX_ZOOM_FRAMES = 96
CLI_HINT = "python -m deepdream clip.mp4 dream.mp4"


def limits_text() -> str:
    """The page's limits, in one sentence."""
    return (
        f"On this page: videos up to {MAX_SECONDS:g} s, {MAX_FRAMES} frames and {MAX_SIDE} "
        f"pixels on the long side; zooms up to {MAX_ZOOM_FRAMES} frames. Longer or larger "
        f"work belongs to the command line ({CLI_HINT})."
    )


def limit_problem(info: Any) -> str | None:
    """Why a video is beyond the page's limits (a plain sentence), or None."""
    if info.duration > MAX_SECONDS + 0.05 or info.frames > MAX_FRAMES:
        return (
            f"This video is {info.duration:.1f} s long ({info.frames} frames); this page "
            f"dreams videos up to {MAX_SECONDS:g} s and {MAX_FRAMES} frames. Cut it shorter, "
            f"or dream it with the command line: {CLI_HINT}"
        )
    if max(info.width, info.height) > MAX_SIDE:
        return (
            f"This video is {info.width}x{info.height} pixels; this page dreams videos up to "
            f"{MAX_SIDE} pixels on the long side. Make it smaller, or dream it with the "
            f"command line: {CLI_HINT}"
        )
    return None


def video_upload_ui(on_new_video=lambda: None) -> tuple[bytes | None, Any, str]:
    """The video uploader. Returns ``(bytes, info, stem)``, or ``(None, None, "")`` with a
    plain error on the page when the file is not a video this page can dream."""
    from deepdream.media.video import VideoDecodeError, probe_video

    uploaded = st.file_uploader(
        "Choose a video",
        type=VIDEO_TYPES,
        key="video_upload",
        help="MP4, MOV, WebM, MKV, AVI, M4V or an animated GIF. The dream keeps its size, "
        "frame count, frame rate and sound.",
    )
    if uploaded is None:
        return None, None, ""
    data = uploaded.getvalue()
    try:
        info = probe_video(data)
    except VideoDecodeError as error:
        st.error(str(error))
        return None, None, ""
    problem = limit_problem(info)
    if problem:
        st.error(problem)
        return None, None, ""
    if st.session_state.get("video_file_id") != uploaded.file_id:
        st.session_state.video_file_id = uploaded.file_id
        on_new_video()
    return data, info, safe_stem(uploaded.name)


def motion_ui(mode: str) -> Any:
    """The motion settings for a video or a zoom; returns a ``MotionConfig``."""
    from deepdream.motion.config import MotionConfig

    with st.expander("Motion settings", expanded=True):
        if mode == "video":
            blend = st.slider(
                "Carry the previous frame's dream",
                0.0,
                1.0,
                0.9,
                step=0.05,
                key="blend",
                help="How much of the last frame's dream is moved along with the picture "
                "onto the next frame. High: the patterns cling to the scene; 0: every frame "
                "is dreamed on its own and flickers.",
            )
            return MotionConfig(blend=float(blend))
        frames = st.slider(
            "Frames",
            2,
            MAX_ZOOM_FRAMES,
            24,
            key="zoom_frames",
            help="How many frames the zoom has, the first dream included.",
        )
        zoom = st.slider(
            "Zoom per frame",
            1.01,
            1.2,
            1.05,
            step=0.01,
            key="zoom",
            help="How much each frame enlarges the one before: larger dives faster.",
        )
        rotate = st.slider(
            "Turn per frame (degrees)",
            -10.0,
            10.0,
            0.0,
            step=0.5,
            key="rotate",
            help="How far each frame turns the one before: a spiral dive.",
        )
        fps = st.slider(
            "Frames per second",
            4,
            30,
            12,
            key="fps",
            help="How fast the zoom plays.",
        )
        return MotionConfig(
            zoom_frames=int(frames), zoom=float(zoom), rotate=float(rotate), fps=fps
        )


def _progress_widgets() -> tuple[Any, dict[str, Any]]:
    live = st.empty()
    with live.container():
        status = st.empty()
        progress = st.progress(0.0, text="Waiting to start...")
        st.button("Stop", key="stop_video", help="Stop now and keep the frames done so far.")
        preview = st.empty()
    return live, {"status": status, "progress": progress, "preview": preview}


#: Least seconds between two redraws of the bar and the latest frame. Each redraw is work
#: for the browser (about 0.1 s of its main thread here), taken from the dream when browser
#: and server share the CPU; a frame a second still shows the video coming.
MOTION_REDRAW_SECONDS = 1.0


def show_motion_progress(widgets: dict[str, Any], update: Any, now: float | None = None) -> None:
    """Draw one finished frame: the bar with frames, frames/s and time left; the frame. At
    most every ``MOTION_REDRAW_SECONDS`` (the first frame always); ``now``: the monotonic
    clock's reading, read here by default."""
    if not redraw_due(widgets, MOTION_REDRAW_SECONDS, now):
        return
    total = update.total or update.done
    eta = f" · about {update.eta:.0f} s left" if update.eta is not None else ""
    widgets["progress"].progress(
        min(update.done / total, 1.0),
        text=f"Frame {update.done}/{total} · {update.frames_per_second:.2f} frames/s{eta}",
    )
    widgets["preview"].image(
        fit_within(update.image, 640), caption=f"Frame {update.done}", width="content"
    )


def to_gif(mp4: bytes, fps: float) -> bytes:
    """The frames of an MP4 (made here) as a GIF."""
    from deepdream.media.video import VideoWriter, probe_video, read_frames

    info = probe_video(mp4)
    target = io.BytesIO()
    with VideoWriter(target, info.width, info.height, fps, format="gif") as writer:
        for frame in read_frames(mp4):
            writer.write(frame.image)
    return target.getvalue()


def run_motion(
    mode: str,
    source: bytes | np.ndarray,
    config: DreamConfig,
    motion: Any,
    stem: str,
) -> None:
    """Dream a video (``source`` its bytes) or a zoom (``source`` the photo) with live
    progress (``live.live_run``), in this process or on the cluster's workers (the same
    runner as a photo's dream); the frames are written into an MP4 here as they come, and the
    finished or stopped video is kept through this page's hand-over and in the gallery."""
    from deepdream.media.video import VideoDecodeError
    from deepdream.motion.writing import write_motion

    runner = runner_or_error(config)
    if runner is None:
        return
    live, widgets = _progress_widgets()
    gallery = session_gallery()  # plain Python: usable while Streamlit stops this run
    target = io.BytesIO()
    frames = runner.motion_updates(mode, source, motion)
    updates = write_motion(mode, source, frames, target, motion, format="mp4")
    seen: list[Any] = []

    def draw(update: Any) -> None:
        seen[:] = [update]
        show_motion_progress(widgets, update)

    def record(stopped: bool) -> dict[str, Any] | None:
        if not seen:  # stopped before the first frame: nothing to keep
            return None
        kept = motion_record(mode, source, target.getvalue(), seen[0], motion, runner)
        kept.update(stem=stem, notice=runner.notice, stopped=stopped, where=runner.where)
        return kept

    live_run(
        LiveJob(
            handover=session_handover(KEY),
            slot=runner.slot,
            updates=updates,
            status=widgets["status"],
            live=live,
            draw=draw,
            record=record,
            kept=lambda kept: gallery.add(mode, kept, runner.config, motion),
            failure=lambda error: (
                str(error)
                if isinstance(error, (VideoDecodeError, *PLAIN_ERRORS))
                else "Something went wrong while dreaming the video. Please try again."
            ),
            ready="Your video is ready." if mode == "video" else "Your zoom is ready.",
            close=updates.close,  # finishes the file with the frames done
        )
    )


def motion_record(
    mode: str, source: bytes | np.ndarray, mp4: bytes, last: Any, motion: Any, runner: Any
) -> dict[str, Any]:
    """What the page keeps of a moving dream."""
    return {
        "mode": mode,
        "original": source if mode == "video" else fit_within(source, 640),
        "mp4": mp4,
        "gif": to_gif(mp4, motion.fps) if mode == "zoom" else None,
        "frames": last.done,
        "total": last.total,
        "seconds": last.elapsed,
        "model": runner.description,
    }


def motion_result_ui(record: dict[str, Any] | None) -> None:
    """Original and dream side by side, playing; the downloads."""
    if not record:
        return
    left, right = st.columns(2)
    if record["mode"] == "video":
        left.video(record["original"])
        left.caption("Original")
    else:
        left.image(record["original"], caption="Your photo")
    right.video(record["mp4"], format="video/mp4", loop=record["mode"] == "zoom")
    done = f"{record['frames']} of {record['total']} frames" if record["total"] else ""
    right.caption(f"DeepDream · {done} in {record['seconds']:.1f} s")
    if record["stopped"]:
        st.info("This video was stopped early; it holds the frames dreamed so far.")
    st.caption(f"Made with {record['model']}. {record.get('where', '')}".strip())
    buttons = st.columns(2)
    buttons[0].download_button(
        "Download the dream (MP4)",
        data=record["mp4"],
        file_name=f"{record['stem']}-deepdream.mp4",
        mime="video/mp4",
        key="download_mp4",
        on_click="ignore",
        type="primary",
    )
    if record["gif"]:
        buttons[1].download_button(
            "Download as GIF",
            data=record["gif"],
            file_name=f"{record['stem']}-deepdream.gif",
            mime="image/gif",
            key="download_gif",
            on_click="ignore",
        )


def _mask_picture(mode: str, source: bytes | np.ndarray | None) -> np.ndarray | None:
    """What a mask is painted on: the zoom's photo, or the video's first frame (decoded once
    per video)."""
    if source is None:
        return None
    state = st.session_state
    if mode == "zoom":
        state.zoom_picture_id = f"{source.shape[1]}x{source.shape[0]}-{hash(source.tobytes())}"
        return source
    video_id = state.get("video_file_id")
    if state.get("video_picture_id") != video_id:
        from deepdream.media.video import read_frames

        first = next(iter(read_frames(source)), None)
        state.video_first_frame = None if first is None else first.image
        state.video_picture_id = video_id
    return state.video_first_frame


def restore_motion(kind: str, motion: Any) -> None:
    """Put a reopened video's or zoom's motion settings back into this page's widgets (a
    button callback: before they are drawn)."""
    state = st.session_state
    state.animate_mode = kind
    state.blend = motion.blend
    state.zoom_frames = min(motion.zoom_frames, MAX_ZOOM_FRAMES)
    state.zoom = motion.zoom
    state.rotate = motion.rotate
    state.fps = int(motion.fps)


def animate_page() -> None:
    """Draw the Animate page."""
    st.write(
        "Dream a whole video, the patterns following the scene as it moves, or dive into a "
        "dream: each frame the last one zoomed in and dreamed again."
    )
    st.caption(limits_text())
    config, settings_error = settings_ui()
    wait_for_stopped_dream(KEY)
    ready_toast_ui()
    handover = session_handover(KEY)
    mode = st.radio(
        "What to animate",
        ["video", "zoom"],
        key="animate_mode",
        horizontal=True,
        format_func={"video": "Dream a video", "zoom": "Zoom into a photo"}.get,
        help="A video is dreamed frame by frame, each carrying the last one's dream along "
        "the motion; a zoom dreams a photo, enlarges it a little, dreams again, and so on.",
    )
    source: bytes | np.ndarray | None
    if mode == "video":
        source, _, stem = video_upload_ui(on_new_video=handover.clear)
        if source is not None and handover.result is None:
            st.video(source)
    else:
        source, stem = upload_ui(on_new_photo=handover.clear, key="zoom_upload")
        if source is not None:
            source = fit_within(source, MAX_SIDE)  # the page's limit for every frame
            if handover.result is None:
                st.image(source, caption="Your photo", width="content")
    mask, mask_problem = None, None
    picture = _mask_picture(mode, source)
    if picture is not None:  # one mask for every frame, painted on the first
        try:
            mask = mask_ui(picture, f"{mode}-{st.session_state.get(f'{mode}_picture_id')}")
        except MaskProblem as problem:
            mask_problem = str(problem)
    motion = motion_ui(mode)
    ready = source is not None
    clicked = st.button(
        BUTTON_LABEL,
        key="generate_video",
        type="primary",
        disabled=not ready,
        shortcut="Ctrl+Enter",
        help="Also Ctrl+Enter (Cmd+Enter on a Mac).",
    )
    if settings_error:
        st.error(settings_error)
    elif clicked and mask_problem:
        st.warning(mask_problem)
    elif clicked and ready and config is not None:
        run_motion(mode, source, config.replace(mask=mask), motion, stem)
    elif picture is not None and config is not None:
        prepare_photo_sizes(picture.shape[:2], config)  # every frame has the first's size
    record = handover.result
    if record and record["mode"] == mode:
        motion_result_ui(record)
