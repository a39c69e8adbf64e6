"""An LSTM regressor for numeric windows (time-series forecasting).

The text factories start from an ``Embedding`` over token ids; a numeric
series needs its own input. The layer names keep zoo's contract, so
:mod:`zoo.training.freezing` and :func:`zoo.training.stages.run_stages`
treat it like any zoo model:

==========================  ==================================================
``series``                  the input, ``(batch, window, features)`` floats
``encoder_1..N``            the LSTM layers (all but the last return sequences)
``encoder_k_dropout``       dropout after encoder ``k`` (when ``dropout > 0``)
``head``                    ``Dense(horizon)``, linear, always float32
==========================  ==================================================

A linear head compiles (:func:`zoo.training.optimizers.compile_model`) with
mean squared error and mean absolute error. Only Keras layers are used, so
the model saves to ``.keras`` and loads back with no custom objects.

Example:

>>> model = build_lstm_regressor(window=12, units=4, horizon=2)
>>> model.output_shape, [layer.name for layer in model.layers]
((None, 2), ['series', 'encoder_1', 'head'])
"""

from zoo.errors import ConfigError
from zoo.training.optimizers import compile_model


def _check(name, value, low, integer=True, below=None):
    bad = isinstance(value, bool) or (integer and not isinstance(value, int)) or \
        (not integer and not isinstance(value, (int, float)))
    if bad or value < low or (below is not None and value >= below):
        kind = "an integer" if integer else "a number"
        limit = f">= {low}" + (f" and < {below}" if below is not None else "")
        raise ConfigError(name, f"`{name}` must be {kind} {limit}, got {value!r}")


def build_lstm_regressor(window, features=1, units=32, num_layers=1, dropout=0.0, horizon=1, compile=True,
                         learning_rate=1e-3):
    """An LSTM over ``window`` steps of ``features`` values that predicts the next ``horizon`` values.

    Args:
        window: input steps (None: any length).
        features: values per step.
        units: LSTM units per layer.
        num_layers: stacked LSTM layers.
        dropout: dropout after each LSTM layer (0: none).
        horizon: values predicted (the head's width).
        compile: compile with Adam, mean squared error and MAE.
        learning_rate: the compiled optimizer's rate.
    """
    import keras

    if window is not None:
        _check("window", window, 1)
    _check("features", features, 1)
    _check("units", units, 1)
    _check("num_layers", num_layers, 1)
    _check("horizon", horizon, 1)
    _check("dropout", dropout, 0, integer=False, below=1)
    inputs = keras.Input(shape=(window, features), name="series")
    x = inputs
    for k in range(1, num_layers + 1):
        x = keras.layers.LSTM(units, return_sequences=k < num_layers, name=f"encoder_{k}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"encoder_{k}_dropout")(x)
    # float32 output whatever the dtype policy, so the loss is computed in float32.
    outputs = keras.layers.Dense(horizon, dtype="float32", name="head")(x)
    model = keras.Model(inputs, outputs, name="lstm_regressor")
    if compile:
        compile_model(model, learning_rate=learning_rate)
    return model
