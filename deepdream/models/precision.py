"""Compute precision: what the hardware computes well, and building layers in it.

Contract:
- ``PRECISIONS`` maps our names to Keras dtype policies: ``"float32"``, or ``"bfloat16"``
  (Keras's mixed policy: bfloat16 maths, float32 weights and gradients).
- ``auto_precision()`` is ``"bfloat16"`` where the hardware computes it natively (an NVIDIA
  GPU of compute capability 8.0 or later, or a CPU with AVX512_BF16 or AMX-BF16), else
  ``"float32"``: emulated bfloat16 would be slower than float32.
- ``resolve_precision(name)`` turns ``"auto"`` into one of those; unknown names raise
  ``ValueError``.
- ``dtype_policy(precision)`` is a context in which new Keras layers are built in that precision;
  the previous policy is restored afterwards (Keras keeps it per thread).

``python bench/benchmark.py`` on a 2-core AVX512_BF16 CPU, 1024x768 step: InceptionV3 about
0.45 s -> 0.3 s, VGG16 about 2.0 s -> 1.0 s in bfloat16; the dreams look the same.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PRECISIONS = {"float32": "float32", "bfloat16": "mixed_bfloat16"}
AUTO = "auto"
#: CPU flags (from /proc/cpuinfo) of instruction sets that compute bfloat16 natively.
BF16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


def cpu_bf16_flags() -> frozenset[str]:
    """Which of ``BF16_CPU_FLAGS`` this CPU has (empty where /proc/cpuinfo is unreadable)."""
    try:
        flags = set(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        return frozenset()
    return frozenset(flags & BF16_CPU_FLAGS)


@functools.lru_cache(maxsize=1)
def auto_precision() -> str:
    """What ``"auto"`` means on this machine; see the module docstring."""
    from .runtime import start_tensorflow

    tf = start_tensorflow()
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        major, _ = details.get("compute_capability", (0, 0))
        return "bfloat16" if major >= 8 else "float32"
    return "bfloat16" if cpu_bf16_flags() else "float32"


def resolve_precision(precision: str) -> str:
    """``precision`` itself, or what ``"auto"`` means on this machine.

    Raises:
        ValueError: an unknown precision.
    """
    if precision == AUTO:
        return auto_precision()
    if precision not in PRECISIONS:
        choices = ", ".join([AUTO, *PRECISIONS])
        raise ValueError(f"Unknown precision {precision!r}; choose one of: {choices}.")
    return precision


@contextmanager
def dtype_policy(precision: str) -> Iterator[None]:
    """Build Keras layers under ``precision``; the previous policy is restored afterwards."""
    import keras

    # keras.applications builders take no dtype argument, so the default policy is set for
    # the duration of the build only. Keras keeps it per thread: other threads are unaffected.
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(PRECISIONS[resolve_precision(precision)])
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)
