"""The dreaming network behind the page, and the notice when the offline model stands in.

Contract:
- ``load_dream_model(name)`` returns ``(model, notice)`` for the precision chosen in the
  sidebar, from the engine's bounded, thread-safe model cache (``deepdream.shared_model``):
  each network is built once per server process, even when several users arrive at once.
  Raises ``WeightsUnavailableError`` when weights the user named cannot be used.
- ``inception_status()`` says what asking for InceptionV3 really gives.
- ``first_use_ui()`` shows the first load's fetch and import of Google's InceptionV3 as it
  goes (``deepdream.models.weights.google_inception``), when that is what the warm-up is doing.
- ``start_warm_up()`` (once per server process) loads the served network and traces the
  default preset's step in a background thread, so the first visitor's first dream does not
  pay for tracing: see ``deepdream.render.warm_up``. The warm-up holds a dream slot like a dream, so
  a dream asked for meanwhile queues behind it (first come, first served) instead of sharing
  the cores with it, and the warm-up gives way to it as soon as the step is traced.
  Afterwards it freezes the start-up objects (``deepdream_studio/process.py``).
  ``warming_up()`` says whether it is still running, so the waiting page can say why.
  Failures there are logged, never shown: the dream itself will say what is wrong.
- ``prepare_photo_sizes(shape, config)`` does the same for the sizes a photo of ``shape``
  dreams at, while its user looks at it: a dream's first run at new sizes makes their
  kernels (0.3-0.5 s of a 1.2-1.7 s dream here), so the click need not. It runs in a
  background thread only when a dream slot is spare (free, and nobody queues), builds the
  chosen model there if no dream has yet, gives way after a step as soon as a dream asks for
  a slot, and asks for each model, layer choice and size once (a model that cannot be had
  is not built again and again).
(``notice.py`` says on the page which model stands in; it reads this module and
``backend.py``, which reads this one: no module here imports one that imports it back.)
"""

from __future__ import annotations

import collections
import logging
import os
import threading
import time

import streamlit as st

from deepdream import DreamConfig, WeightsUnavailableError
from deepdream.config import INCEPTION_V3
from deepdream.models.loading import shared_model
from deepdream.models.precision import resolve_precision
from deepdream.models.weights.sources import OFFLINE_ENV, WEIGHTS_ENV


def chosen_precision() -> str:
    """The precision chosen in the sidebar, "auto" resolved for this machine."""
    return resolve_precision(st.session_state.get("precision", "auto"))


@st.cache_resource(show_spinner="Loading the dreaming network (first time only)...", max_entries=4)
def _cached_model(name: str, precision: str, environment: tuple[str, ...]):
    # The environment is part of the key: a server restarted with other weights, or a test
    # that names another file, must not be served the model built for the old ones. A file
    # that cannot be used is remembered too: every part of the page asks for the model, and
    # building the network anew only to fail again took seconds each time.
    try:
        return shared_model(name, precision=precision)
    except WeightsUnavailableError as error:
        return error


def _weights_environment() -> tuple[str, ...]:
    """What decides which weights are served: the named file, offline mode, Keras's cache."""
    return tuple(os.environ.get(name, "") for name in (WEIGHTS_ENV, OFFLINE_ENV, "KERAS_HOME"))


def load_dream_model(name: str):
    """``(model, notice)`` for ``name`` at the chosen precision (built once per process)."""
    outcome = _cached_model(name, chosen_precision(), _weights_environment())
    if isinstance(outcome, WeightsUnavailableError):
        raise outcome
    return outcome


#: The background warm-up's thread name (``warming_up`` looks for it).
WARM_UP_THREAD = "deepdream-warm-up"


def warm_up_in_slot(precision: str) -> float:
    """Warm the default dream up for the served InceptionV3 (or its stand-in) at
    ``precision``, inside one of this server's dream slots; returns the seconds it took."""
    from deepdream import DEFAULT_PRESET, PRESETS
    from deepdream.render import warm_up
    from deepdream.serving.slots import shared_slots

    # In a slot: a dream asked for meanwhile waits its turn rather than halving the speed of
    # both (and, with the step traced by then, runs like any later dream).
    slots = shared_slots()
    with slots.slot():
        # The engine's shared cache: the very model the page's _cached_model hands out.
        model, _ = shared_model(INCEPTION_V3, precision=precision)
        config = PRESETS[DEFAULT_PRESET].with_model(model.name)
        # Once the step is traced, a dream queued behind the warm-up goes first.
        return warm_up(model, config, give_way=lambda: slots.waiting > 0)


@st.cache_resource(show_spinner=False)
def _warm_up_thread(precision: str, environment: tuple[str, ...]) -> threading.Thread:
    def work() -> None:
        from .process import freeze_start_up_objects

        try:
            seconds = warm_up_in_slot(precision)
            frozen = freeze_start_up_objects()  # Streamlit's collection after each run is cheap
            logging.getLogger("deepdream.app").info(
                "warmed up in %.1f s; %d start-up objects frozen", seconds, frozen
            )
        except Exception:  # the user's own dream reports any real problem
            logging.getLogger("deepdream.app").exception("warm-up failed")

    thread = threading.Thread(target=work, name=WARM_UP_THREAD, daemon=True)
    thread.start()
    return thread


def warming_up() -> bool:
    """Whether the background warm-up is still running (it then holds a dream slot)."""
    return any(thread.name == WARM_UP_THREAD for thread in threading.enumerate())


