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
* :class:`PretrainConfig`, :class:`TuneConfig`: ``zoo pretrain-lm`` and ``zoo tune``.

A value is checked when a config is made (``ClassifierConfig(epochs=0)``
raises :class:`zoo.errors.ConfigError` naming ```epochs```). ``None`` in a
:class:`ClassifierConfig` field marked "per init" means the value of
:data:`INIT_DEFAULTS` for the way the model starts (word vectors or a
language model); ``None`` in a model knob means the chosen model's own
default (``build_stacked_lstm`` has 2 layers, the others 1).

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

import dataclasses
import json
import math
import numbers
import re
from dataclasses import dataclass, field

from zoo.errors import ConfigError

# === Checks: what a setting allows ===
#
# Each field carries one check in its metadata. A check validates a Python
# value (from code or a JSON config file) and parses a command-line string;
# the CLI takes its flag type, choices and help from it.


class _Check:
    optional = False

    def __call__(self, name, value):
        if value is None and self.optional:
            return None
        return self.check(name, value)

    def check(self, name, value):
        raise NotImplementedError

    def parse(self, text):
        """A command-line string as a value of this setting (``none`` is None where allowed)."""
        if self.optional and text.lower() in ("none", "null"):
            return None
        return self.convert(text)

    def convert(self, text):
        return text

    def choices(self):
        return None


class Integer(_Check):
    def __init__(self, minimum=None, optional=False):
        self.minimum, self.optional = minimum, optional

    def check(self, name, value):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or (
                self.minimum is not None and value < self.minimum):
            bound = f" >= {self.minimum}" if self.minimum is not None else ""
            none = " or None" if self.optional else ""
            raise ConfigError(name, f"`{name}` must be an integer{bound}{none}, got {value!r}")
        return int(value)

    def convert(self, text):
        try:
            return int(text)
        except ValueError:
            return text  # the check names the setting and the bad value


class Number(_Check):
    """A finite number in an interval: ``low`` and ``high`` are open or closed bounds (None: unbounded)."""

    def __init__(self, low=None, high=None, low_open=False, high_open=True, optional=False):
        self.low, self.high, self.low_open, self.high_open, self.optional = low, high, low_open, high_open, optional

    def _describe(self):
        if self.low is not None and self.high is not None:
            return f"in {'(' if self.low_open else '['}{self.low:g}, {self.high:g}{')' if self.high_open else ']'}"
        if self.low is not None:
            return f"{'>' if self.low_open else '>='} {self.low:g}"
        return "finite"

    def check(self, name, value):
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
        if ok and self.low is not None:
            ok = value > self.low if self.low_open else value >= self.low
        if ok and self.high is not None:
            ok = value < self.high if self.high_open else value <= self.high
        if not ok:
            none = " or None" if self.optional else ""
            raise ConfigError(name, f"`{name}` must be a number {self._describe()}{none}, got {value!r}")
        return float(value)

    def convert(self, text):
        try:
            return float(text)
        except ValueError:
            return text


class Choice(_Check):
    """One of a list of values; ``values`` may be a function, so the list is the library's own constant."""

    def __init__(self, values, optional=False):
        self._values, self.optional = values, optional

    def choices(self):
        return list(self._values() if callable(self._values) else self._values)

    def convert(self, text):
        return next((value for value in self.choices() if str(value) == text), text)

    def check(self, name, value):
        allowed = self.choices()
        if value not in allowed:
            none = " or None" if self.optional else ""
            raise ConfigError(name, f"`{name}` must be one of {', '.join(map(repr, allowed))}{none}; got {value!r}")
        return value


class Flag(_Check):
    def __init__(self, optional=False):
        self.optional = optional

    def check(self, name, value):
        if not isinstance(value, bool):
            none = " or None" if self.optional else ""
            raise ConfigError(name, f"`{name}` must be true or false{none}, got {value!r}")
        return value


class Text(_Check):
    def __init__(self, optional=False):
        self.optional = optional

    def check(self, name, value):
        if not isinstance(value, str) or not value:
            raise ConfigError(name, f"`{name}` must be a non-empty string{' or None' if self.optional else ''}, "
                                    f"got {value!r}")
        return value


_PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d+)?|100)$")


