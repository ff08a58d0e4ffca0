"""DeepDream Studio: the entry of the web page.

``streamlit run app.py`` lands here: page configuration, TensorFlow started quietly (GPU
memory growth on) and kept warm between runs (``ui/process.py``), the default dream warmed up
in the background, the navigation between pages, and the notice when the offline model stands
in for InceptionV3. Each page and its parts live in ``ui/`` (``ui/pages/`` holds the two-line
scripts that ``st.navigation`` runs: file pages, so tests can switch to them).
"""

from __future__ import annotations

import streamlit as st

from ui.backend import cluster_address
from ui.models import model_notice_ui


def main() -> None:
    st.set_page_config(page_title="DeepDream Studio", page_icon="🌀", layout="wide")
    if cluster_address() is None:  # on a cluster, this process never loads TensorFlow
        from deepdream import start_tensorflow

        start_tensorflow()  # once per server; its start-up chatter stays out of the server log
        from ui.process import keep_keras_state

        keep_keras_state()  # Streamlit would reset Keras (and TensorFlow's kernels) every run
        from ui.models import start_warm_up

        start_warm_up()  # the first dream should not pay for tracing the step
    page = st.navigation(
        [
            st.Page("ui/pages/photo.py", title="Photo", icon="🖼️", url_path="photo", default=True),
            st.Page("ui/pages/animate.py", title="Animate", icon="🎞️", url_path="animate"),
        ]
    )
    st.title("DeepDream Studio")
    model_notice_ui()
    page.run()


main()
