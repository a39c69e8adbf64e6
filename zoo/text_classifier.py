"""``TextClassifier``: train on raw texts, predict, evaluate beside a baseline, save, load, export.

An estimator in the scikit-learn / fastai ``Learner`` / ktrain ``Predictor``
tradition over zoo's pipeline: the constructor arguments are the settings
(:class:`zoo.config.ClassifierConfig`, the one place of their defaults and
checks), and :meth:`TextClassifier.fit` runs the whole staged transfer on
raw texts. Every zoo entry point (``zoo train``, the recipes, ``zoo tune``,
the ULMFiT study) trains through it.

Example:

>>> texts = ["great fun film", "loved every minute", "boring and slow", "a dull mess"] * 8
>>> labels = ["pos", "pos", "neg", "neg"] * 8
>>> clf = TextClassifier(init="none", units=8, embedding_dim=8, epochs=2, learning_rate=0.02, verbose=0)
>>> clf = clf.fit(texts, labels, validation_data=(texts[:8], labels[:8]))
>>> clf.classes_
['neg', 'pos']
>>> clf.predict_proba(["what a great film"]).shape
(1, 2)
>>> sorted(clf.evaluate(texts, labels, baseline=True))[:3]
['accuracy', 'baseline', 'confusion_matrix']
"""

import dataclasses
import decimal
import inspect
import os
import time

import keras
import numpy as np

from zoo.backend import require_tensorflow

require_tensorflow("TextClassifier (its text pipeline, n-gram path and SavedModel export)")

from zoo.classifier_files import read_classifier, write_classifier
from zoo.config import ClassifierConfig, init_kind, resolve_init_defaults
from zoo.data.datasets import split_indices
from zoo.data.text import vectorize
from zoo.errors import ConfigError, DataError
from zoo.evaluation.baselines import fair_baseline, tfidf_svm_multi_label_baseline
from zoo.evaluation.metrics import DEFAULT_THRESHOLD, choose_thresholds, classification_metrics, multi_label_metrics
from zoo.log import logger
from zoo.models.ensemble import average_probabilities, ensemble_members
from zoo.models.hybrid import blend, blend_multi_label
from zoo.training import distribute
from zoo.training.backups import data_fingerprint, open_backup, remove_backup
from zoo.training.fit_steps import FitSteps, member_probabilities


