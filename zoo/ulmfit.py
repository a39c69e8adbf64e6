"""ULMFiT (Howard & Ruder 2018) with zoo's LSTM language model.

1. Pretrain a language model on general English (``pretrain``,
   ``recipes/pretrain_lm.py``) or load one (``zoo.pretrained.load``).
2. Fine-tune it on the task's own text, train split only
   (``finetune_lm``): the vocabulary becomes the task's (words the
   pretrained model knows keep their vectors), with discriminative rates and
   slanted triangular learning rates.
3. Train a classifier on top of the encoder (``train_classifier``): a
   ``zoo.build_stacked_lstm`` with concat pooling whose ``embedding`` and
   ``encoder_*`` layers are copied from the language model by name, trained
   with gradual unfreezing from the top, discriminative rates (each group
   below the top at its rate divided by 2.6) and STLR; optionally with the
   language-model loss kept as an auxiliary task. Or, instead, a linear
   probe (``fit_probe``): the encoder left as it is, a logistic-regression
   head fitted on its pooled features, to measure what the language model
   alone knows about the labels; or the probe first, then fine-tuning from
   its head (``probe_init``: LP-FT, Kumar et al. 2022).

Every step can be switched off, which is how the README's ablation is run.
"""

import hashlib
import json
import os
import shutil
import sys
import time

import keras
import numpy as np

from zoo import experiment, finetune
from zoo import lm as zoo_lm
from zoo import text
from zoo.errors import ConfigError, DataError
from zoo.models import POOLINGS
from zoo.transfer import layer_groups

ULMFIT_DEFAULTS = {
    # Step 2: language-model fine-tuning on the task's train texts.
    "lm_finetune": True,
    # 14 epochs: a linear probe (200 labels) on a dev split of train, outside
    # the labelled subsets and never test, scored 0.181, 0.228, 0.275, 0.301,
    # 0.346, 0.347, 0.355 after every second epoch. Batch 256: ~35% more
    # tokens/s than 64 on a 2-core CPU, with a larger peak rate to match.
    "lm_epochs": 14,
    "lm_learning_rate": 5e-3,
    "lm_batch_size": 256,
    "bptt": 70,
    "max_tokens": 20000,
    # Step 3: the classifier.
    "epochs": 10,  # epochs with every group unfrozen (after the gradual stages)
    # The top group's rate in the first (head-only) stage; each later stage
    # halves it, as fastai's ULMFiT notebooks do (2e-2, 1e-2, 5e-3, ...). A
    # single stage (no gradual unfreezing, or from scratch) uses it halved
    # once. This rate and 10 epochs were chosen on a dev split of 1,500 train
    # documents outside the 1,000 labels (dev accuracy 0.217 at 1e-2 with 6
    # epochs, 0.251 at 2e-2 with 10), never on test.
    "learning_rate": 2e-2,
    "stage_lr_decay": 0.5,
    "batch_size": 32,
    "sequence_length": 256,
    "dropout": 0.3,
    "pooling": "concat",  # ULMFiT's: last state, max and mean of the top layer; or "mean", "max", "last"
    "head_units": 50,  # ULMFiT's head: BN, dropout, 50 ReLU units, BN, dropout, softmax (0: one Dense)
    "spatial_dropout": 0.1,
    "discriminative": True,
    "lr_factor": 2.6,
    "stlr": True,
    "gradual_unfreezing": True,
    "aux_lm_weight": 0.0,
    "clipnorm": 0.5,
    "from_scratch": False,
    "probe": False,
    "probe_init": False,
    # Classifiers trained from the one fine-tuned language model (seeds seed, seed + 1000, ...), their
    # probabilities averaged; exported as one model. 1: a single classifier.
    "ensemble": 1,
    "seed": 0,
}


def _log(message):
    print(f"[zoo] {message}", file=sys.stderr, flush=True)


# === Language-model training ===


class StepLogger(keras.callbacks.Callback):
    """One progress line every ``every`` steps: a language-model epoch is long."""

    def __init__(self, every, tokens_per_step, steps_per_epoch):
        super().__init__()
        self.every, self.tokens_per_step, self.steps = every, tokens_per_step, steps_per_epoch

    def on_epoch_begin(self, epoch, logs=None):
        self.start, self.step, self.epoch = time.time(), 0, epoch + 1

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.step % self.every == 0 or self.step == self.steps:
            rate = self.step * self.tokens_per_step / (time.time() - self.start)
            _log(f"epoch {self.epoch} step {self.step}/{self.steps}: loss {logs['loss']:.3f}, "
                 f"{rate:,.0f} tokens/s")


