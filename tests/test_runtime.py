import subprocess
import sys

FILTER_DEMO = r"""
import os, sys
from deepdream.models.runtime import filtered_native_stderr
with filtered_native_stderr():
    os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called ...\n")
    os.write(2, b"I0000 cudart_stub.cc:31] Could not find cuda drivers on your machine.\n")
    os.write(2, b"E0000 cuda_platform.cc:52] failed call to cuInit: UNKNOWN ERROR (303)\n")
    os.write(2, b"E0000 real_problem.cc:7] Out of disk space writing the checkpoint\n")
    os.write(2, b"x" * 200_000 + b"\n")  # more than a pipe holds: must not block
print("done", file=sys.stderr)
"""


def test_startup_noise_is_held_back_and_real_errors_pass_through():
    shown = subprocess.run(
        [sys.executable, "-c", FILTER_DEMO], capture_output=True, text=True, timeout=60
    )
    assert shown.returncode == 0
    lines = shown.stderr.splitlines()
    assert "E0000 real_problem.cc:7] Out of disk space writing the checkpoint" in lines
    assert len(lines[-2]) == 200_000 and lines[-1] == "done"
    assert "InitializeLog" not in shown.stderr and "cuInit" not in shown.stderr
    assert "cuda drivers" not in shown.stderr


def test_starting_tensorflow_is_silent_and_idempotent():
    code = (
        "from deepdream.models.runtime import start_tensorflow, gpu_count\n"
        "tf = start_tensorflow()\n"
        "assert start_tensorflow() is tf and gpu_count() >= 0\n"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stderr == ""


ALLOCATOR_DEMO = r"""
import ctypes, sys
import numpy as np
from deepdream.models.runtime import keep_freed_memory, release_freed_memory

class MallInfo2(ctypes.Structure):  # glibc's struct mallinfo2: ten size_t fields
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = MallInfo2
applied = keep_freed_memory()
block = np.ones(64 << 20, dtype=np.uint8)  # one 64 MB block, as a step's buffers are
live = np.ones(1 << 16, dtype=np.uint8)  # a small block above it, still in use
mapped = libc.mallinfo2().hblkhd  # bytes in blocks mapped on their own
del block
kept = libc.mallinfo2().fordblks  # freed bytes the heap kept

def resident() -> int:  # this process's resident bytes
    return int(open("/proc/self/statm").read().split()[1]) * 4096

before = resident()
released = release_freed_memory()
print(applied, mapped >= 64 << 20, kept >= 64 << 20, before - resident() >= 48 << 20, released)
"""


def _allocator_demo(environment):
    import ctypes
    import os
    import platform

    import pytest

    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        pytest.skip("glibc's allocator only")
    if not hasattr(ctypes.CDLL(None), "mallinfo2"):
        pytest.skip("glibc 2.33 or later (mallinfo2)")
    shown = subprocess.run(
        [sys.executable, "-c", ALLOCATOR_DEMO],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **environment},
    )
    assert shown.returncode == 0, shown.stderr
    return shown.stdout.split()


def test_large_blocks_come_from_the_heap_and_stay_there_once_freed():
    # Mapped afresh every step, a step's buffers faulted every page in again (module docstring);
    # kept, they go back to the system when the dreams are over (release_freed_memory).
    assert _allocator_demo({"DEEPDREAM_ALLOCATOR": ""}) == ["True", "False", "True", "True", "True"]


def test_deepdream_allocator_system_leaves_glibc_as_it_is():
    # glibc unmapped the block itself when it was freed; there is nothing left to release.
    shown = _allocator_demo({"DEEPDREAM_ALLOCATOR": "system"})
    assert shown == ["False", "True", "False", "False", "False"]
