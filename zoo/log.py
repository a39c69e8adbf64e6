"""zoo's one logger, and how long work shows its progress.

Every message of the library goes through ``logging.getLogger("zoo")``. It
prints ``[zoo] message`` lines to stderr at level INFO out of the box, as
TensorFlow's and Hugging Face's loggers do, because long runs should say what
they are doing; quiet it with the standard API::

    import logging
    logging.getLogger("zoo").setLevel(logging.WARNING)

Progress: attached to a terminal, Keras' live progress bar (``verbose=1``)
for ``fit`` and the same bar for zoo's own loops; piped to a file, one line
per epoch (``verbose=2``) and no bar.

Example:

>>> fit_verbosity() in (1, 2)
True
"""

import logging
import sys

logger = logging.getLogger("zoo")


class _StderrHandler(logging.StreamHandler):
    """Writes to the current ``sys.stderr`` (which tests and notebooks may swap), not the one at import."""

    def __init__(self):
        super().__init__()
        self.setFormatter(logging.Formatter("[zoo] %(message)s"))

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):  # logging.StreamHandler.__init__ assigns it
        pass


if not logger.handlers:
    logger.addHandler(_StderrHandler())
    logger.setLevel(logging.INFO)
    logger.propagate = False


def interactive():
    """Whether Keras' progress output (stdout) goes to a terminal."""
    return bool(getattr(sys.stdout, "isatty", lambda: False)())


def fit_verbosity():
    """``verbose`` for ``model.fit``: 1 (live bar) on a terminal, 2 (a line per epoch) when piped."""
    return 1 if interactive() else 2


def progress_bar(total, unit="step"):
    """A ``keras.utils.Progbar`` on a terminal, else None (piped output gets no bar)."""
    if not interactive() or not total:
        return None
    import keras

    return keras.utils.Progbar(total, unit_name=unit)