def learning_rate_schedule(learning_rate, total_steps, stlr=True):
    """STLR (the paper's) or a constant rate."""
    if stlr:
        return finetune.SlantedTriangular(learning_rate, total_steps)
    return learning_rate


def train_lm(lm, train_stream, valid_stream, *, epochs, batch_size, bptt, learning_rate, seed=0,
             stlr=True, discriminative=False, lr_factor=2.6, clipnorm=0.25, log_every=200, callbacks=()):
    """Trains a language model on a token stream.

    Returns:
        ``{"history": ..., "perplexity": held-out perplexity, "steps": steps}``.

    Adam with ``beta_2=0.99`` (as fastai), gradient clipping (AWD-LSTM clips
    at 0.25), and STLR over the whole run.
    """
    ds, steps = zoo_lm.lm_dataset(train_stream, batch_size, bptt, seed=seed)
    total = steps * epochs
    multipliers = finetune.group_multipliers(lm, lr_factor if discriminative else 1.0)
    optimizer = finetune.discriminative_optimizer(
        "adam", learning_rate_schedule(learning_rate, total, stlr), multipliers, clipnorm=clipnorm, beta_2=0.99)
    lm.compile(optimizer)
    _log(f"language model: {len(train_stream):,} tokens, {epochs} epoch(s) of {steps} steps "
         f"(batch {batch_size} x bptt ~{bptt})")
    fit = lm.fit(ds.repeat(), steps_per_epoch=steps, epochs=epochs, verbose=0, shuffle=False,
                 callbacks=[StepLogger(log_every, batch_size * bptt, steps), *callbacks])
    ppl = zoo_lm.perplexity(lm, valid_stream, batch_size=min(batch_size, 32), bptt=bptt)
    _log(f"held-out perplexity {ppl:.1f}")
    return {"history": fit.history, "perplexity": ppl, "steps": total}


# === Step 2: language-model fine-tuning on the task's text ===


def _split_documents(texts, fraction, seed):
    order = np.random.default_rng(seed).permutation(len(texts))
    held = max(1, int(round(len(texts) * fraction)))
    return [texts[i] for i in order[held:]], [texts[i] for i in order[:held]]


def finetune_lm(artifact, texts, cfg, cache_dir=None, callbacks=()):
    """Adapts a pretrained language model to the task's (unlabelled) texts.

    The vocabulary becomes the task's (``cfg["max_tokens"]`` most frequent
    words of ``texts``); with ``cfg["lm_finetune"]`` the model is then trained
    for ``cfg["lm_epochs"]`` on 95% of ``texts`` and its perplexity measured on
    the other 5%, before and after. The result depends on the texts and the
    settings, not on the labels, so it is cached in ``cache_dir`` and reused
    by runs with other label budgets.

    Returns:
        ``(lm, vectorizer, report)``.
    """
    from zoo import pretrained

    key = {k: cfg[k] for k in ("lm_finetune", "lm_epochs", "lm_learning_rate", "lm_batch_size", "bptt",
                               "max_tokens", "seed")}
    key.update(artifact=artifact.name, texts=len(texts), characters=sum(len(t) for t in texts))
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:10]
    cached = os.path.join(cache_dir, f"finetuned_lm-{digest}") if cache_dir else None
    if cached and os.path.exists(cached):
        loaded = pretrained.load(cached)
        if loaded.metadata.get("key") == key:
            _log(f"language model: reusing the fine-tuned model in {cached}")
            return loaded.lm, pretrained.vectorizer(loaded), loaded.metadata["report"]

    vectorizer = zoo_lm.lm_vectorizer(texts, max_tokens=cfg["max_tokens"])
    vocab = vectorizer.get_vocabulary()
    lm, hits = zoo_lm.remap_vocabulary(artifact.lm, artifact.vocab, vocab)
    report = {"vocab_size": len(vocab), "words_from_pretrained": hits}
    _log(f"language model: task vocabulary {len(vocab)}, {hits} words known to {artifact.name}")
    train_texts, heldout_texts = _split_documents(texts, 0.05, cfg["seed"])
    heldout = zoo_lm.token_stream(vectorizer, heldout_texts)
    lm.compile(keras.optimizers.Adam())
    report["perplexity_before"] = round(zoo_lm.perplexity(lm, heldout, bptt=cfg["bptt"]), 2)
    _log(f"language model: task perplexity before fine-tuning {report['perplexity_before']:.1f}")
    if cfg["lm_finetune"]:
        stream = zoo_lm.token_stream(vectorizer, train_texts, seed=cfg["seed"])
        needed = cfg["lm_batch_size"] * (cfg["bptt"] + 21)
        if len(stream) < needed:
            raise ConfigError(f"language-model fine-tuning needs at least {needed} tokens of train text "
                              f"(--lm-batch-size x (--bptt + 21)), got {len(stream)}; lower them or pass "
                              "--no-lm-finetune")
        start = time.time()
        result = train_lm(lm, stream, heldout, epochs=cfg["lm_epochs"], batch_size=cfg["lm_batch_size"],
                          bptt=cfg["bptt"], learning_rate=cfg["lm_learning_rate"], seed=cfg["seed"],
                          callbacks=callbacks)
        report.update(perplexity_after=round(result["perplexity"], 2), tokens=int(len(stream)),
                      steps=result["steps"], seconds=round(time.time() - start, 1))
    if cached:
        os.makedirs(cache_dir, exist_ok=True)
        if os.path.exists(cached):  # same key hash, other key: replace it
            shutil.rmtree(cached)
        pretrained.save_artifact(lm, vocab, {"key": key, "report": report}, cached)
    return lm, vectorizer, report


