"""Ctrl-C (and SIGTERM) that is never lost during training.

Python raises ``KeyboardInterrupt`` wherever the main thread happens to be.
Inside a finalizer (a ``__del__`` or weakref callback: TensorFlow runs many
while it trains) the exception is printed as "Exception ignored in ..." and
dropped, and training goes on: a run given Ctrl-C went on to finish every
epoch (seen in CI, in ``tests/cli/test_user_files.py``). So the command line's
handler (:func:`watch`) raises as Python's does and also records the request,
and training checks it after every batch (:func:`callback`), so a dropped one is
raised again at the next step. (No TensorFlow here: every command enters
:func:`watch` before it starts TensorFlow, or without starting it at all.)

A request that a finalizer dropped after training's last check (while the
run is saved or reported) is raised when the command's body ends, so the
command still ends with its line and exit code, not 0; and under :func:`watch`
such a drop prints nothing (Python would print "Exception ignored in ..." and a
traceback: the request is recorded, so nothing is lost by staying quiet).

SIGTERM (``kill``, ``timeout``, a scheduler that preempts the job) is handled
the same way, as :class:`Terminated`: without a handler Python dies at once
with no message; with it the command ends with one line that says how to
resume, its output folder left whole, and exit code 143 (128 + SIGTERM).
"""

import contextlib
import signal
import sys
import threading

_requested = None  # the exception a signal under watch() asked for


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised as Ctrl-C is so that the same clean-up runs."""


def _on_sigint(signum, frame):
    global _requested
    _requested = KeyboardInterrupt
    raise KeyboardInterrupt


def _on_sigterm(signum, frame):
    global _requested
    _requested = Terminated
    raise Terminated


def describe(stop):
    """``(word, exit code)`` of a ``KeyboardInterrupt``: ``("terminated", 143)`` for SIGTERM, else
    ``("interrupted", 130)`` (128 + the signal, as a shell reports it)."""
    if isinstance(stop, Terminated):
        return "terminated", 128 + signal.SIGTERM
    return "interrupted", 128 + signal.SIGINT


@contextlib.contextmanager
def watch():
    """Installs the recording SIGINT and SIGTERM handlers for the body (main thread only; elsewhere a no-op)."""
    global _requested
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, _on_sigint), signal.signal(signal.SIGTERM, _on_sigterm)
    hook = sys.unraisablehook

    def quiet_when_recorded(unraisable):
        if not (isinstance(unraisable.exc_value, KeyboardInterrupt) and _requested is not None):
            hook(unraisable)

    sys.unraisablehook = quiet_when_recorded
    try:
        yield
        check()  # one a finalizer dropped after the last check: the command still ends as asked
    finally:
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])
        sys.unraisablehook = hook
        _requested = None


def check():
    """Raises ``KeyboardInterrupt`` (:class:`Terminated`) if Ctrl-C (SIGTERM) came under :func:`watch` and was
    not raised since (a finalizer may have dropped it); once."""
    global _requested
    if _requested is not None:
        requested, _requested = _requested, None
        raise requested


def callback():
    """A Keras callback that calls :func:`check` after every training batch and epoch."""
    import keras

    class Check(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            check()

        def on_epoch_end(self, epoch, logs=None):
            check()

    return Check()
