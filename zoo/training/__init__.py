"""Training: optimizers, schedules, freezing, the stage runner, distribution, language models, tuning.

* :mod:`zoo.training.optimizers`: the optimizer table, ``make_optimizer``, ``compile_model``;
* :mod:`zoo.training.discriminative`: per-layer learning rates (ULMFiT);
* :mod:`zoo.training.schedules`: constant, cosine and slanted triangular rates;
* :mod:`zoo.training.freezing`: layer groups, ``freeze``, ``unfreeze``, ``freeze_to``;
* :mod:`zoo.training.stages`: ``Stage``, the plans, and ``run_stages``, the one stage runner;
* :mod:`zoo.training.distribute`: ``tf.distribute`` strategies, scaling, precision, the keras#20585 shim;
* :mod:`zoo.training.language_model`: ``train_lm`` and ``perplexity``;
* :mod:`zoo.training.tuning`: a KerasTuner search over ``TextClassifier`` settings.
"""

from zoo.training.freezing import freeze, freeze_to, layer_groups, trainable_groups, unfreeze
from zoo.training.optimizers import compile_model, make_optimizer

__all__ = ["compile_model", "freeze", "freeze_to", "layer_groups", "make_optimizer", "trainable_groups", "unfreeze"]
