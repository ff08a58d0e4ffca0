"""What a dream makes, without TensorFlow: progress updates, the result and its one record.

Shared by the engine (``render.py``), the Ray workers and a web process (which, on a cluster,
never imports TensorFlow), so a dream finished or stopped anywhere carries the same
record.

Contract:
- ``DreamUpdate``: one step's progress (octave, step, work done, loss, time, preview).
- ``DreamResult``: the finished (or stopped) dream, its config and the model's facts;
  ``metadata()`` is the one record kept in every PNG, JPEG and WebP (settings, weights,
  precision, octave sizes, how far a stopped dream got).
- ``ModelFacts``: what a record says of a model (name, weights, description, precision, the
  smallest side it dreams at); ``ModelFacts.of(model)`` reads them off a ``FeatureModel``,
  and they travel as a plain dict from a Ray worker (``as_dict``/``from_dict``).
- ``finish_dream(photo, detail, config, model, shapes, elapsed, steps_done)`` lays the dreamed
  detail onto the full-size photo (colours kept if asked, through the mask if there is one).
- ``partial_result(photo, update, config, model)`` finishes a stopped dream from its last
  preview, exactly like a finished one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .config import DreamConfig
from .media import image as pixels
from .octaves import octave_plan


@dataclass(frozen=True)
class ModelFacts:
    """What a dream's record says of the model that made it."""

    name: str
    weights: str
    description: str
    precision: str
    min_side: int

    @classmethod
    def of(cls, model: Any) -> ModelFacts:
        """The facts of a ``FeatureModel`` (or anything with these attributes)."""
        return cls(model.name, model.weights, model.description, model.precision, model.min_side)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, facts: dict[str, Any]) -> ModelFacts:
        return cls(**{name: facts[name] for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class DreamResult:
    """A finished dream and how it was made."""

    image: np.ndarray
    config: DreamConfig
    model: str
    weights: str
    model_description: str
    precision: str
    elapsed: float
    shapes: tuple[tuple[int, int], ...]
    steps_done: int | None = None  # set when the dream was stopped before the end

    def metadata(self) -> dict[str, str]:
        """Settings and model, as stored in the PNG (never file names or paths of uploads)."""
        stopped = {}
        if self.steps_done is not None:
            total = len(self.shapes) * self.config.steps_per_octave
            stopped = {"deepdream.stopped_after_step": f"{self.steps_done} of {total}"}
        return {
            "Software": "DeepDream Studio",
            **stopped,
            "deepdream.weights": self.weights,
            "deepdream.precision": self.precision,
            "deepdream.model_description": self.model_description,
            "deepdream.octave_sizes": " ".join(f"{w}x{h}" for h, w in self.shapes),
            **{f"deepdream.{key}": value for key, value in self.config.describe().items()},
        }

    def to_png(self) -> bytes:
        """PNG bytes of the dream with ``metadata()`` in its text chunks."""
        return pixels.encode_png(self.image, self.metadata())

    def encode(self, suffix: str = ".png", quality: int = pixels.DEFAULT_QUALITY) -> bytes:
        """The dream as PNG, JPEG or WebP bytes by ``suffix``, ``metadata()`` kept inside
        (``media.image.encode_image``)."""
        return pixels.encode_image(self.image, self.metadata(), suffix, quality)


@dataclass(frozen=True)
class DreamUpdate:
    """Progress of a running dream.

    Attributes:
        octave, octaves: current octave (1-based) and how many there are.
        step, steps: step within this octave (1-based) and steps per octave.
        done, total: steps done overall and in all.
        work: share of the computation done, 0..1. Steps are weighted by their octave's
            pixel count, since a full-size step costs about ``octave_scale**2`` times one an
            octave below.
        loss: the objective at this step (it should rise).
        elapsed: seconds since the dream started.
        preview: the current dream (uint8 RGB) at the current octave's size on every
            ``preview_every``-th step and at the end of each octave; the photo-sized final
            image on the last update; else None.
        result: set on the final update only.
    """

    octave: int
    octaves: int
    step: int
    steps: int
    done: int
    total: int
    work: float
    loss: float
    elapsed: float
    preview: np.ndarray | None = None
    result: DreamResult | None = None

    @property
    def eta(self) -> float | None:
        """Rough seconds left, from the pace so far; None before any work is done."""
        if self.work <= 0:
            return None
        return self.elapsed * (1.0 - self.work) / self.work


def finish_dream(
    photo: np.ndarray,
    detail: np.ndarray,
    config: DreamConfig,
    model: Any,
    shapes: list[tuple[int, int]],
    elapsed: float,
    steps_done: int | None = None,
) -> DreamResult:
    """The dreamed ``detail`` laid onto the photo, colours kept if asked, only where the
    mask says (if there is one), with its record. ``model``: a ``FeatureModel`` or
    ``ModelFacts``."""
    final = pixels.add_detail(photo, np.asarray(detail))
    if config.keep_colors:
        final = pixels.keep_colors(final, photo)
    if config.mask is not None:
        final = config.mask.lay(photo, final)
    return DreamResult(
        image=final,
        config=config,
        model=model.name,
        weights=model.weights,
        model_description=model.description,
        precision=model.precision,
        elapsed=elapsed,
        shapes=tuple(shapes),
        steps_done=steps_done,
    )


def partial_result(
    photo: np.ndarray, update: DreamUpdate, config: DreamConfig, model: Any
) -> DreamResult:
    """A stopped dream, finished like a complete one from its last preview.

    The preview's difference from the photo (at the preview's size) is laid onto the
    full-resolution photo, exactly as a finished dream is, so the photo stays sharp and
    keep-colours, the mask and the record apply. ``steps_done`` records how far it got.
    ``model``: a ``FeatureModel`` or ``ModelFacts``.

    Raises:
        ValueError: the update carries no preview.
    """
    if update.preview is None:
        raise ValueError("This update has no preview to finish from.")
    detail = pixels.detail_of(update.preview, photo)
    shapes = octave_plan(photo.shape[:2], config, model.min_side)
    return finish_dream(photo, detail, config, model, shapes, update.elapsed, update.done)
