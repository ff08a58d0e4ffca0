"""Where the page's dreams run: in this process (the default), or on a Ray cluster when
``DEEPDREAM_RAY_ADDRESS`` is set.

Contract:
- ``cluster_address()`` is that address, or None.
- ``runner_for(config)`` returns a ``DreamRunner`` for one dream, or raises an error whose
  message the page shows as is (``WeightsUnavailableError``, ``ClusterError``):
  - ``notice``: why another model stands in, or None; ``where``: "" here, or a sentence
    saying the dream runs on the cluster;
  - ``slot(wait)``: the context in which the dream may run (this process's first come,
    first served slots; on a cluster, the cluster queues, so it is empty);
  - ``updates(photo)``: progress updates (``octave``, ``step``, ``done``, ``total``,
    ``work``, ``loss``, ``preview``, ``result``, ...); a cluster's may carry
    ``queue_position`` (1 = next) while every worker is busy;
  - ``finished(result)`` and ``stopped(photo, last_update)`` give ``(png, description)`` of
    a finished dream and of one stopped after ``last_update`` (laid onto the full-size photo
    like a finished one; on a cluster this is done here, without TensorFlow);
  - ``close()`` stops the remote work (the local generator needs nothing).
- ``served_inception()`` says what asking for InceptionV3 gives: ``(model name or None,
  notice)``, from this process's model or from the cluster's workers.
- ``offered_layers(name)`` is the layers the page may offer for network ``name``: those the
  served weights really trained (nsfwjs's InceptionV3: mixed0-mixed5), else all of them.
In cluster mode nothing on this path imports TensorFlow: the web process stays light.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from deepdream import INCEPTION_V3, MODEL_LAYERS, DreamConfig

ADDRESS_ENV = "DEEPDREAM_RAY_ADDRESS"


def cluster_address() -> str | None:
    """The Ray cluster the page sends its dreams to, or None (dream in this process)."""
    return os.environ.get(ADDRESS_ENV, "").strip() or None


class LocalRunner:
    """A dream in this process, on the server's cached model, in a process-wide slot."""

    where = ""

    def __init__(self, config: DreamConfig) -> None:
        from .models import load_dream_model

        self.model, self.notice = load_dream_model(config.model)
        self.config = config.with_model(self.model.name)

    def slot(self, wait: Callable[[int], None]):
        from deepdream import shared_slots

        return shared_slots().slot(wait=wait)

    def updates(self, photo: np.ndarray) -> Iterator[Any]:
        from deepdream import dream_steps

        return dream_steps(photo, self.config, self.model)

    def finished(self, result: Any) -> tuple[bytes, str]:
        return result.to_png(), result.model_description

    def stopped(self, photo: np.ndarray, last: Any) -> tuple[bytes, str]:
        from deepdream import partial_result

        result = partial_result(photo, last, self.config, self.model)
        return result.to_png(), result.model_description

    def close(self) -> None:
        pass


class ClusterRunner:
    """A dream on the cluster's workers: streamed back, cancelled by ``close()``."""

    def __init__(self, address: str, config: DreamConfig) -> None:
        from deepdream.cluster import shared_cluster_dreams

        self.pool = shared_cluster_dreams(address)
        info = self.pool.info
        self.notice = info.get("notice")
        self.description = info["description"]
        self.where = f"Dreamed on the Ray cluster at {address}."
        self.config = config.with_model(info["model"])
        self._remote = None

    def slot(self, wait: Callable[[int], None]):
        return contextlib.nullcontext()  # the cluster keeps its own first come, first served

    def updates(self, photo: np.ndarray) -> Iterator[Any]:
        self._remote = self.pool.dream(photo, self.config)
        return self._remote

    def finished(self, result: Any) -> tuple[bytes, str]:
        return result.png, f"{result.model_description} (on the cluster, node {result.node})"

    def stopped(self, photo: np.ndarray, last: Any) -> tuple[bytes, str]:
        # The worker's dream is cancelled: lay its last preview onto the full photo here, the
        # way the engine finishes any dream (result.py, no TensorFlow), with the same record.
        from deepdream.result import ModelFacts, partial_result

        facts = ModelFacts.from_dict(self.pool.info["facts"])
        result = partial_result(photo, last, self.config, facts)
        return result.to_png(), f"{self.description} (on the cluster)"

    def close(self) -> None:
        if self._remote is not None:
            self._remote.close()


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
    from deepdream.cluster import ClusterError, shared_cluster_dreams

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
    from deepdream.cluster import ClusterError, shared_cluster_dreams

    try:
        info = shared_cluster_dreams(address).info
    except ClusterError:
        return MODEL_LAYERS[name]
    if info["model"] != name or not info.get("layers"):
        return MODEL_LAYERS[name]
    return tuple(info["layers"])
