"""Sharing one machine between many dreams: the FIFO dream slots (``slots``), the measured
pace behind time estimates (``pace``), and a small thread-safe LRU cache (``cache``, a leaf
that any layer may use).

This ``__init__`` imports nothing.
"""