class SequenceLength(_Check):
    """Tokens per text: an integer >= 1, or ``"pNN"``, the NN-th percentile of the training lengths."""

    def __init__(self, optional=False):
        self.optional = optional

    def check(self, name, value):
        if isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 1:
            return int(value)
        if isinstance(value, str) and _PERCENTILE.match(value):
            return value
        raise ConfigError(name, f"`{name}` must be an integer >= 1 or 'pNN' (a percentile of the training "
                                f"lengths, such as 'p95'), got {value!r}")

    def convert(self, text):
        return int(text) if text.isdigit() else text


class Init(_Check):
    """How the model starts: word vectors (a name, a file or ``gensim:NAME``), ``lm:ARTIFACT``, or ``none``."""

    def check(self, name, value):
        if value is None:
            return "none"
        if not isinstance(value, str) or not value.strip() or value in ("lm:", "model:"):
            raise ConfigError(name, f"`{name}` must be word vectors ({', '.join(VECTOR_NAMES)}, a vectors file or "
                                    f"gensim:NAME), "
                                    f"'lm:ARTIFACT' (a pretrained language model), 'model:RUN_DIR' (a classifier "
                                    f"zoo trained) or 'none', got {value!r}")
        return value


def setting(default, check, help):
    """A dataclass field with its check and help text (read by validation and by the CLI)."""
    return field(default=default, metadata={"check": check, "help": help})


def _validate(config):
    for f in dataclasses.fields(config):
        check = f.metadata.get("check")
        if check is not None:
            object.__setattr__(config, f.name, check(f.name, getattr(config, f.name)))


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
def _models():
    from zoo.models.registry import list_models

    return list_models()


def _optimizers():
    from zoo.training.optimizers import OPTIMIZERS

    return list(OPTIMIZERS)


_RATE = dict(low=0.0, high=1.0)


class _Config:
    """Shared behaviour of the config dataclasses: checked on creation, built from dicts."""

    def __post_init__(self):
        _validate(self)
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


# === Models ===


@dataclass(frozen=True)
class ModelConfig(_Config):
    """Arguments of :func:`zoo.models.build_rnn_classifier` and the named factories (besides the sizes).

    The defaults are the main job's (a BiLSTM with max pooling on 20
    Newsgroups, README); a named factory may change one (``build_stacked_lstm``:
    2 layers, dropout 0.2) or fix one (``build_bilstm``: bidirectional).
    """

    embedding_dim: int = setting(None, Integer(1, optional=True),
                                 "embedding width (default 128, or the width of `embeddings`)")
    trainable_embeddings: bool = setting(True, Flag(), "whether the embedding trains")
    units: int = setting(96, Integer(1), "recurrent units per direction")
    num_layers: int = setting(1, Integer(1), "recurrent layers")
    dropout: float = setting(0.35, Number(**_RATE), "dropout between recurrent layers and before the head")
    recurrent_dropout: float = setting(0.0, Number(**_RATE), "dropout of the recurrent state (> 0 disables cuDNN)")
    spatial_dropout: float = setting(0.1, Number(**_RATE), "dropout of whole embedding channels")
    l1: float = setting(0.0, Number(low=0.0), "L1 regularisation of the encoders and the head")
    l2: float = setting(0.0, Number(low=0.0), "L2 regularisation of the encoders and the head")
    pooling: str = setting("max", Choice(POOLINGS),
                           "how the top layer's states become one vector: last state, max, mean, learned "
                           "attention, or concat (last, max and mean, as ULMFiT)")
    mask_zero: bool = setting(True, Flag(), "id 0 is padding and is masked")
    multi_label: bool = setting(False, Flag(), "independent sigmoid outputs")
    task: str = setting("classification", Choice(TASKS), "classification or regression (linear outputs, MSE)")
    cell: str = setting("lstm", Choice(CELLS), "recurrent cell: lstm, gru, peephole (LSTM with peephole "
                                               "connections) or cifg (coupled input and forget gates)")
    bidirectional: bool = setting(False, Flag(), "read the text in both directions")
    residual: bool = setting(False, Flag(), "residual connections around layers whose widths match")
    batch_norm: bool = setting(False, Flag(), "BatchNormalization after each recurrent layer")
    self_attention_heads: int = setting(0, Integer(0), "multi-head self-attention over the states (0: none)")
    attention_units: int = setting(None, Integer(1, optional=True), "width of attention pooling (default: input)")
    sequence_length: int = setting(None, Integer(1, optional=True), "fixed input length (None: any)")
    compile: bool = setting(True, Flag(), "compile the model (Adam at `learning_rate`)")
    learning_rate: float = setting(4e-3, Number(low=0.0, low_open=True), "Adam's rate when `compile`")
    name: str = setting(None, Text(optional=True), "the model's name")

    def _check_combinations(self):
        if self.task == "regression" and self.multi_label:
            raise ConfigError("multi_label", "`multi_label=True` needs task='classification', got task='regression'")


