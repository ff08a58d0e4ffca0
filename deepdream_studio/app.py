"""DeepDream Studio's page: the entry both ways of serving it run.

``streamlit run app.py`` in a checkout and the installed ``deepdream-studio`` command (which
runs this file as the Streamlit script, see ``serve.py``) land in ``main()``: page
configuration, TensorFlow started quietly (GPU memory growth on) and kept warm between runs
(``process.py``), the default dream warmed up in the background, the navigation between
pages, and the notice when a stand-in serves for Keras's InceptionV3. The page scripts that
``st.navigation`` runs are ``pages/*.py`` beside this file (file pages, so tests can switch
to them), named by absolute path so either entry finds them.
"""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from deepdream_studio.backend import cluster_address
from deepdream_studio.notice import model_notice_ui

PAGES = Path(__file__).resolve().parent / "pages"


#: What a first visit sees while the server starts TensorFlow (4-5 s on 2 cores): the page
#: shows no widget until then, since what it offers depends on the network that serves.
#: (A spinner shows only after half a second: later runs, already started, show nothing.)
STARTING_MESSAGE = "Starting the dreaming network (the first visit after a server start)..."


def main() -> None:
    st.set_page_config(page_title="DeepDream Studio", page_icon="🌀", layout="wide")
    local = cluster_address() is None
    if not local:
        # Read when Ray is first imported (here: on the first dream or notice): Ray's native
        # failure handler printed a stack dump for the SIGTERM any host sends to stop a
        # server. The server's own exit closes the cluster's work (deepdream.cluster.sessions).
        os.environ.setdefault("RAY_DISABLE_FAILURE_SIGNAL_HANDLER", "1")
    pages = {
        "photo": st.Page(
            PAGES / "photo.py", title="Photo", icon="🖼️", url_path="photo", default=True
        ),
        "animate": st.Page(PAGES / "animate.py", title="Animate", icon="🎞️", url_path="animate"),
    }
    page = st.navigation(list(pages.values()))
    wanted = st.session_state.pop("open_page", None)  # a dream opened from the gallery
    if wanted and pages[wanted].title != page.title:
        st.switch_page(pages[wanted])
    st.title("DeepDream Studio")
    if local:  # dreams run here (on a cluster this process never loads TensorFlow)
        with st.spinner(STARTING_MESSAGE, show_time=True):
            _start_dreaming_here()
        from deepdream_studio.models import first_use_ui

        first_use_ui()  # Google's InceptionV3 fetched on this server's first use: say so
    model_notice_ui()
    page.run()


def _start_dreaming_here() -> None:
    """Start TensorFlow, keep Keras's state between runs and start the warm-up (each once
    per server; later runs return at once)."""
    from deepdream.models.runtime import start_tensorflow

    start_tensorflow()  # once per server; its start-up chatter stays out of the server log
    from deepdream_studio.process import keep_keras_state

    keep_keras_state()  # Streamlit would reset Keras (and TensorFlow's kernels) every run
    from deepdream_studio.models import start_warm_up

    start_warm_up()  # the first dream should not pay for tracing the step


if __name__ == "__main__":  # run as the Streamlit script by deepdream-studio
    main()
