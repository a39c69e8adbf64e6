"""Compiling zoo models: optimizer by name, loss and metrics from the head.

:data:`OPTIMIZERS` is the one table of optimizer names that every training
path uses (the estimator, the CLI's choices, tuning and, through
:mod:`zoo.training.discriminative`, ULMFiT's per-layer rates).
"""

from zoo.errors import ConfigError
from zoo.lazy import lazy_module

losses = lazy_module("zoo.training.losses")  # (Keras: only once a model compiles)

# name -> (the class in keras.optimizers, its defaults in zoo). "gd" is plain gradient descent (w -= lr * g, on
# each batch; --batch-size as large as the training set makes it full-batch); "sgd" is momentum 0.9 with Nesterov
# unless `momentum`/`nesterov` say otherwise. Class names, so that listing the names (the command line's choices)
# loads no Keras.
OPTIMIZERS = {
    "adam": ("Adam", {}),
    "adamw": ("AdamW", {}),
    "gd": ("SGD", {"momentum": 0.0, "nesterov": False}),
    "sgd": ("SGD", {"momentum": 0.9, "nesterov": True}),
    "rmsprop": ("RMSprop", {}),
    "adagrad": ("Adagrad", {}),
    "adadelta": ("Adadelta", {}),
}


def optimizer_class(name):
    """``(class, defaults)`` of an optimizer name of :data:`OPTIMIZERS`.

    Example:

    >>> optimizer_class("sgd")
    (<class 'keras.src.optimizers.sgd.SGD'>, {'momentum': 0.9, 'nesterov': True})
    """
    import keras

    key = str(name).lower()
    if key not in OPTIMIZERS:
        raise ConfigError("optimizer", f"`optimizer` must be one of {', '.join(OPTIMIZERS)}; got {name!r}")
    class_name, defaults = OPTIMIZERS[key]
    return getattr(keras.optimizers, class_name), dict(defaults)


def make_optimizer(name="adam", learning_rate=1e-3, clipnorm=None, **kwargs):
    """Returns a Keras optimizer by name.

    Args:
        name: one of ``adam``, ``adamw``, ``gd`` (plain gradient descent),
            ``sgd`` (momentum 0.9, Nesterov, unless ``momentum=``/``nesterov=``
            say otherwise), ``rmsprop``, ``adagrad``, ``adadelta``.
        learning_rate: a float or a ``keras.optimizers.schedules`` schedule.
        clipnorm: clip each gradient to this norm (None or 0: no clipping).
        **kwargs: more arguments of the optimizer (e.g. ``beta_2=0.99``).

    Example:

    >>> make_optimizer("sgd", 0.01, clipnorm=1.0).__class__.__name__
    'SGD'
    >>> opt = make_optimizer("sgd", 0.01, momentum=0.5, nesterov=False)
    >>> opt.momentum, opt.nesterov, make_optimizer("gd", 0.01).momentum
    (0.5, False, 0.0)
    """
    cls, defaults = optimizer_class(name)
    options = {**defaults, **kwargs}
    if clipnorm:
        options["clipnorm"] = clipnorm
    return cls(learning_rate=learning_rate, **options)


def momentum_options(optimizer, momentum=None, nesterov=None):
    """The optimizer arguments of the ``momentum`` and ``nesterov`` settings (None: the name's default).

    Example:

    >>> momentum_options("sgd", momentum=0.5), momentum_options("adam")
    ({'momentum': 0.5}, {})
    """
    options = {"momentum": momentum, "nesterov": nesterov}
    return {k: v for k, v in options.items() if v is not None and OPTIMIZERS.get(optimizer, ("", {}))[0] == "SGD"}


def head_activation(model):
    """The activation name of the model's ``head`` layer."""
    import keras

    return keras.activations.serialize(model.get_layer("head").activation)


def compile_model(model, optimizer="adam", learning_rate=1e-3, clipnorm=None, label_weights=None, **compile_kwargs):
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
        label_weights: a sigmoid head's per-label weights of positives and negatives
            (``(positive, negative)``: :class:`zoo.training.losses.LabelWeightedBinaryCrossentropy`).
        **compile_kwargs: passed to ``model.compile`` (e.g. ``jit_compile``).

    Returns:
        The model, compiled.
    """
    import keras

    if isinstance(optimizer, str):
        optimizer = make_optimizer(optimizer, learning_rate, clipnorm)
    activation = head_activation(model)
    if activation == "softmax":
        loss, metrics = "sparse_categorical_crossentropy", ["accuracy"]
    elif activation == "sigmoid":
        loss, metrics = "binary_crossentropy", [keras.metrics.BinaryAccuracy(name="accuracy")]
        if label_weights is not None:
            loss = losses.LabelWeightedBinaryCrossentropy(*label_weights)
    else:
        loss, metrics = "mean_squared_error", ["mean_absolute_error"]
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics, **compile_kwargs)
    return model