@dataclass(frozen=True)
class LanguageModelConfig(_Config):
    """Arguments of :func:`zoo.build_lstm_lm` (besides ``vocab_size``): an AWD-LSTM.

    The defaults are those of the committed ``wiki-books-lstm-lm-v2``
    (``pretrained/wiki-books-lstm-lm-v2/metadata.json``).
    """

    embedding_dim: int = setting(256, Integer(1), "embedding width (= the top layer's width with tied weights)")
    units: int = setting(None, Integer(1, optional=True), "LSTM units (default: embedding_dim)")
    num_layers: int = setting(2, Integer(1), "LSTM layers")
    embedding_row_dropout: float = setting(0.01, Number(**_RATE), "embedding dropout: whole rows (word types)")
    input_dropout: float = setting(0.1, Number(**_RATE), "locked dropout on the embedding output")
    hidden_dropout: float = setting(0.05, Number(**_RATE), "locked dropout between LSTM layers")
    output_dropout: float = setting(0.05, Number(**_RATE), "locked dropout on the top states")
    weight_dropout: float = setting(0.1, Number(**_RATE), "DropConnect on the recurrent kernels")
    ar_alpha: float = setting(2.0, Number(low=0.0), "activation regularisation")
    tar_beta: float = setting(1.0, Number(low=0.0), "temporal activation regularisation")
    tie_weights: bool = setting(True, Flag(), "the embedding matrix is the output layer's kernel")
    num_sampled: int = setting(512, Integer(0), "classes of the sampled softmax in training (0: full softmax)")
    seed: int = setting(None, Integer(optional=True), "seed of the dropout masks")

    def _check_combinations(self):
        units = self.units or self.embedding_dim
        if self.tie_weights and units != self.embedding_dim:
            raise ConfigError("units", f"`tie_weights=True` needs units == embedding_dim, got units={units} "
                                       f"and embedding_dim={self.embedding_dim}")


# === The estimator ===

# ClassifierConfig fields whose default (None) depends on how the model starts: with word vectors (or random
# embeddings), or from a pretrained language model (ULMFiT). Each value was chosen on a validation or dev
# split, never on test (README, docs/ulmfit.md).
INIT_DEFAULTS = {
    "vectors": {
        "max_tokens": 30000,
        "sequence_length": "p90",
        "learning_rate": 4e-3,
        "clipnorm": 1.0,
        "lr_schedule": "cosine",
        "early_stopping": True,
        "frozen_epochs": 0,
    },
    "lm": {
        "epochs": 10,
        "max_tokens": 20000,
        "sequence_length": 256,
        # The top group's rate in the first (head-only) stage; each later stage multiplies it by
        # stage_lr_decay, as fastai's ULMFiT notebooks do (2e-2, 1e-2, 5e-3, ...). A single stage uses it
        # decayed once. Chosen on a dev split of 1,500 train documents outside the 1,000 labels (dev
        # accuracy 0.217 at 1e-2 with 6 epochs, 0.251 at 2e-2 with 10).
        "learning_rate": 2e-2,
        "clipnorm": 0.5,
        "lr_schedule": "stlr",
        "early_stopping": False,  # ULMFiT's schedule is fixed; with a few hundred labels there is no valid split
        "pooling": "concat",
        "dropout": 0.3,
        "spatial_dropout": 0.1,
    },
}
# init model:RUN_DIR: the word-vector path's defaults, with one epoch of the new head alone first.
INIT_DEFAULTS["model"] = {**INIT_DEFAULTS["vectors"], "frozen_epochs": 1}
_MODEL_KNOBS = ("units", "num_layers", "embedding_dim", "pooling", "dropout", "spatial_dropout",
                "recurrent_dropout", "l1", "l2")


def init_kind(init):
    """``"lm"`` for ``lm:ARTIFACT``, ``"model"`` for ``model:RUN_DIR`` (a classifier zoo trained), ``"none"``
    for no pretrained start, ``"auto"``, else ``"vectors"``.

    Example:

    >>> init_kind("lm:wiki-books-lstm-lm-v2"), init_kind("glove-6b-50d"), init_kind("none"), init_kind("model:runs/a")
    ('lm', 'vectors', 'none', 'model')
    """
    if init in (None, "none", "random"):
        return "none"
    if init == "auto":
        return "auto"
    if str(init).startswith("model:"):
        return "model"
    return "lm" if str(init).startswith("lm:") else "vectors"


