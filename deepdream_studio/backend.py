"""Where the page's dreams run: in this process (the default), or on a Ray cluster when
``DEEPDREAM_RAY_ADDRESS`` is set.

Contract:
- ``cluster_address()`` is that address, or None (``deepdream.cluster``, without Ray).
- ``runner_for(config)`` returns a ``DreamRunner`` for one photo's dream, video or zoom, or
  raises an error whose message the page shows as is (``WeightsUnavailableError``,
  ``ClusterError``):
  - ``notice``: why another model stands in, or None; ``description``: the model dreaming;
    ``where``: "" here, or a sentence saying the dream runs on the cluster;
  - ``slot(wait, owner)``: the context in which the dream runs, first come, first served in
    one queue (``deepdream.serving.slots``): one of this process's dream slots, or one of the
    cluster's workers; ``wait(ahead)`` is called while it queues, ``owner`` keeps the place
    across a rerun of the same page;
  - inside it, ``updates(photo)``: the engine's ``DreamUpdate``s (the last with its result);
    ``motion_updates(kind, source, motion)``: one ``MotionUpdate`` a frame of a video or a
    zoom (``deepdream.motion.writing.moving_dream``), written into the page's file where it is;
  - ``finished(result)`` and ``stopped(photo, last_update)`` give ``(png, description)`` of
    a finished dream and of one stopped after ``last_update`` (laid onto the full-size photo
    like a finished one, with the same record, here or on a cluster; ``deepdream.result``);
  - ``close()`` stops the remote work (leaving ``slot`` does too).
- ``served_inception()`` says what asking for InceptionV3 gives: ``(model name or None,
  notice)``, from this process's model or from the cluster's workers.
- ``offered_layers(name)`` is the layers the page may offer for network ``name``: those the
  served weights really trained (nsfwjs's InceptionV3: mixed0-mixed5), else all of them.
In cluster mode nothing on this path imports TensorFlow: the web process stays light.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from deepdream import MODEL_LAYERS, DreamConfig
from deepdream.cluster import cluster_address
from deepdream.config import INCEPTION_V3

__all__ = ["cluster_address", "runner_for", "served_inception", "offered_layers"]


class LocalRunner:
    """A dream in this process, on the server's cached model, in a process-wide slot."""

    where = ""

    def __init__(self, config: DreamConfig) -> None:
        from .models import load_dream_model

        self.model, self.notice = load_dream_model(config.model)
        self.description = self.model.description
        self.config = config.with_model(self.model.name)

    def slot(self, wait: Callable[[int], None], owner: Hashable | None = None):
        from deepdream.serving.slots import shared_slots

        return shared_slots().slot(wait=wait, owner=owner)

    def updates(self, photo: np.ndarray) -> Iterator[Any]:
        from deepdream import dream_steps

        return dream_steps(photo, self.config, self.model)

    def motion_updates(self, kind: str, source: Any, motion: Any) -> Iterator[Any]:
        from deepdream.motion.writing import moving_dream

        return moving_dream(kind, source, self.config, motion, self.model)

    def finished(self, result: Any) -> tuple[bytes, str]:
        return result.to_png(), result.model_description

    def stopped(self, photo: np.ndarray, last: Any) -> tuple[bytes, str]:
        from deepdream import partial_result

        result = partial_result(photo, last, self.config, self.model)
        return result.to_png(), result.model_description

    def close(self) -> None:
        pass


class ClusterRunner:
    """A dream on one of the cluster's workers: streamed back, cancelled when it stops."""

    def __init__(self, address: str, config: DreamConfig) -> None:
        from deepdream.cluster.sessions import shared_cluster_dreams

        self.pool = shared_cluster_dreams(address)
        info = self.pool.info
        self.notice = info.get("notice")
        self.description = info["description"]
        self.where = f"Dreamed on the Ray cluster at {address}."
        self.config = config.with_model(info["model"])
        self._lease = None
        self._node = "?"

    @contextmanager
    def slot(self, wait: Callable[[int], None], owner: Hashable | None = None):
        with self.pool.lease(wait, owner) as lease:
            self._lease, self._node = lease, lease.info["address"]
            try:
                yield
            finally:
                self._lease = None

    def _streamed(self, method: str, *args: Any) -> Iterator[Any]:
        if self._lease is None:
            raise RuntimeError("A cluster dream streams inside its runner's slot().")
        yield from self._lease.stream(method, *args)

    def updates(self, photo: np.ndarray) -> Iterator[Any]:
        return self._streamed("dream_stream", photo, self.config)

    def motion_updates(self, kind: str, source: Any, motion: Any) -> Iterator[Any]:
        return self._streamed("motion_stream", kind, source, self.config, motion)

    def finished(self, result: Any) -> tuple[bytes, str]:
        # The worker's own DreamResult: its record is written here, as a local dream's is.
        return result.to_png(), f"{result.model_description} (on the cluster, node {self._node})"

    def stopped(self, photo: np.ndarray, last: Any) -> tuple[bytes, str]:
        # The worker's dream is cancelled: lay its last preview onto the full photo here, the
        # way the engine finishes any dream (result.py, no TensorFlow), with the same record.
        from deepdream.result import ModelFacts, partial_result

        facts = ModelFacts.from_dict(self.pool.info["facts"])
        result = partial_result(photo, last, self.config, facts)
        return result.to_png(), f"{self.description} (on the cluster)"

    def close(self) -> None:
        if self._lease is not None:
            self._lease.cancel()


DreamRunner = LocalRunner | ClusterRunner


def runner_for(config: DreamConfig) -> DreamRunner:
    """Where this dream runs; see the module docstring."""
    address = cluster_address()
    return ClusterRunner(address, config) if address else LocalRunner(config)


def served_inception() -> tuple[str | None, str | None]:
    """What asking for InceptionV3 gives here: (model name, notice) or (None, error)."""
    address = cluster_address()
    if address is None:
        from .models import inception_status

        return inception_status()
    from deepdream.cluster import ClusterError
    from deepdream.cluster.sessions import shared_cluster_dreams

    try:
        info = shared_cluster_dreams(address).info
    except ClusterError as error:
        return None, str(error)
    return info["model"], info.get("notice")


def offered_layers(name: str) -> tuple[str, ...]:
    """The layers of network ``name`` that the served weights really have (see above)."""
    if name != INCEPTION_V3:  # only InceptionV3 has a partly trained source: no model to load
        return MODEL_LAYERS[name]
    address = cluster_address()
    if address is None:
        from .models import load_dream_model

        try:
            model, _ = load_dream_model(name)
        except Exception:  # the page says what is wrong with the weights elsewhere
            return MODEL_LAYERS[name]
        return model.layers if model.name == name else MODEL_LAYERS[name]
    from deepdream.cluster import ClusterError
    from deepdream.cluster.sessions import shared_cluster_dreams

    try:
        info = shared_cluster_dreams(address).info
    except ClusterError:
        return MODEL_LAYERS[name]
    if info["model"] != name or not info.get("layers"):
        return MODEL_LAYERS[name]
    return tuple(info["layers"])
