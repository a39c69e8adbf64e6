"""Exceptions with one-line messages that name the file and the problem.

Recipes and CLIs catch :class:`ZooError` and print its message (no traceback).
"""


class ZooError(Exception):
    """Base class of zoo's user-facing errors."""


class DataError(ZooError, ValueError):
    """A dataset file or dataset name is missing, malformed or inconsistent."""


class VectorsError(ZooError, ValueError):
    """A word-vectors file is missing, malformed or inconsistent."""


class ExportError(ZooError):
    """An export cannot be written (for example, one already exists)."""


class ConfigError(ZooError, ValueError):
    """A setting is out of range or inconsistent (for example ``dropout=1.5``)."""
