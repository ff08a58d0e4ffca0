"""The Animate page's script (``st.navigation`` runs it); the page lives in ``ui/animate.py``."""

from ui.animate import animate_page

animate_page()
