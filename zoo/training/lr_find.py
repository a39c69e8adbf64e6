"""The learning-rate range test (Smith 2017, "Cyclical Learning Rates for Training Neural Networks", section 3.3;
fastai's ``lr_find``, ktrain's ``lr_find``): from the model a fit would start with, train a few hundred steps while
the rate grows exponentially, record the loss at each step, stop once it diverges, and suggest a rate.

:func:`range_test` runs it on a built model and its first stage (what :meth:`zoo.TextClassifier.lr_find` and
``zoo lr-find`` prepare through the same procedure as ``fit``); :class:`RangeTest` holds the curve, the suggestion
and its plot.

Why a loop of one-step epochs: Keras reports a batch's loss only as the running mean of the epoch so far, so each
step is an epoch of its own (``steps_per_epoch=1`` on a repeated dataset) and its ``loss`` is that batch's.
The rate follows Keras' ``ExponentialDecay`` with a growth factor (``decay_rate`` above 1).
"""

import dataclasses
import math

import keras
import numpy as np

from zoo.errors import ConfigError
from zoo.log import logger
from zoo.training.optimizers import compile_model, make_optimizer
from zoo.training.stages import apply_stage, class_weights, split_class_weight

SMOOTHING = 0.98  # the loss's exponential moving average (debiased), as fastai's
DIVERGED = 4.0  # stop once the smoothed loss is this many times its minimum
SKIP_START = 10  # the first steps' losses say little (fastai skips 10 in its plot and suggestion)


@dataclasses.dataclass
class RangeTest:
    """A range test's curve and suggestion.

    Attributes:
        rates, losses: the rate and the batch's loss at each step run.
        smoothed: the losses' debiased exponential moving average.
        suggested: the rate to train with: a tenth of the rate where the
            smoothed loss is lowest (Smith's rule of thumb, fastai's
            ``minimum`` suggestion), a rate still well inside the region
            where the loss falls.
        minimum: the rate of the lowest smoothed loss.
        steepest: the rate where the smoothed loss falls fastest (per log rate).
        stopped: why the test ended (the loss diverged, or the last step).
        stage: the stage the test trained (what ``fit``'s first stage trains).
    """

    rates: list
    losses: list
    smoothed: list
    suggested: float
    minimum: float
    steepest: float
    stopped: str
    stage: str

    def to_dict(self):
        return dataclasses.asdict(self)

    def plot(self, path):
        """The smoothed loss against the rate (log scale), the suggestion marked, as a PNG at ``path``."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        start = min(SKIP_START, max(len(self.rates) - 2, 0))
        ax.plot(self.rates[start:], self.smoothed[start:], label="loss (smoothed)")
        ax.axvline(self.suggested, color="tab:red", linestyle="--", label=f"suggested {self.suggested:.2g}")
        ax.axvline(self.minimum, color="tab:gray", linestyle=":", label=f"lowest loss {self.minimum:.2g}")
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("training loss")
        ax.set_title(f"learning-rate range test ({self.stage}; {self.stopped})")
        ax.legend()
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)


class _Recorder(keras.callbacks.Callback):
    """Records each one-step epoch's rate and loss; stops the fit when the smoothed loss diverges."""

    def __init__(self, schedule):
        super().__init__()
        self.schedule, self.rates, self.losses, self.smoothed = schedule, [], [], []
        self.average, self.best, self.stopped = 0.0, math.inf, None

    def on_epoch_end(self, epoch, logs=None):
        loss = float((logs or {}).get("loss", math.nan))
        self.rates.append(float(self.schedule(epoch)))
        self.losses.append(loss)
        if not math.isfinite(loss):
            self.stopped = f"the loss was not finite at step {epoch + 1}"
            self.model.stop_training = True
            self.smoothed.append(math.nan)
            return
        self.average = SMOOTHING * self.average + (1 - SMOOTHING) * loss
        smoothed = self.average / (1 - SMOOTHING ** (epoch + 1))
        self.smoothed.append(smoothed)
        if epoch >= SKIP_START:
            self.best = min(self.best, smoothed)
            if smoothed > DIVERGED * self.best:
                self.stopped = f"the loss diverged at step {epoch + 1}"
                self.model.stop_training = True