# === Step 3: the classifier ===


def build_classifier(lm_cfg, vocab_size, num_classes, cfg):
    """``zoo.build_stacked_lstm`` shaped like the language model, with ``cfg["pooling"]`` (ULMFiT's concat).

    With ``cfg["head_units"]`` the head is ULMFiT's: batch norm, dropout, a
    ReLU layer, batch norm, dropout, softmax. Batch norm matters here: pooled
    LSTM states are small and unevenly scaled, and without it a new head on
    a pretrained encoder learns slowly.
    """
    import zoo

    try:
        model = zoo.build_stacked_lstm(
            vocab_size, num_classes, embedding_dim=lm_cfg["embedding_dim"], units=lm_cfg["units"],
            num_layers=lm_cfg["num_layers"], pooling=cfg.get("pooling", "concat"), dropout=cfg["dropout"],
            spatial_dropout=cfg["spatial_dropout"], compile=False)
    except ValueError as error:  # the factory names the argument and what is allowed
        raise ConfigError(str(error)) from None
    if not cfg.get("head_units"):
        return model
    x = model.get_layer("pooling").output
    x = keras.layers.BatchNormalization(name="head_norm")(x)
    x = keras.layers.Dropout(cfg["dropout"] / 2, name="head_dropout_1")(x)
    x = keras.layers.Dense(cfg["head_units"], activation="relu", name="head_hidden")(x)
    x = keras.layers.BatchNormalization(name="head_hidden_norm")(x)
    x = keras.layers.Dropout(cfg["dropout"], name="head_dropout")(x)
    probabilities = keras.layers.Dense(num_classes, activation="softmax", dtype="float32", name="head")(x)
    return keras.Model(model.input, probabilities, name="ulmfit_classifier")


def classifier_stages(model, cfg):
    """Gradual unfreezing (head first), or one stage of everything for the same number of epochs."""
    staged = finetune.gradual_unfreezing(model, epochs_per_stage=1, final_epochs=cfg["epochs"])
    if cfg["gradual_unfreezing"] and not cfg["from_scratch"]:
        return staged
    total = sum(s["epochs"] for s in staged)
    return [{"name": "all", "frozen_to": 0, "epochs": total, "trainable_groups": [g for g, _ in layer_groups(model)]}]


