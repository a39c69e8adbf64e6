"""What every config shares: the option lists, the fallbacks of None settings, and the base dataclass."""

import dataclasses

from zoo.config.checks import validate_fields
from zoo.errors import ConfigError
from zoo.models.registry import list_models
from zoo.training.optimizers import OPTIMIZERS

# The allowed values of the settings that name an option. The modules that implement the options import these
# (the factories their poolings, the stage runner its schedules...), so there is one list of each.
POOLINGS = ("last", "max", "mean", "attention", "concat")
CELLS = ("lstm", "gru", "peephole", "cifg")
TASKS = ("classification", "regression")
LR_SCHEDULES = ("constant", "cosine", "stlr")
CLASS_WEIGHTS = ("none", "balanced")
STRATEGIES = ("auto", "default", "mirrored", "multi_worker", "tpu")
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
LR_SCALES = ("linear", "none")
TUNERS = ("random", "grid", "bayesian", "hyperband")
VECTOR_FORMATS = ("word2vec-bin", "word2vec-txt", "glove", "fasttext-vec", "fasttext-bin", "kv")
# Word vectors zoo knows by name (zoo.transfer.vectors): GloVe 6B 50d (English, the default) and zoo's Chinese
# character vectors.
VECTOR_NAMES = ("glove-6b-50d", "zh-chars-pd1998-100d")


# Name tables that map to objects live with the objects; their modules load Keras only when an object is made.
def model_names():
    return list_models()


def optimizer_names():
    return list(OPTIMIZERS)


RATE = {"low": 0.0, "high": 1.0}


class Config:
    """Shared behaviour of the config dataclasses: checked on creation, built from dicts."""

    def __post_init__(self):
        validate_fields(self)
        self._check_combinations()

    def _check_combinations(self):
        pass

    @classmethod
    def names(cls):
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_dict(cls, values, source=None):
        """A config from a dict, refusing unknown keys; errors are prefixed by ``source`` (a file name)."""
        unknown = sorted(set(values) - set(cls.names()))
        where = f"{source}: " if source else ""
        if unknown:
            raise ConfigError(unknown[0], f"{where}unknown setting(s) {', '.join(map(repr, unknown))}; known: "
                                          f"{', '.join(cls.names())}")
        try:
            return cls(**values)
        except ConfigError as error:
            if not source:
                raise
            raise ConfigError(error.parameter, f"{where}{error}") from None

    def to_dict(self):
        return dataclasses.asdict(self)

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)


# Fallbacks where a setting's None means "the usual value"; the modules that apply them import these.
DEFAULT_MODEL = "bilstm"
DEFAULT_EMBEDDING_DIM = 128  # the embedding width without pretrained vectors
DEFAULT_EPOCHS, MAX_ADAPTIVE_EPOCHS = 10, 40  # word vectors: epochs, raised up to the maximum for small data
# Without a validation split (e.g. `--labels N`), the n-gram path's temperature and the hybrid's blend weight take
# these fixed values: SMS spam's validation split chose them (20 Newsgroups' chose 5.7 and 0.2, the Shakespeare
# scenes' 0.65), and a warning says they were not chosen.
DEFAULT_NGRAM_TEMPERATURE, DEFAULT_BLEND_WEIGHT = 8.0, 0.3
DEFAULT_THRESHOLD = 0.5  # a multi-label classifier's threshold where validation cannot choose one

