"""What every training procedure shares: :class:`FitSteps` holds one fit's settings, data and strategy, and the
steps they have in common (ids and sequence length, datasets, the backup, the stage runner's options, the
adaptive epochs, the hybrid's n-gram path with its blend); :class:`Trained` is what a procedure returns.

The procedures themselves are one module each: :mod:`zoo.training.from_vectors` (word vectors or random
embeddings), :mod:`zoo.training.from_classifier` (``init model:``), :mod:`zoo.training.from_lm` (ULMFiT) and
:mod:`zoo.training.auto` (``init auto``: the others compared). :class:`zoo.TextClassifier` validates what it is
given and delegates; ``zoo tune`` prepares one :class:`FitSteps` and copies it per trial.
"""

import copy
import time
from typing import NamedTuple

import keras
import numpy as np

from zoo.backend import require_tensorflow

require_tensorflow("zoo.training.fit_steps (the text pipeline and the n-gram path)")

from zoo.config import DEFAULT_EPOCHS
from zoo.data.inputs import (
    check_texts,
    label_targets,
    split_validation,
    unlabelled_only,
)
from zoo.data.text import (
    make_dataset,
    predict_in_order,
    resolve_sequence_length,
    vectorize,
)
from zoo.errors import DataError
from zoo.log import logger
from zoo.models.cudnn import cudnn_report, format_cudnn_report
from zoo.models.ensemble import average_probabilities, ensemble_members
from zoo.training import distribute
from zoo.training.backups import data_fingerprint, open_backup
from zoo.training.fit_record import FitRecord
from zoo.training.freezing import unfreeze
from zoo.training.ngram_path import (
    choose_blend_weight,
    choose_label_weights,
    fit_multi_label_ngram_path,
    fit_ngram_path,
    holds_words,
    ngram_logits,
)
from zoo.training.optimizers import momentum_options
from zoo.training.stages import adaptive_epochs


