"""Ctrl-C under the command line's handler is recorded as well as raised: one that a finalizer dropped is raised
again after the next training batch (zoo.interrupts)."""

import signal

import pytest

from zoo import interrupts


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the drop below is the point
def test_a_ctrl_c_that_a_finalizer_dropped_is_raised_again_after_the_next_batch():
    class Finalizer:
        def __del__(self):
            interrupts._on_sigint(signal.SIGINT, None)  # as if Ctrl-C came while Python ran this __del__

    check = interrupts.callback()
    before = signal.getsignal(signal.SIGINT)
    with interrupts.watch():
        assert signal.getsignal(signal.SIGINT) is interrupts._on_sigint
        check.on_train_batch_end(0)  # nothing asked for: training goes on
        Finalizer()  # its KeyboardInterrupt is printed as "Exception ignored" and dropped: Python's rule
        with pytest.raises(KeyboardInterrupt):
            check.on_train_batch_end(1)
    assert signal.getsignal(signal.SIGINT) is before
    interrupts.check()  # leaving watch() forgets the request
