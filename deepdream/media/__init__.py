"""Bytes to pixels and back: photos (``image``, the record in every file), videos
(``video``), recipes read from a record (``recipe``), and files written atomically (``files``).

Nothing here knows a network or the render loop. This ``__init__`` imports nothing.
"""
