"""The session's gallery: every dream of this browser session, newest first.

Contract:
- ``session_gallery()`` is this session's ``Gallery`` (plain Python with a lock: a run that
  Streamlit is stopping may still add its stopped dream, as with ``handover.py``).
- ``Gallery.add(kind, record, config, motion=None)`` keeps a photo dream, a video or a zoom
  (the page's record of it, not a copy) with a thumbnail. At most ``MAX_DREAMS`` dreams and
  ``MAX_BYTES`` bytes are kept; the oldest go first (the newest always stays).
- ``gallery_ui(open_entry)`` draws the strip of thumbnails (newest first), each with "Open",
  which calls ``open_entry(entry)`` as a button callback (before the next run draws the
  sidebar, so the entry's settings can be restored into it), and "Download all": one ZIP with
  every dream and a small text file of its settings each. The caps are said on the page.
- ``settings_text(entry)`` is that text file: every setting, the model, the time it took.
"""

from __future__ import annotations

import io
import itertools
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import streamlit as st
from PIL import Image

from deepdream import DreamConfig, decode_image, fit_within

#: What one session keeps: enough to compare a morning's dreams, bounded for a shared server.
MAX_DREAMS = 12
MAX_BYTES = 200_000_000
THUMBNAIL_SIDE = 160
PER_ROW = 6
KINDS = {"photo": "Photo", "video": "Video", "zoom": "Zoom"}
_ids = itertools.count(1)


@dataclass
class Entry:
    """One dream in the gallery."""

    kind: str  # "photo", "video" or "zoom"
    record: dict[str, Any]  # the page's record (png or mp4 and what the page shows of it)
    config: DreamConfig
    motion: Any = None  # the MotionConfig of a video or zoom
    thumbnail: bytes = b""
    made_at: float = field(default_factory=time.time)
    id: int = field(default_factory=lambda: next(_ids))

    @property
    def size(self) -> int:
        """Bytes this entry holds (its files and the original kept for showing)."""
        total = 0
        for value in (*self.record.values(), *self.record.get("encoded", {}).values()):
            if isinstance(value, (bytes, bytearray)):
                total += len(value)
            elif isinstance(value, np.ndarray):
                total += value.nbytes
        return total

    @property
    def file_name(self) -> str:
        """The dream's file name in the ZIP (without its number)."""
        if self.kind == "photo":
            return self.record["file_name"]
        return f"{self.record['stem']}-deepdream.mp4"

    @property
    def data(self) -> bytes:
        """The dream's file: its PNG, or its MP4."""
        return self.record["png"] if self.kind == "photo" else self.record["mp4"]


class Gallery:
    """The dreams of one session, newest first, within ``MAX_DREAMS`` and ``MAX_BYTES``."""

    def __init__(self, max_dreams: int = MAX_DREAMS, max_bytes: int = MAX_BYTES) -> None:
        self._lock = threading.Lock()
        self._entries: list[Entry] = []
        self.max_dreams, self.max_bytes = max_dreams, max_bytes

    def add(
        self, kind: str, record: dict[str, Any], config: DreamConfig, motion: Any = None
    ) -> Entry:
        """Keep a dream (see the module docstring); returns its entry."""
        entry = Entry(kind, record, config, motion, thumbnail=_thumbnail(kind, record))
        with self._lock:
            self._entries.insert(0, entry)
            while len(self._entries) > 1 and (
                len(self._entries) > self.max_dreams
                or sum(e.size for e in self._entries) > self.max_bytes
            ):
                self._entries.pop()  # the oldest
        return entry

    @property
    def entries(self) -> list[Entry]:
        """The kept dreams, newest first."""
        with self._lock:
            return list(self._entries)

    def zip_bytes(self) -> bytes:
        """Every dream and its settings as one ZIP, numbered oldest first."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:  # PNG/MP4 are packed
            for number, entry in enumerate(reversed(self.entries), start=1):
                stem = f"{number:02d}-{entry.file_name.rsplit('.', 1)[0]}"
                suffix = entry.file_name.rsplit(".", 1)[1]
                archive.writestr(f"{stem}.{suffix}", entry.data)
                archive.writestr(f"{stem}.txt", settings_text(entry))
        return buffer.getvalue()


def session_gallery() -> Gallery:
    """This session's gallery (created on first use)."""
    if "gallery" not in st.session_state:
        st.session_state.gallery = Gallery()
    return st.session_state.gallery


def settings_text(entry: Entry) -> str:
    """The settings file of one dream in the ZIP."""
    record = entry.record
    lines = [
        f"DeepDream Studio · {KINDS[entry.kind]} dream",
        f"made: {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(entry.made_at))}",
        f"model: {record['model']}",
    ]
    if entry.kind == "photo":
        lines.append(f"result: {record['summary']}")
    else:
        lines.append(f"frames: {record['frames']} in {record['seconds']:.1f} s")
    if record.get("stopped"):
        lines.append("stopped early: holds the work done so far")
    lines += [f"{key}: {value}" for key, value in entry.config.describe().items()]
    if entry.motion is not None:
        lines += [f"{key}: {value}" for key, value in entry.motion.describe().items()]
    return "\n".join(lines) + "\n"


def _thumbnail(kind: str, record: dict[str, Any]) -> bytes:
    """A small JPEG of the dream: the picture, or a video's last frame."""
    if kind == "photo":
        picture = decode_image(record["png"])
    else:
        from deepdream.media.video import read_frames

        picture = None
        for frame in read_frames(record["mp4"]):
            picture = frame.image  # the last frame: the deepest dream of a zoom
        if picture is None:
            picture = np.zeros((THUMBNAIL_SIDE, THUMBNAIL_SIDE, 3), np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(fit_within(picture, THUMBNAIL_SIDE)).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def gallery_ui(open_entry: Callable[[Entry], None]) -> None:
    """The strip of this session's dreams and "Download all"; see the module docstring."""
    entries = session_gallery().entries
    if not entries:
        return
    st.subheader("This session's dreams")
    st.caption(
        f"Newest first. The gallery keeps your last {MAX_DREAMS} dreams, up to "
        f"{MAX_BYTES // 1_000_000} MB, while this tab is open; older ones are dropped first."
    )
    for start in range(0, len(entries), PER_ROW):
        columns = st.columns(PER_ROW)
        for column, entry in zip(columns, entries[start : start + PER_ROW]):
            with column:
                when = time.strftime("%H:%M:%S", time.localtime(entry.made_at))
                stopped = " · stopped" if entry.record.get("stopped") else ""
                st.image(entry.thumbnail, caption=f"{KINDS[entry.kind]} · {when}{stopped}")
                st.button(
                    "Open",
                    key=f"open_{entry.id}",
                    on_click=open_entry,
                    args=(entry,),
                    help="Show this dream again, with the settings it was made with.",
                )
    st.download_button(
        f"Download all ({len(entries)} dreams, ZIP)",
        data=session_gallery().zip_bytes,  # built when clicked, not on every rerun
        file_name="deepdream-session.zip",
        mime="application/zip",
        key="download_all",
        on_click="ignore",
        help="Every dream of this session, each with a text file of its settings.",
    )
