"""The same dreams on a Ray cluster: batches of files, and the page's dreams one by one.

Contract:
- ``connect(address)`` joins Ray: ``"local"`` starts a private Ray on this machine (never the
  last cluster Ray remembers), ``host:port`` or ``ray://host:port`` joins a running cluster.
  Token authentication stays on: the token comes from ``RAY_AUTH_TOKEN``,
  ``RAY_AUTH_TOKEN_PATH`` or ``~/.ray/auth_token`` (Ray's own rules); a refusal raises
  ``ClusterError`` saying where to put the token. The project is shipped to the workers with
  ``runtime_env={"py_modules": [deepdream]}``: nodes need the requirements installed, not a
  checkout, and always run the driver's version of the code.
- ``start_workers(model, plan)`` starts ``DreamWorker`` actors. Each loads the model once, owns
  ``plan.threads`` CPUs (``num_cpus`` for Ray, TensorFlow's thread pools for the work) and is
  spread over the nodes. Ray restarts a worker whose process or node died
  (``max_restarts=-1``) and retries the call it was running there (``max_task_retries``).
- ``dream_on_ray(jobs, config, workers)`` yields ``(job, outcome)`` like
  ``deepdream.batch.dream_in_process``: each job once, ``bytes`` (the PNG) or ``FileFailure``.
  Files travel as bytes, so nodes need no shared disk; the driver writes every output, so a
  retried file is still written once.
- ``ClusterDreams`` is the page's side: ``dream(photo, config)`` returns a ``RemoteDream``, an
  iterator of ``RemoteUpdate`` (plain numbers and numpy previews, no TensorFlow types). While
  every worker is busy it yields updates with ``queue_position`` set (1 = next); then the
  progress streams from the worker (a Ray streaming generator); the last update carries a
  ``RemoteResult`` (PNG bytes, image, model description, metadata). Stopping iteration or
  ``close()`` cancels the remote work (``ray.cancel``) and frees the worker.
Importing this module and everything on the client path imports Ray, never TensorFlow.
"""

from __future__ import annotations

import collections
import functools
import logging
import os
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import ray
from ray.exceptions import RayActorError, RayTaskError

from .batch import BatchJob, FileFailure, ModelChoice
from .config import DreamConfig
from .result import ModelFacts

ADDRESS_ENV = "DEEPDREAM_RAY_ADDRESS"
NAMESPACE = "deepdream"
PACKAGE_DIR = Path(__file__).resolve().parent
#: How often one file may be tried when its worker dies under it (a file that kills every
#: worker it meets, e.g. by exhausting memory, fails instead of looping forever).
ATTEMPTS_PER_FILE = 3
#: Files queued at each worker, so it starts the next one while the driver writes the last.
IN_FLIGHT_PER_WORKER = 2


class ClusterError(RuntimeError):
    """Ray could not be reached or used; ``str(error)`` says what to do in plain words."""


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


def cluster_address() -> str | None:
    """The cluster the page should use: ``$DEEPDREAM_RAY_ADDRESS``, or None (dream here)."""
    address = os.environ.get(ADDRESS_ENV, "").strip()
    return address or None


def connect(address: str = "local", num_cpus: int | None = None) -> None:
    """Join (or, for ``"local"``, start) Ray in this process; a second call does nothing.

    Raises:
        ClusterError: the cluster cannot be reached, or refuses this process's token.
    """
    if ray.is_initialized():
        return
    options: dict = {
        "namespace": NAMESPACE,
        "runtime_env": {
            "py_modules": [str(PACKAGE_DIR)],
            "env_vars": {"TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")},
        },
        "log_to_driver": False,  # workers' TensorFlow chatter stays in Ray's log files
        "logging_level": logging.WARNING,
    }
    if address == "local":
        options.update(include_dashboard=False, num_cpus=num_cpus)
    try:
        ray.init(address=address, **options)
    except Exception as error:  # Ray raises many types here; the user needs one message
        raise ClusterError(_connect_help(address, error)) from error


