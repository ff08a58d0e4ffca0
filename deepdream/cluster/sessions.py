"""Interactive callers' live dreams on the cluster: a few workers, shared first come, first served.

Contract:
- ``ClusterDreams(address, model)`` is one web process's share of the cluster (one per
  process: ``shared_cluster_dreams``); thread-safe, since each browser tab runs in its own
  thread. Its workers start on first use; ``info`` is what they dream with.
- ``lease(wait, owner)`` is a context manager holding one worker for a dream. While every
  worker is busy it waits in the queue of ``deepdream.serving.slots`` (the very queue this
  process's own dreams use), calling ``wait(ahead)`` like ``DreamSlots.slot``; ``owner`` keeps
  a place across a rerun of the same caller (a browser session). In the block,
  ``lease.stream(method, *args)`` streams a worker method's updates (a Ray streaming
  generator): the engine's own ``DreamUpdate`` or ``MotionUpdate`` objects, no TensorFlow
  types. Leaving the block (finished, stopped, failed) cancels a stream still running there,
  then frees the worker for the next in line.
- ``dream(photo, config)`` is a photo's dream start to end, for callers that need no progress.
- A lost worker or a failure there raises ``ClusterError`` with a plain sentence.
- Stopping the server (SIGTERM) closes it cleanly: at exit, before Ray's own exit hook, the
  workers are ended (the live dreams' streams end with them), the leases are waited for (a
  browser session's thread may still be inside a Ray call, and Ray ends the whole process
  when a thread calls it after its shutdown), then Ray is left; nothing touches Ray
  afterwards (a call then would start a fresh connection in a dying process). The web process's own
  entry should keep Ray's native failure signal handler off.
Importing this module imports Ray, never TensorFlow.
"""

from __future__ import annotations

import atexit
import functools
import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager

import numpy as np
import ray
from ray.exceptions import RayActorError, RayTaskError

from ..batch import ModelChoice
from ..config import DreamConfig
from ..serving.slots import DreamSlots
from . import ClusterError, plan_workers
from .connection import cluster_size, connect, ray_cause
from .worker import start_workers, stop_workers


class Lease:
    """One worker held for one dream; see ``ClusterDreams.lease``."""

    def __init__(self, worker, info: dict) -> None:
        self.worker = worker
        self.info = info  # that worker's own info: where it runs
        self._streams: list = []

    def stream(self, method: str, *args) -> Iterator:
        """The updates of the worker's streaming ``method`` called with ``args``."""
        stream = getattr(self.worker, method).options(num_returns="streaming").remote(*args)
        self._streams.append(stream)
        finished = False
        try:
            while True:
                try:
                    update = ray.get(next(stream))
                except StopIteration:
                    break
                except (RayActorError, RayTaskError) as error:
                    raise ClusterError(_lost_help(error)) from error
                yield update
            finished = True
        finally:
            if stream in self._streams:
                self._streams.remove(stream)
                if not finished and ray.is_initialized():  # closed early: stop the work now
                    ray.cancel(stream)

    def cancel(self) -> None:
        """Cancel whatever this lease still has running on its worker."""
        if ray.is_initialized():  # after the server's shutdown Ray is gone, and so is the work
            for stream in self._streams:
                ray.cancel(stream)
        self._streams.clear()


class ClusterDreams:
    """A web process's live dreams on a cluster; see the module docstring."""

    def __init__(
        self,
        address: str,
        model_choice: ModelChoice,
        workers: int | None = None,
        threads: int | None = None,
    ) -> None:
        self.address = address
        self.model_choice = model_choice
        self._requested = (workers, threads)
        self._lock = threading.Condition()  # guards the workers; notified when one is free
        self._free: list = []
        self._infos: dict[int, dict] = {}
        self._workers: list | None = None
        self._slots: DreamSlots | None = None
        self._first_info: dict | None = None  # kept after close(): a stopped dream's record
        self._closed = False

    def _ensure_workers(self) -> None:
        with self._lock:
            if self._closed:
                raise ClusterError("The server is stopping; please try again in a moment.")
            if self._workers is not None:
                return
            connect(self.address)
            atexit.register(self.close)  # runs before Ray's own hook (registered earlier)
            cpus, gpus, nodes = cluster_size()
            plan = plan_workers(*self._requested, cpus=cpus, gpus=gpus, nodes=nodes)
            # Ray never retries a worker's calls, so a dream half-shown is never restarted
            # from its first step behind the page's back.
            workers, infos = start_workers(self.model_choice, plan)
            self._infos = {id(worker): info for worker, info in zip(workers, infos)}
            self._first_info = infos[0]
            self._workers, self._free = workers, list(workers)
            self._slots = DreamSlots(len(workers))  # one slot a worker, served in order

    @property
    def info(self) -> dict:
        """What the workers dream with (``model``, ``description``, ``facts``, ``layers``, the
        fallback ``notice``): the first worker's answer."""
        if self._first_info is None:
            self._ensure_workers()
        return self._first_info

    @contextmanager
    def lease(
        self, wait: Callable[[int], None] = lambda ahead: None, owner: Hashable | None = None
    ) -> Iterator[Lease]:
        """Hold a worker for the block; see the module docstring.

        Raises:
            ClusterError: the cluster cannot be reached or the model not loaded.
        """
        self._ensure_workers()
        with self._slots.slot(wait=wait, owner=owner):
            with self._lock:  # a slot is held, so a worker is free
                worker = self._free.pop(0)
            lease = Lease(worker, self._infos[id(worker)])
            try:
                yield lease
            finally:
                lease.cancel()  # before the worker goes to the next in line
                with self._lock:
                    self._free.append(worker)
                    self._lock.notify_all()

    def dream(
        self,
        photo: np.ndarray,
        config: DreamConfig,
        wait: Callable[[int], None] = lambda ahead: None,
    ) -> Iterator:
        """A photo's dream on the first free worker: the engine's updates, the last with its
        ``DreamResult``. Closing the iterator cancels the remote work."""
        with self.lease(wait) as lease:
            yield from lease.stream("dream_stream", photo, config)

    def close(self, timeout: float = 10.0) -> None:
        """End the workers and leave Ray, for good (at the server's exit; tests and benchmarks
        call it themselves). Dreams still streaming end with a ``ClusterError``; their leases
        are waited for (at most ``timeout`` seconds) before Ray is left."""
        with self._lock:
            self._closed = True
            workers = self._workers
        if workers and ray.is_initialized():
            stop_workers(workers)  # their streams end with them
            with self._lock:
                self._lock.wait_for(lambda: len(self._free) == len(workers), timeout)
            ray.shutdown()
        with self._lock:
            self._workers, self._free = None, []


def _lost_help(error: Exception) -> str:
    if isinstance(error, RayActorError):
        return "The cluster lost the worker running this dream. Please try again."
    return f"The dream failed on the cluster: {ray_cause(error)}"


@functools.lru_cache(maxsize=4)
def shared_cluster_dreams(address: str, model_name: str = "inception_v3") -> ClusterDreams:
    """The one ``ClusterDreams`` of this web process for ``address`` (workers start lazily)."""
    return ClusterDreams(address, ModelChoice(name=model_name))
