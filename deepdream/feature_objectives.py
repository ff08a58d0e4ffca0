"""What a feature visualisation maximises, as data: terms that add up and scale (lucid's
``optvis.objectives``).

Contract:
- A term is a frozen dataclass naming a layer and a ``weight``; its ``value(activations)`` is
  ``weight`` times a scalar read from the layer's (batch, h, w, C) activations:
  - ``Channel(layer, channel)``: the channel's mean over batch and positions;
  - ``Neuron(layer, channel)``: the channel at the centre position, mean over the batch;
  both with ``member=i`` read batch member ``i`` only (lucid's ``batch=``), so one run of a
  batch of K can draw K channels (``sum(Channel(layer, c, member=i) ...)``: one trace);
  - ``Layer(layer)``: the mean of the squared activations (DeepDream's objective);
  - ``Direction(layer, vector)``: the dot product of each activation vector with ``vector``,
    mean over batch and positions (``direction_between`` in ``visualise.py`` makes one from
    two photos);
  - ``Diversity(layer)``: the mean pairwise cosine similarity of the batch members' Gram
    matrices at the layer (0 for a batch of one); give it a NEGATIVE weight to push the
    members apart (lucid's ``objective - 1e2 * diversity``).
- ``Objective(terms)`` is their sum. Terms and objectives compose: ``a + b``, ``2 * a``,
  ``-a``. ``objective.layers`` are the layers it reads, each once, in first-use order.
- ``to_text()`` and ``parse(text)`` round-trip every term but ``Direction`` (its vector comes
  from photos; its text names only its layer and length, and ``parse`` refuses it). Text is
  terms joined by ``" + "`` (or commas): ``"mixed4:97"`` (channel, weight 1),
  ``"mixed4:97:-1"``, ``"channel:mixed4:97"``, ``"neuron:mixed4:97"``, ``"layer:mixed4:2"``,
  ``"diversity:mixed4:-1"``; ``@i`` after a channel term names its batch member
  (``"mixed4:97@2"``).
- ``check(channel_counts)`` raises ``ValueError`` for a channel or vector the layer has not.
Parsing errors are ``ValueError`` with a plain message. Only ``value`` needs TensorFlow, which
is imported when it is first called; building, parsing and printing terms do not.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


class _Term:
    """Arithmetic every term shares: ``+`` makes an ``Objective``, ``*`` scales the weight."""

    layer: str
    weight: float

    def __add__(self, other: Any) -> Objective:
        return Objective((self,)) + other

    def __radd__(self, other: Any) -> Objective:
        return Objective((self,)).__radd__(other)

    def __mul__(self, factor: float) -> _Term:
        return dataclasses.replace(self, weight=self.weight * float(factor))

    __rmul__ = __mul__

    def __neg__(self) -> _Term:
        return self * -1.0

    def __sub__(self, other: Any) -> Objective:
        return self + (-other)

    def _text(self, *parts: object) -> str:
        weight = "" if self.weight == 1.0 else f":{self.weight:g}"
        return ":".join(str(part) for part in parts) + weight

    def check(self, channel_counts: Mapping[str, int]) -> None:
        """Raise ``ValueError`` when this term asks for what its layer has not."""


def _check_channel(term: Channel | Neuron, channel_counts: Mapping[str, int]) -> None:
    count = channel_counts[term.layer]
    if not 0 <= term.channel < count:
        raise ValueError(
            f"Layer {term.layer} has {count} channels (0 to {count - 1}); "
            f"channel {term.channel} does not exist."
        )


def _member(activations, member: int | None):
    """The activations of one batch member (kept 4-D), or all of them."""
    return activations if member is None else activations[member : member + 1]


def _with_member(channel: int, member: int | None) -> str:
    return str(channel) if member is None else f"{channel}@{member}"


@dataclass(frozen=True)
class Channel(_Term):
    """One channel's mean activation (a negative weight pushes it down)."""

    layer: str
    channel: int
    weight: float = 1.0
    member: int | None = None

    def value(self, activations):
        layer = _member(activations[self.layer], self.member)
        return self.weight * _tf().reduce_mean(layer[..., self.channel])

    def check(self, channel_counts: Mapping[str, int]) -> None:
        _check_channel(self, channel_counts)

    def to_text(self) -> str:
        return self._text(self.layer, _with_member(self.channel, self.member))