class FitSteps:
    """One fit's settings (``s``), strategy and data, and the steps every procedure shares. A procedure sets
    ``vectorizer`` and ``length`` (:meth:`vectorize`), ``model`` and ``history``, and fills in ``record``
    (:class:`~zoo.training.fit_record.FitRecord`); :meth:`trained` hands them over."""

    def __init__(self, settings, strategy, classes, texts, y, valid_texts, valid_y, fixed_blend=None,
                 unlabelled_texts=()):
        self.s, self.strategy, self.classes, self.fixed_blend = settings, strategy, classes, fixed_blend
        self.unlabelled_texts = unlabelled_texts
        self.texts, self.y, self.valid_texts, self.valid_y = texts, y, valid_texts, valid_y
        self.chief = distribute.is_chief(strategy)
        self.batch = distribute.global_batch_size(settings.batch_size, strategy)
        self.record = FitRecord(replicas=strategy.num_replicas_in_sync, global_batch_size=self.batch)
        self.architecture = None  # init model: the source classifier's (zoo.transfer.classifier.ARCHITECTURE)
        self.embeddings = None  # the embedding's start (word vectors, a source classifier's), or None: random

    @classmethod
    def prepare(cls, settings, strategy, texts, labels, validation_data=None, *, classes=None,
                unlabelled_texts=None, fixed_blend=None):
        """The steps of a fit on these inputs, checked and encoded (:meth:`zoo.TextClassifier.fit`'s arguments;
        ``settings`` with their per-init defaults, ``strategy`` a ``tf.distribute.Strategy`` or None: the
        settings'). Also sets the seed and the dtype policy; ``baseline_data`` is every labelled text given."""
        multi = settings.multi_label
        # Multi-worker collectives must be set up before any other TensorFlow work.
        strategy = strategy or distribute.make_strategy(settings.strategy)
        precision = distribute.resolve_precision(settings.precision)
        keras.utils.set_random_seed(settings.seed)
        texts = check_texts("texts", texts)
        classes, y, no_labels, encode = label_targets(labels, len(texts), classes, multi_label=multi)
        texts, y, valid_texts, valid_y = split_validation(texts, y, validation_data, settings, no_labels, encode)
        unlabelled = self_training_texts(settings, unlabelled_texts, texts + valid_texts)
        if settings.hybrid and not holds_words(texts):  # (before training, not after it)
            raise DataError(f"n-gram path: the {len(texts)} training texts hold no word (empty or only punctuation); "
                            "pass hybrid=False (--no-hybrid) to train the recurrent model alone")
        steps = cls(settings, strategy, classes, texts, y, valid_texts, valid_y, fixed_blend=fixed_blend,
                    unlabelled_texts=unlabelled)
        steps.record.precision = precision
        # Why the validation texts too: they are labels zoo was given (and chose its epochs and blend on); a
        # baseline without them would see fewer labels than zoo did (issue #34).
        steps.baseline_data = (texts + valid_texts, np.concatenate([y, valid_y]))
        return steps

    # --- shared steps ---

    def vectorize(self, vectorizer):
        """Sequence length from the training lengths, then the ids of train and valid."""
        self.vectorizer = vectorizer
        full = vectorize(vectorizer, self.texts)
        self.length = resolve_sequence_length(self.s.sequence_length, full.lengths)
        self.train_ids = vectorize(vectorizer, self.texts, self.length, truncation=self.s.truncation)
        self.valid_ids = vectorize(vectorizer, self.valid_texts, self.length, truncation=self.s.truncation)
        self.record.truncated_train_texts = self.train_ids.truncated
        logger.info(f"vocabulary {len(vectorizer.get_vocabulary())} tokens; sequence length {self.length} "
                    f"({self.train_ids.truncated} training texts cut)")

    def datasets(self, seed):
        options = distribute.distribute_dataset_options()
        train = make_dataset(self.train_ids.ids, self.y, self.batch, shuffle=True, seed=seed).with_options(options)
        valid = (make_dataset(self.valid_ids.ids, self.valid_y, self.batch).with_options(options)
                 if len(self.valid_y) else None)
        return train, valid

    def backup_dir(self):
        """This process's backup folder, created with the record of this run (or checked against it), or None."""
        if not self.s.backup_dir:
            return None
        backup = distribute.backup_dir_for(self.s.backup_dir, self.strategy)
        open_backup(backup, self.s, data_fingerprint(self.texts, self.y, self.valid_texts, self.valid_y))
        return backup

    def run_options(self, backup, log_dir):
        s = self.s
        return {"optimizer": s.optimizer, "optimizer_options": momentum_options(s.optimizer, s.momentum, s.nesterov),
                "clipnorm": s.clipnorm, "patience": s.patience if s.early_stopping else None,
                "strategy": self.strategy, "lr_scaling": s.lr_scaling, "backup_dir": backup, "log_dir": log_dir,
                "chief": self.chief, "verbose": s.verbose}

    def local_copy(self, model):
        # A plain copy for prediction, saving and export: under a multi-worker strategy predict() gathers every
        # worker's rows, and a SavedModel wants ordinary variables.
        plain = keras.models.clone_model(model)
        plain.set_weights(model.get_weights())
        unfreeze(plain)
        return plain

    def cudnn(self, model):
        self.record.cudnn = format_cudnn_report(cudnn_report(model))
        logger.info("cuDNN check:\n" + self.record.cudnn)

    def with_settings(self, settings):
        """A copy for other training settings that shares the prepared data (tuning's trials)."""
        other = copy.copy(self)
        other.s, other.record = settings, copy.deepcopy(self.record)
        other.batch = distribute.global_batch_size(settings.batch_size, self.strategy)
        return other

    def adaptive_epochs(self):
        """``epochs``, or when it is None :func:`zoo.training.stages.adaptive_epochs` (logged).

        Why: with 10 epochs, 200 or 1,000 labelled 20 Newsgroups documents
        make 70 or 320 steps and the recurrent path stops far from converged.
        With up to 40 epochs (early stopping ended them at 14 and 15) its best
        validation accuracy rose from 0.218 to 0.255 and from 0.496 to 0.553,
        and on the 561 Shakespeare scenes from 0.730 to 0.857; 10,000
        documents make about 3,190 steps in 10 epochs and are unchanged (the
        ``docs/hybrid.md`` study, validation splits only).
        """
        s = self.s
        epochs = s.epochs or adaptive_epochs(len(self.y), self.batch, s.min_steps)
        if s.epochs is None and epochs != DEFAULT_EPOCHS:
            logger.info(f"{len(self.y)} training texts: {epochs} epochs instead of {DEFAULT_EPOCHS}, to make about "
                        f"{s.min_steps} optimizer steps (--min-steps)")
        self.record.epochs_planned = epochs
        return epochs

    def trained(self):
        """What the procedure trained, with the record so far (:class:`Trained`)."""
        return Trained(self.model, self.vectorizer, self.length, self.history, self.record)

    # --- the n-gram path ---

    def ngram_path(self):
        """The hybrid's n-gram path and blend weight, both fitted here (the validation split chooses)."""
        start = time.time()
        fixed = self.fixed_blend  # (temperature, weight, bigram weight, weighting) an init-auto comparison chose:
        # the refit keeps the features its temperature was chosen for
        balanced = self.s.class_weight == "balanced"  # (class weights on every path, the blend by macro F1)
        layer, info = fit_ngram_path(self.texts, self.y, len(self.classes), self.s.ngram_max_tokens,
                                     self.valid_texts, self.valid_y, seed=self.s.seed,
                                     temperature=fixed and fixed[0], bigram_weight=fixed[2] if fixed else "auto",
                                     weighting=fixed[3] if fixed and len(fixed) > 3 else "auto",
                                     unlabelled_texts=self.unlabelled_texts,
                                     class_weight="balanced" if balanced else None)
        if fixed:
            weight, scores = fixed[1], {}
        elif len(self.valid_y):
            weight, scores = choose_blend_weight(recurrent_probabilities(self.model, self.valid_ids.ids),
                                                 ngram_logits(layer, self.valid_texts), self.valid_y,
                                                 by="macro_f1" if balanced else "accuracy")
            if balanced:
                info["blend_chosen_by"] = "macro F1 (class_weight balanced)"
        else:
            weight, scores = choose_blend_weight(None, None, self.valid_y)  # the default, with a warning
        info.update(blend_weight=weight, valid_accuracy=scores, seconds=round(time.time() - start, 1))
        self.record.hybrid = info
        scored = f" (validation accuracy {', '.join(f'{k} {v:.4f}' for k, v in scores.items())})" if scores else ""
        logger.info(f"hybrid: the recurrent path weighs {weight:.2f} in the blend{scored}")
        return layer, weight

    def multi_label_ngram_path(self):
        """A multi-label hybrid's n-gram path (one linear model per label) and each label's blend weight, both
        fitted here (the validation split chooses)."""
        start = time.time()
        layer, info = fit_multi_label_ngram_path(self.texts, self.y, self.s.ngram_max_tokens, self.valid_texts,
                                                 self.valid_y, seed=self.s.seed, class_weight="balanced" if
                                                 self.s.class_weight == "balanced" else None)
        recurrent = (recurrent_probabilities(self.model, self.valid_ids.ids) if len(self.valid_y) else
                     np.zeros((0, len(self.classes)), np.float32))
        weights, chosen = choose_label_weights(recurrent, ngram_logits(layer, self.valid_texts), self.valid_y)
        info.update(blend_weights=[round(float(w), 2) for w in weights], blend=chosen,
                    seconds=round(time.time() - start, 1))
        self.record.hybrid = info
        logger.info(f"hybrid: the recurrent path weighs from {weights.min():.2f} to {weights.max():.2f} "
                    f"(median {np.median(weights):.2f}) in each label's blend")
        return layer, weights

    def refit_ngram_path(self):
        """The n-gram path fitted again, on the training and validation texts, once the validation split has
        chosen its temperature, the blend and (multi-label) the thresholds and the calibration
        (:func:`refit_ngram`); returns the layer."""
        return refit_ngram(self.s, len(self.classes), self.record.hybrid, self.texts + self.valid_texts,
                           np.concatenate([self.y, self.valid_y]), self.unlabelled_texts)


