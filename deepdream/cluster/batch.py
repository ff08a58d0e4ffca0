"""A folder's files dreamed on the cluster's workers.

Contract: ``dream_on_ray(jobs, config, workers, infos)`` yields ``(job, outcome)`` like
``deepdream.batch.dream_in_process``: each job once, ``bytes`` (the PNG or MP4) or
``FileFailure``. Files travel as bytes, so nodes need no shared disk; the driver writes every
output, so a retried file is still written once. Stopping iteration cancels what is still
running.

A worker lost mid-file: its files wait until Ray has restarted it (``max_restarts=-1``,
``start_workers``), then go back to the front of the queue. This driver, not Ray, decides
whether the loss counts against them, because only here is it known what died:
- the worker's process died on a node that is still alive: it counts against the file it
  was running (a worker runs its calls in the order sent, so that is the earliest sent of
  its lost files; the ones queued behind it are put back uncounted). A file that kills every
  worker it meets (by exhausting memory, say) fails after ``ATTEMPTS_PER_FILE`` tries with a
  plain reason instead of stopping the batch;
- its node died, or the same process answers again (the call was cut off, nothing died):
  not the file's fault, so it counts only towards ``LOSSES_PER_FILE``, a bound that keeps a
  file from looping forever.
A worker not back within ``COMEBACK_SECONDS`` is given up and its files go to the others;
with none left, the files not yet dreamed fail with a plain reason. Where each worker runs
is known from the ``infos`` ``start_workers`` returned (or asked here, waiting at most as
long as a worker may take to come back).
"""

from __future__ import annotations

import collections
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import ray
from ray.exceptions import RayActorError, RayTaskError

from ..batch import BatchJob, FileFailure
from ..config import DreamConfig
from .connection import ray_cause

#: Files queued at each worker, so it starts the next one while the driver writes the last.
IN_FLIGHT_PER_WORKER = 2
#: How often a file may be tried when its worker's process dies under it on a live node.
ATTEMPTS_PER_FILE = 3
#: How often a file may lose its worker without a death on a live node (its node lost, its
#: call cut off): a bound, not a judgement, so that even such a file cannot loop forever.
LOSSES_PER_FILE = 5
#: How long a lost worker may take to come back (Ray notices a dead node, then restarts the
#: worker elsewhere and it loads its model) before its files go to the other workers.
COMEBACK_SECONDS = 300.0
#: How often a lost worker is asked whether it is back (a call to a restarting worker fails
#: at once rather than waiting for it).
ASK_EVERY_SECONDS = 0.5

Outcome = tuple[BatchJob, "bytes | FileFailure"]


@dataclass(eq=False)
class _Worker:
    """One worker as this driver sees it: where its process runs and what it is doing."""

    handle: object
    pid: int | None = None
    node: str | None = None
    load: int = 0  # its calls in flight
    down_since: float | None = None  # when one of its calls came back as "worker lost"
    lost: list[tuple[int, BatchJob]] = field(default_factory=list)  # (order sent, file)
    ping: ray.ObjectRef | None = None  # its info(), asked while it is down
    ask_at: float = 0.0  # when to ask again

    @property
    def up(self) -> bool:
        return self.down_since is None

    def learn(self, info: dict) -> None:
        self.pid, self.node = info["pid"], info["node"]


def dream_on_ray(
    jobs: Iterable[BatchJob],
    config: DreamConfig,
    workers: list,
    infos: list[dict] | None = None,
) -> Iterator[tuple[BatchJob, bytes | FileFailure]]:
    """Dream ``jobs`` on ``workers`` (``infos``: their ``info()``, as ``start_workers`` gave
    them); yields each job once as soon as its outcome is back."""
    pool = [_Worker(handle) for handle in workers]
    run = _Run(collections.deque(jobs), config, pool)
    try:
        yield from run.outcomes(infos)
    finally:
        # An actor's call can only be asked to stop (force is for tasks): a running file
        # ends with its dream, the queued ones never start.
        for ref in [*run.calls, *(w.ping for w in pool if w.ping is not None)]:
            ray.cancel(ref)