@keras.saving.register_keras_serializable(package="zoo")
class AuxiliaryLMClassifier(keras.Model):
    """Trains a classifier with the language-model loss on its own inputs as an auxiliary task.

    A functional view of ``classifier`` with two outputs, the probabilities
    and the top encoder's states; the states predict each next token through
    the (tied) embedding matrix and an output bias, with a sampled softmax.
    The layers are the classifier's own, so training this trains the
    classifier. Keras has no multi-task loss over one input like this, hence
    the ``compute_loss`` override. Validation loss is the classification
    loss only.

    Args:
        classifier: a zoo classifier with an ``embedding`` and ``encoder_N`` layers.
        output_bias: the language model's output bias, one value per token id.
        aux_weight: weight of the language-model loss.
        num_sampled: classes of the sampled softmax.
    """

    def __init__(self, classifier, output_bias, aux_weight, num_sampled=512, **kwargs):
        top = zoo_lm.encoder_layer_names(classifier)[-1]
        states = classifier.get_layer(top).output[0]
        super().__init__(classifier.input, [classifier.output, states], **kwargs)
        self.aux_weight = float(aux_weight)
        self.num_sampled = int(num_sampled)
        self.lm_bias = self.add_weight(shape=(len(output_bias),), name="aux_lm_bias",
                                       initializer=keras.initializers.Constant(np.asarray(output_bias)))
        self.accuracy = keras.metrics.SparseCategoricalAccuracy(name="accuracy")

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        probs, states = y_pred
        loss = keras.ops.mean(keras.losses.sparse_categorical_crossentropy(y, probs))
        if training and self.aux_weight:
            kernel = self.get_layer("embedding").embeddings
            lm_loss = zoo_lm.next_token_loss(kernel, self.lm_bias, states[:, :-1], x[:, 1:],
                                             min(self.num_sampled, kernel.shape[0] - 1))
            loss = loss + self.aux_weight * lm_loss
        return loss

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        self.accuracy.update_state(y, y_pred[0])
        return {m.name: m.result() for m in self.metrics}


def train_classifier(model, train_ds, valid_ds, cfg, log_dir=None, lm_bias=None):
    """Trains stage by stage; returns the per-epoch history (with each epoch's stage).

    With ``cfg["aux_lm_weight"] > 0`` (and ``lm_bias``, the language model's
    output bias) the language-model loss is kept as an auxiliary task.
    """
    import zoo

    steps = sum(1 for _ in train_ds)
    history = []
    discriminative = cfg["discriminative"] and not cfg["from_scratch"]
    plan = classifier_stages(model, cfg)
    for k, stage in enumerate(plan):
        groups = finetune.apply_stage(model, stage)
        multipliers = finetune.group_multipliers(model, cfg["lr_factor"] if discriminative else 1.0)
        rate = cfg["learning_rate"] * cfg["stage_lr_decay"] ** (k if len(plan) > 1 else 1)
        schedule = learning_rate_schedule(rate, stage["epochs"] * steps, cfg["stlr"])
        optimizer = finetune.discriminative_optimizer("adam", schedule, multipliers, clipnorm=cfg["clipnorm"],
                                                      beta_2=0.99)
        trainer = model
        if cfg["aux_lm_weight"] and lm_bias is not None:
            trainer = AuxiliaryLMClassifier(model, lm_bias, cfg["aux_lm_weight"])
            trainer.compile(optimizer)
        else:
            zoo.compile_model(model, optimizer)
        _log(f"stage {stage['name']}: {stage['epochs']} epoch(s), top rate {rate:.2g}, training {', '.join(groups)}")
        callbacks = [keras.callbacks.TensorBoard(os.path.join(log_dir, stage["name"]))] if log_dir else []
        fit = trainer.fit(train_ds, validation_data=valid_ds, epochs=stage["epochs"], verbose=2, shuffle=False,
                        callbacks=callbacks)
        for i in range(stage["epochs"]):
            history.append({"stage": stage["name"], **{k: float(v[i]) for k, v in fit.history.items()}})
    return history


def fit_member(lm, lm_cfg, vocab_size, dataset, ids, cfg, seed, log_dir=None):
    """Builds one classifier, copies the language model's encoder into it (unless ``lm`` is None) and trains it.

    Returns:
        ``(model, history)``: the trained classifier (a probe with
        ``cfg["probe"]``) and its per-epoch history.
    """
    keras.utils.set_random_seed(seed)
    model = build_classifier(lm_cfg, vocab_size, len(dataset.class_names), cfg)
    if lm is not None:
        copied = zoo_lm.transfer_encoder(lm, model)
        _log(f"copied {', '.join(copied)} from the language model")
    history = []
    if cfg["probe"] or cfg["probe_init"]:
        model, history = fit_probe(model, ids["train"].ids, dataset.train_labels, len(dataset.class_names), seed)
    if not cfg["probe"]:
        train_ds = text.make_dataset(ids["train"].ids, dataset.train_labels, cfg["batch_size"], shuffle=True,
                                     seed=seed)
        valid_ds = (text.make_dataset(ids["valid"].ids, dataset.valid_labels, cfg["batch_size"])
                    if len(dataset.valid_labels) else None)
        lm_bias = None if lm is None else keras.ops.convert_to_numpy(lm.get_layer("embedding").output_bias)
        history += train_classifier(model, train_ds, valid_ds, cfg, log_dir=log_dir, lm_bias=lm_bias)
    return model, history