class TextClassifier:
    """A recurrent text classifier on raw texts, started from word vectors or a language model.

    Args:
        **params: any field of :class:`zoo.config.ClassifierConfig` (there
            with its default and what it allows), e.g. ``model="bilstm"``,
            ``init="glove-6b-50d"`` (word vectors), ``init="lm:ARTIFACT"``
            (ULMFiT from a pretrained language model), ``init="none"``,
            ``epochs=10``. ``strategy`` also takes a ``tf.distribute.Strategy``.

    Raises:
        ConfigError: (a ``ValueError``) an unknown argument or a bad value,
            naming the argument.

    Attributes (after :meth:`fit` or :meth:`load`):
        classes_: the labels, in the order of the probability columns.
        settings_: the :class:`~zoo.config.ClassifierConfig` the model was
            trained with, every per-init default filled in.
        model_: the trained Keras model (token ids to probabilities).
        vectorizer_: the ``TextVectorization`` adapted on the training texts.
        ngram_: the hybrid's n-gram path (:class:`zoo.models.hybrid.NgramLinear`:
            raw texts to logits), or None.
        blend_weight_: the recurrent path's weight in the hybrid's blend
            (chosen on the validation split).
        companions_: other fitted classifiers, each with its own tokenizer,
            whose recurrent probabilities are averaged with this one's before
            the blend (init auto's pair of candidates); usually empty.
        sequence_length_: tokens per text (longer texts keep their first ones).
        history_: per-epoch dicts, each with its ``stage``.
        fit_info_: what the training did (time, epochs, vector coverage,
            language-model fine-tuning, the model's name, the cuDNN check).
    """

    def __init__(self, **params):
        strategy = params.get("strategy")
        self._strategy_object = None
        if strategy is not None and not isinstance(strategy, str):  # a tf.distribute.Strategy
            self._strategy_object = strategy
            params = {**params, "strategy": "default"}
        unknown = sorted(set(params) - set(ClassifierConfig.names()))
        if unknown:
            raise ConfigError(unknown[0], f"TextClassifier got unknown argument(s) {', '.join(map(repr, unknown))}; "
                                          f"known: {', '.join(ClassifierConfig.names())}")
        self._config = ClassifierConfig(**params)
        self._baseline_data = None  # (texts, labels) the baseline trains on: every labelled text fit was given
        self._fixed_blend = None  # (temperature, weight, bigram weight) for a refit of init auto's winner

    # === Parameters ===

    def get_params(self, deep=True):
        """The constructor arguments, as scikit-learn's ``get_params``."""
        params = self._config.to_dict()
        if self._strategy_object is not None:
            params["strategy"] = self._strategy_object
        return params

    def set_params(self, **params):
        """Changes constructor arguments (checked as in the constructor); returns ``self``."""
        merged = {**self.get_params(), **params}
        baseline_data = self._baseline_data
        self.__init__(**merged)
        self._baseline_data = baseline_data
        return self

    def __repr__(self):
        defaults = ClassifierConfig()
        changed = {k: v for k, v in self.get_params().items() if v != getattr(defaults, k)}
        return f"TextClassifier({', '.join(f'{k}={v!r}' for k, v in changed.items())})"

    # === Training ===

    def fit(self, texts, labels, validation_data=None, *, classes=None, lm_texts=None, unlabelled_texts=None):
        """Trains on raw texts; returns ``self``.

        Args:
            texts: the training texts (a list of ``str``).
            labels: their labels (any hashable values: class names or ids).
            validation_data: ``(texts, labels)`` for early stopping; None
                holds out ``validation_split`` of the training texts (seeded,
                stratified); an empty pair means no validation.
            classes: the label set in the order of the outputs (default: the
                sorted labels, numerically when they are all integers).
            lm_texts: with ``init="lm:..."``, the texts the language model is
                fine-tuned on (default: the training and validation texts);
                unlabelled texts belong here.
            unlabelled_texts: texts without labels (the rest of a corpus of
                which only some texts are labelled). With ``hybrid`` and
                ``self_training``, the n-gram path self-trains on them
                (:mod:`zoo.training.ngram_path`); the training and
                validation texts among them are left out.

        Raises:
            ConfigError, DataError, VectorsError, PretrainedError: one line
            naming the setting, file or problem.
        """
        if init_kind(self._config.init) == "auto":
            return self._fit_auto(texts, labels, validation_data, classes, lm_texts, unlabelled_texts)
        if self._config.multi_label:
            return self._fit_multi_label(texts, labels, validation_data, classes)
        settings = resolve_init_defaults(self._config)
        # Multi-worker collectives must be set up before any other TensorFlow work.
        strategy = self._strategy_object or _make_strategy(settings.strategy)
        precision = distribute.resolve_precision(settings.precision)
        keras.utils.set_random_seed(settings.seed)
        texts = _texts("texts", texts)
        labels = _labels("labels", labels, len(texts))
        classes = _classes(classes, labels)
        if len(classes) < 2:
            raise DataError(f"labels: expected at least 2 classes, got {len(classes)} ({classes})")
        y = _encode("labels", labels, classes)
        texts, y, valid_texts, valid_y = _validation(
            texts, y, validation_data, settings, np.zeros(0, np.int64),
            lambda labels: _encode("validation labels", labels, classes))
        # Why the validation texts too: they are labels zoo was given (and chose its epochs and blend on); a
        # baseline without them would see fewer labels than zoo did (issue #34).
        self._baseline_data = (texts + valid_texts, np.concatenate([y, valid_y]))

        fit = FitSteps(settings, strategy, classes, texts, y, valid_texts, valid_y, fixed_blend=self._fixed_blend,
                   unlabelled_texts=_unlabelled(unlabelled_texts, texts, valid_texts) if settings.self_training else [])
        if init_kind(settings.init) == "lm":
            lm_texts = _texts("lm_texts", lm_texts) if lm_texts is not None else texts + valid_texts
            fit.ulmfit(lm_texts)
        elif init_kind(settings.init) == "model":
            fit.from_classifier(TextClassifier.load(settings.init[len("model:"):]))  # one line if unusable
        else:
            fit.word_vectors()
        self.ngram_, self.blend_weight_ = fit.ngram_path() if settings.hybrid else (None, 1.0)
        self.companions_ = []
        self.settings_ = settings
        self.classes_ = classes
        self.model_ = fit.model
        self.vectorizer_ = fit.vectorizer
        self.sequence_length_ = fit.length
        self.history_ = fit.history
        self.fit_info_ = {**fit.info, "precision": precision, "replicas": strategy.num_replicas_in_sync,
                          "global_batch_size": distribute.global_batch_size(settings.batch_size, strategy)}
        return self

    def _fit_auto(self, texts, labels, validation_data, classes, lm_texts, unlabelled_texts):
        """``init="auto"``: each candidate of :mod:`zoo.training.auto` that fits the budget, the best kept."""
        import contextlib
        import tempfile

        from zoo.training import auto

        start = time.time()
        s = self._config
        texts = _texts("texts", texts)
        labels = _labels("labels", labels, len(texts))
        classes = _classes(classes, labels)
        if validation_data is not None:
            valid_texts, valid_labels = _pair("validation_data", validation_data)
            valid_texts = _texts("validation texts", valid_texts)
            validation_data = (valid_texts, _labels("validation labels", valid_labels, len(valid_texts)))
        lm_texts = _texts("lm_texts", lm_texts) if lm_texts is not None else texts + (
            validation_data[0] if validation_data else [])
        refit = validation_data is None or not len(validation_data[0])
        if refit:  # hold out part of the labelled texts for the comparison, then train the winner on all
            keep, held = split_indices(_encode("labels", labels, classes), s.seed, test_size=auto.HOLD_OUT)
            pick_data = ([texts[i] for i in keep], [labels[i] for i in keep])
            validation = ([texts[i] for i in held], [labels[i] for i in held])
        else:
            pick_data, validation = (texts, labels), validation_data
        with contextlib.ExitStack() as stack:
            # The candidates share one fine-tuned language model; without a cache directory, a temporary one.
            cache = s.lm_cache_dir or stack.enter_context(tempfile.TemporaryDirectory(prefix="zoo-auto-lm-"))
            params = {**self.get_params(), "lm_cache_dir": cache}
            if s.backup_dir:  # each training of the comparison resumes from a backup of its own, inside this one
                open_backup(s.backup_dir, s, data_fingerprint(texts, labels, *(validation_data or ([], []))))
            results = self._auto_candidates(params, pick_data, validation, classes, lm_texts, unlabelled_texts)
            two = auto.pair(results) if s.auto_pair else None
            if two:
                results.append(_auto_pair(two, validation, classes))
            winner = auto.best(results)
            if winner.get("members"):
                first, second = two
                chosen, partner = first["classifier"], second["classifier"]
                blend_weight = winner["blend_weight"]
            else:
                first, partner, chosen = winner, None, winner["classifier"]
                blend_weight = chosen.blend_weight_
            if refit:
                logger.info(f"init auto: training {winner['name']} again on all {len(texts)} labelled texts")
                again = TextClassifier(**{**params, **first["changes"], "backup_dir": _within(s.backup_dir, "refit")})
                hybrid = chosen.fit_info_.get("hybrid")
                again._fixed_blend = (hybrid["temperature"], blend_weight, hybrid["bigram_weight"]) if hybrid else None
                chosen = again.fit(texts, labels, validation_data=([], []), classes=classes, lm_texts=lm_texts,
                                   unlabelled_texts=unlabelled_texts)
                if partner is not None:  # its recurrent path only: the blend uses the first one's n-gram path
                    partner = TextClassifier(**{**params, **second["changes"], "hybrid": False,
                                                "backup_dir": _within(s.backup_dir, "refit_partner")}).fit(
                        texts, labels, validation_data=([], []), classes=classes, lm_texts=lm_texts,
                        unlabelled_texts=unlabelled_texts)
            if partner is not None:
                partner.ngram_, partner.blend_weight_ = None, 1.0
                chosen.companions_ = [partner]
                chosen.blend_weight_ = blend_weight
                if chosen.fit_info_.get("hybrid") and not refit:  # (a refit's blend is the comparison's, fixed)
                    chosen.fit_info_["hybrid"] = {**chosen.fit_info_["hybrid"], "blend_weight": blend_weight,
                                                  "valid_accuracy": winner["blend_scores"]}
        remove_backup(s.backup_dir)
        results = [{k: v for k, v in r.items() if k not in ("classifier", "changes", "valid_paths")} for r in results]
        for name in ("settings_", "classes_", "model_", "vectorizer_", "sequence_length_", "history_", "ngram_",
                     "blend_weight_", "companions_", "_baseline_data"):
            setattr(self, name, getattr(chosen, name))
        ties = sum(r.get("valid_accuracy") == winner["valid_accuracy"] for r in results) > 1
        self.fit_info_ = {**chosen.fit_info_, "train_seconds": round(time.time() - start, 1), "auto": {
            "chose": winner["name"], "why": "the best validation accuracy" + (" (ties: the cheaper)" if ties else ""),
            "validation": "the validation split" if not refit else (
                f"a seeded {auto.HOLD_OUT:.0%} of the labelled texts (the winner then trained on all)"),
            "candidates": results}}
        logger.info(f"init auto: chose {winner['name']} (" + ", ".join(
            f"{r['name']} {r['valid_accuracy']:.4f}" if "valid_accuracy" in r else f"{r['name']} skipped"
            for r in results) + ")")
        return self

    def _auto_candidates(self, params, pick_data, validation, classes, lm_texts, unlabelled_texts):
        """Each candidate trained and scored on ``validation``, or skipped when its estimate exceeds the budget."""
        from zoo.training import auto

        s = self._config
        budget, results, finetune = 60.0 * s.auto_budget, [], None
        spent = auto.vector_seconds(s, pick_data[0])  # the vectors always run: the reference
        lm, why = auto.language_model(s, pick_data[0])
        if why:
            logger.info(f"init auto: {why}")
        for name, changes in auto.candidates(s):
            estimate = spent
            if name != "vectors" and lm is None:
                results.append({"name": name, "skipped": why})
                logger.info(f"init auto: skipping {name} ({why})")
                continue
            if name != "vectors":
                changes = {**changes, "init": lm}
                if finetune is None:  # decided once: the probe and ULMFiT share the fine-tuned language model
                    finetune_cost = auto.finetune_seconds(s, lm_texts)
                    finetune = s.lm_finetune and spent + finetune_cost + auto.probe_seconds(pick_data[0]) <= budget
                    spent += finetune_cost if finetune else 0.0
                changes = {**changes, "lm_finetune": finetune}
                estimate = (auto.probe_seconds(pick_data[0]) if name == "lm_probe"
                            else auto.ulmfit_seconds(s, pick_data[0]))
                if spent + estimate > budget:
                    left = max(budget - spent, 0) / 60
                    skipped = f"estimated {estimate / 60:.1f} min, {left:.1f} min of the budget left"
                    results.append({"name": name, "estimated_minutes": round(estimate / 60, 1), "skipped": skipped})
                    logger.info(f"init auto: skipping {name} ({skipped})")
                    continue
                spent += estimate
            shown = ", ".join(f"{k}={v}" for k, v in changes.items() if v is not None)
            logger.info(f"init auto: candidate {name} ({shown})")
            began = time.time()
            candidate = TextClassifier(**{**params, **changes, "backup_dir": _within(s.backup_dir, name)})
            candidate.fit(*pick_data, validation_data=validation, classes=classes, lm_texts=lm_texts,
                          unlabelled_texts=unlabelled_texts)
            paths = candidate.predict_paths(validation[0])  # (kept: the pair's entry averages them)
            accuracy = float(np.mean(paths["model"].argmax(-1) == _encode("validation labels", validation[1], classes)))
            results.append({"name": name, "settings": {k: v for k, v in changes.items() if v is not None},
                            "estimated_minutes": round(estimate / 60, 1), "valid_accuracy": accuracy,
                            "seconds": round(time.time() - began, 1), "classifier": candidate, "changes": changes,
                            "valid_paths": paths})
            logger.info(f"init auto: {name} scored {accuracy:.4f} on the validation split")
        return results

    # === Multi-label ===

    def _fit_multi_label(self, texts, labels, validation_data, classes):
        """``multi_label=True``: label lists, a sigmoid head, early stopping on the validation loss; with
        ``hybrid``, an n-gram path of one linear model per label blended with it per label
        (:func:`zoo.training.ngram_path.fit_multi_label_ngram_path`); then a threshold per label chosen on the
        validation split, after the blend (:func:`zoo.evaluation.metrics.choose_thresholds`)."""
        settings = resolve_init_defaults(self._config)
        strategy = self._strategy_object or _make_strategy(settings.strategy)
        precision = distribute.resolve_precision(settings.precision)
        keras.utils.set_random_seed(settings.seed)
        texts = _texts("texts", texts)
        label_lists = _label_lists("labels", labels, len(texts))
        classes = _classes(classes, [v for row in label_lists for v in row])
        if not classes:
            raise DataError("labels: expected at least 1 label among the label lists, got none")
        y = _encode_label_lists("labels", label_lists, classes)
        texts, y, valid_texts, valid_y = _validation(
            texts, y, validation_data, settings, np.zeros((0, len(classes)), np.float32),
            lambda labels: _encode_label_lists("validation labels", _label_lists("validation labels", labels), classes))
        # Why the validation texts too: they are labels zoo was given (and chose its epochs and blend on); a
        # baseline without them would see fewer labels than zoo did (issue #34).
        self._baseline_data = (texts + valid_texts, np.concatenate([y, valid_y]))
        fit = FitSteps(settings, strategy, classes, texts, y, valid_texts, valid_y)
        fit.word_vectors()
        self.ngram_, self.blend_weight_ = fit.multi_label_ngram_path() if settings.hybrid else (None, 1.0)
        self.companions_ = []
        self.settings_, self.classes_, self.model_, self.vectorizer_ = settings, classes, fit.model, fit.vectorizer
        self.sequence_length_, self.history_ = fit.length, fit.history
        self.thresholds_, chosen = self._choose_thresholds(fit.valid_texts, valid_y)
        self.fit_info_ = {**fit.info, "thresholds": chosen, "precision": precision,
                          "replicas": strategy.num_replicas_in_sync,
                          "global_batch_size": distribute.global_batch_size(settings.batch_size, strategy)}
        return self

    def _choose_thresholds(self, valid_texts, valid_y):
        """Each label's threshold, chosen on the validation split (of a hybrid, after the blend, and of each
        path alone for the report); ``(thresholds, what to report)``."""
        names = [str(c) for c in self.classes_]
        if not len(valid_y):
            logger.warning(f"multi-label: no validation split: every label's threshold is {DEFAULT_THRESHOLD}")
            thresholds = np.full(len(names), DEFAULT_THRESHOLD)
            return thresholds.astype(np.float32), {"chosen_on": "none: no validation split",
                                                   "values": dict(zip(names, thresholds.tolist()))}
        paths = self.predict_paths(valid_texts)
        probabilities = paths["model"]
        thresholds, f1 = choose_thresholds(valid_y, probabilities)
        alone = {name: [round(float(t), 2) for t in choose_thresholds(valid_y, paths[name])[0]]
                 for name in ("recurrent", "ngram") if self.ngram_ is not None}
        absent = [name for name, value in zip(names, f1) if np.isnan(value)]
        logger.info(f"multi-label: thresholds chosen on the {len(valid_y)} validation texts (from "
                    f"{thresholds.min():.2f} to {thresholds.max():.2f}, median {np.median(thresholds):.2f})"
                    + (f"; {len(absent)} label(s) absent there keep {DEFAULT_THRESHOLD}: {', '.join(absent[:5])}"
                       + (", ..." if len(absent) > 5 else "") if absent else ""))
        at_half = multi_label_metrics(valid_y, probabilities >= DEFAULT_THRESHOLD, names)
        chosen = multi_label_metrics(valid_y, probabilities >= thresholds, names)
        return thresholds.astype(np.float32), {
            "chosen_on": f"the validation split ({len(valid_y)} texts): each label's best F1 over 0.05, ..., 0.95",
            "values": dict(zip(names, [round(float(t), 2) for t in thresholds])),
            "absent_from_validation": absent,
            "valid_micro_f1": {"at_0.5": at_half["micro_f1"], "chosen": chosen["micro_f1"]},
            "valid_macro_f1": {"at_0.5": at_half["macro_f1"], "chosen": chosen["macro_f1"]},
            **({"paths": alone} if alone else {})}

    def _evaluate_multi_label(self, texts, labels, baseline):
        """:meth:`evaluate` of a multi-label classifier: micro/macro figures, per label, the baseline beside."""
        texts = _texts("texts", texts)
        y = _encode_label_lists("labels", _label_lists("labels", labels, len(texts)), self.classes_)
        names = [str(c) for c in self.classes_]
        paths = self.predict_paths(texts)
        metrics = multi_label_metrics(y, paths["model"] >= self.thresholds_, names)
        metrics["thresholds"] = dict(zip(names, [round(float(t), 2) for t in self.thresholds_]))
        alone = self.fit_info_.get("thresholds", {}).get("paths")
        if self.ngram_ is not None and alone:  # each path alone, at the thresholds chosen for it on validation
            metrics["paths"] = {name: multi_label_metrics(y, paths[name] >= np.asarray(alone[name]), names)
                                for name in ("recurrent", "ngram")}
            for part in metrics["paths"].values():
                part.pop("per_class", None)
            metrics["paths"]["blend_weight"] = [float(w) for w in np.atleast_1d(self.blend_weight_)]
        if baseline is not False and baseline is not None:
            if baseline is True:
                if self._baseline_data is None:
                    raise ConfigError("baseline", "`baseline=True` needs the training texts, which a loaded "
                                                  "classifier does not have: pass baseline=(texts, label lists)")
                train_texts, train_y = self._baseline_data
            else:
                train_texts, train_labels = _pair("baseline", baseline)
                train_texts = _texts("baseline texts", train_texts)
                train_y = _encode_label_lists("baseline labels", _label_lists("baseline labels", train_labels,
                                                                              len(train_texts)), self.classes_)
            logger.info(f"one-vs-rest TF-IDF + LinearSVC baseline on the {len(train_texts)} labelled texts")
            metrics["baseline"] = tfidf_svm_multi_label_baseline(train_texts, train_y, _texts("texts", texts), y,
                                                                 names, seed=self.settings_.seed)
        return metrics

    # === Prediction ===

    def predict_proba(self, texts, batch_size=128):
        """Class probabilities, ``(len(texts), len(classes_))`` float32; columns in ``classes_`` order."""
        return self.predict_paths(texts, batch_size)["model"]

    def predict_paths(self, texts, batch_size=128):
        """The probabilities of the model and of each of its paths, as a dict of ``(len(texts), n_classes)``
        arrays: ``"model"`` (what :meth:`predict_proba` gives), ``"members"`` (a list: each recurrent member's),
        ``"recurrent"`` (their mean, with a pair's companion) and, for a hybrid, ``"ngram"`` (the n-gram path
        alone). For error analysis and for studies of the blend (``bench/``)."""
        self._check_fitted()
        texts = _texts("texts", texts)
        batch_size = _check_batch_size(batch_size)
        if not texts:  # (Keras' predict would fail on no batches)
            empty = np.zeros((0, len(self.classes_)), np.float32)
            return {"members": [empty] * len(ensemble_members(self.model_)), "recurrent": empty, "model": empty,
                    **({"ngram": empty} if self.ngram_ is not None else {})}
        ids = vectorize(self.vectorizer_, texts, self.sequence_length_, truncation=self.settings_.truncation).ids
        members = member_probabilities(self.model_, ids, batch_size)
        recurrent = average_probabilities(members)
        if self.companions_:  # each with its own tokenizer (the exported model's `recurrent_average` does the same)
            recurrent = np.mean([recurrent] + [c.predict_paths(texts, batch_size)["recurrent"]
                                               for c in self.companions_], axis=0)
        paths = {"members": members, "recurrent": recurrent, "model": recurrent}
        if self.ngram_ is not None:
            from zoo.training.ngram_path import ngram_logits

            logits = ngram_logits(self.ngram_, texts)
            mix = blend_multi_label if self.settings_.multi_label else blend  # per label, or over the classes
            paths.update(ngram=mix(recurrent, logits, 0.0), model=mix(recurrent, logits, self.blend_weight_))
        return paths

    def predict(self, texts, batch_size=128):
        """The most probable label of each text (values of ``classes_``); with ``multi_label``, the list of
        labels at or above their thresholds (in ``classes_`` order, possibly empty)."""
        probs = self.predict_proba(texts, batch_size=batch_size)
        if self.settings_.multi_label:
            return [[self.classes_[j] for j in np.flatnonzero(row)] for row in probs >= self.thresholds_]
        return [self.classes_[i] for i in probs.argmax(-1)]

    def evaluate(self, texts, labels, *, baseline=False):
        """The metrics of the reports: accuracy, macro precision/recall/F1, per class, confusion matrix.

        Args:
            texts, labels: the evaluation split.
            baseline: True adds ``metrics["baseline"]``: the stronger of
                TF-IDF + LinearSVC and NBSVM by cross-validation
                (:func:`zoo.evaluation.baselines.fair_baseline`), trained on
                every labelled text :meth:`fit` was given (the training and
                validation texts); or a ``(texts, labels)`` pair to train it on.

        Returns:
            A dict; an ensemble adds each member's scores (``members``) and
            what each smaller ensemble would have scored
            (``accuracy_by_ensemble_size``).
        """
        self._check_fitted()
        if self.settings_.multi_label:
            return self._evaluate_multi_label(texts, labels, baseline)
        texts = _texts("texts", texts)
        if not texts:
            raise DataError("texts: no texts to evaluate on")
        y = _encode("labels", _labels("labels", labels, len(texts)), self.classes_)
        paths = self.predict_paths(texts)
        member_probs = paths["members"]
        names = [str(c) for c in self.classes_]
        metrics = classification_metrics(y, paths["model"].argmax(-1), names)
        if self.ngram_ is not None:
            parts = {name: classification_metrics(y, paths[name].argmax(-1), names) for name in ("recurrent", "ngram")}
            for part in parts.values():
                part.pop("confusion_matrix")
            metrics["paths"] = {**parts, "blend_weight": self.blend_weight_}
        if len(member_probs) > 1:
            seeds = [self.settings_.seed + 1000 * k for k in range(len(member_probs))]
            scores = [classification_metrics(y, p.argmax(-1), names) for p in member_probs]
            metrics["members"] = [{"seed": seed, "accuracy": s["accuracy"], "macro_f1": s["macro_f1"]}
                                  for seed, s in zip(seeds, scores)]
            metrics["accuracy_by_ensemble_size"] = [
                round(float(np.mean(np.mean(member_probs[:k], axis=0).argmax(-1) == y)), 4)
                for k in range(1, len(member_probs) + 1)]
        if baseline is not False and baseline is not None:
            if baseline is True:
                if self._baseline_data is None:
                    raise ConfigError("baseline", "`baseline=True` needs the training texts, which a loaded "
                                                  "classifier does not have: pass baseline=(texts, labels)")
                train_texts, train_y = self._baseline_data
            else:
                train_texts, train_labels = _pair("baseline", baseline)
                train_texts = _texts("baseline texts", train_texts)
                train_y = _encode("baseline labels", _labels("baseline labels", train_labels, len(train_texts)),
                                  self.classes_)
            logger.info(f"baseline: TF-IDF + LinearSVC or NBSVM, chosen by cross-validation on the {len(train_texts)} "
                        "labelled texts")
            metrics["baseline"] = fair_baseline(train_texts, train_y, texts, y, names, seed=self.settings_.seed)
        return metrics

    # === Saving ===

    def save(self, path, overwrite=False):
        """Writes the classifier to the folder ``path``: settings, labels, vocabulary and the Keras model.

        ``TextClassifier.load(path)`` gives a classifier that predicts exactly
        the same. The new folder is built beside the old one and swapped in,
        so a crash leaves the old or the new classifier whole; other files in
        a run folder stay (:mod:`zoo.classifier_files`).

        Raises:
            ExportError: ``path`` holds a saved classifier and ``overwrite`` is
                False, or ``path`` is a folder zoo did not write (zoo replaces
                only its own folders), or the disk is full.
        """
        self._check_fitted()
        return write_classifier(self, path, overwrite=overwrite)

    def saved_params(self):
        """The constructor arguments as :meth:`save` records them (a strategy object by its name)."""
        return {**self.get_params(), "strategy": self._config.strategy}

    @classmethod
    def load(cls, path):
        """A classifier saved by :meth:`save` (or written by ``zoo train``); its companions from their
        subfolders (``companion_1`` ...).

        Loading runs the model in the folder (a Keras model and TensorFlow
        ops): load only folders you trust, as with any saved model.

        Raises:
            DataError: ``path`` is not a saved classifier, or a file in it is
                missing, damaged or inconsistent (one line naming the file and
                the field).
        """
        return read_classifier(cls, path)

    def export(self, path, overwrite=False, fixed_length=False):
        """Writes a TF SavedModel that classifies raw strings (``serving_default``: texts -> probabilities,
        label_id, label; with ``multi_label``: probabilities, predicted, labels, num_labels); it needs only
        TensorFlow to load. Written beside ``path`` and swapped in, so a crash leaves the old or the new export
        whole; ``overwrite=True`` replaces only an export zoo wrote (see :mod:`zoo.serving.export`). Loading an
        export runs its graph: serve only exports you trust.

        Each batch is padded to its longest text; ``fixed_length=True`` pads every text to the sequence
        length instead (one static shape, the same probabilities, slower on short texts).
        """
        from zoo.serving.export import export_text_classifier

        self._check_fitted()
        export_text_classifier(self.model_, self.vectorizer_, self.sequence_length_,
                               [str(c) for c in self.classes_], os.fspath(path), overwrite=overwrite,
                               ngram=self.ngram_, blend_weight=self.blend_weight_,
                               truncation=self.settings_.truncation, fixed_length=fixed_length,
                               thresholds=self.thresholds_ if self.settings_.multi_label else None,
                               companions=[(c.model_, c.vectorizer_, c.sequence_length_, c.settings_.truncation)
                                           for c in self.companions_])
        return path

    def _check_fitted(self):
        if not hasattr(self, "model_"):
            raise ConfigError(None, "this TextClassifier is not fitted yet: call fit() or TextClassifier.load()")


