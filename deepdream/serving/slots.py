"""How many dreams run at once in one process, first come first served, shared by every user
of a server.

Contract:
- ``DreamSlots(limit)`` hands out at most ``limit`` slots at a time, in the order they were
  asked for: a dream that started waiting earlier always gets a slot before a later one.
- ``slot(wait)`` is a context manager that takes a slot. While it waits it calls
  ``wait(ahead)`` between short waits, ``ahead`` being how many dreams queue in front of this
  one (0: this one is next). The caller shows a "waiting" message there and may raise to give
  up (a user who leaves stops waiting); its place in the queue is then given up. The slot is
  given back on exit, however the block ends: finished, stopped by the user, or failed.
- ``slot(wait, owner=key)`` keeps a waiter's place when its wait is cut short and the same
  ``owner`` (a browser session) asks again within ``KEEP_PLACE_SECONDS``: a caller's run can be
  interrupted and started afresh (a rerun, a reconnect) while it queues, and without an owner
  the new run would join at the back, behind everyone who clicked later. Meanwhile the
  absent waiter is skipped, so it holds nobody up; a place not taken back is dropped.
- ``spare_slot()`` takes a slot only if one is free and nobody waits, and yields whether it
  did: for work that helps dreams but must never delay one (preparing a photo's sizes).
- When no dream has held or waited for a slot for ``IDLE_RELEASE_SECONDS``, the memory the
  dreams freed is given back to the system, in a timer's thread
  (``models.runtime.release_freed_memory``): a server between busy spells shrinks again,
  while dreams clicked one after another keep their memory (giving it back costs the next
  dream its page faults again).
- ``default_limit(gpus)`` sizes the limit for a machine (``DEEPDREAM_MAX_DREAMS`` overrides):
  one dream per GPU where there are GPUs, else cores // 2, from 1 to 4. ``shared_slots()`` is
  the one ``DreamSlots`` of this process, sized for this machine.
No threads of its own and no Streamlit; TensorFlow only to count GPUs in ``shared_slots``.
"""

from __future__ import annotations

import collections
import functools
import os
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager

from ..models.runtime import release_freed_memory

LIMIT_ENV = "DEEPDREAM_MAX_DREAMS"
#: How long the place of a waiter whose run was cut short is kept for its owner's next run.
KEEP_PLACE_SECONDS = 10.0
#: How long no dream must hold or wait for a slot before the dreams' freed memory goes back.
IDLE_RELEASE_SECONDS = 30.0