@dataclass(frozen=True)
class Neuron(_Term):
    """One channel at the centre position only: what a single unit there responds to."""

    layer: str
    channel: int
    weight: float = 1.0
    member: int | None = None

    def value(self, activations):
        tf = _tf()
        layer = _member(activations[self.layer], self.member)
        shape = tf.shape(layer)
        centre = layer[:, shape[1] // 2, shape[2] // 2, self.channel]
        return self.weight * tf.reduce_mean(centre)

    def check(self, channel_counts: Mapping[str, int]) -> None:
        _check_channel(self, channel_counts)

    def to_text(self) -> str:
        return self._text("neuron", self.layer, _with_member(self.channel, self.member))


@dataclass(frozen=True)
class Layer(_Term):
    """The whole layer's mean squared activation, as DeepDream maximises it."""

    layer: str
    weight: float = 1.0

    def value(self, activations):
        return self.weight * _tf().reduce_mean(activations[self.layer] ** 2)

    def to_text(self) -> str:
        return self._text("layer", self.layer)


@dataclass(frozen=True)
class Direction(_Term):
    """Activations along ``vector`` (one value per channel), mean over positions."""

    layer: str
    vector: tuple[float, ...]
    weight: float = 1.0

    def value(self, activations):
        tf = _tf()
        layer = activations[self.layer]
        vector = tf.constant(self.vector, dtype=layer.dtype)
        return self.weight * tf.reduce_mean(tf.tensordot(layer, vector, axes=1))

    def check(self, channel_counts: Mapping[str, int]) -> None:
        if len(self.vector) != channel_counts[self.layer]:
            raise ValueError(
                f"Layer {self.layer} has {channel_counts[self.layer]} channels, but the "
                f"direction has {len(self.vector)} values."
            )

    def to_text(self) -> str:
        return self._text("direction", self.layer, f"{len(self.vector)}d")


@dataclass(frozen=True)
class Diversity(_Term):
    """How alike the batch members' styles (Gram matrices) are; weight it negatively."""

    layer: str
    weight: float = -1.0

    def value(self, activations):
        return self.weight * mean_gram_similarity(activations[self.layer])

    def to_text(self) -> str:
        # Written with its weight always: its default is not 1, unlike the other terms'.
        return f"diversity:{self.layer}:{self.weight:g}"


Term = Channel | Neuron | Layer | Direction | Diversity


@dataclass(frozen=True)
class Objective:
    """A sum of terms: what a visualisation maximises."""

    terms: tuple[Term, ...]

    def __post_init__(self):
        if not self.terms:
            raise ValueError("An objective needs at least one term.")

    def __add__(self, other: Any) -> Objective:
        if isinstance(other, Objective):
            return Objective(self.terms + other.terms)
        if isinstance(other, _Term):
            return Objective((*self.terms, other))
        return NotImplemented

    def __radd__(self, other: Any) -> Objective:
        if other == 0:  # so that sum(terms) works
            return self
        return NotImplemented

    def __mul__(self, factor: float) -> Objective:
        return Objective(tuple(term * factor for term in self.terms))

    __rmul__ = __mul__

    def __neg__(self) -> Objective:
        return self * -1.0

    def __sub__(self, other: Any) -> Objective:
        return self + (-other)

    @property
    def layers(self) -> tuple[str, ...]:
        """The layers the terms read, each once, in first-use order."""
        return tuple(dict.fromkeys(term.layer for term in self.terms))

    def value(self, activations):
        """The objective's value (a scalar tensor) from ``{layer: activations}``."""
        return _tf().add_n([term.value(activations) for term in self.terms])

    def check(self, channel_counts: Mapping[str, int]) -> None:
        """Raise ``ValueError`` when a term asks for a channel its layer has not."""
        for term in self.terms:
            term.check(channel_counts)

    def to_text(self) -> str:
        return " + ".join(term.to_text() for term in self.terms)

    describe = to_text


def as_objective(objective: Objective | Term | str | Iterable[Term]) -> Objective:
    """``objective`` as an ``Objective``: a term, text (``parse``) or terms are converted."""
    if isinstance(objective, Objective):
        return objective
    if isinstance(objective, _Term):
        return Objective((objective,))
    if isinstance(objective, str):
        return parse(objective)
    return Objective(tuple(objective))


_SEPARATOR = re.compile(r"\s+\+\s+|\s*,\s*")


def parse(text: str) -> Objective:
    """The objective ``text`` describes (see the module docstring for the form).

    Raises:
        ValueError: text that is not a sum of terms.
    """
    pieces = [piece.strip() for piece in _SEPARATOR.split(text.strip()) if piece.strip()]
    if not pieces:
        raise ValueError("The objective is empty; write for example mixed4:97.")
    return Objective(tuple(_parse_term(piece) for piece in pieces))


_KINDS = {"channel": Channel, "neuron": Neuron, "layer": Layer, "diversity": Diversity}


def _parse_term(text: str) -> Term:
    parts = text.split(":")
    kind = parts[0] if parts[0] in (*_KINDS, "direction") else "channel"
    args = parts[1:] if parts[0] == kind else parts
    if kind == "direction":
        raise ValueError("A direction comes from two photos; it cannot be read from text.")
    takes_channel = kind in ("channel", "neuron")
    wanted = 2 if takes_channel else 1
    if not args or not args[0] or len(args) not in (wanted, wanted + 1):
        raise ValueError(_form_help(text))
    try:
        numbers: list = []
        member = None
        if takes_channel:
            channel, _, member_text = args[1].partition("@")
            numbers.append(int(channel))
            member = int(member_text) if member_text else None
        numbers.append(float(args[wanted]) if len(args) == wanted + 1 else 1.0)
    except ValueError:
        raise ValueError(_form_help(text)) from None
    if member is not None:
        return _KINDS[kind](args[0], *numbers, member=member)
    if kind == "diversity" and len(args) == wanted:
        return Diversity(args[0])
    return _KINDS[kind](args[0], *numbers)


def _form_help(text: str) -> str:
    return (
        f"{text!r} is not an objective term; write layer:channel[@member][:weight] (mixed4:97),"
        " neuron:layer:channel[@member][:weight], layer:name[:weight] or "
        "diversity:layer[:weight]."
    )


def mean_gram_similarity(activations):
    """The mean pairwise cosine similarity of the batch members' Gram matrices (a scalar
    tensor; 0 for a batch of one). Activations: (batch, h, w, C)."""
    tf = _tf()
    shape = tf.shape(activations)
    batch = shape[0]
    flat = tf.reshape(activations, [batch, -1, shape[3]])
    grams = tf.matmul(flat, flat, transpose_a=True)
    grams = tf.math.l2_normalize(tf.reshape(grams, [batch, -1]), axis=1, epsilon=1e-10)
    similarity = tf.matmul(grams, grams, transpose_b=True)
    pairs = tf.cast(batch * (batch - 1), similarity.dtype)
    off_diagonal = tf.reduce_sum(similarity) - tf.linalg.trace(similarity)
    return tf.math.divide_no_nan(off_diagonal, pairs)


def _tf():
    from .models.runtime import start_tensorflow

    return start_tensorflow()