def _signature():
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    params += [inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default)
               for f in dataclasses.fields(ClassifierConfig)]
    return inspect.Signature(params)


# The signature that help(), IDEs and scikit-learn's clone() see: the config's fields and defaults.
TextClassifier.__init__.__signature__ = _signature()


# === Helpers ===


def _validation(texts, y, validation_data, settings, no_labels, encode):
    """``(texts, y, valid_texts, valid_y)``: the given validation data (its labels through ``encode``), or a
    seeded ``validation_split`` of the training texts, or none (``valid_y`` is then ``no_labels``)."""
    if validation_data is not None:
        valid_texts, valid_labels = _pair("validation_data", validation_data)
        valid_texts = _texts("validation texts", valid_texts)
        valid_y = encode(valid_labels)
        if len(valid_y) != len(valid_texts):
            raise DataError(f"validation_data: {len(valid_texts)} texts and {len(valid_y)} labels; expected one "
                            "label per text")
        return texts, y, valid_texts, valid_y
    if settings.validation_split <= 0:
        return texts, y, [], no_labels
    keep, held = split_indices(y, settings.seed, test_size=settings.validation_split)
    return [texts[i] for i in keep], y[keep], [texts[i] for i in held], y[held]


def _make_strategy(name):
    try:
        return distribute.get_strategy(name)
    except ConfigError:
        raise
    except ValueError as error:  # e.g. a TF_CONFIG task that does not train
        raise ConfigError("strategy", f"`strategy` {name!r}: {error}") from None


