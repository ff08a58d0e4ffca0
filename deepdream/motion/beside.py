"""Work beside the dream: a video's next frames made, and its last ones written, in threads.

Why: decoding (PyAV), optical flow (OpenCV) and encoding (PyAV's x264) release Python's lock
while they work; run in turn with the dream, a GPU's dream waits for them every frame while
the CPU could have done them during its steps. On a CPU the dream's own TensorFlow threads
take every core already: there the threads measured no faster (on the project's 2-core
EPYC, ``bench.motion --beside-only``: 0.97-1.24x the time in turn, medians 1.05 and 1.14 in
two runs), so ``machine_depth()`` turns them on only where the dream runs on a GPU, or in
another process (a cluster's worker: the web page's process then only encodes).

Contract:
- ``made_ahead(items, depth)`` yields what the iterable ``items`` yields, in its order, while
  one thread pulls up to ``depth`` items ahead of the caller. An error ``items`` raises is
  raised to the caller where it came in the stream (after the items before it). Closing the
  returned generator (``close()``, or a ``for`` loop left early and the generator closed)
  stops the thread and closes ``items`` in it, before ``close()`` returns; nothing keeps
  running after.
- ``written_beside(write, depth)`` is a context manager giving ``put(*args)``: each call is
  queued and ``write(*args)`` runs in one thread, in order, up to ``depth`` calls behind. On
  leaving, every queued call has run before the block's exit goes on (so a file closed
  after it holds every frame put), also when the block is left by an error or a cancel. An
  error in ``write`` is raised from the next ``put`` or on leaving; the calls after it are
  dropped.
- The items and arguments are handed over as they are: the caller must not change an array
  after handing it on.
- ``depth=0`` does the same work in turn, in the caller's thread, with no thread at all;
  ``depth=None`` is ``machine_depth()``.
- ``machine_depth()`` is the depth for this process: ``GPU_DEPTH`` where TensorFlow sees a
  GPU or is not loaded at all (no dream runs here; TensorFlow is not imported to find out),
  else 0.
"""

from __future__ import annotations

import queue
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

#: How often (seconds) a thread blocked on a full queue looks whether it should stop.
POLL_SECONDS = 0.05
#: Frames made ahead (or waiting to be written) where the dream runs on a GPU.
GPU_DEPTH = 2


def machine_depth() -> int:
    """``GPU_DEPTH`` where TensorFlow sees a GPU or is not loaded, else 0 (in turn); see the
    module docstring."""
    if "tensorflow" not in sys.modules:  # the dream runs elsewhere (a cluster's web page)
        return GPU_DEPTH
    from ..models.runtime import gpu_count

    return GPU_DEPTH if gpu_count() else 0


_ITEM, _END, _ERROR = "item", "end", "error"


def _put_unless(stop: threading.Event, channel: queue.Queue, message: tuple) -> bool:
    """Put ``message`` on ``channel`` unless ``stop`` is set first; whether it was put."""
    while not stop.is_set():
        try:
            channel.put(message, timeout=POLL_SECONDS)
            return True
        except queue.Full:
            continue
    return False


def _checked_depth(depth: int | None) -> int:
    depth = machine_depth() if depth is None else depth
    if depth < 0:
        raise ValueError("depth must be 0 (no thread) or more")
    return depth


def _close(iterator: Iterator) -> None:
    close = getattr(iterator, "close", None)
    if close is not None:  # a generator: closed by the thread that runs it
        close()


def made_ahead(
    items: Iterable[T], depth: int | None = 2, name: str = "deepdream-ahead"
) -> Iterator[T]:
    """``items``, made up to ``depth`` ahead in a thread; see the module docstring."""
    depth = _checked_depth(depth)
    if depth == 0:
        return _in_turn(items)
    channel: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        iterator = iter(items)
        try:
            for item in iterator:
                if not _put_unless(stop, channel, (_ITEM, item)):
                    return
            _put_unless(stop, channel, (_END, None))
        except BaseException as error:  # handed to the caller, raised there
            _put_unless(stop, channel, (_ERROR, error))
        finally:
            _close(iterator)

    thread = threading.Thread(target=produce, name=name, daemon=True)
    return _consumed(channel, stop, thread)


def _in_turn(items: Iterable[T]) -> Iterator[T]:
    iterator = iter(items)
    try:
        yield from iterator
    finally:
        _close(iterator)


def _consumed(channel: queue.Queue, stop: threading.Event, thread: threading.Thread):
    thread.start()
    try:
        while True:
            kind, value = channel.get()
            if kind == _END:
                return
            if kind == _ERROR:
                raise value
            yield value
    finally:
        stop.set()
        thread.join()


@contextmanager
def written_beside(
    write: Callable[..., Any], depth: int | None = 2, name: str = "deepdream-writer"
) -> Iterator[Callable[..., None]]:
    """``put(*args)``: ``write(*args)`` run in a thread, in order; see the module docstring."""
    depth = _checked_depth(depth)
    if depth == 0:
        yield write
        return
    channel: queue.Queue = queue.Queue(maxsize=depth)
    failed: list[BaseException] = []

    def consume() -> None:
        while (args := channel.get()) is not None:
            if failed:
                continue  # an earlier write failed: the rest is dropped
            try:
                write(*args)
            except BaseException as error:  # raised to the caller at its next put or exit
                failed.append(error)

    def put(*args: Any) -> None:
        if failed:
            raise failed[0]
        channel.put(args)

    thread = threading.Thread(target=consume, name=name, daemon=True)
    thread.start()
    try:
        yield put
    finally:
        channel.put(None)  # after every queued call: they all run first
        thread.join()
    if failed:
        raise failed[0]
