"""The Animate page's script (``st.navigation`` runs it); the page is ``../animate.py``."""

from deepdream_studio.animate import animate_page

animate_page()