def _within(backup_dir, name):
    """init auto: the backup folder of one of its trainings, inside the run's (None without one)."""
    return os.path.join(backup_dir, f"auto_{name}") if backup_dir else None


def _unlabelled(unlabelled_texts, texts, valid_texts):
    """``unlabelled_texts`` without the training and validation texts (a labelled text is not unlabelled)."""
    if unlabelled_texts is None:
        return []
    labelled = set(texts) | set(valid_texts)
    return [t for t in _texts("unlabelled texts", unlabelled_texts) if t not in labelled]


def _auto_pair(pair, validation, classes):
    """init auto's pair entry: the two candidates' recurrent probabilities averaged, then blended with the first
    one's n-gram path at the weight :func:`zoo.training.ngram_path.choose_blend_weight` picks on ``validation``."""
    from zoo.training.ngram_path import choose_blend_weight, ngram_logits

    first = pair[0]["classifier"]
    y = _encode("validation labels", validation[1], classes)
    recurrent = np.mean([r["valid_paths"]["recurrent"] for r in pair], axis=0)
    if first.ngram_ is None:  # hybrid=False: the average alone
        weight, scores = 1.0, {}
        accuracy = float(np.mean(recurrent.argmax(-1) == y))
    else:
        weight, scores = choose_blend_weight(recurrent, ngram_logits(first.ngram_, validation[0]), y)
        accuracy = scores["hybrid"]
    name = "+".join(r["name"] for r in pair)
    logger.info(f"init auto: {name} (their recurrent paths averaged, weighing {weight:.2f} in the blend) scored "
                f"{accuracy:.4f} on the validation split")
    return {"name": name, "members": [r["name"] for r in pair], "valid_accuracy": accuracy,
            "blend_weight": weight, "blend_scores": scores}


