"""The page's parts, one module each. Every ``*_ui()`` draws one part and returns plain values.

- ``models``: the cached dreaming network, and the notice when the offline model stands in.
- ``settings``: the dream settings in the sidebar, split by section (shared by every page).
- ``upload``: the photo uploader, with plain errors for files that are not photos.
- ``handover``: hands a stopped dream from the run that made it to the run that shows it.
- ``run``: running a dream with progress, the queue, Stop and the partial result.
- ``result``: original and dream side by side, and the download.
- ``photo``: the photo page, those parts top to bottom.
- ``animate``: the Animate page: a video dreamed without flicker, or a zoom into a dream.
The engine is ``deepdream``; nothing here computes a dream itself.
"""