def start_warm_up() -> threading.Thread:
    """Start (once per server and precision) the background warm-up; returns its thread."""
    return _warm_up_thread(chosen_precision(), _weights_environment())


#: The thread that prepares a photo's sizes (``prepare_photo_sizes``).
PREPARE_THREAD = "deepdream-prepare-sizes"
#: How many preparations are remembered (model, layers, precision and sizes each): done, or
#: found to have nothing to do (the model stood in for, or not to be had).
PREPARED_KEPT = 64
_prepared: collections.OrderedDict[tuple, None] = collections.OrderedDict()
_prepare_lock = threading.Lock()
_holding_slot = threading.Event()  # set while a preparation holds a dream slot


def preparation_holds_slot() -> bool:
    """Whether a photo's preparation holds a dream slot right now (it gives it back within a
    step once a dream asks)."""
    return _holding_slot.is_set()


def preparation_key(shape: tuple[int, int], config: DreamConfig, precision: str) -> tuple:
    """What one preparation makes ready: the traced step (model, precision, layers, objective)
    and the kernels of the working size (the octaves follow from it, the tiles and octave
    count)."""
    from deepdream.octaves import working_shape

    return (
        config.model,
        precision,
        config.dreamed_layers,
        config.matched_layer,
        config.normalize,
        working_shape(shape, config.max_side),
        config.octaves,
        config.octave_scale,
        config.tile_size,
    )


def remember_prepared(shape: tuple[int, int], config: DreamConfig) -> None:
    """Note that a dream of a ``shape`` photo under ``config`` ran in this process at the
    chosen precision: its sizes need no preparation any more."""
    _remember(preparation_key(shape, config, chosen_precision()))


def _remember(key: tuple) -> None:
    with _prepare_lock:
        _prepared[key] = None
        _prepared.move_to_end(key)
        while len(_prepared) > PREPARED_KEPT:
            _prepared.popitem(last=False)


def prepare_photo_sizes(shape: tuple[int, int], config: DreamConfig) -> threading.Thread | None:
    """Prepare, in the background, what a dream of a ``shape`` photo under ``config`` needs
    (see the module docstring); returns the thread started, or None (already prepared,
    another preparation running, or the page dreams on a cluster). Asked during the start-up
    warm-up, it starts once that is over."""
    from deepdream.cluster import cluster_address

    if cluster_address() is not None or config.visualises:
        return None
    precision = chosen_precision()
    key = preparation_key(shape, config, precision)
    with _prepare_lock:
        running = any(thread.name == PREPARE_THREAD for thread in threading.enumerate())
        if running or key in _prepared:
            return None
        thread = threading.Thread(
            target=_prepare, args=(key, shape, config, precision), name=PREPARE_THREAD, daemon=True
        )
        thread.start()
    return thread


def _prepare(key: tuple, shape: tuple[int, int], config: DreamConfig, precision: str) -> None:
    from deepdream.octaves import working_shape
    from deepdream.render import warm_up
    from deepdream.serving.slots import shared_slots

    try:
        for thread in threading.enumerate():
            if thread.name == WARM_UP_THREAD:
                thread.join()  # the start-up warm-up first: it loads the model and traces
        slots = shared_slots()
        given_way = threading.Event()

        def give_way() -> bool:
            # A dream waits for the slot, or took another one (a server with several): it
            # must not share the cores with this.
            if slots.waiting or slots.in_use > 1:
                given_way.set()
            return given_way.is_set()

        with slots.spare_slot() as spare:
            if not spare:
                return  # a dream runs or waits: it comes first; the next rerun asks again
            _holding_slot.set()
            try:
                _remember(key)  # asked once: a model that cannot be had is not built again
                # Built once and shared: a model the user chose but has not dreamed with yet
                # is built now, while they look, and their click finds it ready.
                model, _ = shared_model(config.model, precision=precision)
                if model.name != config.model:
                    return  # a stand-in serves this model: its own dreams prepare it
                seconds = warm_up(model, config, working_shape(shape, config.max_side), give_way)
            finally:
                _holding_slot.clear()
        if given_way.is_set():
            with _prepare_lock:
                _prepared.pop(key, None)  # not done: asked again on a later rerun
        else:
            logging.getLogger("deepdream.app").info("prepared %s in %.1f s", key[5], seconds)
    except Exception:  # the user's own dream reports any real problem
        logging.getLogger("deepdream.app").exception("preparing a photo's sizes failed")


def first_use_ui() -> None:
    """While this server's first load fetches and imports Google's InceptionV3 (in the warm-up
    thread, where Keras's own file cannot be had), show what it is doing and how long it
    takes, instead of a still spinner; return when that is over."""
    from deepdream.models.weights import google_inception

    status, line, said = None, None, None
    while warming_up() and google_inception.first_use_pending():
        message = google_inception.activity()
        if message and status is None:
            title = f"Getting {google_inception.TITLE} for this server (first use only)"
            status = st.status(title, expanded=True)
            line = status.empty()  # one line: what it is doing now, and for how long
        if message and message != said:
            line.write(message)
            said = message
        time.sleep(0.5)
    if status is not None:
        status.update(label=f"{google_inception.TITLE} is ready", state="complete")


def inception_status() -> tuple[str | None, str | None]:
    """The network that asking for InceptionV3 really gives (None: none at all), and the
    message explaining why when it is not InceptionV3."""
    try:
        model, notice = load_dream_model(INCEPTION_V3)
    except WeightsUnavailableError as error:  # named weights broken, or no offline model
        return None, str(error)
    return model.name, notice
