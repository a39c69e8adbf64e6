"""Numeric time series for forecasting: loading, windows, a chronological split and train-only scaling.

* :func:`load_series`: a real series that installs offline (statsmodels
  ships it), missing values filled by linear interpolation;
* :func:`windows`: ``window`` consecutive values in, the next ``horizon``
  values out;
* :func:`chronological_split`: train, then validation, then test, in time
  order (nothing is shuffled across the boundaries), and
  :func:`split_windows`, which cuts windows inside each part only, so no
  window reads or predicts a value of another part;
* :class:`Scaler`: a centre and scale fitted on the train part only.

Example:

>>> values = np.arange(10.0)
>>> x, y = windows(values, window=3, horizon=2)
>>> x[0].tolist(), y[0].tolist(), len(x)
([0.0, 1.0, 2.0], [3.0, 4.0], 6)
>>> chronological_split(10, valid_fraction=0.2, test_fraction=0.2)
(slice(0, 6, None), slice(6, 8, None), slice(8, 10, None))
"""

import dataclasses

import numpy as np

from zoo.errors import ConfigError, DataError
from zoo.log import logger

# name -> how to load it. Each is a series statsmodels installs with itself (no download).
SERIES = {
    "co2": {
        "module": "co2", "column": "co2", "season": 52, "frequency": "weekly", "units": "ppmv",
        "description": "Atmospheric CO2 from continuous air samples at Mauna Loa Observatory, Hawaii, "
                       "weekly averages, March 1958 - December 2001 (statsmodels.datasets.co2; "
                       "Keeling and Whorf 2004, Carbon Dioxide Information Analysis Center; public domain)",
    },
}


@dataclasses.dataclass(frozen=True)
class Series:
    """A loaded series.

    Attributes:
        name: its name in :data:`SERIES`.
        values: float64 values, in time order, no missing values.
        dates: ``datetime64[D]`` date of each value.
        season: the season's length in steps (None: no season).
        units: the values' units.
        filled: how many missing values were filled by interpolation.
        description: what it is and where it comes from.
    """

    name: str
    values: np.ndarray
    dates: np.ndarray
    season: int = None
    units: str = ""
    filled: int = 0
    description: str = ""


def load_series(name, max_points=None):
    """Loads a series of :data:`SERIES` by name; missing values are filled by linear interpolation in time.

    Args:
        name: a key of :data:`SERIES` (``co2``).
        max_points: keep only the first this many values (tiny test runs).

    Raises:
        DataError: an unknown name, or statsmodels is not installed.
    """
    if name not in SERIES:
        raise DataError(f"unknown series {name!r}; known: {', '.join(SERIES)}")
    spec = SERIES[name]
    try:
        import importlib

        module = importlib.import_module(f"statsmodels.datasets.{spec['module']}")
    except ImportError:
        raise DataError(f"series {name!r} comes with statsmodels, which is not installed "
                        "(pip install statsmodels)") from None
    frame = module.load_pandas().data
    column = frame[spec["column"]].astype("float64")
    missing = column.isna().to_numpy()
    if missing.any():
        column = column.interpolate(method="time", limit_direction="both")
    values = column.to_numpy()
    dates = np.asarray(frame.index.values, dtype="datetime64[D]")
    if max_points:
        values, dates, missing = values[:max_points], dates[:max_points], missing[:max_points]
    filled = int(missing.sum())
    logger.info(f"series {name}: {len(values)} {spec['frequency']} values, {dates[0]} to {dates[-1]}"
                + (f"; {filled} missing values filled by linear interpolation" if filled else ""))
    return Series(name, values, dates, spec["season"], spec["units"], filled, spec["description"])


