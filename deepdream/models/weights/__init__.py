"""Where a network's weights come from (``sources``) and the importers that bring them in
offline (``tfjs`` and ``nsfwjs`` for InceptionV3, ``hed`` for the edge detector).

This ``__init__`` imports nothing.
"""