def _connect_help(address: str, error: Exception) -> str:
    text = str(error)
    if "token" in text.lower() or "auth" in type(error).__name__.lower():
        return (
            f"The Ray cluster at {address} refused this machine: it needs the cluster's token. "
            "Copy ~/.ray/auth_token from the head node to this machine (or set RAY_AUTH_TOKEN "
            "to its content) and set RAY_AUTH_MODE=token."
        )
    first = text.strip().splitlines()[0] if text.strip() else type(error).__name__
    return f"Could not reach the Ray cluster at {address}: {first[:200]}"


def cluster_size() -> tuple[int, int, int]:
    """(CPUs, GPUs, alive nodes) of the connected cluster."""
    resources = ray.cluster_resources()
    nodes = sum(1 for node in ray.nodes() if node.get("Alive"))
    return int(resources.get("CPU", 0)), int(resources.get("GPU", 0)), max(1, nodes)


class DreamWorker:
    """A Ray actor that loads the model once and dreams many photos with it.

    Made a Ray actor by ``start_workers`` (``ray.remote(DreamWorker).options(...)``), so the
    class itself stays importable without a running Ray.
    """

    def __init__(self, model_choice: ModelChoice, threads: int) -> None:
        _own_threads(threads)
        from . import load_model_with_fallback

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
            "threads": self.threads,
        }

    def dream_file(
        self, data: bytes, config: DreamConfig, kind: str = "image"
    ) -> bytes | FileFailure:
        """PNG (or, for a video, MP4) bytes of the dream of one file's bytes, or why the file
        cannot be dreamed."""
        from .batch import dream_bytes

        return dream_bytes(data, config, self.model, kind)

    def dream_stream(self, photo: np.ndarray, config: DreamConfig) -> Iterator[dict]:
        """The page's dream: a plain dict per step (see ``RemoteUpdate``); the last one holds
        ``result`` (PNG bytes, image, description, metadata)."""
        from . import dream_steps

        config = config.with_model(self.model.name)
        for update in dream_steps(photo, config, self.model):
            message = {
                "octave": update.octave,
                "octaves": update.octaves,
                "step": update.step,
                "steps": update.steps,
                "done": update.done,
                "total": update.total,
                "work": update.work,
                "loss": update.loss,
                "elapsed": update.elapsed,
                "preview": update.preview,
            }
            if update.result is not None:
                result = update.result
                message["result"] = {
                    "png": result.to_png(),
                    "image": result.image,
                    "model": result.model,
                    "model_description": result.model_description,
                    "metadata": result.metadata(),
                    "elapsed": result.elapsed,
                    "node": ray.util.get_node_ip_address(),
                }
            yield message


def _own_threads(threads: int) -> None:
    # Set before TensorFlow builds its thread pools (the first op): afterwards it refuses.
    os.environ["OMP_NUM_THREADS"] = str(threads)
    from .runtime import start_tensorflow

    tf = start_tensorflow()

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(min(2, threads))
    except RuntimeError:
        pass  # TensorFlow already ran in this worker process; it keeps its pools


def start_workers(
    model_choice: ModelChoice, plan: WorkerPlan, retries_per_call: int = ATTEMPTS_PER_FILE - 1
) -> list:
    """Start ``plan.workers`` ``DreamWorker`` actors, spread over the nodes; waits until each
    has loaded its model and returns their handles.

    Raises:
        ClusterError: a worker could not load the model (the message says why).
    """
    actor_class = ray.remote(DreamWorker).options(
        num_cpus=plan.threads,
        num_gpus=plan.gpus_each,
        scheduling_strategy="SPREAD",
        max_restarts=-1,  # a worker whose node died comes back wherever there is room
        max_task_retries=retries_per_call,  # and the call it was running is tried again
    )
    workers = [actor_class.remote(model_choice, plan.threads) for _ in range(plan.workers)]
    try:
        ray.get([worker.info.remote() for worker in workers])
    except (RayTaskError, RayActorError) as error:  # a failed __init__ kills the actor
        for worker in workers:
            ray.kill(worker, no_restart=True)
        raise ClusterError(f"A worker could not load the model: {_cause(error)}") from error
    return workers