@dataclass(frozen=True)
class ClassifierConfig(_Config):
    """The arguments of :class:`zoo.TextClassifier`: one text classifier and how it is trained.

    ``None`` means "the default for this model and ``init``" (see the module
    docstring and :data:`INIT_DEFAULTS`).
    """

    # --- the model ---
    model: str = setting(None, Choice(_models, optional=True),
                         "model name (default bilstm; with init lm:, the language model's stacked LSTM)")
    init: str = setting("glove-6b-50d", Init(),
                        "how the model starts: pretrained word vectors (glove-6b-50d or zh-chars-pd1998-100d, "
                        "Chinese characters, offline; a word2vec "
                        ".bin/.txt, GloVe .txt, fastText .vec/.bin or gensim .kv file; gensim:NAME), "
                        "lm:ARTIFACT (a pretrained LSTM language model, then ULMFiT), model:RUN_DIR (a classifier "
                        "zoo trained on another task: its embedding and encoder, a new head), none, or auto (compare "
                        "--auto-vectors and --auto-lm on a validation split within --auto-budget, keep the best)")
    auto_vectors: str = setting("glove-6b-50d", Init(), "init auto: the word vectors it tries")
    auto_lm: str = setting("lm:wiki-books-lstm-lm-v2", Init(), "init auto: the language model it tries")
    auto_budget: float = setting(30.0, Number(low=0.0, low_open=True),
                                 "init auto: minutes for the comparison; a candidate whose estimated time does "
                                 "not fit what is left is skipped")
    auto_pair: bool = setting(True, Flag(), "init auto: also compare the two best candidates together (their "
                                            "recurrent paths averaged, one blend with the n-gram path)")
    vectors_format: str = setting(None, Choice(VECTOR_FORMATS, optional=True),
                                  "the format of a word-vectors file given as init (default: from its name: .bin "
                                  "word2vec or fastText, .vec fastText, .txt GloVe or word2vec by its first line, "
                                  ".kv gensim)")
    allow_pickle: bool = setting(False, Flag(),
                                 "load word vectors that are pickles: a gensim .kv file, or gensim:NAME (gensim-data "
                                 "also downloads and runs a Python file). Loading a pickle runs any code it holds: "
                                 "only for files you trust. Other formats are read as data and need no flag")
    units: int = setting(None, Integer(1, optional=True), "recurrent units per direction (default: the model's)")
    num_layers: int = setting(None, Integer(1, optional=True), "recurrent layers (default: the model's)")
    cell: str = setting(None, Choice(CELLS, optional=True), "recurrent cell: lstm, gru, peephole or cifg "
                                                            "(coupled input and forget gates); default: the model's")
    embedding_dim: int = setting(None, Integer(1, optional=True),
                                 "embedding width with init none (default 128; else the vectors' width)")
    pooling: str = setting(None, Choice(POOLINGS, optional=True),
                           "how the top layer's states become one vector (default max; concat with init lm:)")
    dropout: float = setting(None, Number(**_RATE, optional=True), "dropout (default 0.35; 0.3 with init lm:)")
    spatial_dropout: float = setting(None, Number(**_RATE, optional=True),
                                     "dropout of whole embedding channels (default 0.1)")
    recurrent_dropout: float = setting(None, Number(**_RATE, optional=True),
                                       "dropout of the recurrent state (> 0 disables cuDNN; default 0)")
    l1: float = setting(None, Number(low=0.0, optional=True), "L1 regularisation (default 0)")
    l2: float = setting(None, Number(low=0.0, optional=True), "L2 regularisation (default 0)")
    # --- multi-label (see _check_multi_label) ---
    multi_label: bool = setting(False, Flag(), "several labels per text: fit on lists of labels, one sigmoid "
                                               "output per label, a threshold per label chosen on the validation "
                                               "split (files: --label-separator or JSON lists)")
    # --- text ---
    max_tokens: int = setting(None, Integer(3, optional=True), "vocabulary size (default 30000; 20000 with init lm:)")
    sequence_length: object = setting(None, SequenceLength(optional=True),
                                      "tokens per text: a number or pNN, a percentile of the training lengths "
                                      "(default p90; 256 with init lm:); longer texts keep their first tokens")
    truncation: str = setting("head", Choice(("head", "head_tail")),
                              "texts longer than --sequence-length keep their first tokens (head) or their first "
                              "and last halves (head_tail)")
    standardize: str = setting("zoo", Choice(("zoo", "lower_and_strip_punctuation")),
                               "tokenization with word vectors or init none: zoo (HTML removed, contractions and "
                               "punctuation split off as GloVe was tokenized) or Keras' lower_and_strip_punctuation "
                               "(zoo 0.1); init lm: uses the language model's own")
    # --- the n-gram path (the hybrid model) ---
    hybrid: bool = setting(True, Flag(), "add an n-gram path (TF-IDF word 1-2 grams + a linear SVM) and blend it "
                                         "with the recurrent model, its weight chosen on the validation split")
    ngram_max_tokens: int = setting(300000, Integer(2), "the n-gram path's vocabulary: the most frequent uni- and "
                                                        "bigrams of the training texts")
    self_training: bool = setting(True, Flag(), "the n-gram path also learns from texts without labels (the train "
                                                "texts beyond --labels): it labels them, then refits on the more "
                                                "confident half")
    # --- training ---
    epochs: int = setting(None, Integer(1, optional=True),
                          "epochs (default 10, raised for small training sets by --min-steps; with init lm:, 10 "
                          "after one epoch per gradual-unfreezing stage)")
    min_steps: int = setting(3000, Integer(0), "when --epochs is not given, with word vectors or init none: more "
                                               "than 10 epochs (up to 40) for a small training set, to make about "
                                               "this many optimizer steps; early stopping still ends a run that "
                                               "stops improving; 0: always 10")
    frozen_epochs: int = setting(None, Integer(0, optional=True),
                                 "a first stage of this many epochs with the embedding frozen (word vectors; default "
                                 "0) or everything but the new head frozen (init model:, default 1), then everything "
                                 "at --finetune-lr-factor")
    batch_size: int = setting(32, Integer(1), "examples per batch, per replica")
    optimizer: str = setting("adam", Choice(_optimizers), "optimizer (gd: plain gradient descent; sgd: with momentum)")
    momentum: float = setting(None, Number(0.0, 1.0, optional=True), "sgd: its momentum (default 0.9)")
    nesterov: bool = setting(None, Flag(optional=True), "sgd: Nesterov momentum (default on)")
    learning_rate: float = setting(None, Number(low=0.0, low_open=True, optional=True),
                                   "learning rate (default 4e-3; with init lm:, 2e-2 for the top group of the "
                                   "first stage)")
    finetune_lr_factor: float = setting(0.5, Number(low=0.0, low_open=True),
                                        "the unfrozen stage's rate relative to --learning-rate (with --frozen-epochs)")
    clipnorm: float = setting(None, Number(low=0.0, optional=True),
                              "clip each gradient to this norm, 0 for none (default 1.0; 0.5 with init lm:)")
    lr_schedule: str = setting(None, Choice(LR_SCHEDULES, optional=True),
                               "learning-rate schedule per stage (default cosine; stlr, ULMFiT's slanted "
                               "triangular rates, with init lm:)")
    early_stopping: bool = setting(None, Flag(optional=True), "stop when validation accuracy stops improving and keep the "
                                                 "best epoch (default on; off with init lm:, ULMFiT's fixed "
                                                 "schedule)")
    patience: int = setting(3, Integer(0), "early stopping: epochs without a better validation accuracy")
    class_weight: str = setting("none", Choice(CLASS_WEIGHTS),
                                "balanced: weight the loss inversely to class frequency (imbalanced data)")
    validation_split: float = setting(0.1, Number(0.0, 1.0),
                                      "share of the training texts held out (seeded, stratified) for early "
                                      "stopping when no validation data is given")
    seed: int = setting(0, Integer(0), "seed of the split, the initialisation, dropout and batch order")
    # --- distribution ---
    strategy: str = setting("auto", Choice(STRATEGIES),
                            "tf.distribute strategy (auto: TPU if present, multi_worker when TF_CONFIG names a "
                            "cluster, mirrored on several GPUs, else default)")
    precision: str = setting(None, Choice(PRECISIONS, optional=True),
                             "dtype policy (default mixed_float16 on GPUs of compute capability >= 7.0, else float32)")
    lr_scaling: str = setting("none", Choice(LR_SCALES), "linear: multiply the learning rate by the replicas")
    backup_dir: str = setting(None, Text(optional=True),
                              "make training resumable: after a crash, the same run resumes from here")
    log_dir: str = setting(None, Text(optional=True), "TensorBoard logs, one folder per stage (default: none)")
    verbose: int = setting(None, Choice((0, 1, 2), optional=True),
                           "Keras' progress output: 0 none, 1 a live bar, 2 a line per epoch (default: a bar on a "
                           "terminal, a line per epoch when piped)")
    # --- ULMFiT (init lm:) ---
    lm_finetune: bool = setting(True, Flag(), "init lm: fine-tune the language model on the task's texts first")
    # 14 epochs: a linear probe (200 labels) on a dev split of train, outside the labelled subsets and never
    # test, scored 0.181, 0.228, 0.275, 0.301, 0.346, 0.347, 0.355 after every second epoch
    # (recipes/ulmfit_lm_curve.py). Batch 256: ~35% more tokens/s than 64 on a 2-core CPU.
    lm_epochs: int = setting(14, Integer(1), "init lm: language-model fine-tuning epochs")
    lm_learning_rate: float = setting(5e-3, Number(low=0.0, low_open=True), "init lm: its peak rate (STLR)")
    lm_batch_size: int = setting(256, Integer(1), "init lm: its batch size")
    bptt: int = setting(70, Integer(2), "init lm: tokens per truncated-BPTT window")
    lm_cache_dir: str = setting(None, Text(optional=True),
                                "init lm: keep and reuse the fine-tuned language model here (it depends on the "
                                "texts and settings, not the labels)")
    stage_lr_decay: float = setting(0.5, Number(low=0.0, low_open=True),
                                    "init lm: each gradual-unfreezing stage's rate relative to the one before")
    head_units: int = setting(50, Integer(0), "init lm: ULMFiT's head (batch norm, this many ReLU units, batch "
                                              "norm); 0: one Dense layer")
    discriminative: bool = setting(True, Flag(), "init lm: discriminative rates, each layer group below the head "
                                                 "at its rate / --lr-factor")
    lr_factor: float = setting(2.6, Number(low=1.0), "init lm: the ratio of neighbouring groups' rates")
    gradual_unfreezing: bool = setting(True, Flag(), "init lm: unfreeze from the top, one group per epoch")
    aux_lm_weight: float = setting(0.0, Number(low=0.0),
                                   "init lm: keep the language-model loss, times this, as an auxiliary task")
    probe: bool = setting(False, Flag(), "init lm: no fine-tuning; fit only a linear head on the pooled "
                                         "features (logistic regression, C by 3-fold cross-validation)")
    probe_init: bool = setting(False, Flag(), "init lm: start from the linear probe's head, then fine-tune (LP-FT)")
    ensemble: int = setting(1, Integer(1), "init lm: train this many classifiers (seeds SEED, SEED+1000, ...) and "
                                           "average their probabilities")
    from_scratch: bool = setting(False, Flag(), "init lm: the same classifier and vocabulary, random weights")

    def _check_combinations(self):
        _check_multi_label(self)
        kind = init_kind(self.init)
        lm_only = ("probe", "probe_init", "from_scratch")
        if kind != "lm":
            for name in lm_only:
                if getattr(self, name):
                    raise ConfigError(name, f"`{name}` needs init='lm:ARTIFACT' (a pretrained language model), "
                                            f"got init={self.init!r}")
            if self.ensemble > 1:
                raise ConfigError("ensemble", f"`ensemble` needs init='lm:ARTIFACT', got init={self.init!r}")
        else:
            if self.model not in (None, "stacked_lstm"):
                raise ConfigError("model", f"`model` with init={self.init!r} is the language model's stacked "
                                           f"LSTM; got {self.model!r} (leave it None)")
            for name in ("units", "num_layers", "embedding_dim", "cell"):
                if getattr(self, name) is not None:
                    raise ConfigError(name, f"`{name}` with init={self.init!r} comes from the language model; "
                                            f"got {getattr(self, name)!r} (leave it None)")
            if self.frozen_epochs:
                raise ConfigError("frozen_epochs", f"`frozen_epochs` is for word vectors; with init={self.init!r} "
                                                   "gradual unfreezing stages the training")
        if init_kind(self.auto_lm) != "lm":
            raise ConfigError("auto_lm", f"`auto_lm` must be 'lm:ARTIFACT', got {self.auto_lm!r}")
        if init_kind(self.auto_vectors) != "vectors":
            raise ConfigError("auto_vectors", f"`auto_vectors` must be word vectors, got {self.auto_vectors!r}")
        if kind == "auto" and self.frozen_epochs:
            raise ConfigError("frozen_epochs", "`frozen_epochs` with init='auto': auto picks the staging; "
                                               "pass word vectors as init to set it")
        if self.probe and self.probe_init:
            raise ConfigError("probe", "`probe` fits the probe only, `probe_init` fine-tunes after it: pass one")
        if self.probe and self.ensemble > 1:
            raise ConfigError("ensemble", "`probe` is one deterministic linear fit: an `ensemble` of probes would "
                                          "repeat it; use `probe_init` to fine-tune each member after the probe")
        if kind == "model":
            for name in ("model", "units", "num_layers", "embedding_dim", "cell"):
                if getattr(self, name) is not None:
                    raise ConfigError(name, f"`{name}` with init={self.init!r} comes from that classifier; got "
                                            f"{getattr(self, name)!r} (leave it None)")
        if self.vectors_format is not None and kind != "vectors":
            raise ConfigError("vectors_format", f"`vectors_format` is for a word-vectors file as init, got "
                                                f"init={self.init!r}")
        if self.embedding_dim is not None and kind == "vectors":
            raise ConfigError("embedding_dim", f"`embedding_dim` is for init='none'; the vectors {self.init!r} "
                                               "set the width")
        for name in ("momentum", "nesterov"):
            if getattr(self, name) is not None and self.optimizer != "sgd":
                raise ConfigError(name, f"`{name}` is a setting of optimizer='sgd', got optimizer={self.optimizer!r}"
                                        + (" (gd is plain gradient descent: sgd with momentum=0 and no nesterov)"
                                           if self.optimizer == "gd" else ""))


