"""Opening a dream from the gallery: its result shown again, its settings back in the sidebar.

Contract: ``open_entry(entry)`` is the gallery's "Open" button callback (it runs before the
next run draws anything, so the widgets can still be set): the dream becomes the shown result
of its page (the photo page for a photo, the Animate page for a video or a zoom, which the
app then switches to), and its settings, seed and network, with a video's or zoom's motion
settings, go back into the widgets. What cannot come back (a guide image or a mask: their
pixels live in uploads and strokes) is said in the sidebar, as for a dropped recipe.
"""

from __future__ import annotations

import streamlit as st

from .animate import KEY as ANIMATE_KEY
from .animate import restore_motion
from .gallery import Entry
from .run import session_handover
from .settings import restore_settings


def open_entry(entry: Entry) -> None:
    """Show ``entry`` again with its settings; see the module docstring."""
    state = st.session_state
    problems = restore_settings(entry.config)
    if entry.config.guide is not None:
        problems.append("Its guide image is not kept: upload it again to dream with it.")
    if entry.config.mask is not None:
        problems.append("Its mask is not kept: paint or upload it again to dream with it.")
    if entry.kind == "photo":
        session_handover().show(entry.record)
        state.open_page = "photo"
    else:
        session_handover(ANIMATE_KEY).show(entry.record)
        restore_motion(entry.kind, entry.motion)
        state.open_page = "animate"
    state.recipe_message = ("success", "The dream you opened is shown with its settings.", problems)
