"""ULMFiT (Howard & Ruder 2018) with zoo's LSTM language model: the steps after pretraining.

1. A language model pretrained on general English (``zoo pretrain-lm``,
   :mod:`zoo.transfer.pretraining`), loaded with :func:`zoo.transfer.pretrained.load`.
2. :func:`finetune_lm`: fine-tuned on the task's own text (train split
   only); the vocabulary becomes the task's, words the pretrained model knows
   keep their vectors.
3. A classifier on its encoder (:func:`zoo.models.ulmfit_classifier.build_ulmfit_classifier`,
   weights copied by name), trained in :func:`classifier_stages`: gradual
   unfreezing from the top, discriminative rates, slanted triangular rates;
   or a linear probe (:func:`fit_probe`) on the encoder as it is, to measure
   what the language model alone knows about the labels, optionally followed
   by fine-tuning from its head (LP-FT, Kumar et al. 2022).

:class:`zoo.TextClassifier` with ``init="lm:ARTIFACT"`` runs these steps;
every one can be switched off, which is how the ULMFiT ablation is run.
"""

import hashlib
import json
import os
import time

import keras
import numpy as np

from zoo.data.text import predict_in_order
from zoo.data.token_stream import lm_vectorizer, token_stream
from zoo.errors import ConfigError
from zoo.log import logger
from zoo.training.language_model import perplexity, train_lm
from zoo.training.stages import Stage, gradual_unfreezing
from zoo.transfer import pretrained
from zoo.transfer.encoder import remap_vocabulary

# Adam's second-moment decay in every ULMFiT stage, as fastai uses.
ADAM_BETA_2 = 0.99


# === Step 2: language-model fine-tuning on the task's text ===


def _split_documents(texts, fraction, seed):
    order = np.random.default_rng(seed).permutation(len(texts))
    held = max(1, int(round(len(texts) * fraction)))
    return [texts[i] for i in order[held:]], [texts[i] for i in order[:held]]


def finetune_lm(artifact, texts, settings, cache_dir=None, callbacks=()):
    """Adapts a pretrained language model to the task's (unlabelled) texts.

    The vocabulary becomes the task's (``settings.max_tokens`` most frequent
    words of ``texts``); with ``settings.lm_finetune`` the model is then
    trained for ``settings.lm_epochs`` on 95% of ``texts`` and its perplexity
    measured on the other 5%, before and after. The result depends on the
    texts and the settings, not on the labels, so it is cached in
    ``cache_dir`` and reused by runs with other label budgets.

    Args:
        artifact: a :class:`zoo.transfer.pretrained.Artifact`.
        texts: the task's texts (no labels needed).
        settings: a resolved :class:`zoo.config.ClassifierConfig` (its
            ``lm_*``, ``bptt``, ``max_tokens`` and ``seed``).
        cache_dir: where to keep and look for the result (None: no cache).
        callbacks: Keras callbacks for the fine-tuning ``fit``.

    Returns:
        ``(lm, vectorizer, report)``.
    """
    cfg = {k: getattr(settings, k) for k in ("lm_finetune", "lm_epochs", "lm_learning_rate", "lm_batch_size", "bptt",
                                             "max_tokens", "seed")}
    key = dict(cfg)
    key.update(artifact=artifact.name, texts=len(texts), characters=sum(len(t) for t in texts))
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:10]
    cached = os.path.join(cache_dir, f"finetuned_lm-{digest}") if cache_dir else None
    if cached and os.path.exists(cached):
        loaded = pretrained.load(cached)
        if loaded.metadata.get("key") == key:
            logger.info(f"language model: reusing the fine-tuned model in {cached}")
            return loaded.lm, pretrained.vectorizer(loaded), loaded.metadata["report"]

    vectorizer = lm_vectorizer(texts, max_tokens=cfg["max_tokens"])
    vocab = vectorizer.get_vocabulary()
    lm, hits = remap_vocabulary(artifact.lm, artifact.vocab, vocab)
    report = {"vocab_size": len(vocab), "words_from_pretrained": hits}
    logger.info(f"language model: task vocabulary {len(vocab)}, {hits} words known to {artifact.name}")
    train_texts, heldout_texts = _split_documents(texts, 0.05, cfg["seed"])
    heldout = token_stream(vectorizer, heldout_texts)
    lm.compile(keras.optimizers.Adam())
    report["perplexity_before"] = round(perplexity(lm, heldout, bptt=cfg["bptt"]), 2)
    logger.info(f"language model: task perplexity before fine-tuning {report['perplexity_before']:.1f}")
    if cfg["lm_finetune"]:
        stream = token_stream(vectorizer, train_texts, seed=cfg["seed"])
        needed = cfg["lm_batch_size"] * (cfg["bptt"] + 21)
        if len(stream) < needed:
            raise ConfigError("lm_batch_size", f"language-model fine-tuning needs at least {needed} tokens of "
                                               f"train text (`lm_batch_size` x (`bptt` + 21)), got {len(stream)}; "
                                               "lower them, or set `lm_finetune` off")
        start = time.time()
        result = train_lm(lm, stream, heldout, epochs=cfg["lm_epochs"], batch_size=cfg["lm_batch_size"],
                          bptt=cfg["bptt"], learning_rate=cfg["lm_learning_rate"], seed=cfg["seed"],
                          callbacks=callbacks)
        report.update(perplexity_after=round(result["perplexity"], 2), tokens=int(len(stream)),
                      steps=result["steps"], seconds=round(time.time() - start, 1))
    if cached:  # (one there already has the same key hash but another key: it is replaced)
        pretrained.save_artifact(lm, vocab, {"key": key, "report": report}, cached, overwrite=True)
    return lm, vectorizer, report


