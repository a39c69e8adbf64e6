"""Learning-rate schedules of a training stage: constant, cosine decay, or ULMFiT's slanted triangle.

Example:

>>> [round(float(learning_rate_schedule("stlr", 0.01, 100)(t)), 7) for t in (0, 10, 100)]
[0.0003125, 0.01, 0.0003125]
>>> learning_rate_schedule("constant", 0.01, 100)
0.01
"""

import math

import keras
from keras import ops

from zoo.config import LR_SCHEDULES
from zoo.errors import ConfigError

COSINE_ALPHA = 0.05  # cosine decay ends at 5% of the stage's rate


def learning_rate_schedule(name, learning_rate, total_steps):
    """The schedule ``name`` for one stage of ``total_steps`` steps, peaking at (or starting from) ``learning_rate``.

    ``constant``: the rate itself; ``cosine``: Keras' ``CosineDecay`` down to
    5% of the rate; ``stlr``: :class:`SlantedTriangular`.
    """
    if name == "constant":
        return learning_rate
    if name == "cosine":
        return keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=max(1, total_steps),
                                                      alpha=COSINE_ALPHA)
    if name == "stlr":
        return SlantedTriangular(learning_rate, max(1, total_steps))
    raise ConfigError("lr_schedule", f"`lr_schedule` must be one of {', '.join(map(repr, LR_SCHEDULES))}; got {name!r}")


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