def _check_multi_label(config):
    """``multi_label`` trains the word-vector path (or init none) only; the hybrid is turned off at fit time.

    ULMFiT's classifier has a softmax head, init auto compares accuracies,
    and balanced class weights are per class of one label.
    """
    if not config.multi_label:
        return
    kind = init_kind(config.init)
    if kind in ("lm", "auto", "model"):
        raise ConfigError("multi_label", f"`multi_label=True` trains with word vectors or init='none', got "
                                         f"init={config.init!r}")
    if config.class_weight != "none":
        raise ConfigError("class_weight", f"`class_weight={config.class_weight!r}` weighs the classes of one label; "
                                          "with `multi_label=True` leave it 'none'")


def resolve_init_defaults(config):
    """``config`` with every "per init" None replaced by its :data:`INIT_DEFAULTS` value.

    Model knobs left None stay None (the model's own default) with word
    vectors; with ``init="lm:..."`` the ULMFiT defaults apply.
    """
    kind = init_kind(config.init)
    table = INIT_DEFAULTS[kind if kind in ("lm", "model") else "vectors"]
    return config.replace(**{k: v for k, v in table.items() if getattr(config, k) is None})


# === Jobs: zoo train ===


@dataclass(frozen=True)
class DataConfig(_Config):
    """Where ``zoo train`` gets its labelled texts, and which of them it uses."""

    dataset: str = setting(None, Text(optional=True), "a built-in dataset (20newsgroups, sms_spam) or tfds:NAME")
    train: str = setting(None, Text(optional=True), "training file (.csv, .tsv, .jsonl) or folder per class")
    test: str = setting(None, Text(optional=True), "test file or folder, same format")
    valid: str = setting(None, Text(optional=True), "validation file (default: a seeded split of train)")
    text_column: str = setting("text", Text(), "column (CSV/TSV) or field (JSON lines) of the texts")
    label_column: str = setting("label", Text(), "column or field of the labels")
    label_separator: str = setting(None, Text(optional=True),
                                   "with --multi-label: the string between the labels of one cell, e.g. '|' "
                                   "(JSON lines may also hold a list of labels)")
    max_train_examples: int = setting(None, Integer(1, optional=True),
                                      "use a seeded, stratified subset of train (after the validation split)")
    labels: int = setting(None, Integer(1, optional=True),
                          "keep the labels of this many train examples (seeded, stratified; no validation split); "
                          "all train texts still fine-tune the language model with init lm:")
    dev: int = setting(None, Integer(1, optional=True),
                       "evaluate on this many held-out train examples instead of the test split, to choose "
                       "settings without reading test")

    def _check_combinations(self):
        if self.dataset and (self.train or self.test):
            raise ConfigError("dataset", "give `dataset` or `train`/`test`, not both")
        if bool(self.train) != bool(self.test):
            raise ConfigError("train" if not self.train else "test", "`train` and `test` go together "
                                                                     "(`valid` is optional)")
        if self.valid and not self.train:
            raise ConfigError("valid", "`valid` goes with `train` and `test`")
        if self.labels is not None and self.max_train_examples is not None:
            raise ConfigError("labels", "`labels` and `max_train_examples` both subsample train: pass one")