def _cause(error: Exception) -> str:
    """The original error's own sentence from a Ray error, without Ray's traceback."""
    cause = getattr(error, "cause", None)
    if cause is not None:
        return str(cause).strip().splitlines()[0][:300]
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    named = [line for line in lines if line.split(":", 1)[0].endswith(("Error", "Exception"))]
    return (named[-1] if named else lines[-1] if lines else type(error).__name__)[:300]


def worker_notice(workers: list) -> tuple[str | None, int]:
    """The model-fallback notice of the first worker that had one (None when none had), and
    on how many nodes the workers run."""
    infos = ray.get([worker.info.remote() for worker in workers])
    notices = [info["notice"] for info in infos if info["notice"]]
    return (notices[0] if notices else None), len({info["node"] for info in infos})


def stop_workers(workers: list) -> None:
    """End the workers (their resources go back to the cluster)."""
    for worker in workers:
        ray.kill(worker, no_restart=True)


def dream_on_ray(
    jobs: Iterable[BatchJob], config: DreamConfig, workers: list
) -> Iterator[tuple[BatchJob, bytes | FileFailure]]:
    """Dream ``jobs`` on ``workers``; yields each job once as soon as its outcome is back.

    Ray retries a call whose worker died (``start_workers``); a file whose every try died
    fails with a plain reason instead of stopping the batch. Stopping iteration cancels what
    is still running.
    """
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
                outcome = FileFailure(f"could not be dreamed: {_cause(error)}")
            while load[id(worker)] < IN_FLIGHT_PER_WORKER and submit(worker):
                pass
            yield job, outcome
    finally:
        for ref in in_flight:
            ray.cancel(ref, force=True)


# ----- the page's side -----------------------------------------------------------------


@dataclass(frozen=True)
class RemoteResult:
    """A dream finished on the cluster: what the page shows and offers for download."""

    png: bytes
    image: np.ndarray
    model: str
    model_description: str
    metadata: dict[str, str]
    elapsed: float
    node: str  # address of the cluster machine that dreamed it, for "dreamed on ..." lines


@dataclass(frozen=True)
class RemoteUpdate:
    """Progress of a dream on the cluster, with the same fields as ``dream.DreamUpdate``.

    While waiting for a worker only ``queue_position`` (1 = next in line) is meaningful and
    ``waiting`` is True; ``result`` is set on the last update.
    """

    octave: int = 0
    octaves: int = 0
    step: int = 0
    steps: int = 0
    done: int = 0
    total: int = 0
    work: float = 0.0
    loss: float = 0.0
    elapsed: float = 0.0
    preview: np.ndarray | None = None
    result: RemoteResult | None = None
    queue_position: int | None = None

    @property
    def waiting(self) -> bool:
        return self.queue_position is not None

    @property
    def eta(self) -> float | None:
        """Rough seconds left, from the pace so far; None before any work is done."""
        if self.work <= 0:
            return None
        return self.elapsed * (1.0 - self.work) / self.work