# === Step 3: the classifier ===


def classifier_stages(model, settings):
    """ULMFiT's stages for ``model``: gradual unfreezing (head first), or one stage of everything, same epochs.

    Every group below the head trains at a rate divided by ``lr_factor`` per
    group (discriminative rates) unless ``discriminative`` is off or the
    model starts from scratch.

    Example:

    >>> from zoo.config import ClassifierConfig, resolve_init_defaults
    >>> from zoo.models.ulmfit_classifier import build_ulmfit_classifier
    >>> settings = resolve_init_defaults(ClassifierConfig(init="lm:x", epochs=2))
    >>> model = build_ulmfit_classifier({"embedding_dim": 8, "units": 8, "num_layers": 2}, 50, 3)
    >>> [(s.name, s.epochs) for s in classifier_stages(model, settings)]
    [('head', 1), ('from_encoder_2', 1), ('from_encoder_1', 1), ('all', 2)]
    >>> [(s.name, s.epochs, s.learning_rate) for s in classifier_stages(model, settings.replace(gradual_unfreezing=False))]
    [('all', 5, 0.01)]
    """
    factor = settings.lr_factor if settings.discriminative and not settings.from_scratch else 1.0
    staged = gradual_unfreezing(model, settings.learning_rate, epochs_per_stage=1, final_epochs=settings.epochs,
                                stage_lr_decay=settings.stage_lr_decay, schedule=settings.lr_schedule,
                                lr_factor=factor)
    if settings.gradual_unfreezing and not settings.from_scratch:
        return staged
    # One stage of every layer for as many epochs, at the rate decayed once (the rate of a second stage).
    return [Stage("all", sum(s.epochs for s in staged), settings.learning_rate * settings.stage_lr_decay, (),
                  settings.lr_schedule, factor)]


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
        model: a classifier with a ``pooling`` layer (``build_ulmfit_classifier``).
        train_ids: token ids per labelled example.
        train_labels: their class ids.
        num_classes: number of classes.

    Returns:
        ``(probe, history)``: the ``pooling`` output, standardised
        (``probe_norm``), then a softmax ``head``; and a one-entry history.

    Example:

    >>> from zoo.models.ulmfit_classifier import build_ulmfit_classifier
    >>> classifier = build_ulmfit_classifier({"embedding_dim": 8, "units": 8, "num_layers": 1}, 50, 2)
    >>> rng = np.random.default_rng(0)
    >>> train_labels = np.arange(20) % 2
    >>> train_ids = [rng.integers(2 + 20 * c, 22 + 20 * c, 8).astype("int32") for c in train_labels]
    >>> probe, history = fit_probe(classifier, train_ids, train_labels, num_classes=2)
    >>> sorted(history[0])
    ['C', 'cv_accuracy', 'stage']
    """
    pooled = model.get_layer("pooling").output
    features = predict_in_order(keras.Model(model.input, pooled), train_ids, progress=True)
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

    >>> rng = np.random.default_rng(0)
    >>> labels = np.arange(30) % 3
    >>> features = rng.normal(size=(30, 4)) + labels[:, None]
    >>> scaler, fit, info = fit_linear_head(features, labels)
    >>> bool((fit.predict(scaler.transform(features)) == labels).mean() > 0.8)
    True
    """
    from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
    from sklearn.preprocessing import StandardScaler

    features, labels = np.asarray(features, "float64"), np.asarray(labels)
    counts = np.bincount(labels)
    present = counts[counts > 0]
    if len(present) < 2 or present.min() < 2:
        raise ConfigError("probe", "`probe` needs at least 2 labelled examples of each class present and 2 "
                                   f"classes, got class counts {counts.tolist()}")
    folds = int(min(3, present.min()))
    scaler = StandardScaler().fit(features)
    x = scaler.transform(features)
    search = LogisticRegressionCV(Cs=[1e-3, 1e-2, 1e-1, 1.0], cv=folds, l1_ratios=(0.0,), scoring="accuracy",
                                  max_iter=3000, random_state=seed, use_legacy_attributes=False).fit(x, labels)
    # Refitted from scratch at the chosen C (the search's refit starts from its path: same optimum, other digits).
    fit = LogisticRegression(C=search.C_, max_iter=3000).fit(x, labels)
    cv_accuracy = float(search.scores_.mean(axis=0).max())
    logger.info(f"linear probe: C={search.C_:g} ({folds}-fold CV accuracy {cv_accuracy:.3f} on the labelled examples)")
    return scaler, fit, {"C": float(search.C_), "cv_accuracy": cv_accuracy}
