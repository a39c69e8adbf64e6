"""The estimator's settings: :class:`ClassifierConfig`, its groups, its per-init defaults and their resolution."""

import dataclasses
import inspect
from dataclasses import dataclass

from zoo.config.base import (
    CELLS,
    CLASS_WEIGHTS,
    DEFAULT_EMBEDDING_DIM,
    DEFAULT_EPOCHS,
    DEFAULT_MODEL,
    LR_SCALES,
    LR_SCHEDULES,
    MAX_ADAPTIVE_EPOCHS,
    POOLINGS,
    PRECISIONS,
    RATE,
    STRATEGIES,
    VECTOR_FORMATS,
    VECTOR_NAMES,
    Config,
    model_names,
    optimizer_names,
)
from zoo.config.checks import (
    SEED_RANGE,
    Choice,
    Flag,
    Init,
    Integer,
    Number,
    SequenceLength,
    Text,
    setting,
)
from zoo.errors import ConfigError

# === The estimator ===

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
class ClassifierConfig(Config):
    """The arguments of :class:`zoo.TextClassifier`: one text classifier and how it is trained.

    ``None`` means "the default for this model and ``init``" (a field's
    ``per_init``, see the module docstring).
    """

    # --- the model ---
    model: str = setting(None, Choice(model_names, optional=True),
                         f"model name (none: {DEFAULT_MODEL}; with init lm:, the language model's stacked LSTM)",
                         group="model")
    units: int = setting(None, Integer(1, optional=True), "recurrent units per direction (none: the model's)",
                         group="model")
    num_layers: int = setting(None, Integer(1, optional=True), "recurrent layers (none: the model's)", group="model")
    cell: str = setting(None, Choice(CELLS, optional=True), "recurrent cell: lstm, gru, peephole or cifg "
                                                            "(coupled input and forget gates); none: the model's",
                        group="model")
    embedding_dim: int = setting(None, Integer(1, optional=True),
                                 f"embedding width with init none (none: {DEFAULT_EMBEDDING_DIM}; else the vectors' "
                                 "width)", group="model")
    pooling: str = setting(None, Choice(POOLINGS, optional=True),
                           "how the top layer's states become one vector (none: the model's, max)", group="model",
                           per_init={"lm": "concat"})
    dropout: float = setting(None, Number(**RATE, optional=True), "dropout (none: the model's, 0.35)",
                             group="model", per_init={"lm": 0.3})
    spatial_dropout: float = setting(None, Number(**RATE, optional=True),
                                     "dropout of whole embedding channels (none: the model's, 0.1)", group="model",
                                     per_init={"lm": 0.1})
    recurrent_dropout: float = setting(None, Number(**RATE, optional=True),
                                       "dropout of the recurrent state (> 0 disables cuDNN; none: 0)", group="model")
    l1: float = setting(None, Number(low=0.0, optional=True), "L1 regularisation (none: 0)", group="model")
    l2: float = setting(None, Number(low=0.0, optional=True), "L2 regularisation (none: 0)", group="model")
    # --- multi-label (see _check_multi_label) ---
    multi_label: bool = setting(False, Flag(), "several labels per text: fit on lists of labels, one sigmoid "
                                               "output per label, a threshold per label chosen on the validation "
                                               "split (files: --label-separator or JSON lists)", group="model")
    # --- how the model starts ---
    init: str = setting("glove-6b-50d", Init(VECTOR_NAMES),
                        "how the model starts: pretrained word vectors (glove-6b-50d or zh-chars-pd1998-100d, "
                        "Chinese characters, offline; a word2vec "
                        ".bin/.txt, GloVe .txt, fastText .vec/.bin or gensim .kv file; gensim:NAME), "
                        "lm:ARTIFACT (a pretrained LSTM language model, then ULMFiT), model:RUN_DIR (a classifier "
                        "zoo trained on another task: its embedding and encoder, a new head), none, or auto (compare "
                        "--auto-vectors and --auto-lm on a validation split within --auto-budget, keep the best)",
                        group="init")
    vectors_format: str = setting(None, Choice(VECTOR_FORMATS, optional=True),
                                  "the format of a word-vectors file given as init (none: from its name: .bin "
                                  "word2vec or fastText, .vec fastText, .txt GloVe or word2vec by its first line, "
                                  ".kv gensim)", group="init")
    allow_pickle: bool = setting(False, Flag(),
                                 "load word vectors that are pickles: a gensim .kv file, or gensim:NAME (gensim-data "
                                 "also downloads and runs a Python file). Loading a pickle runs any code it holds: "
                                 "only for files you trust. Other formats are read as data and need no flag",
                                 group="init")
    # --- init auto ---
    auto_vectors: str = setting("glove-6b-50d", Init(VECTOR_NAMES), "init auto: the word vectors it tries",
                                group="auto")
    auto_lm: str = setting("lm:wiki-books-lstm-lm-v2", Init(VECTOR_NAMES), "init auto: the language model it tries",
                           group="auto")
    auto_budget: float = setting(30.0, Number(low=0.0, low_open=True),
                                 "init auto: minutes for the comparison; a candidate whose estimated time does "
                                 "not fit what is left is skipped", group="auto")
    auto_pair: bool = setting(True, Flag(), "init auto: also compare the two best candidates together (their "
                                            "recurrent paths averaged, one blend with the n-gram path)",
                              group="auto")
    # --- text ---
    max_tokens: int = setting(None, Integer(3, optional=True), "vocabulary size", group="text",
                              per_init={"vectors": 30000, "lm": 20000})
    sequence_length: object = setting(None, SequenceLength(optional=True),
                                      "tokens per text: a number or pNN, a percentile of the training lengths; "
                                      "longer texts keep their first tokens", group="text",
                                      per_init={"vectors": "p90", "lm": 256})
    truncation: str = setting("head", Choice(("head", "head_tail")),
                              "texts longer than --sequence-length keep their first tokens (head) or their first "
                              "and last halves (head_tail)", group="text")
    standardize: str = setting("zoo", Choice(("zoo", "lower_and_strip_punctuation")),
                               "tokenization with word vectors or init none: zoo (HTML removed, contractions and "
                               "punctuation split off as GloVe was tokenized) or Keras' lower_and_strip_punctuation "
                               "(zoo 0.1); init lm: uses the language model's own", group="text")
    # --- the n-gram path (the hybrid model) ---
    hybrid: bool = setting(True, Flag(), "add an n-gram path (TF-IDF word 1-2 grams + a linear SVM) and blend it "
                                         "with the recurrent model, its weight chosen on the validation split",
                           group="hybrid")
    ngram_max_tokens: int = setting(300000, Integer(2), "the n-gram path's vocabulary: the most frequent uni- and "
                                                        "bigrams of the training texts", group="hybrid")
    self_training: bool = setting(True, Flag(), "the n-gram path also learns from texts without labels (the train "
                                                "texts beyond --labels): it labels them, then refits on the more "
                                                "confident half", group="hybrid")
    ngram_refit: bool = setting(True, Flag(), "once the validation split has chosen the blend (and a multi-label "
                                              "model's thresholds and calibration), fit the n-gram path again on the "
                                              "training and validation texts, as the baseline is trained",
                                group="hybrid")
    # --- training ---
    epochs: int = setting(None, Integer(1, optional=True),
                          f"epochs (none with word vectors or init none: {DEFAULT_EPOCHS}, raised for small training "
                          "sets by --min-steps; with init lm:, after one epoch per gradual-unfreezing stage)",
                          group="training", per_init={"lm": 10})
    min_steps: int = setting(3000, Integer(0), "when --epochs is not given, with word vectors or init none: more "
                                               f"than {DEFAULT_EPOCHS} epochs (up to {MAX_ADAPTIVE_EPOCHS}) for a "
                                               "small training set, to make about this many optimizer steps; early "
                                               f"stopping still ends a run that stops improving; 0: always "
                                               f"{DEFAULT_EPOCHS}", group="training")
    frozen_epochs: int = setting(None, Integer(0, optional=True),
                                 "a first stage of this many epochs with the embedding frozen (word vectors) or "
                                 "everything but the new head frozen (init model:), then everything at "
                                 "--finetune-lr-factor", group="training", per_init={"vectors": 0, "model": 1})
    batch_size: int = setting(32, Integer(1), "examples per batch, per replica", group="training")
    optimizer: str = setting("adam", Choice(optimizer_names), "optimizer (gd: plain gradient descent; sgd: with momentum)",
                             group="training")
    momentum: float = setting(None, Number(0.0, 1.0, optional=True), "sgd: its momentum (none: 0.9)",
                              group="training")
    nesterov: bool = setting(None, Flag(optional=True), "sgd: Nesterov momentum (none: on)", group="training")
    # The top group's rate in the first (head-only) stage with init lm:; each later stage multiplies it by
    # stage_lr_decay, as fastai's ULMFiT notebooks do (2e-2, 1e-2, 5e-3, ...). A single stage uses it decayed
    # once. Chosen on a dev split of 1,500 train documents outside the 1,000 labels (dev accuracy 0.217 at 1e-2
    # with 6 epochs, 0.251 at 2e-2 with 10).
    learning_rate: float = setting(None, Number(low=0.0, low_open=True, optional=True),
                                   "learning rate (with init lm:, the top group's in the first stage)",
                                   group="training", per_init={"vectors": 4e-3, "lm": 2e-2})
    finetune_lr_factor: float = setting(0.5, Number(low=0.0, low_open=True),
                                        "the unfrozen stage's rate relative to --learning-rate (with --frozen-epochs)",
                                        group="training")
    clipnorm: float = setting(None, Number(low=0.0, optional=True), "clip each gradient to this norm, 0 for none",
                              group="training", per_init={"vectors": 1.0, "lm": 0.5})
    lr_schedule: str = setting(None, Choice(LR_SCHEDULES, optional=True),
                               "learning-rate schedule per stage (stlr: ULMFiT's slanted triangular rates)",
                               group="training", per_init={"vectors": "cosine", "lm": "stlr"})
    # Off with init lm: ULMFiT's schedule is fixed; with a few hundred labels there is no validation split.
    early_stopping: bool = setting(None, Flag(optional=True), "stop when validation accuracy stops improving and "
                                                              "keep the best epoch", group="training",
                                   per_init={"vectors": True, "lm": False})
    patience: int = setting(3, Integer(0), "early stopping: epochs without a better validation accuracy",
                            group="training")
    class_weight: str = setting("none", Choice(CLASS_WEIGHTS),
                                "balanced: weight each class inversely to its frequency (imbalanced data) in "
                                "the recurrent model's loss, the n-gram path's SVM, and the blend weight, then "
                                "chosen by macro F1 (multi-label: each label's positives and negatives)",
                                group="training")
    validation_split: float = setting(0.1, Number(0.0, 1.0),
                                      "share of the training texts held out (seeded, stratified) for early "
                                      "stopping when no validation data is given", group="training")
    seed: int = setting(0, Integer(SEED_RANGE[0], maximum=SEED_RANGE[1]),
                        "seed of the split, the initialisation, dropout and batch order", group="training")
    # --- distribution ---
    strategy: str = setting("auto", Choice(STRATEGIES),
                            "tf.distribute strategy (auto: TPU if present, multi_worker when TF_CONFIG names a "
                            "cluster, mirrored on several GPUs, else default)", group="distribution")
    precision: str = setting(None, Choice(PRECISIONS, optional=True),
                             "dtype policy (default mixed_float16 on GPUs of compute capability >= 7.0, else float32)",
                             group="distribution")
    lr_scaling: str = setting("none", Choice(LR_SCALES), "linear: multiply the learning rate by the replicas",
                              group="distribution")
    backup_dir: str = setting(None, Text(optional=True),
                              "make training resumable: after a crash, the same run resumes from here",
                              group="distribution")
    log_dir: str = setting(None, Text(optional=True), "TensorBoard logs, one folder per stage (default: none)",
                           group="distribution")
    verbose: int = setting(None, Choice((0, 1, 2), optional=True),
                           "Keras' progress output: 0 none, 1 a live bar, 2 a line per epoch (default: a bar on a "
                           "terminal, a line per epoch when piped)", group="distribution")
    # --- ULMFiT (init lm:) ---
    lm_finetune: bool = setting(True, Flag(), "init lm: fine-tune the language model on the task's texts first",
                                group="ulmfit")
    # 14 epochs: a linear probe (200 labels) on a dev split of train, outside the labelled subsets and never
    # test, scored 0.181, 0.228, 0.275, 0.301, 0.346, 0.347, 0.355 after every second epoch
    # (recipes/ulmfit_lm_curve.py). Batch 256: ~35% more tokens/s than 64 on a 2-core CPU.
    lm_epochs: int = setting(14, Integer(1), "init lm: language-model fine-tuning epochs", group="ulmfit")
    lm_learning_rate: float = setting(5e-3, Number(low=0.0, low_open=True), "init lm: its peak rate (STLR)",
                                      group="ulmfit")
    lm_batch_size: int = setting(256, Integer(1), "init lm: its batch size", group="ulmfit")
    bptt: int = setting(70, Integer(2), "init lm: tokens per truncated-BPTT window", group="ulmfit")
    lm_cache_dir: str = setting(None, Text(optional=True),
                                "init lm: keep and reuse the fine-tuned language model here (it depends on the "
                                "texts and settings, not the labels)", group="ulmfit")
    stage_lr_decay: float = setting(0.5, Number(low=0.0, low_open=True),
                                    "init lm: each gradual-unfreezing stage's rate relative to the one before",
                                    group="ulmfit")
    head_units: int = setting(50, Integer(0), "init lm: ULMFiT's head (batch norm, this many ReLU units, batch "
                                              "norm); 0: one Dense layer", group="ulmfit")
    discriminative: bool = setting(True, Flag(), "init lm: discriminative rates, each layer group below the head "
                                                 "at its rate / --lr-factor", group="ulmfit")
    lr_factor: float = setting(2.6, Number(low=1.0), "init lm: the ratio of neighbouring groups' rates", group="ulmfit")
    gradual_unfreezing: bool = setting(True, Flag(), "init lm: unfreeze from the top, one group per epoch",
                                       group="ulmfit")
    aux_lm_weight: float = setting(0.0, Number(low=0.0),
                                   "init lm: keep the language-model loss, times this, as an auxiliary task",
                                   group="ulmfit")
    probe: bool = setting(False, Flag(), "init lm: no fine-tuning; fit only a linear head on the pooled "
                                         "features (logistic regression, C by 3-fold cross-validation)", group="ulmfit")
    probe_init: bool = setting(False, Flag(), "init lm: start from the linear probe's head, then fine-tune (LP-FT)",
                               group="ulmfit")
    ensemble: int = setting(1, Integer(1), "init lm: train this many classifiers (seeds SEED, SEED+1000, ...) and "
                                           "average their probabilities", group="ulmfit")
    from_scratch: bool = setting(False, Flag(), "init lm: the same classifier and vocabulary, random weights",
                                 group="ulmfit")


    @classmethod
    def keyword_signature(cls):
        """The signature of a callable that takes these fields as keywords, with their defaults: the estimator's
        constructor as ``help()``, IDEs and scikit-learn's ``clone()`` see it."""
        params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        params += [inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default)
                   for f in dataclasses.fields(cls)]
        return inspect.Signature(params)

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

    ULMFiT's classifier has a softmax head, and init auto compares accuracies.
    """
    if not config.multi_label:
        return
    kind = init_kind(config.init)
    if kind in ("lm", "auto", "model"):
        raise ConfigError("multi_label", f"`multi_label=True` trains with word vectors or init='none', got "
                                         f"init={config.init!r}")


# ClassifierConfig's groups of fields (each field's ``group``), in order, with their titles in --help.
CLASSIFIER_GROUPS = {"model": "model", "init": "how the model starts (init)", "auto": "init auto", "text": "text",
                     "hybrid": "the n-gram path (hybrid)", "training": "training",
                     "distribution": "distribution and logs", "ulmfit": "ULMFiT (init lm:)"}
INIT_KINDS = ("vectors", "lm", "model")
INIT_WHO = {"vectors": "word vectors or init none", "lm": "init lm:", "model": "init model:"}


def _init_defaults():
    """Each way of starting's defaults, from the fields' ``per_init``; init model: takes the word vectors'
    unless a field names its own."""
    table = {kind: {} for kind in INIT_KINDS}
    for f in dataclasses.fields(ClassifierConfig):
        per = f.metadata.get("per_init", {})
        for kind in INIT_KINDS:
            key = kind if kind in per or kind != "model" else "vectors"
            if key in per:
                table[kind][f.name] = per[key]
    return table


# ClassifierConfig's per-init defaults, gathered from its fields (a view, not a second table). Each value was
# chosen on a validation or dev split, never on test (README, docs/ulmfit.md).
INIT_DEFAULTS = _init_defaults()


def per_init_default(f):
    """How a field's per-init default reads in help texts, or None for a field without one.

    Example:

    >>> [per_init_default(f) for f in dataclasses.fields(ClassifierConfig) if f.name == "max_tokens"]
    ['30000 with word vectors or init none; 20000 with init lm:']
    """
    per = f.metadata.get("per_init")
    if not per:
        return None
    shown = [f"{str(v).lower() if isinstance(v, bool) else v} with {INIT_WHO[kind]}" for kind, v in per.items()]
    return "; ".join(shown if "vectors" in per else ["none", *shown])


def resolve_init_defaults(config):
    """``config`` with every "per init" None replaced by its :data:`INIT_DEFAULTS` value.

    Model knobs left None stay None (the model's own default) with word
    vectors; with ``init="lm:..."`` the ULMFiT defaults apply.
    """
    kind = init_kind(config.init)
    table = INIT_DEFAULTS[kind if kind in ("lm", "model") else "vectors"]
    return config.replace(**{k: v for k, v in table.items() if getattr(config, k) is None})