@dataclass(frozen=True)
class RunConfig(_Config):
    """What a ``zoo train`` run writes."""

    output_dir: str = setting("runs/zoo", Text(), "where the run writes its outputs")
    overwrite: bool = setting(False, Flag(), "replace a finished run in the output directory")
    baseline: bool = setting(True, Flag(), "train and report the stronger of TF-IDF + LinearSVC and NBSVM (chosen by cross-validation) on the same labelled texts")


# === Jobs: zoo pretrain-lm ===

_LM = LanguageModelConfig()


@dataclass(frozen=True)
class PretrainConfig(_Config):
    """``zoo pretrain-lm``: the corpus, the language model and its training (defaults: ``wiki-books-lstm-lm-v2``)."""

    name: str = setting("wiki-books-lstm-lm-v2", Text(), "the artifact's name in the manifest")
    sources: str = setting("wikipedia,shakespeare,bible,python_docs,gcide", Text(),
                           "comma-separated corpus sources (zoo.data.corpus)")
    max_words_per_source: int = setting(3_000_000, Integer(1, optional=True), "cap on each source's words")
    heldout_fraction: float = setting(0.02, Number(0.0, 1.0, low_open=True),
                                      "documents of each source held out for perplexity")
    vocab_size: int = setting(20000, Integer(3), "vocabulary size")
    embedding_dim: int = setting(_LM.embedding_dim, Integer(1), "embedding width (= LSTM units, tied)")
    num_layers: int = setting(_LM.num_layers, Integer(1), "LSTM layers")
    embedding_row_dropout: float = setting(_LM.embedding_row_dropout, Number(**_RATE), "embedding row dropout")
    input_dropout: float = setting(_LM.input_dropout, Number(**_RATE), "locked dropout on the embedding output")
    hidden_dropout: float = setting(_LM.hidden_dropout, Number(**_RATE), "locked dropout between layers")
    output_dropout: float = setting(_LM.output_dropout, Number(**_RATE), "locked dropout on the top states")
    weight_dropout: float = setting(_LM.weight_dropout, Number(**_RATE), "DropConnect on the recurrent kernels")
    num_sampled: int = setting(_LM.num_sampled, Integer(0), "sampled-softmax classes (0: full softmax)")
    epochs: int = setting(10, Integer(1), "epochs over the corpus")
    batch_size: int = setting(256, Integer(1), "rows of the token stream per batch")
    bptt: int = setting(70, Integer(2), "tokens per truncated-BPTT window")
    learning_rate: float = setting(5e-3, Number(low=0.0, low_open=True), "peak rate (STLR)")
    seed: int = setting(0, Integer(0), "seed of the corpus split, initialisation and batches")


