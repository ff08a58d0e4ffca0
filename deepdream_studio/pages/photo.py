"""The photo page's script (``st.navigation`` runs it); the page is ``../photo.py``."""

from deepdream_studio.photo import photo_page

photo_page()