def fit_probe(model, train_ids, train_labels, num_classes, seed=0):
    """A linear probe: the encoder stays as it is and only a linear head is fitted on its pooled features.

    It measures what the (fine-tuned) language model alone knows about the
    labels, with nothing learned from them but one linear map. Keras has no
    cross-validated convex fit, so scikit-learn's ``LogisticRegressionCV``
    picks ``C`` (3-fold cross-validation on the labelled examples only, fewer
    folds when a class has fewer than 3), a ``LogisticRegression`` is fitted
    at that ``C``, and the result is copied into Keras layers: the probe is a
    Keras model that saves and exports like any other classifier.

    Args:
        model: a classifier with a ``pooling`` layer (``build_classifier``).
        train_ids: token ids per labelled example.
        train_labels: their class ids.
        num_classes: number of classes.

    Returns:
        ``(probe, history)``: the ``pooling`` output, standardised
        (``probe_norm``), then a softmax ``head``; and a one-entry history.

    Example:

    >>> probe, history = fit_probe(classifier, train_ids, train_labels, num_classes=20)
    >>> sorted(history[0])
    ['C', 'cv_accuracy', 'stage']
    """
    pooled = model.get_layer("pooling").output
    features = text.predict_in_order(keras.Model(model.input, pooled), train_ids)
    scaler, fit, info = fit_linear_head(features, train_labels, seed=seed)
    kernel = np.zeros((features.shape[1], num_classes), "float32")
    bias = np.zeros(num_classes, "float32")
    if fit.coef_.shape[0] == 1:  # two classes: one logit z, softmax([0, z]) is its sigmoid
        kernel[:, fit.classes_[1]], bias[fit.classes_[1]] = fit.coef_[0], fit.intercept_[0]
    else:
        kernel[:, fit.classes_], bias[fit.classes_] = fit.coef_.T, fit.intercept_
        bias[np.setdiff1d(np.arange(num_classes), fit.classes_)] = -1e9  # classes without examples
    norm = keras.layers.Normalization(mean=scaler.mean_, variance=scaler.scale_ ** 2, name="probe_norm")
    head = keras.layers.Dense(num_classes, activation="softmax", dtype="float32", name="head")
    probe = keras.Model(model.input, head(norm(pooled)), name="ulmfit_probe")
    head.set_weights([kernel, bias])
    return probe, [{"stage": "probe", **info}]


def fit_linear_head(features, labels, seed=0):
    """The probe's convex fit: standardised features, logistic regression with ``C`` by cross-validation.

    Returns:
        ``(scaler, fit, info)``: the fitted ``StandardScaler`` and
        ``LogisticRegression``, and ``{"C", "cv_accuracy"}``.

    Example:

    >>> scaler, fit, info = fit_linear_head(features, labels)
    >>> predicted = fit.predict(scaler.transform(other_features))
    """
    from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
    from sklearn.preprocessing import StandardScaler

    features, labels = np.asarray(features, "float64"), np.asarray(labels)
    counts = np.bincount(labels)
    present = counts[counts > 0]
    if len(present) < 2 or present.min() < 2:
        raise ConfigError("--probe needs at least 2 labelled examples of each class present and 2 classes, "
                          f"got class counts {counts.tolist()}")
    folds = int(min(3, present.min()))
    scaler = StandardScaler().fit(features)
    x = scaler.transform(features)
    search = LogisticRegressionCV(Cs=[1e-3, 1e-2, 1e-1, 1.0], cv=folds, l1_ratios=(0.0,), scoring="accuracy",
                                  max_iter=3000, random_state=seed, use_legacy_attributes=False).fit(x, labels)
    # Refitted from scratch at the chosen C (the search's refit starts from its path: same optimum, other digits).
    fit = LogisticRegression(C=search.C_, max_iter=3000).fit(x, labels)
    cv_accuracy = float(search.scores_.mean(axis=0).max())
    _log(f"linear probe: C={search.C_:g} ({folds}-fold CV accuracy {cv_accuracy:.3f} on the labelled examples)")
    return scaler, fit, {"C": float(search.C_), "cv_accuracy": cv_accuracy}


