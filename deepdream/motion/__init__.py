"""Dreams that move: a video dreamed without flicker, and a zoom into a dream.

``config`` (``MotionConfig``, ``MotionUpdate``) -> ``frame`` (one frame dreamed, detail laid)
-> ``flow`` (a video, detail carried along optical flow) and ``zoom`` -> ``writing`` (into an
MP4 or GIF as the frames come), both with ``beside`` (decoding, flow and encoding in threads
beside the dream where that pays); ``quality`` measures detail, flicker and drift. The public
names are on ``deepdream`` itself; this package's own ``__init__`` imports nothing.
"""
