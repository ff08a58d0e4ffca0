"""The Animate page's script (``st.navigation`` runs it); the page is ``../animate.py``."""

from deepdream_studio.animate import animate_page
from deepdream_studio.gallery import gallery_ui
from deepdream_studio.reopen import open_entry

animate_page()
gallery_ui(open_entry)