# === Run ===

# Data, output and baseline settings mean what they mean for the word-vector recipes.
_SHARED = ("dataset", "train", "test", "valid", "text_column", "label_column", "validation_split", "overwrite",
           "baseline")
RUN_DEFAULTS = {
    **ULMFIT_DEFAULTS,
    **{key: experiment.DEFAULTS[key] for key in _SHARED},
    "recipe": "ulmfit",
    "labels": None,  # labelled train examples (seeded, stratified); None: all
    "dev": None,  # evaluate on this many held-out train examples instead of the test split
    "lm": "wiki-books-lstm-lm-v2",
    "lm_cache_dir": None,  # default: <output_dir>/lm
    "output_dir": "runs/ulmfit",
}


def load_task(cfg):
    """(labelled dataset, unlabelled train texts): ``--labels N`` keeps N labels, the rest is text only."""
    from zoo import data as zoo_data

    if cfg["train"] or cfg["test"]:
        dataset = experiment.load_data({**cfg, "max_train_examples": None})
    else:
        dataset = zoo_data.load_dataset(cfg["dataset"], validation_split=0.0, seed=cfg["seed"])
    unlabelled = list(dataset.train_texts) + list(dataset.valid_texts)
    if cfg["dev"] is not None:
        # The dev examples leave the labelled pool (and test is dropped), but their text stays in
        # language-model fine-tuning like all train text: the fine-tuned model is then the test runs'
        # own, shared through the cache, which is what makes a dev run cheap.
        try:
            dataset = zoo_data.hold_out_as_test(dataset, cfg["dev"], seed=cfg["seed"])
        except DataError as error:
            raise ConfigError(f"--dev: {error}") from None
    if cfg["labels"] is not None:
        if cfg["labels"] > len(dataset.train_texts):
            raise ConfigError(f"--labels {cfg['labels']}: the train split has only {len(dataset.train_texts)} examples"
                              + (f" after --dev {cfg['dev']}" if cfg["dev"] is not None else ""))
        # Few labels: no validation split either; the schedule is fixed, so nothing is tuned on test.
        dataset = zoo_data.resplit(dataset, seed=cfg["seed"], max_train_examples=cfg["labels"])
    elif not len(dataset.valid_labels) and cfg["validation_split"] > 0:
        dataset = zoo_data.resplit(dataset, validation_split=cfg["validation_split"], seed=cfg["seed"])
    return dataset, unlabelled


