"""A folder's files dreamed on the cluster's workers.

Contract: ``dream_on_ray(jobs, config, workers)`` yields ``(job, outcome)`` like
``deepdream.batch.dream_in_process``: each job once, ``bytes`` (the PNG or MP4) or
``FileFailure``. Files travel as bytes, so nodes need no shared disk; the driver writes every
output, so a retried file is still written once. A file whose every try killed its worker
fails with a plain reason instead of stopping the batch. Stopping iteration cancels what is
still running.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Iterator

import ray
from ray.exceptions import RayActorError, RayTaskError

from ..batch import BatchJob, FileFailure
from ..config import DreamConfig
from .connection import ray_cause
from .worker import ATTEMPTS_PER_FILE

#: Files queued at each worker, so it starts the next one while the driver writes the last.
IN_FLIGHT_PER_WORKER = 2


def dream_on_ray(
    jobs: Iterable[BatchJob], config: DreamConfig, workers: list
) -> Iterator[tuple[BatchJob, bytes | FileFailure]]:
    """Dream ``jobs`` on ``workers``; yields each job once as soon as its outcome is back."""
    queue = collections.deque(jobs)
    in_flight: dict[ray.ObjectRef, tuple[BatchJob, object]] = {}
    load = {id(worker): 0 for worker in workers}
    failed_early: list[tuple[BatchJob, FileFailure]] = []  # unreadable before any work

    def submit(worker) -> bool:
        if not queue:
            return False
        job = queue.popleft()
        try:
            data = job.source.read_bytes()
        except OSError as error:
            failed_early.append((job, FileFailure(f"could not be read: {error.strerror or error}")))
            return True
        in_flight[worker.dream_file.remote(data, config, job.kind)] = (job, worker)
        load[id(worker)] += 1
        return True

    try:
        for _ in range(IN_FLIGHT_PER_WORKER):
            for worker in workers:
                submit(worker)
        while in_flight or failed_early or queue:
            while failed_early:
                yield failed_early.pop()
            if not in_flight:
                if queue:
                    submit(workers[0])
                continue
            [ref], _ = ray.wait(list(in_flight), num_returns=1)
            job, worker = in_flight.pop(ref)
            load[id(worker)] -= 1
            try:
                outcome = ray.get(ref)
            except RayActorError:
                outcome = FileFailure(
                    f"the worker dreaming it stopped {ATTEMPTS_PER_FILE} times (out of memory?)"
                )
            except RayTaskError as error:
                outcome = FileFailure(f"could not be dreamed: {ray_cause(error)}")
            while load[id(worker)] < IN_FLIGHT_PER_WORKER and submit(worker):
                pass
            yield job, outcome
    finally:
        for ref in in_flight:
            ray.cancel(ref, force=True)
