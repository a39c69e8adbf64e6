"""The commands' own settings: ``zoo train``'s data and output, ``zoo pretrain-lm``'s, ``zoo tune``'s; config files."""

import dataclasses
import json
import math
from dataclasses import dataclass

from zoo.config.base import RATE, TUNERS, Config
from zoo.config.checks import (
    SEED_RANGE,
    Choice,
    Flag,
    Integer,
    Number,
    Text,
    setting,
)
from zoo.config.classifier import ClassifierConfig
from zoo.config.models import LanguageModelConfig
from zoo.errors import ConfigError

# === Jobs: zoo train ===


@dataclass(frozen=True)
class DataConfig(Config):
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
        if self.text_column == self.label_column:
            # Reading one column as both would train on the answers and score 1.0.
            raise ConfigError("label_column", f"`text_column` and `label_column` both name {self.text_column!r}; "
                                              f"expected two different columns")


@dataclass(frozen=True)
class RunConfig(Config):
    """What a ``zoo train`` run writes."""

    output_dir: str = setting("runs/zoo", Text(), "where the run writes its outputs")
    overwrite: bool = setting(False, Flag(), "replace a finished run in the output directory")
    baseline: bool = setting(True, Flag(), "train and report the stronger of TF-IDF + LinearSVC and NBSVM (chosen by cross-validation) on the same labelled texts")


# === Jobs: zoo pretrain-lm ===

_LM = LanguageModelConfig()
# zoo.data.corpus's sources, named here so that `sources` is checked with the settings (zoo.config imports no
# TensorFlow; zoo.data.corpus reads this list).
CORPUS_SOURCES = ("wikipedia", "shakespeare", "bible", "python_docs", "gcide", "people_daily")


@dataclass(frozen=True)
class PretrainConfig(Config):
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
    embedding_row_dropout: float = setting(_LM.embedding_row_dropout, Number(**RATE), "embedding row dropout")
    input_dropout: float = setting(_LM.input_dropout, Number(**RATE), "locked dropout on the embedding output")
    hidden_dropout: float = setting(_LM.hidden_dropout, Number(**RATE), "locked dropout between layers")
    output_dropout: float = setting(_LM.output_dropout, Number(**RATE), "locked dropout on the top states")
    weight_dropout: float = setting(_LM.weight_dropout, Number(**RATE), "DropConnect on the recurrent kernels")
    num_sampled: int = setting(_LM.num_sampled, Integer(0), "sampled-softmax classes (0: full softmax)")
    epochs: int = setting(10, Integer(1), "epochs over the corpus")
    batch_size: int = setting(256, Integer(1), "rows of the token stream per batch")
    bptt: int = setting(70, Integer(2), "tokens per truncated-BPTT window")
    learning_rate: float = setting(5e-3, Number(low=0.0, low_open=True), "peak rate (STLR)")
    seed: int = setting(0, Integer(SEED_RANGE[0], maximum=SEED_RANGE[1]),
                        "seed of the corpus split, initialisation and batches")

    def _check_combinations(self):
        # Checked here, not when the corpus loads: --dry-run catches a typo, and a run fails before it loads anything.
        names = self.sources.split(",")
        for name in names:
            if name not in CORPUS_SOURCES:
                raise ConfigError("sources", f"`sources` {self.sources!r}: {name!r} is not a corpus source; expected "
                                             f"comma-separated names (no spaces) among {', '.join(CORPUS_SOURCES)}")
        twice = next((name for i, name in enumerate(names) if name in names[:i]), None)
        if twice:
            raise ConfigError("sources", f"`sources` {self.sources!r}: names {twice!r} twice; expected each source "
                                         "once")


# === Jobs: zoo tune ===


@dataclass(frozen=True)
class TuneConfig(Config):
    """``zoo tune``: a KerasTuner search over :class:`ClassifierConfig` settings, scored on validation accuracy."""

    tuner: str = setting("random", Choice(TUNERS), "search algorithm")
    max_trials: int = setting(10, Integer(1), "trials in all, those of an earlier run of the same search included")
    executions_per_trial: int = setting(1, Integer(1), "trainings per trial (seeds seed, seed+1, ...)")
    space: str = setting(None, Text(optional=True),
                         'overrides of zoo.training.tuning.SEARCH_SPACE, as JSON or a JSON file: e.g. '
                         '\'{"units": [8, 16], "dropout": {"min": 0, "max": 0.5, "step": 0.25}}\'')
    output_dir: str = setting("runs/tune", Text(), "outputs, and the tuner's state in OUTPUT_DIR/search")
    overwrite: bool = setting(False, Flag(), "start the search afresh instead of resuming it")

    def _check_combinations(self):
        # A missing file, bad JSON or a value the setting refuses is a settings error, --dry-run's too.
        check_search_space(read_search_space(self.space) or {})


