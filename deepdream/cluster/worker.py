"""The worker: a Ray actor that loads the model once and dreams many pictures with it.

Contract:
- ``DreamWorker`` (made an actor by ``start_workers``) answers ``info()`` (its model, the
  fallback notice, the facts a record names, its node) and dreams with the engine's own
  code: ``dream_file`` (a batch's file, bytes in, PNG or MP4 bytes out), ``dream_stream`` (a
  photo; yields the engine's ``DreamUpdate``s, the last with its ``DreamResult``) and
  ``motion_stream`` (a video's bytes or a zoom's photo; yields ``MotionUpdate``s, one a frame,
  which the caller writes into its own file). The streams are Ray streaming generators:
  cancelling one stops the work at the next update.
- ``start_workers(model, plan)`` starts ``plan.workers`` actors and returns their handles with
  each one's ``info()``, asked once, when it has loaded its model. Each owns ``plan.threads``
  CPUs (``num_cpus`` for Ray, TensorFlow's thread pools for the work) and they are spread over
  the nodes. Ray restarts a worker whose process or node died (``max_restarts=-1``) but does
  not retry the call it was running: its caller decides (``deepdream.cluster.batch`` tries a
  file again; a live dream reports the loss instead of starting again from the first step). A
  worker that cannot load its model raises ``ClusterError`` with the reason.
- ``worker_notice(infos)`` (from those infos), ``stop_workers(workers)``.
Importing this module imports Ray, never TensorFlow (the worker process loads it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import ray
from ray.exceptions import RayActorError, RayTaskError

from ..batch import FileFailure, ModelChoice
from ..config import DreamConfig
from ..result import ModelFacts
from . import ClusterError, WorkerPlan
from .connection import ray_cause


class DreamWorker:
    """A Ray actor that loads the model once and dreams many pictures with it.

    Made a Ray actor by ``start_workers`` (``ray.remote(DreamWorker).options(...)``), so the
    class itself stays importable without a running Ray.
    """

    def __init__(self, model_choice: ModelChoice, threads: int) -> None:
        _own_threads(threads)
        from .. import load_model_with_fallback

        self.model, self.notice = load_model_with_fallback(
            model_choice.name, model_choice.weights, model_choice.precision
        )
        self.threads = threads

    def info(self) -> dict:
        """Which model this worker dreams with, the fallback notice if any, and where it runs."""
        return {
            "model": self.model.name,
            "description": self.model.description,
            "facts": ModelFacts.of(self.model).as_dict(),  # what a stopped dream's record says
            "layers": list(self.model.layers),
            "notice": self.notice,
            "pid": os.getpid(),
            "node": ray.get_runtime_context().get_node_id(),
            "address": ray.util.get_node_ip_address(),
            "threads": self.threads,
        }

    def dream_file(
        self, data: bytes, config: DreamConfig, kind: str = "image"
    ) -> bytes | FileFailure:
        """PNG (or, for a video, MP4) bytes of the dream of one file's bytes, or why the file
        cannot be dreamed."""
        from ..batch import dream_bytes

        return dream_bytes(data, config, self.model, kind)

    def dream_stream(self, photo: np.ndarray, config: DreamConfig) -> Iterator:
        """A live dream of a photo: the engine's updates, the last with its result."""
        from .. import dream_steps

        yield from dream_steps(photo, config.with_model(self.model.name), self.model)

    def motion_stream(
        self, kind: str, source: bytes | np.ndarray, config: DreamConfig, motion
    ) -> Iterator:
        """A live video (``source``: its bytes) or zoom (``source``: the photo): one
        ``MotionUpdate`` a frame, the frame's time with it."""
        from ..motion.writing import moving_dream

        yield from moving_dream(
            kind, source, config.with_model(self.model.name), motion, self.model
        )


def _own_threads(threads: int) -> None:
    # Set before TensorFlow builds its thread pools (the first op): afterwards it refuses.
    os.environ["OMP_NUM_THREADS"] = str(threads)
    from ..models.runtime import start_tensorflow

    tf = start_tensorflow()

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(min(2, threads))
    except RuntimeError:
        pass  # TensorFlow already ran in this worker process; it keeps its pools


def start_workers(model_choice: ModelChoice, plan: WorkerPlan) -> tuple[list, list[dict]]:
    """Start ``plan.workers`` ``DreamWorker`` actors, spread over the nodes; waits until each
    has loaded its model and returns their handles and, in the same order, their ``info()``.

    Raises:
        ClusterError: a worker could not load the model (the message says why).
    """
    actor_class = ray.remote(DreamWorker).options(
        num_cpus=plan.threads,
        num_gpus=plan.gpus_each,
        scheduling_strategy="SPREAD",
        # A worker whose process or node died comes back wherever there is room. Ray does not
        # retry its calls (max_task_retries stays 0): while a lost node is not yet known dead,
        # each retry would go to the dead address and fail at once, spending a file's tries
        # before the worker was ever back.
        max_restarts=-1,
    )
    workers = [actor_class.remote(model_choice, plan.threads) for _ in range(plan.workers)]
    try:
        infos = ray.get([worker.info.remote() for worker in workers])
    except (RayTaskError, RayActorError) as error:  # a failed __init__ kills the actor
        for worker in workers:
            ray.kill(worker, no_restart=True)
        raise ClusterError(f"A worker could not load the model: {ray_cause(error)}") from error
    return workers, infos


def worker_notice(infos: list[dict]) -> tuple[str | None, int]:
    """The model-fallback notice of the first worker that had one (None when none had), and
    on how many nodes the workers run, from their ``info()``."""
    notices = [info["notice"] for info in infos if info["notice"]]
    return (notices[0] if notices else None), len({info["node"] for info in infos})


def stop_workers(workers: list) -> None:
    """End the workers (their resources go back to the cluster)."""
    for worker in workers:
        ray.kill(worker, no_restart=True)
