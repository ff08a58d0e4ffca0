"""The photo page's script (``st.navigation`` runs it); the page lives in ``ui/photo.py``."""

from ui.photo import photo_page

photo_page()