# Settings a search may vary (zoo.training.tuning.SEARCH_SPACE holds the default ranges). Data settings (dataset,
# max_tokens, sequence_length, vectors, ...) are not among them: the data is prepared once.
TUNABLE = ("model", "cell", "units", "num_layers", "pooling", "dropout", "spatial_dropout", "recurrent_dropout",
           "l1", "l2", "embedding_dim", "optimizer", "learning_rate", "finetune_lr_factor", "clipnorm", "lr_schedule",
           "batch_size", "frozen_epochs", "patience")
_SAMPLINGS = ("linear", "log", "reverse_log")  # KerasTuner's


def check_search_space(space):
    """Checks a search space (``{setting: spec}``, :data:`zoo.training.tuning.SEARCH_SPACE`'s format) without
    KerasTuner: every value it can produce must pass the setting's own check, so that no trial fails on it.

    A range (``{"min", "max"[, "step"][, "sampling"]}``) is checked at its min and max (the checks are intervals),
    with integers for an integer setting; a list value by value; a single value as it is.

    Raises:
        ConfigError: one line naming ```space```, the setting and the bad value or bound.
    """
    checks = {f.name: f.metadata["check"] for f in dataclasses.fields(ClassifierConfig)}
    for name, spec in space.items():
        if name not in TUNABLE:
            raise ConfigError("space", f"`space`: cannot search over {name!r}: tunable settings are "
                                       f"{', '.join(TUNABLE)}")
        _check_spec(name, spec, checks[name])


def _check_spec(name, spec, check):
    where = f"`space` {name!r}"

    def passes(value, what):
        try:
            check(name, value)
        except ConfigError as error:
            message = str(error).replace(" or None,", ",") if what.startswith("the range") else str(error)
            raise ConfigError("space", f"{where}: {what}{message}") from None

    if isinstance(spec, dict):
        unknown = set(spec) - {"min", "max", "step", "sampling"}
        if unknown or not {"min", "max"} <= set(spec):
            raise ConfigError("space", f"{where}: a range needs min and max (and optionally step, sampling); "
                                       f"got {json.dumps(spec)}")
        if not isinstance(check, (Integer, Number)):
            raise ConfigError("space", f"{where}: a range needs a number setting; give a list of values instead")
        if not all(_is_number(spec[k]) for k in ("min", "max")) or spec["min"] > spec["max"]:
            raise ConfigError("space", f"{where}: min and max must be numbers with min <= max, got {json.dumps(spec)}")
        for bound in ("min", "max"):
            passes(spec[bound], f"the range's {bound}: ")
        sampling = spec.get("sampling", "linear")
        if sampling not in _SAMPLINGS:
            raise ConfigError("space", f"{where}: sampling must be one of {', '.join(_SAMPLINGS)}, got {sampling!r}")
        if sampling != "linear" and spec["min"] <= 0:
            raise ConfigError("space", f"{where}: {sampling} sampling needs min > 0, got {spec['min']!r}")
        if "step" in spec:
            _check_step(where, spec, sampling, integer=isinstance(check, Integer))
        return
    values = spec if isinstance(spec, list) else [spec]
    if not values:
        raise ConfigError("space", f"{where}: an empty list of values")
    allowed = check.choices()
    for value in values:
        if allowed is not None and value not in allowed:
            raise ConfigError("space", f"{where}: {value!r} is not one of {', '.join(map(str, allowed))}")
        passes(value, f"the value {json.dumps(value)}: " if isinstance(spec, list) else "")
    kinds = {"number" if _is_number(v) and isinstance(check, Number) else type(v).__name__ for v in values}
    if len(kinds) > 1:  # KerasTuner's Choice holds one type (ints and floats of a number setting are all floats)
        raise ConfigError("space", f"{where}: a list's values must be of one type, got {json.dumps(values)}")


