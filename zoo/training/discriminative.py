"""Discriminative learning rates (ULMFiT, Howard & Ruder 2018, as fastai does them).

:func:`discriminative_optimizer` returns a Keras optimizer whose step size is
multiplied, per variable, by a factor looked up from the name of the layer
that owns the variable; :func:`group_multipliers` gives ULMFiT's factors
(each layer group 2.6 times slower than the group above it). The other two
ULMFiT pieces live beside it: slanted triangular rates in
:mod:`zoo.training.schedules`, gradual unfreezing in
:mod:`zoo.training.stages`, whose stage runner uses all three.

Example:

>>> from zoo import build_stacked_lstm, compile_model
>>> model = build_stacked_lstm(100, 2, units=4, embedding_dim=4)
>>> optimizer = discriminative_optimizer("adam", 1e-2, group_multipliers(model))
>>> _ = compile_model(model, optimizer)
>>> round(optimizer.multipliers["encoder_1"], 4)
0.1479
"""

import math

import keras
from keras import ops

from zoo.training.freezing import layer_groups
from zoo.training.optimizers import optimizer_class

__all__ = [
    "DiscriminativeAdadelta",
    "DiscriminativeAdagrad",
    "DiscriminativeAdam",
    "DiscriminativeAdamW",
    "DiscriminativeMixin",
    "DiscriminativeRMSprop",
    "DiscriminativeSGD",
    "discriminative_class",
    "discriminative_optimizer",
    "group_multipliers",
]

ULMFIT_FACTOR = 2.6


# === Discriminative learning rates ===
#
# Why this exists: Keras 3 has no per-layer (per-parameter-group) learning
# rate; see keras-team/keras#21741. PyTorch/fastai do it with optimizer param
# groups. The usual Keras workarounds fall short:
#
# * Scaling the gradients of a layer (in a custom train_step or a layer
#   wrapper) does NOT work for adaptive optimizers: Adam, AdamW, RMSprop,
#   Adagrad and Adadelta normalise the update by the gradient's own running
#   magnitude, m / sqrt(v), so multiplying g by c multiplies m by c and
#   sqrt(v) by |c| and the step is unchanged (up to epsilon). It also
#   interacts with clipnorm and gradient accumulation.
# * One optimizer per layer group needs a custom train_step and breaks
#   model.compile / model.fit / saving.
#
# Instead we scale the learning rate itself, per variable, inside
# `update_step(gradient, variable, learning_rate)`: every Keras 3 optimizer
# computes its update there with the learning rate it is given, so one mixin
# works for all of them, inside model.fit, under tf.function and XLA, and the
# optimizer's state (moments, iterations) is untouched.
#
# How a variable is mapped to a layer: when the optimizer is built (on the
# trainable variables, before the first step) each variable's `path`, e.g.
# "encoder_1/lstm_cell/kernel", is split on "/" and its first component that
# is a key of `multipliers` (the outermost layer name, for the zoo's
# functional models the top-level layer) gives the factor; no match gives 1.0.
# The factors are stored by the optimizer's own variable index, and
# `update_step` finds a variable's index with `_get_variable_index`, the same
# lookup Adam uses for its moments. That matters with the TF backend, whose
# `_backend_update_step` passes the underlying `tf.Variable` (and, under
# tf.distribute, the per-replica component) to `update_step`, which has no
# `path`; `_var_key` maps those back to the Keras variable's index.


def _check_multipliers(multipliers):
    if multipliers is None:
        return {}
    if not isinstance(multipliers, dict):
        raise TypeError(f"`multipliers` must be a dict of layer name -> float, got {type(multipliers).__name__}")
    checked = {}
    for name, value in multipliers.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"`multipliers` keys must be layer names (non-empty str), got {name!r}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise ValueError(f"`multipliers[{name!r}]` must be a finite number >= 0, got {value!r}")
        checked[name] = float(value)
    return checked


