import threading
import time

import pytest

from deepdream.serving.slots import DreamSlots, default_limit


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

    def wait(ahead: int) -> None:
        calls.append(ahead)
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


def test_waiters_are_served_first_come_first_served_and_told_their_place():
    slots = DreamSlots(1)
    order, places, lock = [], {}, threading.Lock()

    def worker(index: int) -> None:
        def wait(ahead: int) -> None:
            with lock:
                places.setdefault(index, ahead)

        with slots.slot(wait=wait, interval=0.01):
            order.append(index)
            time.sleep(0.01)

    threads = []
    with slots.slot():  # a running dream: everyone else queues
        for index in range(5):
            threads.append(threading.Thread(target=worker, args=(index,)))
            threads[-1].start()
            deadline = time.monotonic() + 5
            while slots.waiting < index + 1 and time.monotonic() < deadline:
                time.sleep(0.005)  # queued before the next one arrives
        assert slots.waiting == 5
    for thread in threads:
        thread.join(timeout=10)
    assert order == [0, 1, 2, 3, 4]
    assert places == {0: 0, 1: 1, 2: 2, 3: 3, 4: 4}


def test_a_waiter_who_leaves_gives_up_its_place():
    slots = DreamSlots(1)
    got = []

    class LeftThePage(Exception):
        pass

    def leave(ahead: int) -> None:
        raise LeftThePage

    with slots.slot():
        with pytest.raises(LeftThePage), slots.slot(wait=leave, interval=0.01):
            pass
        assert slots.waiting == 0
    with slots.slot(interval=0.01):  # nobody ghost-queued in front
        got.append(True)
    assert got == [True]


def test_default_limit(monkeypatch):
    monkeypatch.delenv("DEEPDREAM_MAX_DREAMS", raising=False)
    monkeypatch.setattr("os.cpu_count", lambda: 16)
    assert default_limit() == 4  # cores // 2, at most 4: one dream already uses every core
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert default_limit() == 1
    assert default_limit(gpus=2) == 2  # one per GPU
    monkeypatch.setenv("DEEPDREAM_MAX_DREAMS", "3")
    assert default_limit(gpus=2) == 3  # the setting wins
    monkeypatch.setenv("DEEPDREAM_MAX_DREAMS", "nonsense")
    assert default_limit() == 1
    with pytest.raises(ValueError):
        DreamSlots(0)


class RunCutShort(Exception):
    """What Streamlit raises in a waiting page's run when it starts the run afresh."""


def _queue_then_cut(slots: DreamSlots, owner: str) -> None:
    def cut(ahead: int) -> None:
        raise RunCutShort

    with pytest.raises(RunCutShort), slots.slot(wait=cut, interval=0.01, owner=owner):
        pass


def test_a_run_cut_short_while_queueing_keeps_its_place_for_its_next_run():
    """The queue slip seen under load: the first to click was re-queued behind later clicks
    each time its run was started afresh. Its owner's place now waits for it."""
    slots = DreamSlots(1)
    order, places, lock = [], {}, threading.Lock()

    def waiter(name: str) -> None:
        def wait(ahead: int) -> None:
            with lock:
                places.setdefault(name, ahead)

        with slots.slot(wait=wait, interval=0.01, owner=name):
            order.append(name)

    with slots.slot():  # a running dream
        _queue_then_cut(slots, "first")  # clicked first, then its run was cut short
        later = threading.Thread(target=waiter, args=("later",))
        later.start()
        deadline = time.monotonic() + 5
        while slots.waiting < 1 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert places == {"later": 0}  # the absent one holds nobody up...
        back = threading.Thread(target=waiter, args=("first",))
        back.start()  # ...and its next run takes its old place, in front
        while len(places) < 2 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert places["first"] == 0
    back.join(timeout=5)
    later.join(timeout=5)
    assert order == ["first", "later"]


def test_a_place_not_taken_back_in_time_is_dropped():
    slots = DreamSlots(1)
    slots.keep_place = 0.05
    with slots.slot():
        _queue_then_cut(slots, "gone")
        assert slots.waiting == 0
        time.sleep(0.1)
        seen = []
        stop = lambda ahead: (seen.append(ahead), _raise())  # noqa: E731
        with pytest.raises(RunCutShort), slots.slot(wait=stop, owner="new"):
            pass
        assert seen == [0]  # nobody kept in front of it
    assert slots.in_use == 0


def _raise() -> None:
    raise RunCutShort


def test_a_spare_slot_is_taken_only_when_free_and_nobody_waits():
    slots = DreamSlots(1)
    with slots.spare_slot() as taken:
        assert taken and slots.in_use == 1
        with slots.spare_slot() as second:  # the only slot is held
            assert not second and slots.in_use == 1
    assert slots.in_use == 0

    # A dream waiting for the held slot: a spare one is refused even once the slot is free
    # for an instant, and the dream is not held up by it.
    held, released, got = threading.Event(), threading.Event(), []
    holder = threading.Thread(target=lambda: _hold(slots, held, released))
    holder.start()
    held.wait(5)
    waiter = threading.Thread(target=lambda: _take(slots, got))
    waiter.start()
    deadline = time.monotonic() + 5
    while slots.waiting == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    with slots.spare_slot() as taken:
        assert not taken  # the slot is busy and a dream is in line
    with slots._changed:  # the slot free for an instant, the dream still in line
        slots._in_use -= 1
        with slots.spare_slot() as taken:
            assert not taken  # the waiting dream comes first
        slots._in_use += 1
    released.set()
    holder.join(5)
    waiter.join(5)
    assert got == [True] and slots.in_use == 0
    with pytest.raises(RuntimeError), slots.spare_slot() as taken:
        assert taken
        raise RuntimeError("the preparation failed")
    assert slots.in_use == 0  # given back however the block ends


def _hold(slots: DreamSlots, held: threading.Event, released: threading.Event) -> None:
    with slots.slot():
        held.set()
        released.wait(5)


def _take(slots: DreamSlots, got: list) -> None:
    with slots.slot(interval=0.01):
        got.append(True)


def test_freed_memory_goes_back_only_after_an_idle_spell(monkeypatch):
    # Given back between two dreams clicked one after another, it would cost the second its
    # page faults again; an idle server, though, must shrink.
    from deepdream.serving import slots as slots_module

    released = []
    monkeypatch.setattr(slots_module, "IDLE_RELEASE_SECONDS", 0.3)
    monkeypatch.setattr(slots_module, "release_freed_memory", lambda: released.append(1))
    slots = DreamSlots(1)
    with slots.slot():
        pass
    time.sleep(0.1)
    with slots.slot():  # the next dream, within the idle spell: nothing is released for it
        time.sleep(0.4)
    assert released == []
    deadline = time.monotonic() + 5
    while not released and time.monotonic() < deadline:
        time.sleep(0.05)
    assert released == [1]  # once, after the last dream's idle spell
    time.sleep(0.4)
    assert released == [1]
