"""Recipes on the page: a dream's settings restored from its file or from a link, and the link.

Contract:
- ``restore_ui(restore_settings)`` runs first in the sidebar, before any setting is drawn
  (Streamlit forbids changing a drawn widget's value). It draws "Restore the settings of a
  dream": a dropped dream (PNG, JPEG or WebP as saved here or by the command line) has every
  setting, the seed and the network written into the sidebar's widgets. On a session's first
  run, a link's settings (its query parameters) are restored the same way. A message says
  what came back, and each thing that could not (a guide or a mask is only a hash; a network
  this server lacks; a value beyond a slider's range) in a plain sentence.
- ``link_ui(config)`` draws "Copy link": the settings (never the photo) go into the page's
  query parameters and the link is shown with a copy button; opening it restores them.
The same photo dreamed with restored settings on this server gives the very same pixels
(tested in Chromium, byte for byte), unless a message said otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

import streamlit as st

from deepdream import DreamConfig
from deepdream.media.recipe import RecipeError, link_settings, read_recipe, recipe_from_link

#: Writes a config into the sidebar's widgets; returns what it could not (``settings.py``).
Restore = Callable[[DreamConfig, str | None], list[str]]
RECIPE_TYPES = ["png", "jpg", "jpeg", "webp"]


def restore_ui(restore_settings: Restore) -> None:
    """The recipe uploader and the link's settings, written into the widgets by
    ``restore_settings``; see the module docstring."""
    state = st.session_state
    if not state.get("link_checked"):
        state.link_checked = True
        params = dict(st.query_params)
        if params.get("model"):
            _restore(lambda: recipe_from_link(params), "the link", restore_settings)
    with st.sidebar.expander("Restore the settings of a dream"):
        uploaded = st.file_uploader(
            "A dream saved here",
            type=RECIPE_TYPES,
            key="recipe_upload",
            help="Drop a dream's PNG, JPEG or WebP: every setting it was made with, the seed "
            "and the network come back into the sidebar. Dream the same photo again for the "
            "very same picture.",
        )
        if uploaded is not None and state.get("recipe_file_id") != uploaded.file_id:
            state.recipe_file_id = uploaded.file_id
            _restore(lambda: read_recipe(uploaded.getvalue()), "your dream", restore_settings)
    _show_message()


def _restore(read, source: str, restore_settings: Restore) -> None:
    state = st.session_state
    try:
        recipe = read()
    except RecipeError as error:
        state.recipe_message = ("error", str(error), [])
        return
    problems = [*recipe.problems, *restore_settings(recipe.config, recipe.precision)]
    state.recipe_message = ("success", f"Settings restored from {source}.", problems)


def _show_message() -> None:
    message = st.session_state.get("recipe_message")
    if not message:
        return
    kind, text, problems = message
    getattr(st.sidebar, kind)(text)
    for problem in problems:
        st.sidebar.warning(problem)


def link_ui(config: DreamConfig | None) -> None:
    """The "Copy link" button and, once pressed, the link; see the module docstring."""
    if config is None:
        return
    settings = link_settings(config)
    if st.sidebar.button(
        "Copy link",
        key="copy_link",
        help="A link to this page with these settings (never your photo): whoever opens it "
        "starts with the same settings.",
    ):
        st.query_params.from_dict(settings)
        st.session_state.shared_link = settings
    if st.session_state.get("shared_link") == settings:
        base = (st.context.url or "").split("?", 1)[0]
        st.sidebar.code(f"{base}?{urlencode(settings)}", language=None, wrap_lines=True)
        st.sidebar.caption("Copy it with the button at the code's corner.")