def self_training_texts(settings, unlabelled_texts, labelled_texts):
    """The texts the n-gram path self-trains on: ``unlabelled_texts`` minus the labelled ones, with
    ``self_training`` (single-label only); else none."""
    return unlabelled_only(unlabelled_texts, labelled_texts) if settings.self_training and not settings.multi_label \
        else []


def refit_ngram(settings, num_classes, info, texts, y, unlabelled_texts=()):
    """The n-gram path fitted again on ``texts`` (the training and validation texts) and their label ids ``y``,
    with the temperature, features and class weights in ``info`` (the fit record's ``hybrid``, where the refit is
    recorded too) that the validation split chose; returns the layer. :meth:`FitSteps.refit_ngram_path` and init
    auto, once its comparison, pair and calibration are done, call it.

    Why: the SVMs are a convex fit of seconds, so the validation labels can teach them too once nothing is left
    to choose there, as they teach the printed baseline (issue #34). Measured on validation splits cut in
    halves (fitted on train or on train and one half; scored on the other, both ways;
    ``bench/ngram_refit.py``): debtags (halves by source package) micro F1 0.587 -> 0.593, macro F1
    0.492 -> 0.504; the single-label path's accuracy on 20 Newsgroups 0.7836 -> 0.7889, KJV 0.7718 ->
    0.7786, SMS 0.9888 -> 0.9910, Chinese reviews 0.8495 -> 0.8488, Shakespeare unchanged. The recurrent
    model is not refitted: its epochs were chosen on the validation split, and it would train twice.
    """
    start = time.time()
    # The features its temperature and blend were chosen for (more texts could cross SMALL_TRAINING_SET).
    chosen = {"seed": settings.seed, "temperature": info["temperature"], "bigram_weight": info["bigram_weight"],
              "ngrams": info["ngrams"], "class_weight": info.get("class_weight")}
    if settings.multi_label:
        layer, _ = fit_multi_label_ngram_path(texts, y, settings.ngram_max_tokens, **chosen)
    else:
        layer, _ = fit_ngram_path(texts, y, num_classes, settings.ngram_max_tokens, unlabelled_texts=unlabelled_texts,
                                  weighting=info.get("weighting", "tfidf"), **chosen)
    info["refit"] = {"texts": len(texts), "features": len(layer.vocabulary), "seconds": round(time.time() - start, 1)}
    logger.info(f"hybrid: the n-gram path fitted again on the {len(texts)} training and validation texts (its "
                "temperature and blend chosen before)")
    return layer


class Trained(NamedTuple):
    """What a training procedure returns: the recurrent model (token ids to probabilities), its tokenizer and
    sequence length, the per-epoch history and the fit record (:class:`~zoo.training.fit_record.FitRecord`)."""

    model: keras.Model
    vectorizer: keras.layers.TextVectorization
    length: int
    history: list
    record: FitRecord


def member_probabilities(model, ids, batch_size=128):
    """Each member's probabilities of a recurrent model (an ensemble's ``member_1`` ..., else the model's own), in
    the order of ``ids`` (:func:`zoo.data.text.predict_in_order`)."""
    return [predict_in_order(m, ids, batch_size=batch_size) for m in ensemble_members(model)]


def recurrent_probabilities(model, ids):
    """The recurrent model's probabilities (an ensemble's mean)."""
    return average_probabilities(member_probabilities(model, ids))
