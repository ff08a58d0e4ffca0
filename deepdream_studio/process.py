"""What the server process keeps between the page's script runs (measured by the page
benchmark of issue 13, docs/speed.md; the costs below were found with py-spy on a running
server).

Contract:
- ``keep_keras_state()`` (once per server process; calling it again changes nothing) stops
  Streamlit from calling ``keras.backend.clear_session()`` after every script run. Streamlit
  does that for scripts that build a new Keras model on each run; this app builds its models
  once per process (``deepdream.models.loading.shared_model``) and keeps them, so for it
  the call only threw TensorFlow's kernel cache away (the next dream rebuilt it) and collected
  garbage: about a second and a half after every click. Streamlit's other clean-up (closing
  matplotlib figures) still runs. Returns whether the change is in place: where Streamlit's
  internals differ (another version), nothing is changed and it returns False.
- ``freeze_start_up_objects()`` collects garbage once, then moves every object alive now
  (TensorFlow, Keras, the models and traced steps: some 450,000 objects) out of the garbage
  collector's sight. Streamlit collects all generations after every script run; with these
  objects in view that took about 0.4 s a run, without them it takes microseconds. Called once
  the start-up warm-up is done. Frozen objects are still freed when no longer referenced;
  only reference cycles among them are never collected, a one-off cost bounded by what
  exists at start-up.
"""

from __future__ import annotations

import gc
import sys
from contextlib import suppress


def _close_matplotlib_figures() -> None:
    # The part of Streamlit's clean-up this app keeps: figures a run left open.
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        with suppress(Exception):
            pyplot.close("all")


def keep_keras_state() -> bool:
    """Stop Streamlit's per-run Keras reset; see the module docstring."""
    try:
        from streamlit.runtime.scriptrunner import script_runner
    except ImportError:
        return False
    if getattr(script_runner, "_clean_problem_modules", None) is None:
        return False
    # The script runner looks this module-level function up at the end of each run.
    script_runner._clean_problem_modules = _close_matplotlib_figures
    return True


def freeze_start_up_objects() -> int:
    """Collect garbage, then freeze what is left; returns how many objects were frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