def _texts(what, texts):
    """``texts`` as a list of ``str``; a single string, None or a non-text item is a one-line DataError.

    Example:

    >>> _texts("texts", "great fun film")
    Traceback (most recent call last):
    ...
    zoo.errors.DataError: texts: expected a list of texts, got one str ('great fun film'); wrap a single text in a list: [text]
    """
    if isinstance(texts, (str, bytes)):
        raise DataError(f"{what}: expected a list of texts, got one {type(texts).__name__} ({_shown(texts)}); wrap "
                        "a single text in a list: [text]")
    try:
        texts = list(texts)
    except TypeError:
        got = "None" if texts is None else type(texts).__name__
        raise DataError(f"{what}: expected a list of texts, got {got}") from None
    bad = next((i for i, t in enumerate(texts) if not isinstance(t, str)), None)
    if bad is not None:
        raise DataError(f"{what}: item {bad} is a {type(texts[bad]).__name__}, expected str")
    return texts


def _labels(what, labels, size=None):
    """``labels`` as a list of plain hashable values, one per text (``size``); None, NaN, a list or a single
    string among them is a one-line DataError (they would otherwise become classes of their own)."""
    if labels is None or isinstance(labels, (str, bytes)):
        raise DataError(f"{what}: expected a list of labels, one per text, got "
                        + ("None" if labels is None else f"one {type(labels).__name__} ({_shown(labels)})"))
    try:
        labels = [_plain(v) for v in labels]
    except TypeError:
        raise DataError(f"{what}: expected a list of labels, got {type(labels).__name__}") from None
    for i, value in enumerate(labels):
        if value is None or (isinstance(value, float) and value != value):
            raise DataError(f"{what}: item {i} is {'None' if value is None else 'NaN'}; every text needs a label "
                            "(drop the unlabelled ones, or pass them as unlabelled_texts)")
        if isinstance(value, (list, tuple, set, dict, np.ndarray)):
            raise DataError(f"{what}: item {i} is a {type(value).__name__}; several labels per text need "
                            "multi_label=True")
        if isinstance(value, int) and not isinstance(value, bool) and _too_long(value):
            raise DataError(f"{what}: item {i} is an integer of more than {_MAX_DIGITS} digits; give such labels "
                            "as strings")
        if isinstance(value, str) and len(value) > _MAX_LABEL_CHARS:
            raise DataError(f"{what}: item {i} is a label of {len(value):,} characters ({_shown(value)}); expected "
                            f"at most {_MAX_LABEL_CHARS:,} (a text in the label column?)")
    if size is not None and len(labels) != size:
        raise DataError(f"{what}: {len(labels)} labels for {size} texts; expected one label per text")
    return labels


