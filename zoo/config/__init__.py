"""Every setting zoo has, in one place: its default, its type, what it allows and its help.

Each group of settings is a frozen dataclass. Its fields are the only
defaults in zoo: the factories, :class:`zoo.TextClassifier`, the training
jobs and the command line (whose flags are generated from these fields,
with the help texts and choice lists below) all read them from here.

* :class:`ModelConfig`: the arguments of the model factories.
* :class:`LanguageModelConfig`: the arguments of :func:`zoo.build_lstm_lm`.
* :class:`ClassifierConfig`: the arguments of :class:`zoo.TextClassifier`
  (model, ``init``, training, ULMFiT, distribution).
* :class:`DataConfig`, :class:`RunConfig`: what ``zoo train`` reads and writes.
* :class:`PretrainConfig`, :class:`TuneConfig`, :class:`LRFindConfig`: ``zoo pretrain-lm``, ``zoo tune`` and
  ``zoo lr-find``.

A value is checked when a config is made (``ClassifierConfig(epochs=0)``
raises :class:`zoo.errors.ConfigError` naming ```epochs```); the checks are
in :mod:`zoo.config.checks`. ``None`` in a :class:`ClassifierConfig` field
with a ``per_init`` default means that default for the way the model starts
(word vectors, a language model, a trained classifier;
:func:`resolve_init_defaults`; :data:`INIT_DEFAULTS` gathers them); ``None``
in a model knob means the chosen model's own default (``build_stacked_lstm``
has 2 layers, the others 1). Each :class:`ClassifierConfig` field names its
``group`` (:data:`CLASSIFIER_GROUPS`: model, init, auto, text, hybrid,
training, distribution, ULMFiT), which the command line's help follows.

Example:

>>> ClassifierConfig(epochs=3).epochs
3
>>> ModelConfig(dropout=1.5)
Traceback (most recent call last):
...
zoo.errors.ConfigError: `dropout` must be a number in [0, 1), got 1.5
>>> resolve_init_defaults(ClassifierConfig(init="lm:wiki-books-lstm-lm-v2")).learning_rate
0.02
"""

from zoo.config.base import (
                             CELLS,
                             CLASS_WEIGHTS,
                             DEFAULT_BLEND_WEIGHT,
                             DEFAULT_EMBEDDING_DIM,
                             DEFAULT_EPOCHS,
                             DEFAULT_MODEL,
                             DEFAULT_NGRAM_TEMPERATURE,
                             DEFAULT_THRESHOLD,
                             LR_SCALES,
                             LR_SCHEDULES,
                             MAX_ADAPTIVE_EPOCHS,
                             POOLINGS,
                             PRECISIONS,
                             STRATEGIES,
                             TASKS,
                             TUNERS,
                             VECTOR_FORMATS,
                             VECTOR_NAMES,
                             Config,
)
from zoo.config.classifier import (
                             CLASSIFIER_GROUPS,
                             INIT_DEFAULTS,
                             INIT_KINDS,
                             ClassifierConfig,
                             init_kind,
                             per_init_default,
                             resolve_init_defaults,
)
from zoo.config.jobs import (
                             DataConfig,
                             LRFindConfig,
                             PretrainConfig,
                             RunConfig,
                             TuneConfig,
                             read_config_file,
                             read_search_space,
)
from zoo.config.models import LanguageModelConfig, ModelConfig

__all__ = [
                             "CELLS",
                             "CLASSIFIER_GROUPS",
                             "CLASS_WEIGHTS",
                             "DEFAULT_BLEND_WEIGHT",
                             "DEFAULT_EMBEDDING_DIM",
                             "DEFAULT_EPOCHS",
                             "DEFAULT_MODEL",
                             "DEFAULT_NGRAM_TEMPERATURE",
                             "DEFAULT_THRESHOLD",
                             "INIT_DEFAULTS",
                             "INIT_KINDS",
                             "LR_SCALES",
                             "LR_SCHEDULES",
                             "MAX_ADAPTIVE_EPOCHS",
                             "POOLINGS",
                             "PRECISIONS",
                             "STRATEGIES",
                             "TASKS",
                             "TUNERS",
                             "VECTOR_FORMATS",
                             "VECTOR_NAMES",
                             "ClassifierConfig",
                             "Config",
                             "DataConfig",
                             "LRFindConfig",
                             "LanguageModelConfig",
                             "ModelConfig",
                             "PretrainConfig",
                             "RunConfig",
                             "TuneConfig",
                             "init_kind",
                             "per_init_default",
                             "read_config_file",
                             "read_search_space",
                             "resolve_init_defaults",
]
