"""Folders of files: plan what to dream, write results atomically, list what failed.

Contract:
- ``plan_batch(in_dir, out_dir, recursive, overwrite)`` lists every image in ``in_dir``
  (sub-folders too with ``recursive``, mirrored under ``out_dir``) as a ``BatchJob`` whose
  target is ``out_dir/<relative folder>/<stem>.png``. Targets that already exist are skipped
  (resume) unless ``overwrite``. Two inputs that would write the same target (``a.jpg`` and
  ``a.png``) are not guessed between: the second is listed as failed with the reason.
  Raises ``BatchArgumentError`` (plain message) for folders that cannot work.
- ``run_batch(plan, outcomes)`` consumes ``(job, outcome)`` pairs from a dreamer (in this
  process: ``dream_in_process``; on Ray: ``deepdream.cluster.dream_on_ray``), writes each PNG
  with ``write_atomically`` and yields a ``BatchProgress`` after every file; the last one has
  ``summary`` set. Stopping iteration stops the batch: nothing half-written is left behind.
- Each target is written with ``media.files.write_atomically``: a run killed at any moment
  leaves either no file or a complete one under the target name. Leftover temporary files of
  killed runs are removed when the next run plans the same folder.
- Outcomes are ``bytes`` (the PNG) or ``FileFailure`` (a plain reason): a bad file never stops
  the batch.
- Videos (``VIDEO_SUFFIXES``) are dreamed with the motion engine (optical-flow carry, its
  default settings) into ``OUT_DIR/<stem>.mp4``, sound kept, the same way everywhere.
The only files this module writes are the targets inside the folder the user named.
TensorFlow is imported only by ``dream_in_process``, when it runs.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .config import DreamConfig
from .media.files import PARTIAL_SUFFIX, write_atomically
from .media.image import PHOTO_SUFFIXES
from .media.image import VIDEO_SUFFIXES as VIDEO_FILE_SUFFIXES

#: Files listed as images (lower-case suffixes): the photos every part of the project reads.
IMAGE_SUFFIXES = frozenset(PHOTO_SUFFIXES)
#: Suffixes listed as videos (target ``<stem>.mp4``): dreamed into MP4s with the motion
#: engine (its default carry). An animated GIF counts as an image, as on the photo page (its
#: first frame).
VIDEO_SUFFIXES: frozenset[str] = frozenset(VIDEO_FILE_SUFFIXES)


class BatchArgumentError(ValueError):
    """The folders given cannot be used; ``str(error)`` says why in plain words."""


@dataclass(frozen=True)
class ModelChoice:
    """Which network dreams, as the user asked for it; sent to every worker as is.

    ``weights`` is a path valid on the machine that loads the model (every node of a cluster),
    or None for the default; ``"random"`` gives InceptionV3 untrained weights (tests only).
    """

    name: str = "inception_v3"
    weights: str | None = None
    precision: str = "auto"


@dataclass(frozen=True)
class BatchJob:
    """One input file and the file its dream goes to."""

    source: Path
    target: Path
    name: str  # the input's path relative to the input folder: what messages show
    kind: str = "image"  # or "video" (VIDEO_SUFFIXES): dreamed into an MP4


@dataclass(frozen=True)
class FileFailure:
    """Why one file could not be dreamed, in words a user understands."""

    reason: str


@dataclass(frozen=True)
class BatchPlan:
    """What a batch will do: ``jobs`` to dream, targets ``skipped`` because they exist, and
    inputs ``refused`` before any work (name clashes), each with its reason."""

    jobs: tuple[BatchJob, ...]
    skipped: tuple[BatchJob, ...] = ()
    refused: tuple[tuple[BatchJob, FileFailure], ...] = ()


@dataclass(frozen=True)
class BatchSummary:
    """How a batch ended."""

    dreamed: int
    skipped: int
    failures: tuple[tuple[str, str], ...]  # (file name, reason)
    elapsed: float

    @property
    def failed(self) -> int:
        return len(self.failures)

    def line(self) -> str:
        """The one-line outcome: ``N dreamed, M skipped, K failed``."""
        return f"{self.dreamed} dreamed, {self.skipped} skipped, {self.failed} failed"


@dataclass(frozen=True)
class BatchProgress:
    """Progress after one more file.

    ``done`` counts files finished (dreamed or failed) out of ``total`` to do in this run;
    ``per_minute`` is files per minute so far; ``eta`` rough seconds left (None before the
    first file); ``failure`` is set when ``job`` failed; ``summary`` on the last update only.
    """

    done: int
    total: int
    dreamed: int
    failed: int
    skipped: int
    elapsed: float
    job: BatchJob | None = None
    failure: FileFailure | None = None
    summary: BatchSummary | None = field(default=None)

    @property
    def per_minute(self) -> float:
        return 60.0 * self.done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        if self.done == 0:
            return None
        return self.elapsed * (self.total - self.done) / self.done


def plan_batch(
    in_dir: Path, out_dir: Path, recursive: bool = False, overwrite: bool = False
) -> BatchPlan:
    """List the images of ``in_dir`` and where each dream goes; see the module docstring.

    Raises:
        BatchArgumentError: ``in_dir`` is not a folder, ``out_dir`` is a file, or ``out_dir``
            is ``in_dir`` (or inside it with ``recursive``), where dreams would become inputs.
    """
    in_dir, out_dir = Path(in_dir), Path(out_dir)
    if not in_dir.is_dir():
        raise BatchArgumentError(f"{in_dir} is not a folder; give the folder of photos to dream.")
    if out_dir.exists() and not out_dir.is_dir():
        raise BatchArgumentError(f"{out_dir} is a file; give a folder for the dreams.")
    source_root, target_root = in_dir.resolve(), out_dir.resolve()
    if target_root == source_root or (recursive and target_root.is_relative_to(source_root)):
        raise BatchArgumentError(
            "The output folder must not be the input folder (or inside it with --recursive): "
            "the dreams would be taken for photos next time. Choose another output folder."
        )
    jobs: list[BatchJob] = []
    skipped: list[BatchJob] = []
    refused: list[tuple[BatchJob, FileFailure]] = []
    claimed: dict[Path, str] = {}
    for source in _list_inputs(in_dir, recursive):
        relative = source.relative_to(in_dir)
        kind = "video" if source.suffix.lower() in VIDEO_SUFFIXES else "image"
        target = out_dir / relative.with_suffix(".mp4" if kind == "video" else ".png")
        job = BatchJob(source=source, target=target, name=relative.as_posix(), kind=kind)
        if target in claimed:
            reason = f"its dream would overwrite the one of {claimed[target]}; rename one of them"
            refused.append((job, FileFailure(reason)))
            continue
        claimed[target] = job.name
        if target.exists() and not overwrite:
            skipped.append(job)
        else:
            jobs.append(job)
    return BatchPlan(tuple(jobs), tuple(skipped), tuple(refused))


def _list_inputs(in_dir: Path, recursive: bool) -> list[Path]:
    suffixes = IMAGE_SUFFIXES | VIDEO_SUFFIXES
    candidates = in_dir.rglob("*") if recursive else in_dir.iterdir()
    return sorted(
        path
        for path in candidates
        if path.is_file() and not path.name.startswith(".") and path.suffix.lower() in suffixes
    )


def remove_leftovers(plan: BatchPlan) -> int:
    """Delete temporary files that killed runs left next to this plan's targets; returns how
    many. Only names this module makes (``.<target name>.<pid>.partial``) are touched."""
    removed = 0
    for job in (*plan.jobs, *plan.skipped):
        for leftover in job.target.parent.glob(f".{job.target.name}.*{PARTIAL_SUFFIX}"):
            leftover.unlink(missing_ok=True)
            removed += 1
    return removed


def run_batch(
    plan: BatchPlan, outcomes: Iterable[tuple[BatchJob, bytes | FileFailure]]
) -> Iterator[BatchProgress]:
    """Write each outcome's PNG to its job's target and yield progress after every file.

    ``outcomes`` yields each job of ``plan.jobs`` once, in any order. Refused jobs count as
    failed from the start. The last update carries the ``BatchSummary``.
    """
    start = time.perf_counter()
    failures = [(job.name, failure.reason) for job, failure in plan.refused]
    dreamed = 0
    total = len(plan.jobs)
    done = 0

    def elapsed() -> float:
        return time.perf_counter() - start

    def progress(**last: object) -> BatchProgress:
        return BatchProgress(
            done=done,
            total=total,
            dreamed=dreamed,
            failed=len(failures),
            skipped=len(plan.skipped),
            elapsed=elapsed(),
            **last,
        )

    for job, outcome in outcomes:
        failure = outcome if isinstance(outcome, FileFailure) else None
        if failure is None:
            try:
                write_atomically(job.target, outcome)
                dreamed += 1
            except OSError as error:
                failure = FileFailure(f"could not write {job.target}: {error.strerror or error}")
        if failure is not None:
            failures.append((job.name, failure.reason))
        done += 1
        yield progress(job=job, failure=failure)
    yield progress(summary=BatchSummary(dreamed, len(plan.skipped), tuple(failures), elapsed()))


def dream_bytes(
    data: bytes, config: DreamConfig, model, kind: str = "image"
) -> bytes | FileFailure:
    """Decode ``data``, dream it with ``model`` and return the PNG (an MP4 for a video), or
    why it failed.

    Used in this process and by cluster workers alike, so a file fails the same way anywhere.
    Only the file's own problems become a ``FileFailure``; anything else (out of memory, a
    dying worker) propagates, since another try elsewhere may work.
    """
    from .media.image import ImageDecodeError, decode_image
    from .render import dream

    if kind == "video":
        return _dream_video_bytes(data, config, model)
    try:
        photo = decode_image(data)
    except ImageDecodeError as error:
        return FileFailure(str(error))
    try:
        return dream(photo, config.with_model(model.name), model).to_png()
    except ValueError as error:  # e.g. an image too small for the network
        return FileFailure(str(error))


def _dream_video_bytes(data: bytes, config: DreamConfig, model) -> bytes | FileFailure:
    """The MP4 of a video's dream (same size, frames, rate and sound), or why it failed."""
    import io

    from .media.video import VideoDecodeError
    from .motion.config import MotionConfig
    from .motion.writing import dream_video

    target = io.BytesIO()
    try:
        for _ in dream_video(data, target, config.with_model(model.name), MotionConfig(), model):
            pass
    except VideoDecodeError as error:
        return FileFailure(str(error))
    return target.getvalue()


def dream_in_process(
    jobs: Iterable[BatchJob], config: DreamConfig, model
) -> Iterator[tuple[BatchJob, bytes | FileFailure]]:
    """Dream each job here, one after the other, with ``model`` (a loaded ``FeatureModel``)."""
    for job in jobs:
        yield job, dream_file(job.source, config, model, job.kind)


def dream_file(
    source: Path, config: DreamConfig, model, kind: str = "image"
) -> bytes | FileFailure:
    """Read ``source`` and dream it (see ``dream_bytes``); unreadable files fail plainly."""
    try:
        data = source.read_bytes()
    except OSError as error:
        return FileFailure(f"could not be read: {error.strerror or error}")
    return dream_bytes(data, config, model, kind)
