"""Range checks for the frozen settings (``DreamConfig``, ``MotionConfig``).

Contract:
- ``check_int(name, value, low, high)`` and ``check_float(name, value, low, high, low_open=)``
  return nothing for a good value and raise ``ValueError`` with a sentence a non-programmer
  can act on ("steps must be between 1 and 500; got 0.") for a bad one. ``bool`` is never a
  number here, and NaN is never in range.
- Pure Python, no imports of the engine.
"""

from __future__ import annotations


def check_int(name: str, value: object, low: int, high: int) -> None:
    """Raise ``ValueError`` (a plain sentence naming ``name``) unless ``value`` is a whole
    number from ``low`` to ``high``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a whole number, not {value!r}.")
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}; got {value}.")


def check_float(
    name: str, value: object, low: float, high: float, *, low_open: bool = False
) -> None:
    """Raise ``ValueError`` (a plain sentence naming ``name``) unless ``value`` is a number
    from ``low`` (excluded with ``low_open``) to ``high``; NaN is refused."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number, not {value!r}.")
    too_low = value <= low if low_open else value < low
    if too_low or value > high or value != value:
        bound = "above" if low_open else "at least"
        raise ValueError(f"{name} must be {bound} {low:g} and at most {high:g}; got {value:g}.")
