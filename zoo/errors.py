"""Exceptions with one-line messages that name the file, the setting and the problem.

The command line catches :class:`ZooError` and prints its message on one line,
with no traceback. A :class:`ConfigError` names the setting it is about, as a
Python parameter (```epochs```); the command line shows the same message with
the flag (``--epochs``) instead (:meth:`ConfigError.for_cli`).

Example:

>>> error = ConfigError("epochs", "`epochs` must be an integer >= 1, got 0")
>>> error.for_cli()
'--epochs must be an integer >= 1, got 0'
"""


class ZooError(Exception):
    """Base class of zoo's user-facing errors."""


class DataError(ZooError, ValueError):
    """A dataset file or dataset name is missing, malformed or inconsistent."""


class VectorsError(ZooError, ValueError):
    """A word-vectors file is missing, malformed or inconsistent."""


class ExportError(ZooError):
    """An export or a run directory cannot be written (for example, one already exists)."""


class PretrainedError(ZooError, ValueError):
    """A pretrained artifact is unknown, incomplete, corrupted or incompatible."""


class SearchError(ZooError, ValueError):
    """A hyperparameter search cannot start or finish (bad search space, no validation split, ...)."""


class BackendError(ZooError, RuntimeError):
    """A TensorFlow-only feature (text pipeline, estimator, export, distribution) on another Keras backend."""


class Interrupted(ZooError):
    """Ctrl-C or SIGTERM: the command stops with one line (exit code 130, or 143 for SIGTERM), saying how to
    resume where that applies."""

    def __init__(self, message="interrupted", exit_code=130):
        super().__init__(message)
        self.exit_code = exit_code


class ConfigError(ZooError, ValueError):
    """A setting is out of range or inconsistent (for example ``dropout=1.5``).

    Args:
        parameter: the setting's Python name (``"dropout"``), or None when the
            problem is not one setting's.
        message: the whole message; it names the parameter as ```dropout```.
    """

    def __init__(self, parameter, message=None):
        if message is None:  # ConfigError("message") with no parameter
            parameter, message = None, parameter
        super().__init__(message)
        self.parameter = parameter

    def for_cli(self):
        """The message with every ```name``` of a setting written as its flag ``--name``."""
        import re

        return re.sub(r"`([a-z][a-z0-9_]*)`", lambda m: "--" + m.group(1).replace("_", "-"), str(self))
