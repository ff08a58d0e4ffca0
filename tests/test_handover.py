import threading
import time

from deepdream_studio.handover import ResultHandover


def test_the_current_run_keeps_its_result_and_a_late_older_run_cannot_overwrite_it():
    handover = ResultHandover()
    old = handover.begin()
    new = handover.begin()  # the user pressed Generate again while the old run was stopping
    assert handover.keep(new, "new dream")
    assert not handover.keep(old, "stale partial dream")
    assert handover.result == "new dream"


def test_the_next_run_waits_for_a_stopping_run_to_hand_over():
    handover = ResultHandover()
    run = handover.begin()
    assert handover.busy

    def finish_the_step_then_keep() -> None:
        time.sleep(0.2)  # still inside a TensorFlow step when Stop was pressed
        handover.keep(run, "partial dream")
        run.settle()

    threading.Thread(target=finish_the_step_then_keep).start()
    assert handover.wait(timeout=10)
    assert handover.result == "partial dream" and not handover.busy


def test_a_run_that_fails_still_lets_the_next_one_go_on():
    handover = ResultHandover()
    run = handover.begin()
    try:
        raise RuntimeError("dream failed")
    except RuntimeError:
        pass
    finally:
        run.settle()
    assert handover.wait(timeout=0) and handover.result is None
    handover.keep(handover.begin(), "later dream")
    handover.clear()  # a new photo
    assert handover.result is None