def default_limit(gpus: int = 0) -> int:
    """Concurrent dreams for a machine with ``gpus`` GPUs; see the module docstring.

    On a CPU one dream already uses every core (TensorFlow parallelises each convolution), so
    more concurrent dreams only share the same cores and add memory. On a GPU one dream fills
    the card; a second would only wait inside it and risk running out of its memory.
    """
    configured = os.environ.get(LIMIT_ENV, "").strip()
    if configured:
        try:
            return max(1, int(configured))
        except ValueError:
            pass
    if gpus > 0:
        return gpus
    return max(1, min(4, (os.cpu_count() or 2) // 2))


class _Ticket:
    """One waiter's place in the queue; ``left_at`` is set while its owner is away."""

    __slots__ = ("owner", "left_at")

    def __init__(self, owner: Hashable | None) -> None:
        self.owner = owner
        self.left_at: float | None = None


class DreamSlots:
    """At most ``limit`` holders at once, served in order; see the module docstring."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("There must be at least one dream slot.")
        self.limit = limit
        self._changed = threading.Condition()
        self._queue: collections.deque[_Ticket] = collections.deque()
        self._in_use = 0
        self._given_back = 0  # slots given back so far: tells an idle spell from the next
        self.keep_place = KEEP_PLACE_SECONDS

    @property
    def in_use(self) -> int:
        """Slots taken right now."""
        with self._changed:
            return self._in_use

    @property
    def waiting(self) -> int:
        """Dreams queueing for a slot right now."""
        with self._changed:
            return len(self._present())

    def _present(self) -> list[_Ticket]:
        """The waiters in line now, in order (lock held); places kept too long are dropped."""
        now = time.monotonic()
        for ticket in [t for t in self._queue if t.left_at is not None]:
            if now - ticket.left_at > self.keep_place:
                self._queue.remove(ticket)
        return [ticket for ticket in self._queue if ticket.left_at is None]

    def _join(self, owner: Hashable | None) -> _Ticket:
        """The owner's kept place if it left one, else a new place at the back (lock held)."""
        self._present()  # drops the expired places first
        for ticket in self._queue:
            if owner is not None and ticket.owner == owner and ticket.left_at is not None:
                ticket.left_at = None
                return ticket
        ticket = _Ticket(owner)
        self._queue.append(ticket)
        return ticket

    def _leave(self, ticket: _Ticket) -> None:
        """A waiter stops waiting (lock held): an owner's place is kept a while, else dropped."""
        if ticket not in self._queue:
            return
        if ticket.owner is None:
            self._queue.remove(ticket)
        else:
            ticket.left_at = time.monotonic()
        self._changed.notify_all()  # whoever is behind it may go now

    def _take_if_first(self, ticket: _Ticket) -> int | None:
        """Take a slot for ``ticket`` if it is first of those in line and one is free (lock
        held); else return how many are ahead of it."""
        present = self._present()
        if self._in_use < self.limit and present[0] is ticket:
            self._queue.remove(ticket)
            self._in_use += 1
            self._changed.notify_all()  # the next in line may be able to go too
            return None
        return present.index(ticket)

    @contextmanager
    def slot(
        self,
        wait: Callable[[int], None] = lambda ahead: None,
        interval: float = 0.25,
        owner: Hashable | None = None,
    ) -> Iterator[None]:
        """Hold one slot for the duration of the ``with`` block (``owner``: see the module
        docstring)."""
        with self._changed:
            ticket = self._join(owner)
        try:
            with self._changed:
                ahead = self._take_if_first(ticket)
            while ahead is not None:
                wait(ahead)  # outside the lock: it may show the caller's progress, or raise
                with self._changed:
                    ahead = self._take_if_first(ticket)
                    if ahead is not None:
                        self._changed.wait(timeout=interval)
                        ahead = self._take_if_first(ticket)
        except BaseException:
            with self._changed:
                self._leave(ticket)
            raise
        try:
            yield
        finally:
            self._give_back()

    @contextmanager
    def spare_slot(self) -> Iterator[bool]:
        """Hold a slot for the ``with`` block if one is free and no dream waits for one;
        yields True then, else False (nothing taken, nothing queued)."""
        with self._changed:
            taken = self._in_use < self.limit and not self._present()
            if taken:
                self._in_use += 1
        try:
            yield taken
        finally:
            if taken:
                self._give_back()

    def _give_back(self) -> None:
        """Return a slot; when none is held or asked for, release the dreams' freed memory
        once that has lasted ``IDLE_RELEASE_SECONDS``."""
        with self._changed:
            self._in_use -= 1
            self._given_back += 1
            idle, spell = self._idle(), self._given_back
            self._changed.notify_all()
        if idle:
            timer = threading.Timer(IDLE_RELEASE_SECONDS, self._release_if_still_idle, [spell])
            timer.daemon = True
            timer.start()

    def _idle(self) -> bool:
        return self._in_use == 0 and not self._present()

    def _release_if_still_idle(self, spell: int) -> None:
        with self._changed:
            # Still idle, and no slot given back since: no dream ran in between.
            still = self._idle() and self._given_back == spell
        if still:
            release_freed_memory()


@functools.lru_cache(maxsize=1)
def shared_slots() -> DreamSlots:
    """The process-wide slots every session of a server shares, sized for this machine."""
    from ..models.runtime import gpu_count

    return DreamSlots(default_limit(gpus=gpu_count()))