_MAX_DIGITS = 4000  # Python converts integers of more digits to text only after sys.set_int_max_str_digits
_MAX_LABEL_CHARS = 10_000


def _too_long(value):
    return abs(value).bit_length() > _MAX_DIGITS * 3.33


def _shown(value, width=40):
    text = repr(value[:width + 1] if isinstance(value, (str, bytes)) else value)
    return text if len(text) <= width else text[:width - 3] + "..."


def _check_batch_size(batch_size):
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ConfigError("batch_size", f"`batch_size` must be an integer >= 1, got {batch_size!r}")
    return int(batch_size)


def _pair(what, data):
    """``(texts, labels)`` of ``validation_data`` or ``baseline``; anything else is a one-line DataError."""
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise DataError(f"{what}: expected a (texts, labels) pair, got {type(data).__name__}")
    return data


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _class_order(labels):
    """Sorted distinct labels; numerically when they are numbers or integer strings.

    Example:

    >>> _class_order(["10", "9", "10"]), _class_order(["b", "a"])
    (['9', '10'], ['a', 'b'])
    """
    values = sorted({_plain(v) for v in labels}, key=str)
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return sorted(values)
    if all(isinstance(v, str) and v.lstrip("+-").isdigit() for v in values):
        # Decimal, not int: an integer string of thousands of digits is still a label (int() refuses it).
        return sorted(values, key=lambda v: (decimal.Decimal(v), v))
    return values


