"""ULMFiT fine-tuning for zoo models (Howard & Ruder 2018, as fastai does it).

Three pieces, usable separately or together:

* **Discriminative learning rates**: :func:`discriminative_optimizer` returns
  a Keras optimizer whose step size is multiplied, per variable, by a factor
  looked up from the name of the layer that owns the variable;
  :func:`group_multipliers` gives ULMFiT's factors (each group 2.6 times
  slower than the group above it).
* **Slanted triangular learning rates**: :class:`SlantedTriangular`, a
  ``LearningRateSchedule`` with a short linear rise and a long linear decay.
* **Gradual unfreezing**: :func:`gradual_unfreezing` plans the stages (head
  only, then one more group each stage, then everything) and
  :func:`apply_stage` applies one with :func:`zoo.freeze_to`.

Example:

>>> import zoo
>>> from zoo.finetune import (SlantedTriangular, apply_stage, discriminative_optimizer,
...                           gradual_unfreezing, group_multipliers)
>>> model = zoo.build_stacked_lstm(100, 2, units=4, embedding_dim=4)
>>> for stage in gradual_unfreezing(model):  # doctest: +SKIP
...     apply_stage(model, stage)
...     schedule = SlantedTriangular(1e-2, total_steps=stage["epochs"] * steps_per_epoch)
...     zoo.compile_model(model, discriminative_optimizer("adam", schedule, group_multipliers(model)))
...     model.fit(train, epochs=stage["epochs"])
"""

import math

import keras
from keras import ops

from zoo.transfer import freeze_to, layer_groups, trainable_groups

