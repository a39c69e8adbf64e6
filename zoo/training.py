"""Compiling zoo models: optimizer by name, loss and metrics from the head."""

import keras

OPTIMIZERS = {
    "adam": lambda lr, **kw: keras.optimizers.Adam(learning_rate=lr, **kw),
    "adamw": lambda lr, **kw: keras.optimizers.AdamW(learning_rate=lr, **kw),
    "sgd": lambda lr, **kw: keras.optimizers.SGD(learning_rate=lr, momentum=0.9, nesterov=True, **kw),
    "rmsprop": lambda lr, **kw: keras.optimizers.RMSprop(learning_rate=lr, **kw),
    "adagrad": lambda lr, **kw: keras.optimizers.Adagrad(learning_rate=lr, **kw),
    "adadelta": lambda lr, **kw: keras.optimizers.Adadelta(learning_rate=lr, **kw),
}


def make_optimizer(name="adam", learning_rate=1e-3, clipnorm=None):
    """Returns a Keras optimizer by name.

    Args:
        name: one of ``adam``, ``adamw``, ``sgd`` (momentum 0.9, Nesterov),
            ``rmsprop``, ``adagrad``, ``adadelta``.
        learning_rate: a float or a ``keras.optimizers.schedules`` schedule.
        clipnorm: clip each gradient to this norm (None: no clipping).

    Example:

    >>> make_optimizer("sgd", 0.01, clipnorm=1.0).__class__.__name__
    'SGD'
    """
    key = str(name).lower()
    if key not in OPTIMIZERS:
        raise ValueError(f"`optimizer` must be one of {', '.join(OPTIMIZERS)}; got {name!r}")
    kwargs = {"clipnorm": clipnorm} if clipnorm else {}
    return OPTIMIZERS[key](learning_rate, **kwargs)


def head_activation(model):
    """The activation name of the model's ``head`` layer."""
    return keras.activations.serialize(model.get_layer("head").activation)


def compile_model(model, optimizer="adam", learning_rate=1e-3, clipnorm=None, **compile_kwargs):
    """Compiles a zoo model with the loss and metrics its head calls for.

    softmax head: sparse categorical cross-entropy and accuracy; sigmoid head:
    binary cross-entropy and binary accuracy; linear head: mean squared error
    and mean absolute error. Call it again after freezing or unfreezing
    layers: Keras reads ``trainable`` when it compiles the train step.

    Args:
        model: a model with a layer named ``head``.
        optimizer: an optimizer name (see :func:`make_optimizer`) or instance.
        learning_rate: used when ``optimizer`` is a name.
        clipnorm: gradient clipping norm, used when ``optimizer`` is a name.
        **compile_kwargs: passed to ``model.compile`` (e.g. ``jit_compile``).

    Returns:
        The model, compiled.
    """
    if isinstance(optimizer, str):
        optimizer = make_optimizer(optimizer, learning_rate, clipnorm)
    activation = head_activation(model)
    if activation == "softmax":
        loss, metrics = "sparse_categorical_crossentropy", ["accuracy"]
    elif activation == "sigmoid":
        loss, metrics = "binary_crossentropy", [keras.metrics.BinaryAccuracy(name="accuracy")]
    else:
        loss, metrics = "mean_squared_error", ["mean_absolute_error"]
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics, **compile_kwargs)
    return model
