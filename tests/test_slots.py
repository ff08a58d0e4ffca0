import threading
import time

import pytest

from deepdream.slots import DreamSlots, default_limit


def test_limit_is_never_exceeded_and_everyone_finishes():
    slots = DreamSlots(2)
    peak, done, lock = [0], [], threading.Lock()

    def worker(index: int) -> None:
        with slots.slot(interval=0.01):
            with lock:
                peak[0] = max(peak[0], slots.in_use)
            time.sleep(0.05)
        done.append(index)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert sorted(done) == list(range(6))
    assert peak[0] == 2
    assert slots.in_use == 0


def test_waiters_are_told_and_can_give_up():
    slots = DreamSlots(1)
    calls = []

    class LeftThePage(Exception):
        pass

    def wait() -> None:
        calls.append(1)
        if len(calls) == 3:
            raise LeftThePage

    with slots.slot(), pytest.raises(LeftThePage), slots.slot(wait=wait, interval=0.01):
        pass  # never reached: the slot is busy
    assert len(calls) == 3
    assert slots.in_use == 0
    with slots.slot(interval=0.01):  # and the slot is free again
        assert slots.in_use == 1


def test_a_failing_dream_gives_its_slot_back():
    slots = DreamSlots(1)
    with pytest.raises(RuntimeError), slots.slot():
        raise RuntimeError("model failed")
    assert slots.in_use == 0


def test_default_limit_follows_the_environment(monkeypatch):
    monkeypatch.setenv("DEEPDREAM_MAX_DREAMS", "3")
    assert default_limit() == 3
    monkeypatch.setenv("DEEPDREAM_MAX_DREAMS", "nonsense")
    assert 1 <= default_limit() <= 4
    monkeypatch.delenv("DEEPDREAM_MAX_DREAMS")
    assert 1 <= default_limit() <= 4
    with pytest.raises(ValueError):
        DreamSlots(0)