__all__ = [
    "DiscriminativeAdadelta",
    "DiscriminativeAdagrad",
    "DiscriminativeAdam",
    "DiscriminativeAdamW",
    "DiscriminativeMixin",
    "DiscriminativeRMSprop",
    "DiscriminativeSGD",
    "SlantedTriangular",
    "apply_stage",
    "discriminative_class",
    "discriminative_optimizer",
    "gradual_unfreezing",
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

# The names and defaults of zoo.training.OPTIMIZERS ("sgd" is momentum 0.9,
# Nesterov), but any default can be overridden through **kwargs, e.g.
# discriminative_optimizer("sgd", 0.1, {}, momentum=0.0, nesterov=False).
_NAMED = {
    "adam": (DiscriminativeAdam, {}),
    "adamw": (DiscriminativeAdamW, {}),
    "sgd": (DiscriminativeSGD, {"momentum": 0.9, "nesterov": True}),
    "rmsprop": (DiscriminativeRMSprop, {}),
    "adagrad": (DiscriminativeAdagrad, {}),
    "adadelta": (DiscriminativeAdadelta, {}),
}


def discriminative_optimizer(name_or_optimizer_class, learning_rate, multipliers, clipnorm=None, **kwargs):
    """Returns an optimizer with per-layer learning-rate multipliers.

    Each trainable variable is updated with ``learning_rate * multipliers[layer]``
    where ``layer`` is the (outermost) layer that owns it; layers not in
    ``multipliers`` get 1.0. Pass it to ``zoo.compile_model`` or
    ``model.compile``. Like any Keras optimizer it is built on the variables
    trainable at the first step: after unfreezing more layers, recompile with
    a new one.

    Args:
        name_or_optimizer_class: a name as in ``zoo.training.OPTIMIZERS``
            (``adam``, ``adamw``, ``sgd`` (momentum 0.9 and Nesterov unless
            overridden), ``rmsprop``, ``adagrad``, ``adadelta``) or a
            ``keras.optimizers.Optimizer`` subclass.
        learning_rate: the top rate, a float or a ``LearningRateSchedule``
            (e.g. :class:`SlantedTriangular`).
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

    >>> import zoo
    >>> model = zoo.build_stacked_lstm(100, 2, units=4, embedding_dim=4)
    >>> opt = discriminative_optimizer("adam", 1e-3, group_multipliers(model))
    >>> round(opt.multipliers["embedding"], 4)
    0.0569
    """
    if isinstance(name_or_optimizer_class, str):
        key = name_or_optimizer_class.lower()
        if key not in _NAMED:
            raise ValueError(f"`optimizer` must be one of {', '.join(_NAMED)}; got {name_or_optimizer_class!r}")
        cls, defaults = _NAMED[key]
    else:
        cls, defaults = discriminative_class(name_or_optimizer_class), {}
    options = {**defaults, **kwargs}
    if clipnorm:
        options["clipnorm"] = clipnorm
    return cls(learning_rate=learning_rate, multipliers=multipliers, **options)


def group_multipliers(model, factor=ULMFIT_FACTOR):
    """ULMFiT's per-layer multipliers: each group ``factor`` times slower than the one above.

    With the groups of :func:`zoo.layer_groups` (bottom to top), the top
    group (``head``) gets 1.0, the group below ``1/factor``, the next
    ``1/factor**2`` and so on; every layer gets its group's multiplier.

    Args:
        model: a zoo model (layers named as in :mod:`zoo.models`).
        factor: the ratio between neighbouring groups (2.6 in the paper; 1
            gives all 1.0).

    Returns:
        A dict ``layer_name -> multiplier``.

    Example:

    >>> import zoo
    >>> m = group_multipliers(zoo.build_stacked_lstm(100, 2, units=4, embedding_dim=4))
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


# === Slanted triangular learning rates ===
#
# Why not keras.optimizers.schedules.CosineDecay(warmup_steps=...): its warmup
# is linear but its decay is a cosine, from the target down to
# alpha * target, and the warmup starts at initial_learning_rate. STLR is a
# triangle: a short linear rise from max_lr/ratio to max_lr over the first
# cut_frac of the steps and a long *linear* decay back to max_lr/ratio, with
# the floor tied to the peak by `ratio`. No built-in schedule has that shape.


@keras.saving.register_keras_serializable(package="zoo")
class SlantedTriangular(keras.optimizers.schedules.LearningRateSchedule):
    """Slanted triangular learning rates (ULMFiT, eq. 3).

    With ``T = total_steps``, ``cut = floor(T * cut_frac)`` and step ``t``
    (the optimizer's iteration count, from 0)::

        p  = t / cut                                  if t < cut
           = 1 - (t - cut) / (cut * (1/cut_frac - 1))  otherwise
        lr = max_lr * (1 + p * (ratio - 1)) / ratio

    so the rate rises linearly from ``max_lr / ratio`` at step 0 to
    ``max_lr`` at step ``cut`` and falls linearly back to ``max_lr / ratio``
    at step ``T``. Two guards the paper does not need: ``cut`` is at least 1
    (tiny ``T``), and past ``T`` the rate stays at ``max_lr / ratio`` instead
    of going negative.

    Args:
        max_lr: the peak learning rate (> 0).
        total_steps: ``T``, the number of training steps (>= 1), e.g.
            ``epochs * steps_per_epoch``.
        cut_frac: fraction of the steps spent rising, in (0, 1) (paper: 0.1).
        ratio: how much smaller the lowest rate is than ``max_lr``, >= 1
            (paper: 32).
        name: optional name.

    Example:

    >>> schedule = SlantedTriangular(0.01, total_steps=100)
    >>> [round(float(schedule(t)), 7) for t in (0, 10, 100)]
    [0.0003125, 0.01, 0.0003125]
    """

    def __init__(self, max_lr, total_steps, cut_frac=0.1, ratio=32, name=None):
        super().__init__()
        if isinstance(max_lr, bool) or not isinstance(max_lr, (int, float)) or not max_lr > 0:
            raise ValueError(f"`max_lr` must be a number > 0, got {max_lr!r}")
        if isinstance(total_steps, bool) or not isinstance(total_steps, int) or total_steps < 1:
            raise ValueError(f"`total_steps` must be an integer >= 1, got {total_steps!r}")
        if isinstance(cut_frac, bool) or not isinstance(cut_frac, (int, float)) or not 0 < cut_frac < 1:
            raise ValueError(f"`cut_frac` must be a number in (0, 1), got {cut_frac!r}")
        if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not ratio >= 1:
            raise ValueError(f"`ratio` must be a number >= 1, got {ratio!r}")
        self.max_lr = float(max_lr)
        self.total_steps = int(total_steps)
        self.cut_frac = float(cut_frac)
        self.ratio = float(ratio)
        self.name = name
        self.cut = max(1, math.floor(self.total_steps * self.cut_frac))

    def __call__(self, step):
        t = ops.cast(step, "float32")
        cut = float(self.cut)
        rising = t / cut
        falling = 1.0 - (t - cut) / (cut * (1.0 / self.cut_frac - 1.0))
        p = ops.maximum(ops.where(t < cut, rising, falling), 0.0)
        return self.max_lr * (1.0 + p * (self.ratio - 1.0)) / self.ratio

    def get_config(self):
        return {
            "max_lr": self.max_lr,
            "total_steps": self.total_steps,
            "cut_frac": self.cut_frac,
            "ratio": self.ratio,
            "name": self.name,
        }


# === Gradual unfreezing ===


def gradual_unfreezing(model, epochs_per_stage=1, final_epochs=None):
    """Plans ULMFiT's gradual unfreezing: the head first, then one more group per stage.

    Args:
        model: a zoo model (groups as in :func:`zoo.layer_groups`).
        epochs_per_stage: epochs for each stage but the last (>= 1).
        final_epochs: epochs for the last stage, everything trainable
            (default ``epochs_per_stage``).

    Returns:
        A list of stages, top group first, each a dict with ``name``,
        ``frozen_to`` (the argument for :func:`zoo.freeze_to`: -1 trains the
        head only, -2 the head and the top encoder, ..., 0 everything),
        ``epochs`` and ``trainable_groups``.

    Example:

    >>> import zoo
    >>> stages = gradual_unfreezing(zoo.build_stacked_lstm(100, 2, units=4, embedding_dim=4), final_epochs=3)
    >>> [(s["name"], s["frozen_to"], s["epochs"]) for s in stages]
    [('head', -1, 1), ('from_encoder_2', -2, 1), ('from_encoder_1', -3, 1), ('all', 0, 3)]
    """
    for arg, value in (("epochs_per_stage", epochs_per_stage), ("final_epochs", final_epochs)):
        if value is None and arg == "final_epochs":
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"`{arg}` must be an integer >= 1, got {value!r}")
    groups = [g for g, _ in layer_groups(model)]
    stages = []
    for k in range(1, len(groups)):
        top = groups[-k:]
        stages.append({
            "name": "head" if top == ["head"] else f"from_{top[0]}",
            "frozen_to": -k,
            "epochs": epochs_per_stage,
            "trainable_groups": top,
        })
    stages.append({
        "name": "all",
        "frozen_to": 0,
        "epochs": epochs_per_stage if final_epochs is None else final_epochs,
        "trainable_groups": groups,
    })
    return stages


def apply_stage(model, stage):
    """Freezes the model as a stage of :func:`gradual_unfreezing` says.

    Recompile afterwards (with a new optimizer: a built optimizer only knows
    the variables it was built with).

    Args:
        model: the model the stages were planned for.
        stage: one of the dicts from :func:`gradual_unfreezing` (only
            ``frozen_to`` is read).

    Returns:
        The names of the groups now trainable (:func:`zoo.trainable_groups`).

    Example:

    >>> import zoo
    >>> model = zoo.build_stacked_lstm(100, 2, units=4, embedding_dim=4)
    >>> apply_stage(model, gradual_unfreezing(model)[1])
    ['encoder_2', 'head']
    """
    freeze_to(model, stage["frozen_to"])
    return trainable_groups(model)
