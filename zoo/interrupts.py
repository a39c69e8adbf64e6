"""Ctrl-C that is never lost during training.

Python raises ``KeyboardInterrupt`` wherever the main thread happens to be.
Inside a finalizer (a ``__del__`` or weakref callback: TensorFlow runs many
while it trains) the exception is printed as "Exception ignored in ..." and
dropped, and training goes on: a run given Ctrl-C went on to finish every
epoch (seen in CI, in ``tests/cli/test_user_files.py``). So the command line's
handler (:func:`watch`) raises as Python's does and also records the request,
and training checks it after every batch (:func:`callback`), so a dropped one is
raised again at the next step. (No TensorFlow here: every command enters
:func:`watch` before it starts TensorFlow, or without starting it at all.)
"""

import contextlib
import signal
import threading

_requested = False


def _on_sigint(signum, frame):
    global _requested
    _requested = True
    raise KeyboardInterrupt


@contextlib.contextmanager
def watch():
    """Installs the recording SIGINT handler for the body (main thread only; elsewhere a no-op)."""
    global _requested
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, _on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        _requested = False


def check():
    """Raises ``KeyboardInterrupt`` if Ctrl-C came under :func:`watch` (one that a finalizer may have dropped)."""
    if _requested:
        raise KeyboardInterrupt


def callback():
    """A Keras callback that calls :func:`check` after every training batch and epoch."""
    import keras

    class Check(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            check()

        def on_epoch_end(self, epoch, logs=None):
            check()

    return Check()
