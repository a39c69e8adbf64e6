"""Forecast baselines and error metrics, on the same windows as the model.

Every baseline reads a window ``x`` (``(n, window)``, original units) and
returns forecasts ``(n, horizon)``:

* :func:`last_value`: the naive forecast, the window's last value for every
  step ahead;
* :func:`seasonal_naive`: the value one season before each target (it must
  lie in the window: ``window >= season``, ``horizon <= season``);
* :func:`fit_linear_ar`: a linear autoregressive model, ridge regression of
  the targets on the window's lags, fitted on the train windows only.

:func:`forecast_metrics` gives MAE, RMSE and MAPE (in percent) with
scikit-learn's metrics, over every step of every window.

Example:

>>> x = np.array([[1.0, 2.0, 3.0, 4.0]])
>>> last_value(x, horizon=2).tolist(), seasonal_naive(x, season=2, horizon=2).tolist()
([[4.0, 4.0]], [[3.0, 4.0]])
>>> forecast_metrics([[2.0, 4.0]], [[1.0, 5.0]])
{'mae': 1.0, 'rmse': 1.0, 'mape': 37.5}
"""

import numpy as np

from zoo.errors import ConfigError


def last_value(x, horizon=1):
    """The naive forecast: the window's last value, repeated for each of ``horizon`` steps."""
    x = np.asarray(x, dtype="float64")
    return np.repeat(x[:, -1:], horizon, axis=1)


def seasonal_naive(x, season, horizon=1):
    """The seasonal naive forecast: for the target ``k`` steps after the window, the value ``season`` steps before it.

    Example:

    >>> seasonal_naive([[10.0, 20.0, 30.0]], season=3).tolist()
    [[10.0]]
    """
    x = np.asarray(x, dtype="float64")
    window = x.shape[1]
    if season is None or season < 1:
        raise ConfigError("season", f"`season` must be an integer >= 1, got {season!r}")
    if season > window or horizon > season:
        raise ConfigError("window", f"the seasonal naive forecast needs `window` >= season ({season}) and "
                                    f"`horizon` <= season; got window {window}, horizon {horizon}")
    return np.stack([x[:, window - season + k] for k in range(horizon)], axis=1)


class LinearAR:
    """A linear autoregressive forecaster (ridge regression on the lag window), see :func:`fit_linear_ar`."""

    def __init__(self, alpha=1e-3):
        self.alpha = alpha
        self.model = None

    def fit(self, x, y):
        from sklearn.linear_model import Ridge

        self.model = Ridge(alpha=self.alpha).fit(np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64"))
        return self

    def predict(self, x):
        out = self.model.predict(np.asarray(x, dtype="float64"))
        return out.reshape(len(out), -1)


def fit_linear_ar(x_train, y_train, alpha=1e-3):
    """Fits a :class:`LinearAR` on the train windows; the intercept and lag weights are least squares (ridge ``alpha``).

    Example:

    >>> x = np.array([[1.0, 2.0], [2.0, 3.0], [3.0, 4.0], [4.0, 5.0]])
    >>> ar = fit_linear_ar(x, x[:, 1:] + 1)  # y = x[-1] + 1
    >>> np.round(ar.predict([[7.0, 8.0]]), 2).tolist()
    [[9.0]]
    """
    return LinearAR(alpha).fit(x_train, y_train)


def forecast_metrics(y_true, y_pred):
    """MAE, RMSE (both in the series' units) and MAPE (percent), over every step of every window."""
    from sklearn.metrics import (
        mean_absolute_error,
        mean_absolute_percentage_error,
        root_mean_squared_error,
    )

    y_true = np.asarray(y_true, dtype="float64").ravel()
    y_pred = np.asarray(y_pred, dtype="float64").ravel()
    if y_true.shape != y_pred.shape or not len(y_true):
        raise ValueError(f"forecasts and truth differ in size or are empty: {y_pred.shape} vs {y_true.shape}")
    return {"mae": float(mean_absolute_error(y_true, y_pred)),
            "rmse": float(root_mean_squared_error(y_true, y_pred)),
            "mape": float(100 * mean_absolute_percentage_error(y_true, y_pred))}


def baseline_forecasts(x_train, y_train, x, season=None):
    """The baselines' forecasts for windows ``x``: ``{name: (n, horizon) array}``, the AR fitted on the train windows.

    Names: ``last_value``, ``seasonal_naive`` (only when a season is given
    and fits in the window) and ``linear_ar``.
    """
    horizon = np.asarray(y_train).shape[1]
    out = {"last_value": last_value(x, horizon)}
    if season and season <= np.asarray(x).shape[1] and horizon <= season:
        out["seasonal_naive"] = seasonal_naive(x, season, horizon)
    out["linear_ar"] = fit_linear_ar(x_train, y_train).predict(x)
    return out


def metrics_table(results, units="", methods=None):
    """A Markdown table of MAE/RMSE/MAPE, one row per method of ``results`` (``{method: metrics}``).

    Example:

    >>> print(metrics_table({"lstm": {"mae": 1.0, "rmse": 2.0, "mape": 0.5}}, "ppmv"))
    | method | MAE (ppmv) | RMSE (ppmv) | MAPE (%) |
    |---|---:|---:|---:|
    | LSTM | 1.000 | 2.000 | 0.500 |
    """
    labels = {"lstm": "LSTM", "last_value": "last value (naive)", "seasonal_naive": "seasonal naive",
              "linear_ar": "linear AR"}
    unit = f" ({units})" if units else ""
    lines = [f"| method | MAE{unit} | RMSE{unit} | MAPE (%) |", "|---|---:|---:|---:|"]
    for name in methods or results:
        if name in results:
            m = results[name]
            lines.append(f"| {labels.get(name, name)} | {m['mae']:.3f} | {m['rmse']:.3f} | {m['mape']:.3f} |")
    return "\n".join(lines)
