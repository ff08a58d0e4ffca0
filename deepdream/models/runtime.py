"""Starting TensorFlow: quietly, with good manners on a GPU, and what devices it found.

Contract:
- ``start_tensorflow(verbose=False)`` imports TensorFlow once per process and returns it. Unless
  ``verbose``, TensorFlow's start-up chatter (absl's "before InitializeLog" banner, the CUDA
  probes of a machine without a GPU, oneDNN and CPU-instruction notices) is held back; any
  other line TensorFlow's native code prints while starting is passed on unchanged, so real
  warnings and errors still show. Python warnings and exceptions are never touched.
- On every GPU it finds, memory growth is switched on before the GPU is used, so TensorFlow
  takes the card's memory as it needs it instead of grabbing all of it.
- ``gpu_count()`` is how many GPUs TensorFlow sees (0 on a CPU machine).
- Before TensorFlow is imported, ``keep_freed_memory()`` asks glibc's allocator to serve large
  blocks from its heap instead of mapping each one afresh, and to keep up to
  ``KEPT_FREE_BYTES`` of freed memory instead of handing it back at once. A step allocates
  and frees the same large buffers every time; mapped afresh, every page of them faulted in
  again: on the 2-core AVX2 EPYC about 120,000 page faults and 0.3 CPU-seconds in the kernel
  a 1024x768 step, which then took 1.15x as long (``python -m bench.allocator``). The setting
  is the process's, so ``DEEPDREAM_ALLOCATOR=system`` leaves glibc's own; without glibc
  (musl, macOS, Windows) nothing changes. The memory kept is not bounded by that figure
  (each thread's arena keeps its own, and freed blocks below a live one stay), so
  ``release_freed_memory()`` gives it all back (``malloc_trim``); the dream slots call it
  once no dream has run or waited for a while (``serving/slots.py``).
Nothing here prints or writes files; the held-back lines go through a pipe in memory.
"""

from __future__ import annotations

import ctypes
import functools
import os
import platform
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

#: Lines of TensorFlow's native start-up that say nothing a user must act on.
STARTUP_NOISE = re.compile(
    r"All log messages before absl::InitializeLog\(\) is called"
    r"|cudart_stub\.cc|Could not find cuda drivers|failed call to cuInit"
    r"|Unable to register cu(DNN|FFT|BLAS) factory|computation placer already registered"
    r"|oneDNN custom operations are on|This TensorFlow binary is optimized to use"
    r"|rebuild TensorFlow with the appropriate compiler flags|TF-TRT Warning"
    r"|cuda_executor\.cc.*NUMA node|Created device /job:localhost"
)

_start_lock = threading.Lock()

#: ``DEEPDREAM_ALLOCATOR=system`` keeps glibc's allocator as it is (see the module docstring).
ALLOCATOR_ENV = "DEEPDREAM_ALLOCATOR"
#: Freed memory kept at the top of glibc's heap (``M_TRIM_THRESHOLD``): measured enough for a
#: 512-pixel tile's buffers; 1 GiB was no faster.
KEPT_FREE_BYTES = 256 << 20
#: ``mallopt`` parameters, as glibc's malloc.h numbers them.
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4


def keep_freed_memory() -> bool:
    """Serve large blocks from glibc's heap and keep up to ``KEPT_FREE_BYTES`` freed there (see
    the module docstring); True when glibc took both settings, False where it was not asked
    (``DEEPDREAM_ALLOCATOR=system``, or no glibc)."""
    if (mallopt := _glibc_function("mallopt")) is None:
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    # Order matters: with mapping off, a heap that gave freed memory straight back would
    # fault every page in again, slower than before (1.5 s against 1.26 s a step).
    kept = mallopt(_M_TRIM_THRESHOLD, KEPT_FREE_BYTES) == 1
    return kept and mallopt(_M_MMAP_MAX, 0) == 1


def is_startup_noise(line: str) -> bool:
    """True for a line of TensorFlow's start-up chatter (see ``STARTUP_NOISE``)."""
    return bool(STARTUP_NOISE.search(line))


@contextmanager
def filtered_native_stderr() -> Iterator[None]:
    """Pass what native code writes to file descriptor 2 through ``is_startup_noise``.

    Native libraries write to the descriptor directly, past ``sys.stderr``, so the descriptor
    itself is pointed at a pipe for the duration; a thread drains the pipe (a full pipe would
    block the writer) and the kept lines go to the real stderr afterwards, in order.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no usable stderr (some embedded hosts): nothing to filter
        yield
        return
    read_end, write_end = os.pipe()
    captured: list[bytes] = []
    drain = threading.Thread(target=_drain, args=(read_end, captured), daemon=True)
    drain.start()
    os.dup2(write_end, 2)
    os.close(write_end)
    try:
        yield
    finally:
        with suppress(OSError, ValueError):
            sys.stderr.flush()
        os.dup2(saved, 2)  # also closes the pipe's last write end: the drain sees EOF
        drain.join(timeout=5)
        os.close(saved)
        kept = [
            line
            for line in b"".join(captured).decode("utf-8", "replace").splitlines(keepends=True)
            if not is_startup_noise(line)
        ]
        if kept:
            sys.stderr.write("".join(kept))
            sys.stderr.flush()


def _drain(fd: int, into: list[bytes]) -> None:
    with os.fdopen(fd, "rb", buffering=0) as pipe:
        while chunk := pipe.read(65536):
            into.append(chunk)


def release_freed_memory() -> bool:
    """Give the freed memory ``keep_freed_memory`` kept back to the system (glibc's
    ``malloc_trim``); True when glibc gave some back. Does nothing where that was not kept."""
    if (trim := _glibc_function("malloc_trim")) is None:
        return False
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim(0) == 1


def _glibc_function(name: str):
    """glibc's function ``name`` from the C library this process already runs on; None where
    the allocator is left alone (``DEEPDREAM_ALLOCATOR=system``) or there is no glibc."""
    if os.environ.get(ALLOCATOR_ENV, "").strip().lower() == "system":
        return None
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        return getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError):
        return None


@functools.cache
def _started(verbose: bool):
    keep_freed_memory()
    if not verbose:
        # INFO and WARNING lines from TensorFlow's C++ logging; errors still show.
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with _quiet_unless(verbose):
        import tensorflow as tf

        # Listing devices initialises CUDA (and prints its probes) on the first call.
        for gpu in tf.config.list_physical_devices("GPU"):
            # RuntimeError: the caller already initialised the GPU; keep its choice.
            with suppress(RuntimeError):
                tf.config.experimental.set_memory_growth(gpu, True)
    return tf


@contextmanager
def _quiet_unless(verbose: bool) -> Iterator[None]:
    if verbose:
        yield
    else:
        with filtered_native_stderr():
            yield


def start_tensorflow(verbose: bool = False):
    """Import TensorFlow (once), GPU memory growth on, start-up chatter held back.

    Returns the ``tensorflow`` module. Later calls return it at once, whatever ``verbose``.
    """
    if "tensorflow" in sys.modules and _started.cache_info().currsize:
        return sys.modules["tensorflow"]
    with _start_lock:
        if _started.cache_info().currsize:
            return sys.modules["tensorflow"]
        return _started(verbose)


def gpu_count() -> int:
    """How many GPUs TensorFlow can use here (0 on a CPU-only machine)."""
    tf = start_tensorflow()
    return len(tf.config.list_physical_devices("GPU"))