def _check_step(where, spec, sampling, integer):
    step, span = spec["step"], spec["max"] - spec["min"]
    if integer and (isinstance(step, bool) or not isinstance(step, int) or step < 1):
        raise ConfigError("space", f"{where}: step must be an integer >= 1 for an integer setting, got {step!r}")
    if not _is_number(step) or step <= 0:
        raise ConfigError("space", f"{where}: step must be a number > 0, got {step!r}")
    if sampling != "linear":  # KerasTuner multiplies by the step there
        if step <= 1:
            raise ConfigError("space", f"{where}: with {sampling} sampling the step multiplies, so it must be > 1, "
                                       f"got {step!r}")
    elif span > 0 and step > span:
        raise ConfigError("space", f"{where}: step {step!r} is larger than max - min ({span:g}), so the range "
                                   f"would give min alone; expected a step <= {span:g}")


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def read_search_space(value):
    """``space`` (:class:`TuneConfig`): inline JSON (it starts with ``{``) or a JSON file, as a dict; None for None.

    Raises:
        ConfigError: one line: no such file, a folder, not JSON, or not a JSON object.
    """
    if value is None:
        return None
    inline = value.lstrip().startswith("{")
    try:
        if inline:
            space = json.loads(value, object_pairs_hook=_keys_once)
        else:
            with open(value, encoding="utf-8-sig") as f:
                space = json.load(f, object_pairs_hook=_keys_once)
    except FileNotFoundError:
        raise ConfigError("space", f"`space` {value}: no such file, and not inline JSON (which starts with '{{')") \
            from None
    except IsADirectoryError:
        raise ConfigError("space", f"`space` {value}: is a folder; expected a JSON file or inline JSON") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError("space", f"`space` {value}: cannot read it ({getattr(error, 'strerror', None) or error})") \
            from None
    except json.JSONDecodeError as error:
        where = "" if inline else f"{value}:{error.lineno}: "
        raise ConfigError("space", f"`space`: {where}not valid JSON ({error.msg})") from None
    except _RepeatedKey as error:
        raise ConfigError("space", f"`space`{'' if inline else ' ' + value}: {error}") from None
    if not isinstance(space, dict):
        raise ConfigError("space", f"`space`: expected a JSON object of settings, got {type(space).__name__}")
    return space


@dataclass(frozen=True)
class LRFindConfig(Config):
    """``zoo lr-find``: the learning-rate range test (:mod:`zoo.training.lr_find`) on the model ``zoo train``
    would start from."""

    start_lr: float = setting(1e-6, Number(0, low_open=True), "the rate of the first step")
    end_lr: float = setting(1.0, Number(0, low_open=True), "the rate of the last step (the test stops sooner "
                                                           "when the loss diverges)")
    steps: int = setting(200, Integer(20), "training steps at most (batches), the rate growing exponentially")
    output_dir: str = setting("runs/lr_find", Text(), "where lr_find.json and lr_find.png go")
    overwrite: bool = setting(False, Flag(), "replace an earlier test's results in OUTPUT_DIR")

    def _check_combinations(self):
        if self.start_lr >= self.end_lr:
            raise ConfigError("start_lr", f"`start_lr` ({self.start_lr:g}) must be below `end_lr` "
                                          f"({self.end_lr:g})")


def read_config_file(path):
    """The settings in a JSON config file (a flat object, setting names with underscores).

    Raises:
        ConfigError: the file cannot be read, is not JSON or not an object.
    """
    try:
        with open(path, encoding="utf-8-sig") as f:  # (a byte-order mark, as data files may have one)
            values = json.load(f, object_pairs_hook=_keys_once)
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(None, f"{path}: cannot read the config: {error}") from None
    except _RepeatedKey as error:
        raise ConfigError(None, f"{path}: {error}") from None
    except json.JSONDecodeError as error:
        raise ConfigError(None, f"{path}:{error.lineno}: not valid JSON ({error.msg})") from None
    if not isinstance(values, dict):
        raise ConfigError(None, f"{path}: expected a JSON object of settings, got {type(values).__name__}")
    return values


class _RepeatedKey(ValueError):
    pass


def _keys_once(pairs):
    """A JSON object as a dict, refusing a name given twice: ``json`` keeps the last silently, so of
    ``{"epochs": 3, ..., "epochs": 30}`` in a config file the user would not know which one trained."""
    values = {}
    for key, value in pairs:
        if key in values:
            raise _RepeatedKey(f"the setting {key!r} is given twice ({json.dumps(values[key])} and "
                               f"{json.dumps(value)}); expected each name once")
        values[key] = value
    return values
