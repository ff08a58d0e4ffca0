"""The photo page's script (``st.navigation`` runs it); the page is ``../photo.py``."""

from deepdream_studio.gallery import gallery_ui
from deepdream_studio.photo import photo_page
from deepdream_studio.reopen import open_entry

photo_page()
gallery_ui(open_entry)
