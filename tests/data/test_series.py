"""Loading, windowing, the chronological split and train-only scaling of zoo.data.series (tiny data)."""

import numpy as np
import pytest

from zoo.data.series import chronological_split, fit_scaler, load_series, split_windows, windows
from zoo.errors import ConfigError, DataError


def test_windows_shapes_and_values():
    x, y = windows(np.arange(10.0), window=4, horizon=2)
    assert x.shape == (5, 4) and y.shape == (5, 2)
    for i in range(5):
        assert x[i].tolist() == list(range(i, i + 4))
        assert y[i].tolist() == [i + 4, i + 5]


def test_windows_too_short_and_bad_sizes():
    x, y = windows(np.arange(3.0), window=3, horizon=1)
    assert x.shape == (0, 3) and y.shape == (0, 1)
    with pytest.raises(ConfigError, match="window"):
        windows(np.arange(5.0), window=0)
    with pytest.raises(ConfigError, match="horizon"):
        windows(np.arange(5.0), window=2, horizon=1.5)


def test_chronological_split_is_ordered_and_covers_everything():
    train, valid, test = chronological_split(103, 0.2, 0.1)
    assert (train.start, train.stop, valid.start, valid.stop, test.start, test.stop) == (0, 72, 72, 93, 93, 103)
    with pytest.raises(ConfigError, match="valid_fraction"):
        chronological_split(100, 0.6, 0.4)
    with pytest.raises(ConfigError, match="test_fraction"):
        chronological_split(100, 0.2, 0.0)


@pytest.mark.parametrize("window,horizon", [(3, 1), (5, 3), (1, 1)])
def test_no_window_crosses_a_split_boundary(window, horizon):
    values = np.arange(60.0)  # each value is its own position
    parts = chronological_split(len(values), 0.2, 0.2)
    for part, (x, y, targets) in zip(parts, split_windows(values, parts, window, horizon)):
        read = np.concatenate([x, y], axis=1)
        assert read.min() >= part.start and read.max() < part.stop
        np.testing.assert_array_equal(y[:, 0], targets)  # the first target's position
        assert len(x) == (part.stop - part.start) - window - horizon + 1


def test_a_part_too_short_is_a_data_error():
    parts = chronological_split(20, 0.1, 0.1)  # 2 values each in validation and test
    with pytest.raises(DataError, match="validation part has 2 values"):
        split_windows(np.arange(20.0), parts, window=3)


def test_scaler_is_fitted_on_the_train_part_only():
    values = np.concatenate([np.array([1.0, 3.0] * 10), np.full(10, 1000.0)])  # a jump after the train part
    train, _, _ = chronological_split(len(values), 0.2, 0.15)
    scaler = fit_scaler(values[train])
    assert (scaler.center, scaler.scale) == (2.0, 1.0)
    np.testing.assert_allclose(scaler.inverse(scaler.transform(values)), values)
    assert fit_scaler(np.full(4, 7.0)).scale == 1.0  # constant: no division by zero
    with pytest.raises(DataError):
        fit_scaler([1.0, np.nan])


def test_load_co2_fills_missing_values_in_time_order():
    series = load_series("co2")
    assert series.season == 52 and series.units == "ppmv" and len(series.values) == 2284
    assert series.filled == 59 and np.all(np.isfinite(series.values))
    assert np.all(np.diff(series.dates.astype("int64")) > 0)
    assert load_series("co2", max_points=30).values.shape == (30,)
    with pytest.raises(DataError, match="unknown series"):
        load_series("sunspots-typo")