class DiscriminativeMixin:
    """Optimizer mixin: multiplies the learning rate by a per-layer factor.

    Put it before a Keras optimizer class in the bases (see
    :func:`discriminative_class`). The constructor takes the base optimizer's
    arguments plus ``multipliers``, a dict that maps a layer name to the factor
    for that layer's variables; unnamed layers get 1.0. Decoupled weight decay
    (``weight_decay``, e.g. AdamW's) is scaled by the same factor, as fastai
    does with per-group learning rates.

    Args:
        multipliers: dict ``layer_name -> float >= 0`` (None: all 1.0).
        *args, **kwargs: the base optimizer's arguments.

    Example:

    >>> opt = DiscriminativeSGD(learning_rate=0.1, momentum=0.0, multipliers={"embedding": 0.1})
    >>> opt.get_config()["multipliers"]
    {'embedding': 0.1}
    """

    def __init__(self, *args, multipliers=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Stored as a tuple of pairs so that Keras' attribute tracker leaves it alone.
        self._multiplier_items = tuple(_check_multipliers(multipliers).items())
        self._lr_factors = None

    @property
    def multipliers(self):
        """The ``layer name -> factor`` dict (a copy)."""
        return dict(self._multiplier_items)

    def multiplier_for(self, variable):
        """The factor for a Keras variable, from its ``path`` (1.0 when no layer matches).

        Example:

        >>> import keras
        >>> opt = DiscriminativeAdam(multipliers={"encoder_1": 0.5})
        >>> layer = keras.layers.Dense(2, name="encoder_1"); layer.build((None, 3))
        >>> opt.multiplier_for(layer.kernel)
        0.5
        """
        multipliers = dict(self._multiplier_items)
        path = getattr(variable, "path", None) or getattr(variable, "name", "")
        for part in str(path).split("/")[:-1]:
            if part in multipliers:
                return multipliers[part]
        return 1.0

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._lr_factors = tuple(self.multiplier_for(v) for v in variables)

    def variable_multipliers(self):
        """``{variable path: factor}`` for the variables the optimizer was built with.

        Use it to check the mapping after ``build`` (or the first training step).
        """
        if not self.built:
            raise ValueError("The optimizer is not built yet: call `build(variables)` or train one step first")
        return {v.path: f for v, f in zip(self._trainable_variables, self._lr_factors)}

    def _lr_factor(self, variable):
        if self._lr_factors is None:  # not built through `build`: fall back on the path
            return self.multiplier_for(variable)
        return self._lr_factors[self._get_variable_index(variable)]

    def update_step(self, gradient, variable, learning_rate):
        factor = self._lr_factor(variable)
        if factor != 1.0:
            learning_rate = ops.multiply(learning_rate, factor)
        return super().update_step(gradient, variable, learning_rate)

    def _apply_weight_decay(self, variables):
        # Keras applies decoupled weight decay outside update_step, as
        # variable -= variable * weight_decay * learning_rate with the global
        # learning rate. Scale it per group by applying it group by group with
        # weight_decay * factor: the backends read `self.weight_decay` while
        # tracing, synchronously, so the temporary value is what they use.
        if self.weight_decay is None or not self._multiplier_items:
            return super()._apply_weight_decay(variables)
        by_factor = {}
        for variable in variables:
            by_factor.setdefault(self._lr_factor(variable), []).append(variable)
        weight_decay = self.weight_decay
        try:
            for factor, group in by_factor.items():
                if factor == 0.0:
                    continue
                self.weight_decay = weight_decay * factor
                super()._apply_weight_decay(group)
        finally:
            self.weight_decay = weight_decay

    def get_config(self):
        config = super().get_config()
        config["multipliers"] = dict(self._multiplier_items)
        return config


_CLASSES = {}


def discriminative_class(base):
    """Returns the discriminative version of a Keras optimizer class (registered serializable).

    The class is named ``Discriminative<Base>`` and registered with
    ``keras.saving.register_keras_serializable(package="zoo")``; it is created
    once per base class. For a custom base class, import the module that calls
    this before ``keras.saving.load_model``.

    Args:
        base: a subclass of ``keras.optimizers.Optimizer``.

    Example:

    >>> import keras
    >>> discriminative_class(keras.optimizers.Nadam).__name__
    'DiscriminativeNadam'
    """
    if not (isinstance(base, type) and issubclass(base, keras.optimizers.Optimizer)):
        raise TypeError(f"`base` must be a keras.optimizers.Optimizer subclass, got {base!r}")
    if issubclass(base, DiscriminativeMixin):
        return base
    if base not in _CLASSES:
        cls = type(
            f"Discriminative{base.__name__}",
            (DiscriminativeMixin, base),
            {
                "__module__": __name__,
                "__doc__": f"``{base.__name__}`` with per-layer learning-rate multipliers "
                "(see :class:`DiscriminativeMixin`).",
            },
        )
        _CLASSES[base] = keras.saving.register_keras_serializable(package="zoo")(cls)
    return _CLASSES[base]


DiscriminativeAdam = discriminative_class(keras.optimizers.Adam)
DiscriminativeAdamW = discriminative_class(keras.optimizers.AdamW)
DiscriminativeSGD = discriminative_class(keras.optimizers.SGD)
DiscriminativeRMSprop = discriminative_class(keras.optimizers.RMSprop)
DiscriminativeAdagrad = discriminative_class(keras.optimizers.Adagrad)
DiscriminativeAdadelta = discriminative_class(keras.optimizers.Adadelta)


def discriminative_optimizer(name_or_optimizer_class, learning_rate, multipliers, clipnorm=None, **kwargs):
    """Returns an optimizer with per-layer learning-rate multipliers.

    Each trainable variable is updated with ``learning_rate * multipliers[layer]``
    where ``layer`` is the (outermost) layer that owns it; layers not in
    ``multipliers`` get 1.0. Pass it to ``zoo.compile_model`` or
    ``model.compile``. Like any Keras optimizer it is built on the variables
    trainable at the first step: after unfreezing more layers, recompile with
    a new one.

    Args:
        name_or_optimizer_class: a name of :data:`zoo.training.optimizers.OPTIMIZERS`
            (``adam``, ``adamw``, ``sgd`` (momentum 0.9 and Nesterov unless
            overridden), ``rmsprop``, ``adagrad``, ``adadelta``) or a
            ``keras.optimizers.Optimizer`` subclass.
        learning_rate: the top rate, a float or a ``LearningRateSchedule``
            (e.g. :class:`zoo.training.schedules.SlantedTriangular`).
        multipliers: dict ``layer_name -> factor`` (e.g. from
            :func:`group_multipliers`), or None for all 1.0.
        clipnorm: clip each gradient to this norm (None: no clipping).
        **kwargs: more arguments for the optimizer, overriding the name's
            defaults (e.g. ``momentum=0.0``, ``weight_decay=0.01``).

    Returns:
        An instance of a ``Discriminative<Optimizer>`` class, registered
        serializable; its ``get_config()`` includes ``multipliers``.

    Raises:
        ValueError: on an unknown name or a bad multiplier.

    Example:

    >>> from zoo import build_stacked_lstm
    >>> model = build_stacked_lstm(100, 2, units=4, embedding_dim=4)
    >>> opt = discriminative_optimizer("adam", 1e-3, group_multipliers(model))
    >>> round(opt.multipliers["embedding"], 4)
    0.0569
    """
    if isinstance(name_or_optimizer_class, str):
        base, defaults = optimizer_class(name_or_optimizer_class)
        cls = discriminative_class(base)
    else:
        cls, defaults = discriminative_class(name_or_optimizer_class), {}
    options = {**defaults, **kwargs}
    if clipnorm:
        options["clipnorm"] = clipnorm
    return cls(learning_rate=learning_rate, multipliers=multipliers, **options)


def group_multipliers(model, factor=ULMFIT_FACTOR):
    """ULMFiT's per-layer multipliers: each group ``factor`` times slower than the one above.

    With the groups of :func:`zoo.training.freezing.layer_groups` (bottom to top), the top
    group (``head``) gets 1.0, the group below ``1/factor``, the next
    ``1/factor**2`` and so on; every layer gets its group's multiplier.

    Args:
        model: a zoo model (layers named as in :mod:`zoo.models`).
        factor: the ratio between neighbouring groups (2.6 in the paper; 1
            gives all 1.0).

    Returns:
        A dict ``layer_name -> multiplier``.

    Example:

    >>> from zoo import build_stacked_lstm
    >>> m = group_multipliers(build_stacked_lstm(100, 2, units=4, embedding_dim=4))
    >>> [round(m[n], 4) for n in ("embedding", "encoder_1", "encoder_2", "head")]
    [0.0569, 0.1479, 0.3846, 1.0]
    """
    if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not math.isfinite(factor) or factor <= 0:
        raise ValueError(f"`factor` must be a finite number > 0, got {factor!r}")
    groups = layer_groups(model)
    top = len(groups) - 1
    return {
        layer: float(factor) ** -(top - depth)
        for depth, (_, layers) in enumerate(groups)
        for layer in layers
    }