def windows(values, window, horizon=1):
    """Every run of ``window`` consecutive values (inputs) with the ``horizon`` values after it (targets).

    Window ``i`` reads ``values[i:i + window]`` and predicts
    ``values[i + window:i + window + horizon]``.

    Returns:
        ``(x, y)``: float arrays of shapes ``(n, window)`` and ``(n, horizon)``,
        ``n = len(values) - window - horizon + 1`` (0 when too short).

    Example:

    >>> x, y = windows([1, 2, 3, 4], window=2)
    >>> x.tolist(), y.tolist()
    ([[1.0, 2.0], [2.0, 3.0]], [[3.0], [4.0]])
    """
    for param, value in (("window", window), ("horizon", horizon)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ConfigError(param, f"`{param}` must be an integer >= 1, got {value!r}")
    values = np.asarray(values, dtype="float64")
    n = len(values) - window - horizon + 1
    if n <= 0:
        return np.zeros((0, window)), np.zeros((0, horizon))
    span = np.lib.stride_tricks.sliding_window_view(values, window + horizon)[:n]
    return span[:, :window].copy(), span[:, window:].copy()


def chronological_split(n, valid_fraction=0.15, test_fraction=0.15):
    """Train, validation and test ``slice`` objects over ``n`` time steps, in that order.

    The validation and test parts are the last ``valid_fraction`` and
    ``test_fraction`` of the steps (rounded to whole steps, test last).

    Example:

    >>> chronological_split(100)
    (slice(0, 70, None), slice(70, 85, None), slice(85, 100, None))
    """
    for param, value in (("valid_fraction", valid_fraction), ("test_fraction", test_fraction)):
        if not 0 < value < 1:
            raise ConfigError(param, f"`{param}` must be between 0 and 1 (exclusive), got {value!r}")
    if valid_fraction + test_fraction >= 1:
        raise ConfigError("valid_fraction", f"`valid_fraction` + `test_fraction` must be below 1, got "
                                            f"{valid_fraction} + {test_fraction}")
    n_test = int(round(n * test_fraction))
    n_valid = int(round(n * valid_fraction))
    train_end = n - n_test - n_valid
    return slice(0, train_end), slice(train_end, n - n_test), slice(n - n_test, n)


def split_windows(values, parts, window, horizon=1):
    """Windows cut inside each part of :func:`chronological_split` only: no window crosses a boundary.

    Returns:
        A list, one per part, of ``(x, y, target_index)``: the windows and
        the position in ``values`` of each window's first target.

    Raises:
        DataError: a part too short for even one window.

    Example:

    >>> parts = chronological_split(20, 0.25, 0.25)
    >>> [(len(x), int(t[0])) for x, _, t in split_windows(np.arange(20.0), parts, window=3)]
    [(7, 3), (2, 13), (2, 18)]
    """
    out = []
    names = ("train", "validation", "test")
    for name, part in zip(names, parts):
        x, y = windows(np.asarray(values)[part], window, horizon)
        if not len(x):
            size = part.stop - part.start
            raise DataError(f"the {name} part has {size} values, too few for one window of {window} inputs and "
                            f"{horizon} targets; use a longer series, a shorter `window` or a larger fraction")
        out.append((x, y, part.start + window + np.arange(len(x))))
    return out


@dataclasses.dataclass(frozen=True)
class Scaler:
    """``(v - center) / scale`` and back."""

    center: float
    scale: float

    def transform(self, values):
        return (np.asarray(values, dtype="float64") - self.center) / self.scale

    def inverse(self, values):
        return np.asarray(values, dtype="float64") * self.scale + self.center


def fit_scaler(train_values):
    """A :class:`Scaler` with the mean and standard deviation of ``train_values`` (the train part only).

    Example:

    >>> fit_scaler([1.0, 3.0])
    Scaler(center=2.0, scale=1.0)
    """
    train_values = np.asarray(train_values, dtype="float64")
    if not len(train_values) or not np.all(np.isfinite(train_values)):
        raise DataError("the train part is empty or has missing values: cannot fit a scaler")
    scale = float(train_values.std())
    return Scaler(float(train_values.mean()), scale if scale > 0 else 1.0)


def make_dataset(x, y, batch_size, shuffle=False, seed=0):
    """A ``tf.data`` dataset of ``(x[..., None], y)`` float32 batches; ``shuffle`` reshuffles every pass (seeded).

    Shuffling mixes windows of one part only (the train part's); the split
    itself stays chronological.
    """
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((np.asarray(x, "float32")[..., None], np.asarray(y, "float32")))
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size)