def run(cfg):
    """Runs ULMFiT end to end from a config dict (see ``RUN_DEFAULTS``); returns metrics."""
    import zoo
    from sklearn.metrics import accuracy_score

    from zoo import evaluate, pretrained, report
    from zoo.export import check_export_target

    cfg = {**RUN_DEFAULTS, **cfg}
    out = cfg["output_dir"]
    check_export_target(os.path.join(out, "export"), cfg["overwrite"])
    try:  # checked now, not after minutes of language-model fine-tuning
        text.resolve_sequence_length(cfg["sequence_length"], [1])
    except ValueError as error:
        raise ConfigError(f"--sequence-length: {error}") from None
    if cfg["probe"] and cfg["probe_init"]:
        raise ConfigError("--probe fits the probe only, --probe-init fine-tunes after it: pass one of them")
    if cfg["probe"] and cfg["ensemble"] > 1:
        raise ConfigError("--probe is one deterministic linear fit: an --ensemble of probes would repeat it; "
                          "use --probe-init to fine-tune each member after the probe")
    for name in ("lm_epochs", "lm_batch_size", "bptt", "max_tokens", "epochs", "batch_size", "dev", "ensemble"):
        if cfg[name] is not None and cfg[name] < 1:  # only --dev may be None (off)
            raise ConfigError(f"--{name.replace('_', '-')} must be a positive integer, got {cfg[name]}")
    if cfg["pooling"] not in POOLINGS:
        raise ConfigError(f"--pooling must be one of {', '.join(POOLINGS)}, got {cfg['pooling']!r}")
    for name in ("dropout", "spatial_dropout"):
        if not 0 <= cfg[name] < 1:
            raise ConfigError(f"--{name.replace('_', '-')} must be in [0, 1), got {cfg[name]}")
    keras.utils.set_random_seed(cfg["seed"])
    dataset, unlabelled = load_task(cfg)
    _log(f"{dataset.name}: {dataset.summary()}; {len(unlabelled)} texts for the language model")

    start = time.time()
    lm = lm_report = None
    if cfg["from_scratch"]:
        vectorizer = zoo_lm.lm_vectorizer(unlabelled, max_tokens=cfg["max_tokens"])
        lm_cfg = pretrained.load(cfg["lm"]).lm.lm_config if cfg["lm"] else zoo_lm.lm_config(2)
    else:
        artifact = pretrained.load(cfg["lm"])
        lm, vectorizer, lm_report = finetune_lm(artifact, unlabelled, cfg,
                                                cache_dir=cfg["lm_cache_dir"] or os.path.join(out, "lm"))
        lm_cfg = lm.lm_config
    vocab = vectorizer.get_vocabulary()
    _, length, ids = experiment.prepare_text(dataset, cfg, vectorizer)

    os.makedirs(out, exist_ok=True)
    # Member 1 is the single-model run; the others differ only in their initialisation, dropout and batch order
    # (the labels, the fine-tuned language model and the settings are shared).
    seeds = [cfg["seed"] + 1000 * k for k in range(cfg["ensemble"])]
    members, history = [], []
    for k, seed in enumerate(seeds, start=1):
        tag = f"member {k}" if len(seeds) > 1 else None
        if tag:
            _log(f"ensemble {tag} of {len(seeds)} (seed {seed})")
        log_dir = os.path.join(out, "logs", f"member_{k}") if tag else os.path.join(out, "logs")
        member, member_history = fit_member(lm, lm_cfg, len(vocab), dataset, ids, cfg, seed, log_dir=log_dir)
        members.append(member)
        history += [{**h, "stage": f"{tag}: {h['stage']}"} if tag else h for h in member_history]
    train_seconds = time.time() - start

    split = "test" if cfg["dev"] is None else "dev"
    _log("evaluating on the test split" if split == "test" else
         f"evaluating on the dev split: {cfg['dev']} held-out train examples (the test split is not used)")
    member_probs = [text.predict_in_order(member, ids["test"].ids) for member in members]
    probs = np.mean(member_probs, axis=0)
    metrics = evaluate.classification_metrics(dataset.test_labels, probs.argmax(-1), dataset.class_names)
    if len(members) > 1:
        scores = [evaluate.classification_metrics(dataset.test_labels, p.argmax(-1), dataset.class_names)
                  for p in member_probs]
        metrics["members"] = [{"seed": seed, "accuracy": score["accuracy"], "macro_f1": score["macro_f1"]}
                              for seed, score in zip(seeds, scores)]
        # What each ensemble size would have scored (the first k members): how to choose --ensemble on a dev split.
        metrics["accuracy_by_ensemble_size"] = [
            round(float(accuracy_score(dataset.test_labels, np.mean(member_probs[:k], axis=0).argmax(-1))), 4)
            for k in range(1, len(members) + 1)]
    metrics.update(train_seconds=round(train_seconds, 1), epochs_run=len(history),
                   truncated_train_texts=ids["train"].truncated, history=history, language_model=lm_report,
                   labels=len(dataset.train_labels), evaluated_on=split)
    if cfg["baseline"]:
        _log("TF-IDF + LinearSVC baseline on the same labelled examples")
        metrics["baseline"] = evaluate.tfidf_svm_baseline(
            dataset.train_texts, dataset.train_labels, dataset.test_texts, dataset.test_labels, dataset.class_names)
    model_name = "ulmfit_probe" if cfg["probe"] else "ulmfit_probe_then_finetune" if cfg["probe_init"] else \
        "ulmfit_stacked_lstm"
    for member in members:
        zoo.unfreeze(member)
    if len(members) > 1:
        model_name = f"{model_name}_ensemble_of_{len(members)}"
        model = zoo.build_ensemble(members, name="ulmfit_ensemble")
    else:
        model = members[0]
    config = {**cfg, "model": model_name, "vectors": f"lm:{cfg['lm']}" if not cfg["from_scratch"] else "none",
              "resolved_sequence_length": length, "vocab_size": len(vocab), "class_names": dataset.class_names,
              "data": dataset.summary(), "language_model": lm_cfg, "versions": experiment.versions(),
              "command": sys.argv}
    report.write_json(os.path.join(out, "config.json"), config)
    cudnn = zoo.format_cudnn_report(zoo.cudnn_report(model))
    experiment.write_outputs(out, model, vectorizer, length, dataset, config, metrics, None, cudnn, cfg["overwrite"])
    print(report.metrics_table(metrics))
    print(f"\nwrote {out}/ (report.md, metrics.json, export/)")
    return metrics