def _classes(classes, labels):
    """The class order: the given ``classes`` (distinct, no None), or :func:`_class_order` of the labels."""
    if classes is None:
        return _class_order(labels)
    classes = _labels("classes", classes)
    seen = set()
    for value in classes:
        if value in seen:
            raise DataError(f"classes: {_shown(value)} appears more than once; expected distinct labels")
        seen.add(value)
    return classes


def _encode(what, labels, classes):
    index = {c: i for i, c in enumerate(classes)}
    labels = _labels(what, labels)
    unknown = sorted({_shown(v) for v in labels if v not in index})
    if unknown:
        shown = ", ".join(unknown[:5]) + (", ..." if len(unknown) > 5 else "")
        raise DataError(f"{what}: {len(unknown)} label(s) not among the classes: {shown} "
                        f"(classes: {', '.join(map(str, classes[:10]))}{', ...' if len(classes) > 10 else ''})")
    return np.array([index[v] for v in labels], np.int64)


# --- multi-label helpers ---


def _label_lists(what, labels, size=None):
    """Each item a list of labels (a list, tuple, set or array; not a string), each label checked as in
    :func:`_labels`; one list per text (``size``)."""
    if labels is None or isinstance(labels, (str, bytes)):
        raise DataError(f"{what}: expected a list of label lists, one per text, got "
                        + ("None" if labels is None else f"one {type(labels).__name__}"))
    rows = list(labels)
    for i, row in enumerate(rows):
        if isinstance(row, (str, bytes)) or not isinstance(row, (list, tuple, set, frozenset, np.ndarray)):
            raise DataError(f"{what}: item {i} is a {type(row).__name__}, expected a list of labels "
                            "(multi_label=True)")
    if size is not None and len(rows) != size:
        raise DataError(f"{what}: {len(rows)} label lists for {size} texts; expected one list per text")
    return [_labels(f"{what}, item {i}", row) for i, row in enumerate(rows)]


def _encode_label_lists(what, label_lists, classes):
    """A 0/1 float32 matrix ``(texts, classes)``; labels not among ``classes`` are an error."""
    _encode(what, [v for row in label_lists for v in row], classes)  # the one-line error for unknown labels
    index = {c: i for i, c in enumerate(classes)}
    y = np.zeros((len(label_lists), len(classes)), np.float32)
    for row, values in enumerate(label_lists):
        y[row, [index[v] for v in values]] = 1.0
    return y