# === Jobs: zoo tune ===


@dataclass(frozen=True)
class TuneConfig(_Config):
    """``zoo tune``: a KerasTuner search over :class:`ClassifierConfig` settings, scored on validation accuracy."""

    tuner: str = setting("random", Choice(TUNERS), "search algorithm")
    max_trials: int = setting(10, Integer(1), "trials in all, those of an earlier run of the same search included")
    executions_per_trial: int = setting(1, Integer(1), "trainings per trial (seeds seed, seed+1, ...)")
    space: str = setting(None, Text(optional=True),
                         'overrides of zoo.training.tuning.SEARCH_SPACE, as JSON or a JSON file: e.g. '
                         '\'{"units": [8, 16], "dropout": {"min": 0, "max": 0.5, "step": 0.25}}\'')
    output_dir: str = setting("runs/tune", Text(), "outputs, and the tuner's state in OUTPUT_DIR/search")
    overwrite: bool = setting(False, Flag(), "start the search afresh instead of resuming it")


def read_config_file(path):
    """The settings in a JSON config file (a flat object, setting names with underscores).

    Raises:
        ConfigError: the file cannot be read, is not JSON or not an object.
    """
    try:
        with open(path, encoding="utf-8") as f:
            values = json.load(f)
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(None, f"{path}: cannot read the config: {error}") from None
    except json.JSONDecodeError as error:
        raise ConfigError(None, f"{path}:{error.lineno}: not valid JSON ({error.msg})") from None
    if not isinstance(values, dict):
        raise ConfigError(None, f"{path}: expected a JSON object of settings, got {type(values).__name__}")
    return values
