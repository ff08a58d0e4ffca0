"""Work beside the dream (deepdream/motion/beside.py): made ahead, written behind, stopped."""

from __future__ import annotations

import threading

import pytest

from deepdream.motion.beside import made_ahead, written_beside

WAIT_S = 10.0


def _alive(name: str) -> bool:
    return any(thread.name == name for thread in threading.enumerate())


def test_items_come_in_order_and_the_next_is_made_while_the_caller_holds_the_last():
    made = [threading.Event() for _ in range(4)]

    def items():
        for index, event in enumerate(made):
            event.set()
            yield index

    stream = made_ahead(items(), depth=2, name="test-ahead")
    assert next(stream) == 0
    # While the caller still works on item 0, the thread has gone on to item 1.
    assert made[1].wait(WAIT_S)
    assert list(stream) == [1, 2, 3]
    assert not _alive("test-ahead")


def test_an_error_comes_after_the_items_before_it():
    def items():
        yield "a"
        yield "b"
        raise ValueError("damaged after frame 2")

    stream = made_ahead(items(), depth=2)
    assert next(stream) == "a" and next(stream) == "b"
    with pytest.raises(ValueError, match="damaged after frame 2"):
        next(stream)


def test_closing_early_stops_the_thread_and_closes_the_items_in_it():
    closed_in = []

    def endless():
        try:
            index = 0
            while True:
                yield index
                index += 1
        finally:
            closed_in.append(threading.current_thread().name)

    stream = made_ahead(endless(), depth=2, name="test-endless")
    assert [next(stream) for _ in range(3)] == [0, 1, 2]
    stream.close()
    assert closed_in == [
        "test-endless"
    ]  # closed by the thread that ran it, before close() returned
    assert not _alive("test-endless")


def test_every_write_runs_in_order_before_the_block_is_left():
    written = []
    with written_beside(written.append, depth=1, name="test-writer") as put:
        for index in range(20):
            put(index)
    assert written == list(range(20))
    assert not _alive("test-writer")


def test_frames_put_before_an_error_in_the_block_are_still_written():
    written = []
    with pytest.raises(KeyboardInterrupt), written_beside(written.append) as put:
        put(1)
        put(2)
        raise KeyboardInterrupt  # a cancel: what was put is still written
    assert written == [1, 2]


def test_a_failed_write_is_raised_to_the_caller_and_the_rest_dropped():
    written = []

    def write(value):
        if value == 2:
            raise OSError("disk full")
        written.append(value)

    with pytest.raises(OSError, match="disk full"), written_beside(write, depth=1) as put:
        for value in range(1, 50):
            put(value)
    assert written == [1]


def test_depth_zero_does_the_same_work_in_turn_without_a_thread():
    closed = []

    def items():
        try:
            yield from range(5)
        finally:
            closed.append(threading.current_thread().name)

    before = threading.active_count()
    stream = made_ahead(items(), depth=0)
    assert [next(stream) for _ in range(2)] == [0, 1]
    assert threading.active_count() == before
    stream.close()
    assert closed == [threading.current_thread().name]
    written = []
    with written_beside(written.append, depth=0) as put:
        put(1)
        assert written == [1]  # written at once, in this thread


def test_a_process_without_tensorflow_encodes_beside_and_never_loads_it():
    """A cluster's web page writes the video while the dream runs on a worker: its CPU is
    free, and finding out must not import TensorFlow into it."""
    import subprocess
    import sys

    code = (
        "import sys; from deepdream.motion.beside import GPU_DEPTH, machine_depth; "
        "print(machine_depth() == GPU_DEPTH, 'tensorflow' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["True", "False"], done.stderr[-2000:]


def test_depth_none_is_this_machine_s_depth():
    assert list(made_ahead(iter(range(3)), None)) == [0, 1, 2]
    written = []
    with written_beside(written.append, None) as put:
        put(1)
    assert written == [1]
