"""The same dreams on a Ray cluster: what every part shares, without importing Ray.

The parts, one concern each (each imports Ray; this module does not, so a web process and
the command line can read the address and catch the error cheaply):
- ``connection``: joining Ray (``connect``) and the cluster's size;
- ``worker``: the ``DreamWorker`` actor that loads the model once and dreams photos, files,
  videos and zooms, and starting and stopping such workers;
- ``batch``: a folder's files on the workers (``dream_on_ray``), like the local batch;
- ``sessions``: live dreams for interactive callers (``ClusterDreams``), first come, first
  served on the shared queue of ``deepdream.serving.slots``.

Contract here:
- ``cluster_address()`` is ``$DEEPDREAM_RAY_ADDRESS`` (the cluster a web process sends its
  dreams to), or None: dream in this process.
- ``ClusterError``: Ray could not be reached or used; its message is for the user as is.
- ``plan_workers(workers, threads, cpus, gpus, nodes)`` fills in a ``WorkerPlan``.
Nothing on the caller's side of a cluster imports TensorFlow.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

ADDRESS_ENV = "DEEPDREAM_RAY_ADDRESS"
NAMESPACE = "deepdream"


class ClusterError(RuntimeError):
    """Ray could not be reached or used; ``str(error)`` says what to do in plain words."""


def cluster_address() -> str | None:
    """The cluster a web process should use: ``$DEEPDREAM_RAY_ADDRESS``, or None (dream here)."""
    return os.environ.get(ADDRESS_ENV, "").strip() or None


@dataclass(frozen=True)
class WorkerPlan:
    """How many workers to start and how many CPU threads each owns (>= 1 each)."""

    workers: int
    threads: int
    gpus_each: float = 0.0

    def __post_init__(self) -> None:
        for name in ("workers", "threads"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"The number of {name} must be a whole number of at least 1.")
        if self.gpus_each < 0:
            raise ValueError("GPUs per worker cannot be negative.")


def plan_workers(
    workers: int | None, threads: int | None, cpus: int, gpus: int = 0, nodes: int = 1
) -> WorkerPlan:
    """Fill in what the user left open from the cluster's size.

    One worker per GPU when there are GPUs; else one worker per node; each worker gets an
    equal share of the CPUs unless ``threads`` says otherwise.
    """
    if workers is None and threads is None and gpus >= 1:
        return WorkerPlan(workers=int(gpus), threads=max(1, cpus // int(gpus)), gpus_each=1.0)
    if workers is None:
        workers = max(1, cpus // threads) if threads else max(1, nodes)
    if threads is None:
        threads = max(1, cpus // workers)
    return WorkerPlan(workers=workers, threads=threads)