# === Command line ===

_HELP = {
    "labels": "labelled train examples to use (seeded, class-stratified); the rest of train is unlabelled text",
    "dev": "evaluate on N train examples held out (seeded, class-stratified; never labelled for training, their "
           "text still used for LM fine-tuning) instead of the test split, to choose settings without reading test",
    "lm": "pretrained language model: a name in pretrained/manifest.json or an artifact directory",
    "lm_cache_dir": "where the fine-tuned language model is kept and reused (default: OUTPUT_DIR/lm)",
    "lm_finetune": "fine-tune the language model on the task's train texts first",
    "lm_epochs": "language-model fine-tuning epochs",
    "epochs": "classifier epochs with every layer trainable (after one epoch per gradual-unfreezing stage)",
    "sequence_length": "tokens per text for the classifier: a number, or pNN (a percentile of train lengths)",
    "pooling": "how the top layer's states become one vector: concat (ULMFiT's last state, max and mean), mean, "
               "max, last or attention (a new, learned attention layer)",
    "discriminative": "discriminative learning rates: each layer group below the head at its rate / --lr-factor",
    "learning_rate": "top learning rate of the first stage; later stages multiply it by --stage-lr-decay",
    "stlr": "slanted triangular learning rates (off: constant rate)",
    "gradual_unfreezing": "unfreeze from the top one group per epoch (off: everything from the start, same epochs)",
    "from_scratch": "the same classifier with random weights: no language model at all",
    "probe": "no classifier training: keep the encoder as it is and fit only a linear head on its pooled features "
             "(logistic regression, C by 3-fold cross-validation on the labels): what the language model alone "
             "knows about the labels",
    "probe_init": "start from the linear probe's head (instead of ULMFiT's), then fine-tune as usual: linear "
                  "probing then fine-tuning (LP-FT, Kumar et al. 2022)",
    "ensemble": "train this many classifiers (seeds SEED, SEED+1000, ...) from the one fine-tuned language model "
                "and average their probabilities; exported as one model (K times the training time)",
    "aux_lm_weight": "keep the language-model loss (times this weight) as an auxiliary task while training the "
                     "classifier (0: off)",
}


def build_parser(description, defaults, files=False):
    """An argparse parser with a flag per setting of ``RUN_DEFAULTS`` (booleans get --no-X)."""
    import argparse

    p = argparse.ArgumentParser(description=description, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    skip = {"recipe", "train", "test", "valid", "text_column", "label_column"} | (set() if files else set())
    if files:
        p.add_argument("--train", required=True, help="training file (.csv, .tsv, .jsonl) or folder per class")
        p.add_argument("--test", required=True)
        p.add_argument("--valid", default=None)
        p.add_argument("--text-column", default=defaults["text_column"])
        p.add_argument("--label-column", default=defaults["label_column"])
    for key, value in defaults.items():
        if key in skip:
            continue
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            p.add_argument(flag, dest=key, action="store_true", default=value, help=_HELP.get(key))
            p.add_argument("--no-" + key.replace("_", "-"), dest=key, action="store_false")
        elif key in ("labels", "dev", "lm_cache_dir"):
            p.add_argument(flag, default=value, type=str if key == "lm_cache_dir" else int, help=_HELP.get(key))
        elif key == "sequence_length":
            p.add_argument(flag, default=value, type=lambda v: int(v) if str(v).isdigit() else v, help=_HELP[key])
        else:
            p.add_argument(flag, default=value, type=type(value), help=_HELP.get(key))
    return p


def main(description, defaults=None, argv=None, files=False):
    """Parses arguments and runs ULMFiT; zoo errors become one line."""
    import warnings

    from zoo.errors import ZooError

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    warnings.filterwarnings("ignore", message="Your input ran out of data")
    defaults = {**RUN_DEFAULTS, **(defaults or {})}
    args = build_parser(description, defaults, files=files).parse_args(argv)
    try:
        return run({**defaults, **vars(args)})
    except ZooError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2)