class _Run:
    """The state of one batch on Ray: the queue, the calls in flight, the workers."""

    def __init__(self, queue: collections.deque, config: DreamConfig, pool: list[_Worker]):
        self.queue, self.config, self.pool = queue, config, pool
        self.calls: dict[ray.ObjectRef, tuple[BatchJob, _Worker, int]] = {}
        self.sent = 0  # calls sent so far: each call's place in the order sent
        self.ready: collections.deque[Outcome] = collections.deque()
        self.deaths: collections.Counter[BatchJob] = collections.Counter()
        self.losses: collections.Counter[BatchJob] = collections.Counter()

    def outcomes(self, infos: list[dict] | None) -> Iterator[Outcome]:
        self._learn_where_workers_run(infos)
        self._fill_all()
        while self.calls or self.ready or self.queue or any(w.lost for w in self.pool):
            while self.ready:
                yield self.ready.popleft()
            self._ask_lost_workers()
            self._give_up_on_late_workers()
            waiting = list(self.calls) + [w.ping for w in self._down() if w.ping is not None]
            if not waiting:
                if self._down():
                    time.sleep(max(0.0, self._next_deadline() - time.monotonic()))
                continue
            ready, _ = ray.wait(waiting, num_returns=1, timeout=self._wait_seconds())
            if not ready:
                continue
            [ref] = ready
            if ref in self.calls:
                yield from self._file_came_back(ref)
            else:
                self._worker_answered(next(w for w in self.pool if w.ping == ref))

    # Files

    def _submit(self, worker: _Worker) -> bool:
        if not self.queue:
            return False
        job = self.queue.popleft()
        try:
            data = job.source.read_bytes()
        except OSError as error:
            self.ready.append((job, FileFailure(f"could not be read: {error.strerror or error}")))
            return True
        call = worker.handle.dream_file.remote(data, self.config, job.kind)
        self.sent += 1
        self.calls[call] = (job, worker, self.sent)
        worker.load += 1
        return True

    def _fill(self, worker: _Worker) -> None:
        while worker.up and worker.load < IN_FLIGHT_PER_WORKER and self._submit(worker):
            pass

    def _fill_all(self) -> None:
        for worker in self.pool:
            self._fill(worker)
        if self.queue and not self.pool:
            self._fail_the_rest()

    def _file_came_back(self, ref: ray.ObjectRef) -> Iterator[Outcome]:
        job, worker, sent = self.calls.pop(ref)
        worker.load -= 1
        try:
            outcome = ray.get(ref)
        except RayActorError:
            if worker not in self.pool:  # given up on already: its files go to the others
                self.queue.appendleft(job)
                self._fill_all()
                return
            worker.lost.append((sent, job))
            if worker.up:
                worker.down_since = worker.ask_at = time.monotonic()
            return
        except RayTaskError as error:
            outcome = FileFailure(f"could not be dreamed: {ray_cause(error)}")
        self._fill(worker)
        yield job, outcome

    def _judge(self, job: BatchJob, killed_its_worker: bool) -> None:
        """Count a lost try against ``job`` as the contract says; retry it or fail it."""
        if killed_its_worker:
            self.deaths[job] += 1
            if self.deaths[job] >= ATTEMPTS_PER_FILE:
                reason = (
                    f"the worker dreaming it stopped {ATTEMPTS_PER_FILE} times (out of memory?)"
                )
                self.ready.append((job, FileFailure(reason)))
                return
        else:
            self.losses[job] += 1
            if self.losses[job] >= LOSSES_PER_FILE:
                reason = f"the worker dreaming it was lost {LOSSES_PER_FILE} times"
                self.ready.append((job, FileFailure(reason)))
                return
        self.queue.appendleft(job)

    def _fail_the_rest(self) -> None:
        reason = f"no worker was left to dream it (none came back within {COMEBACK_SECONDS:.0f} s)"
        while self.queue:
            self.ready.append((self.queue.popleft(), FileFailure(reason)))

    # Workers

    def _down(self) -> list[_Worker]:
        return [worker for worker in self.pool if not worker.up]

    def _learn_where_workers_run(self, infos: list[dict] | None) -> None:
        if infos is not None:
            for worker, info in zip(self.pool, infos, strict=True):
                worker.learn(info)
            return
        asked = {worker.handle.info.remote(): worker for worker in self.pool}
        answered, _ = ray.wait(list(asked), num_returns=len(asked), timeout=COMEBACK_SECONDS)
        for ref, worker in asked.items():
            try:
                if ref not in answered:
                    raise TimeoutError
                worker.learn(ray.get(ref))
            except (RayActorError, TimeoutError):
                worker.down_since = time.monotonic()  # asked again, and judged, when back
                ray.cancel(ref)

    def _ask_lost_workers(self) -> None:
        now = time.monotonic()
        for worker in self._down():
            if worker.ping is None and now >= worker.ask_at:
                worker.ping = worker.handle.info.remote()

    def _worker_answered(self, worker: _Worker) -> None:
        ref, worker.ping = worker.ping, None
        try:
            info = ray.get(ref)
        except RayActorError:  # not back yet
            worker.ask_at = time.monotonic() + ASK_EVERY_SECONDS
            return
        restarted = (info["pid"], info["node"]) != (worker.pid, worker.node)
        # Ray restarts a lost node's worker only once it has declared the node dead, so by
        # the time the worker answers, the node list already tells the two losses apart.
        died_on_live_node = restarted and worker.node in _alive_nodes()
        lost = [job for _, job in sorted(worker.lost, key=lambda pair: pair[0])]
        worker.lost = []
        # The earliest sent was running; those behind it only queued at the worker. Back to
        # the front of the queue in their first order.
        for index in reversed(range(len(lost))):
            self._judge(lost[index], died_on_live_node and index == 0)
        worker.learn(info)
        worker.down_since = None
        self._fill_all()

    def _give_up_on_late_workers(self) -> None:
        now = time.monotonic()
        for worker in self._down():
            if now - worker.down_since >= COMEBACK_SECONDS:
                self.pool.remove(worker)
                lost = sorted(worker.lost, key=lambda pair: pair[0])
                self.queue.extendleft(reversed([job for _, job in lost]))  # not their fault
                if worker.ping is not None:
                    ray.cancel(worker.ping)
        self._fill_all()

    def _next_deadline(self) -> float:
        """When a down worker is next to be asked or given up."""
        times = [
            w.ask_at if w.ping is None else w.down_since + COMEBACK_SECONDS for w in self._down()
        ]
        return min(times, default=time.monotonic())

    def _wait_seconds(self) -> float | None:
        if not self._down():
            return None
        return max(0.0, self._next_deadline() - time.monotonic())


def _alive_nodes() -> set[str]:
    return {node["NodeID"] for node in ray.nodes() if node.get("Alive")}
