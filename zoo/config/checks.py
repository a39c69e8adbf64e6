"""What a setting allows: the checks that :mod:`zoo.config`'s fields carry.

Each field carries one check in its metadata (:func:`setting`). A check
validates a Python value (from code or a JSON config file) and parses a
command-line string; the CLI takes its flag type, choices and help from it.
A bad value is one :class:`~zoo.errors.ConfigError` line naming the setting.

Example:

>>> Integer(minimum=1)("epochs", 0)
Traceback (most recent call last):
...
zoo.errors.ConfigError: `epochs` must be an integer >= 1, got 0
"""

import dataclasses
import math
import numbers
import re
from dataclasses import field

from zoo.errors import ConfigError


class Check:
    optional = False

    def __call__(self, name, value):
        if type(value).__module__ == "numpy" and hasattr(value, "item") and getattr(value, "ndim", None) == 0:
            # A NumPy scalar (a GridSearchCV grid of np.arange, a DataFrame cell) as the Python value it holds:
            # kept as given, json.dumps wrote np.int64(0) as the string "0", which loading then refused.
            value = value.item()
        if value is None and self.optional:
            return None
        return self.check(name, value)

    def check(self, name, value):
        raise NotImplementedError

    def parse(self, text):
        """A command-line string as a value of this setting (``none`` is None where allowed)."""
        if self.optional and text.lower() in ("none", "null"):
            return None
        return self.convert(text)

    def convert(self, text):
        return text

    def choices(self):
        return None


SEED_RANGE = (0, 2 ** 32 - 1)  # what NumPy's and scikit-learn's random states take; TensorFlow's take it too


class Integer(Check):
    def __init__(self, minimum=None, optional=False, maximum=None):
        self.minimum, self.optional, self.maximum = minimum, optional, maximum

    def check(self, name, value):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or (
                self.minimum is not None and value < self.minimum) or (
                self.maximum is not None and value > self.maximum):
            bound = f" >= {self.minimum}" if self.minimum is not None else ""
            if self.maximum is not None:
                bound = f" in [{self.minimum}, {self.maximum}]" if self.minimum is not None else f" <= {self.maximum}"
            none = " or None" if self.optional else ""
            raise ConfigError(name, f"`{name}` must be an integer{bound}{none}, got {value!r}")
        return int(value)

    def convert(self, text):
        try:
            return int(text)
        except ValueError:
            return text  # the check names the setting and the bad value


class Number(Check):
    """A finite number in an interval: ``low`` and ``high`` are open or closed bounds (None: unbounded)."""

    def __init__(self, low=None, high=None, low_open=False, high_open=True, optional=False):
        self.low, self.high, self.low_open, self.high_open, self.optional = low, high, low_open, high_open, optional

    def _describe(self):
        if self.low is not None and self.high is not None:
            return f"in {'(' if self.low_open else '['}{self.low:g}, {self.high:g}{')' if self.high_open else ']'}"
        if self.low is not None:
            return f"{'>' if self.low_open else '>='} {self.low:g}"
        return "finite"

    def check(self, name, value):
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
        if ok and self.low is not None:
            ok = value > self.low if self.low_open else value >= self.low
        if ok and self.high is not None:
            ok = value < self.high if self.high_open else value <= self.high
        if not ok:
            none = " or None" if self.optional else ""
            raise ConfigError(name, f"`{name}` must be a number {self._describe()}{none}, got {value!r}")
        return float(value)

    def convert(self, text):
        try:
            return float(text)
        except ValueError:
            return text


class Choice(Check):
    """One of a list of values; ``values`` may be a function, so the list is the library's own constant."""

    def __init__(self, values, optional=False):
        self._values, self.optional = values, optional

    def choices(self):
        return list(self._values() if callable(self._values) else self._values)

    def convert(self, text):
        return next((value for value in self.choices() if str(value) == text), text)

    def check(self, name, value):
        allowed = self.choices()
        if value not in allowed:
            none = " or None" if self.optional else ""
            raise ConfigError(name, f"`{name}` must be one of {', '.join(map(repr, allowed))}{none}; got {value!r}")
        return value


class Flag(Check):
    def __init__(self, optional=False):
        self.optional = optional

    def check(self, name, value):
        if not isinstance(value, bool):
            none = " or None" if self.optional else ""
            raise ConfigError(name, f"`{name}` must be true or false{none}, got {value!r}")
        return value


class Text(Check):
    def __init__(self, optional=False):
        self.optional = optional

    def check(self, name, value):
        if not isinstance(value, str) or not value:
            raise ConfigError(name, f"`{name}` must be a non-empty string{' or None' if self.optional else ''}, "
                                    f"got {value!r}")
        return value


_PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d+)?|100)$")


class SequenceLength(Check):
    """Tokens per text: an integer >= 1, or ``"pNN"``, the NN-th percentile of the training lengths."""

    def __init__(self, optional=False):
        self.optional = optional

    def check(self, name, value):
        if isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 1:
            return int(value)
        if isinstance(value, str) and _PERCENTILE.match(value):
            return value
        raise ConfigError(name, f"`{name}` must be an integer >= 1 or 'pNN' (a percentile of the training "
                                f"lengths, such as 'p95'), got {value!r}")

    def convert(self, text):
        return int(text) if text.isdigit() else text


class Init(Check):
    """How the model starts: word vectors (a name among ``vector_names``, a file or ``gensim:NAME``),
    ``lm:ARTIFACT``, ``model:RUN_DIR``, or ``none``."""

    def __init__(self, vector_names=(), optional=False):
        self.optional = optional
        self.vector_names = tuple(vector_names)

    def check(self, name, value):
        if value is None:
            return "none"
        if not isinstance(value, str) or not value.strip() or value in ("lm:", "model:"):
            raise ConfigError(name, f"`{name}` must be word vectors ({', '.join(self.vector_names)}, a vectors file or "
                                    f"gensim:NAME), "
                                    f"'lm:ARTIFACT' (a pretrained language model), 'model:RUN_DIR' (a classifier "
                                    f"zoo trained) or 'none', got {value!r}")
        return value


def setting(default, check, help, *, group=None, per_init=None):
    """A dataclass field with its check and help text (read by validation and by the CLI).

    ``group``: the concern it belongs to (the command line's help shows the
    fields by group). ``per_init``: for a default of None that depends on how
    the model starts, its value by way (``{"vectors": ..., "lm": ...}``;
    :func:`zoo.config.resolve_init_defaults`).
    """
    metadata = {"check": check, "help": help}
    if group is not None:
        metadata["group"] = group
    if per_init is not None:
        metadata["per_init"] = dict(per_init)
    return field(default=default, metadata=metadata)


def validate_fields(config):
    """Checks (and normalises) each field of the dataclass ``config`` that carries a check."""
    for f in dataclasses.fields(config):
        check = f.metadata.get("check")
        if check is not None:
            object.__setattr__(config, f.name, check(f.name, getattr(config, f.name)))