def range_test(model, stage, train_ds, *, start_lr=1e-6, end_lr=1.0, steps=200, optimizer="adam",
               optimizer_options=None, clipnorm=None, class_weight=None, verbose=0):
    """Trains ``model`` (as ``stage`` freezes it) for up to ``steps`` batches of ``train_ds`` while the rate grows
    from ``start_lr`` to ``end_lr``; returns a :class:`RangeTest`. ``model``'s weights change: pass one built for
    the test."""
    if not 0 < start_lr < end_lr:
        raise ConfigError("start_lr", f"the range test needs 0 < start_lr < end_lr, got {start_lr:g} and {end_lr:g}")
    if steps < SKIP_START + 10:
        raise ConfigError("steps", f"the range test needs at least {SKIP_START + 10} steps, got {steps}")
    groups = apply_stage(model, stage)
    schedule = keras.optimizers.schedules.ExponentialDecay(start_lr, decay_steps=steps - 1,
                                                           decay_rate=end_lr / start_lr)
    class_weight, label_weights = split_class_weight(class_weight)  # (multi-label: the loss's, as in fit)
    compile_model(model, make_optimizer(optimizer, schedule, clipnorm, **(optimizer_options or {})),
                  label_weights=label_weights)
    recorder = _Recorder(schedule)
    logger.info(f"learning-rate range test: up to {steps} steps from {start_lr:g} to {end_lr:g} ({stage.name}: "
                f"training {', '.join(groups)})")
    model.fit(train_ds.repeat(), epochs=steps, steps_per_epoch=1, callbacks=[recorder], verbose=verbose,
              shuffle=False, class_weight=class_weight)
    return summarize(recorder.rates, recorder.losses, recorder.smoothed,
                     recorder.stopped or f"the last step ({steps})", stage.name)


def find(fit, start, **range_options):
    """The range test on the model a procedure starts from: ``start()`` gives ``(model, first stage, optimizer
    options)`` (``zoo.training.from_*.start``), ``fit`` the :class:`~zoo.training.fit_steps.FitSteps` (the
    training batches, the optimizer and class weights as ``fit`` would use them)."""
    model, stage, options = start()
    s = fit.s
    return range_test(model, stage, fit.datasets(s.seed)[0], optimizer=s.optimizer, optimizer_options=options,
                      clipnorm=s.clipnorm, class_weight=class_weights(fit.y, s.class_weight), **range_options)


def summarize(rates, losses, smoothed, stopped, stage):
    """The suggestion from a recorded curve (:class:`RangeTest`).

    Example:

    >>> rates = list(np.geomspace(1e-5, 1.0, 60))
    >>> losses = [2.0 - 0.5 * np.tanh(4 * (np.log10(r) + 3)) + (r > 0.1) * 30 * r for r in rates]
    >>> test = summarize(rates, losses, losses, "the last step (60)", "train")
    >>> 0.01 < test.minimum < 0.2 and abs(test.suggested - test.minimum / 10) < 1e-12
    True
    >>> 1e-4 < test.steepest < 1e-2
    True
    """
    start = min(SKIP_START, max(len(rates) - 2, 0))
    rate, smooth = np.asarray(rates[start:], float), np.asarray(smoothed[start:], float)
    finite = np.isfinite(smooth)
    if finite.sum() < 2:
        raise ConfigError("steps", "the range test recorded too few finite losses to suggest a rate: lower "
                                   "start_lr or raise steps")
    rate, smooth = rate[finite], smooth[finite]
    minimum = float(rate[int(np.argmin(smooth))])
    slopes = np.gradient(smooth, np.log(rate))
    steepest = float(rate[int(np.argmin(slopes))])
    return RangeTest(list(map(float, rates)), list(map(float, losses)), list(map(float, smoothed)),
                     suggested=minimum / 10, minimum=minimum, steepest=steepest, stopped=stopped, stage=stage)