class ClusterDreams:
    """The page's dreams on a cluster: a few workers, shared first come first served.

    One per web process (``shared_cluster_dreams``); thread-safe, since each browser tab runs
    in its own thread. Workers start on first use.
    """

    def __init__(
        self,
        address: str,
        model_choice: ModelChoice,
        workers: int | None = None,
        threads: int | None = None,
        poll: float = 0.5,
    ) -> None:
        self.address = address
        self.model_choice = model_choice
        self._requested = (workers, threads)
        self._poll = poll
        self._lock = threading.Condition()
        self._free: list = []
        self._waiting: collections.deque[object] = collections.deque()
        self._workers: list | None = None
        self._info: dict | None = None

    def _ensure_workers(self) -> None:
        with self._lock:
            if self._workers is not None:
                return
            connect(self.address)
            cpus, gpus, nodes = cluster_size()
            plan = plan_workers(*self._requested, cpus=cpus, gpus=gpus, nodes=nodes)
            # No Ray retries of a stream: a dream half-shown would restart from the start.
            self._workers = start_workers(self.model_choice, plan, retries_per_call=0)
            self._free = list(self._workers)

    @property
    def info(self) -> dict:
        """What the workers dream with (``model``, ``description``, the fallback ``notice``),
        asked of a worker once and remembered."""
        self._ensure_workers()
        with self._lock:
            if self._info is None:
                self._info = ray.get(self._workers[0].info.remote())
            return self._info

    def dream(self, photo: np.ndarray, config: DreamConfig) -> RemoteDream:
        """Queue a dream of ``photo`` (uint8 RGB) with ``config``; see ``RemoteDream``.

        Raises:
            ClusterError: the cluster cannot be reached or the model not loaded.
        """
        self._ensure_workers()
        return RemoteDream(self, photo, config)

    def _take(self, ticket: object, timeout: float):
        """A free worker for ``ticket`` if it is first in line, else its place (1-based)."""
        with self._lock:
            if ticket not in self._waiting:
                self._waiting.append(ticket)
            if self._free and self._waiting[0] is ticket:
                self._waiting.popleft()
                return self._free.pop(0), None
            self._lock.wait(timeout)
            if self._free and self._waiting[0] is ticket:
                self._waiting.popleft()
                return self._free.pop(0), None
            return None, self._waiting.index(ticket) + 1

    def _leave(self, ticket: object) -> None:
        with self._lock:
            if ticket in self._waiting:
                self._waiting.remove(ticket)
                self._lock.notify_all()

    def _give_back(self, worker) -> None:
        with self._lock:
            self._free.append(worker)
            self._lock.notify_all()

    def shutdown(self) -> None:
        """End the workers (the page calls this only when it stops)."""
        with self._lock:
            if self._workers:
                stop_workers(self._workers)
            self._workers, self._free = None, []


class RemoteDream:
    """An iterator of ``RemoteUpdate`` for one dream on the cluster; ``close()`` cancels it.

    Raises (while iterating):
        ClusterError: the worker was lost mid-dream, or the dream failed there.
    """

    def __init__(self, pool: ClusterDreams, photo: np.ndarray, config: DreamConfig) -> None:
        self._updates = self._run(pool, photo, config)

    def __iter__(self) -> RemoteDream:
        return self

    def __next__(self) -> RemoteUpdate:
        return next(self._updates)

    def close(self) -> None:
        """Stop the dream: the remote work is cancelled and the worker freed."""
        self._updates.close()

    def __enter__(self) -> RemoteDream:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @staticmethod
    def _run(pool: ClusterDreams, photo: np.ndarray, config: DreamConfig):
        ticket = object()
        worker = None
        stream = None
        try:
            while worker is None:
                worker, position = pool._take(ticket, pool._poll)
                if worker is None:
                    yield RemoteUpdate(queue_position=position)
            stream = worker.dream_stream.options(num_returns="streaming").remote(photo, config)
            while True:
                try:
                    message = ray.get(next(stream))
                except StopIteration:
                    break
                except (RayActorError, RayTaskError) as error:
                    raise ClusterError(_lost_help(error)) from error
                yield _as_update(message)
            stream = None  # finished: nothing to cancel
        finally:
            pool._leave(ticket)
            if stream is not None:
                ray.cancel(stream)
            if worker is not None:
                pool._give_back(worker)


def _lost_help(error: Exception) -> str:
    if isinstance(error, RayActorError):
        return "The cluster lost the worker running this dream. Please try again."
    return f"The dream failed on the cluster: {_cause(error)}"


def _as_update(message: dict) -> RemoteUpdate:
    result = message.pop("result", None)
    if result is not None:
        result = RemoteResult(**result)
    return RemoteUpdate(**message, result=result)


@functools.lru_cache(maxsize=4)
def shared_cluster_dreams(address: str, model_name: str = "inception_v3") -> ClusterDreams:
    """The one ``ClusterDreams`` of this web process for ``address`` (workers start lazily)."""
    return ClusterDreams(address, ModelChoice(name=model_name))
