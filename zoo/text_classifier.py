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
['accuracy', 'baseline', 'calibration']
"""

import copy
import dataclasses
import functools
import os
import pathlib
import tempfile
import time

import numpy as np

from zoo.backend import require_tensorflow

require_tensorflow("TextClassifier (its text pipeline, n-gram path and SavedModel export)")

from zoo.classifier_files import read_classifier, write_classifier
from zoo.config import STRATEGIES, ClassifierConfig, init_kind, resolve_init_defaults
from zoo.data.inputs import (
    baseline_pair,
    check_batch_size,
    check_count,
    check_fixed_blend,
    check_flag,
    check_min_confidence,
    check_rate,
    check_texts,
    encode_given,
)
from zoo.errors import ConfigError, DataError
from zoo.evaluation import explanations
from zoo.evaluation.calibration import identity_scaling, temperature_record
from zoo.evaluation.scoring import (
    calibrate_labels,
    evaluate_multi_label,
    evaluate_single_label,
    label_thresholds,
)
from zoo.files import path_argument
from zoo.log import logger
from zoo.models.ensemble import ensemble_members
from zoo.models.text_model import (
    classifier_text_model,
    known_token_counts,
    predict_text_model,
    token_lengths,
)
from zoo.serving.export import export_text_classifier
from zoo.serving.predict import warn_unknown_texts
from zoo.training import auto, from_classifier, from_lm, from_vectors, lr_find
from zoo.training.fit_steps import FitSteps


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
        calibration_: the temperature of the final probabilities, chosen
            on the validation split (:meth:`calibrate`; 1.0: none); with
            ``multi_label``, a ``(2, labels)`` array of Platt slopes and biases.
        sequence_length_: tokens per text (longer texts keep their first ones).
        history_: per-epoch dicts, each with its ``stage``.
        fit_record_: what the training did, typed
            (:class:`zoo.training.fit_record.FitRecord`: the procedure,
            time, epochs, vector coverage, language-model fine-tuning, the
            blend, calibration, init auto's comparison); ``fit_info_`` is
            the same as a dict.
    """

    def __init__(self, **params):
        strategy = params.get("strategy")
        self._strategy_object = None
        if strategy is not None and not isinstance(strategy, str):  # a tf.distribute.Strategy
            if not (hasattr(strategy, "scope") and hasattr(strategy, "num_replicas_in_sync")):
                raise ConfigError("strategy", f"`strategy` must be a name ({', '.join(map(repr, STRATEGIES))}) or a "
                                              f"tf.distribute.Strategy, got {type(strategy).__name__} {strategy!r}")
            self._strategy_object = strategy
            params = {**params, "strategy": "default"}
        unknown = sorted(set(params) - set(ClassifierConfig.names()))
        if unknown:
            raise ConfigError(unknown[0], f"TextClassifier got unknown argument(s) {', '.join(map(repr, unknown))}; "
                                          f"known: {', '.join(ClassifierConfig.names())}")
        self._config = ClassifierConfig(**params)
        self._baseline_data = None  # (texts, labels) the baseline trains on: every labelled text fit was given

    # === Parameters ===

    def get_params(self, deep=True):
        """The constructor arguments, as scikit-learn's ``get_params``."""
        params = self._config.to_dict()
        if self._strategy_object is not None:
            params["strategy"] = self._strategy_object
        return params

    def set_params(self, **params):
        """Changes constructor arguments (checked as in the constructor); returns ``self``."""
        # Checked on a new instance first: a bad value leaves this one as it was (re-running __init__ on self reset
        # the strategy object before the check refused the value).
        fresh = type(self)(**{**self.get_params(), **params})
        self._config, self._strategy_object = fresh._config, fresh._strategy_object
        return self

    def __sklearn_clone__(self):
        """scikit-learn's ``clone`` (``GridSearchCV``, ``cross_val_score``): the same arguments, unfitted. A
        ``tf.distribute.Strategy`` argument is shared, not deep-copied as scikit-learn copies arguments: TensorFlow's
        strategies do not copy (the default one: "Should only create a single instance")."""
        return type(self)(**self.get_params())

    def __deepcopy__(self, memo):
        if self._strategy_object is not None:  # (shared, as in __sklearn_clone__)
            memo[id(self._strategy_object)] = self._strategy_object
        twin = type(self).__new__(type(self))
        twin.__setstate__(copy.deepcopy(self.__getstate__(), memo))
        return twin

    def __reduce_ex__(self, protocol):
        if self._strategy_object is not None:  # (TensorFlow's own error: "cannot pickle 'weakref.ReferenceType'")
            raise ConfigError("strategy", "a TextClassifier given a tf.distribute.Strategy object does not pickle "
                                          "(TensorFlow's strategies do not); pass `strategy` by name "
                                          f"({', '.join(map(repr, STRATEGIES))}) to pickle it")
        return super().__reduce_ex__(protocol)

    def __sklearn_tags__(self):
        """What scikit-learn (1.6+) asks of an estimator before ``cross_val_score``, ``GridSearchCV`` or
        ``clone``: a classifier (stratified folds) of a list of raw strings, whose labels it checks itself."""
        from sklearn.utils import ClassifierTags, InputTags, Tags, TargetTags

        multi = self._config.multi_label
        return Tags(estimator_type="classifier", classifier_tags=ClassifierTags(multi_label=multi),
                    target_tags=TargetTags(required=True, one_d_labels=not multi, two_d_labels=multi),
                    input_tags=InputTags(one_d_array=True, two_d_array=False, string=True), no_validation=True)

    def __getstate__(self):
        """A fitted classifier pickles (and deep-copies) as the files :meth:`save` writes, so what unpickles
        predicts exactly what was pickled; Keras' own pickling of the raw-text model drops the vocabularies that zoo's
        layers keep outside their configs. (Unpickling runs code, as for any pickle: only pickles you trust.)"""
        state = dict(self.__dict__)
        state.pop("_keras_model", None)  # (built again on first use)
        if not hasattr(self, "model_"):
            return state
        with tempfile.TemporaryDirectory() as tmp:
            write_classifier(self, os.path.join(tmp, "classifier"))
            folder = pathlib.Path(tmp, "classifier")
            files = {str(f.relative_to(folder)): f.read_bytes() for f in sorted(folder.rglob("*")) if f.is_file()}
        return {"_config": self._config, "_strategy_object": self._strategy_object,
                "_baseline_data": getattr(self, "_baseline_data", None), "saved_files": files}

    def __setstate__(self, state):
        files = state.pop("saved_files", None)
        if files is not None:
            with tempfile.TemporaryDirectory() as tmp:
                for name, data in files.items():
                    target = pathlib.Path(tmp, name)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(data)
                state = {**read_classifier(type(self), pathlib.Path(tmp)).__dict__, **state}
        self.__dict__.update(state)

    def __sklearn_is_fitted__(self):
        """For scikit-learn's ``check_is_fitted``."""
        return hasattr(self, "model_")

    def __repr__(self):
        defaults = ClassifierConfig()
        changed = {k: v for k, v in self.get_params().items() if v != getattr(defaults, k)}
        return f"TextClassifier({', '.join(f'{k}={v!r}' for k, v in changed.items())})"

    # === Training ===

    def fit(self, texts, labels, validation_data=None, *, classes=None, lm_texts=None, unlabelled_texts=None,
            fixed_blend=None):
        """Trains on raw texts; returns ``self``.

        Args:
            texts: the training texts (a list of ``str``).
            labels: their labels (any hashable values: class names or ids);
                with ``multi_label``, a list of labels per text.
            validation_data: ``(texts, labels)`` for early stopping and the
                blend (and a multi-label model's thresholds); None holds out
                ``validation_split`` of the training texts (seeded,
                stratified); an empty pair means no validation. With
                ``ngram_refit`` (the default) the n-gram path then trains on
                them too: score on other texts.
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
            fixed_blend: with ``hybrid``, ``(temperature, weight, bigram_weight, weighting)``
                of the blend to keep instead of choosing them on validation
                (init auto's refit of its winner on all the labelled texts).

        Raises:
            ConfigError, DataError, VectorsError, PretrainedError: one line
            naming the setting, file or problem.
        """
        fixed_blend = check_fixed_blend(fixed_blend)
        if init_kind(self._config.init) == "auto":
            return self._fit_auto(texts, labels, validation_data, classes, lm_texts, unlabelled_texts)
        settings = resolve_init_defaults(self._config)
        multi = settings.multi_label
        steps = FitSteps.prepare(settings, self._strategy_object, texts, labels, validation_data, classes=classes,
                                 unlabelled_texts=unlabelled_texts, fixed_blend=fixed_blend)
        trained = self._procedure(steps, lm_texts, "train")()  # each way to start is a module (zoo.training.from_*)
        # (only now: a refit that fails or is interrupted while training leaves the fitted classifier as it was, not
        # its model with the new texts as the baseline's)
        self._baseline_data = steps.baseline_data
        self.ngram_, self.blend_weight_ = (None, 1.0) if not settings.hybrid else (
            steps.multi_label_ngram_path() if multi else steps.ngram_path())
        self.companions_ = []
        self.settings_, self.classes_, self.model_, self.vectorizer_ = (settings, steps.classes, trained.model,
                                                                         trained.vectorizer)
        self.sequence_length_, self.history_, self.fit_record_ = trained.length, trained.history, trained.record
        self.calibration_ = identity_scaling(len(self.classes_)) if multi else 1.0
        self.thresholds_ = None  # (as load() sets it; a refit of a multi-label classifier as single-label kept its own)
        if multi:  # a threshold per label, chosen on the validation split after the blend
            self.thresholds_, self.fit_record_.thresholds = label_thresholds(self, steps.valid_texts, steps.valid_y)
        self.fit_record_.calibration = self._calibrate(steps.valid_texts, steps.valid_y, "the validation split")
        # Everything is chosen on the validation split now: its labels can teach the n-gram path too.
        if settings.hybrid and settings.ngram_refit and len(steps.valid_y):
            self.ngram_ = steps.refit_ngram_path()
        return self

    def _procedure(self, steps, lm_texts, step):
        """``step`` ("train" or "start") of the procedure the settings name, with its arguments bound."""
        kind = "vectors" if steps.s.multi_label else init_kind(steps.s.init)  # (multi-label: word vectors only)
        if kind == "lm":
            lm_texts = check_texts("lm_texts", lm_texts) if lm_texts is not None else steps.baseline_data[0]
            return functools.partial(getattr(from_lm, step), steps, lm_texts)
        if lm_texts is not None:  # (a language model's texts, given to a run that fine-tunes none: say so)
            logger.warning(f"lm_texts: ignored, init={steps.s.init!r} fine-tunes no language model"
                           + (" (multi-label runs start from word vectors)" if steps.s.multi_label else "")
                           + "; pass init='lm:NAME' to use them")
        if kind == "model":  # (one line if the source is unusable)
            source = TextClassifier.load(steps.s.init[len("model:"):])
            return functools.partial(getattr(from_classifier, step), steps, source)
        return functools.partial(getattr(from_vectors, step), steps)

    def lr_find(self, texts, labels, validation_data=None, *, classes=None, lm_texts=None, start_lr=1e-6,
                end_lr=1.0, steps=200):
        """The learning-rate range test (:mod:`zoo.training.lr_find`) on the model ``fit`` would start from,
        prepared the same way (the same arguments); returns a :class:`~zoo.training.lr_find.RangeTest`
        (``suggested``, the curve, ``plot(path)``). Fits nothing: the classifier is left as it was."""
        start_lr, end_lr = check_rate("start_lr", start_lr), check_rate("end_lr", end_lr)
        steps = check_count("steps", steps)
        settings = resolve_init_defaults(self._config)
        if init_kind(settings.init) == "auto":
            raise ConfigError("init", "lr_find tests one way to start; init auto compares several: pass the "
                                      "init it chose (fit_record_.auto)")
        prepared = FitSteps.prepare(settings, self._strategy_object, texts, labels, validation_data, classes=classes)
        return lr_find.find(prepared, self._procedure(prepared, lm_texts, "start"), start_lr=start_lr,
                            end_lr=end_lr, steps=steps)

    def calibrate(self, texts, labels):
        """Fits the temperature that scales the final probabilities (:mod:`zoo.evaluation.calibration`) on
        ``(texts, labels)``, held-out labelled texts (``fit`` uses its validation split); returns ``self``.
        No prediction changes; ``predict_proba``, the export and ``predict(min_confidence=...)`` use it. A
        multi-label classifier gets Platt scaling per label instead, and its thresholds move with it (the same cuts)."""
        self._check_fitted()
        texts = check_texts("texts", texts)
        if not texts:  # (fitted on nothing, the calibration would silently go back to none)
            raise DataError("calibrate: no texts; expected held-out labelled texts")
        multi = self.settings_.multi_label
        y = encode_given("labels", labels, len(texts), self.classes_, multi_label=multi)
        if not multi and len(np.unique(y)) < 2:
            logger.warning(f"calibrate: the {len(texts)} texts are all of one class: the temperature learns how "
                           "often that class is predicted, not how reliable the model is")
        self.fit_record_.calibration = self._calibrate(texts, y, f"{len(texts)} given texts")
        return self

    def _calibrate(self, texts, y, where):
        before = self.predict_paths(texts)["uncalibrated"] if len(y) else None
        if self.settings_.multi_label:  # Platt scaling per label; the thresholds move with it
            self.calibration_, self.thresholds_, record = calibrate_labels(self, before, y, where)
        else:
            self.calibration_, record = temperature_record(before, y, where)
        return record

    def _fit_auto(self, texts, labels, validation_data, classes, lm_texts, unlabelled_texts):
        """``init="auto"``: :func:`zoo.training.auto.fit_auto` trains the candidates; this one becomes the winner."""
        start = time.time()
        chosen, record = auto.fit_auto(TextClassifier, self._config, self.get_params(), texts, labels,
                                       validation_data, classes=classes, lm_texts=lm_texts,
                                       unlabelled_texts=unlabelled_texts)
        for name in ("settings_", "classes_", "model_", "vectorizer_", "sequence_length_", "history_", "ngram_",
                     "blend_weight_", "companions_", "calibration_", "thresholds_", "_baseline_data"):
            setattr(self, name, getattr(chosen, name))
        self.fit_record_ = dataclasses.replace(chosen.fit_record_, procedure="auto",
                                               train_seconds=round(time.time() - start, 1), auto=record)
        return self

    @property
    def fit_info_(self):
        """:attr:`fit_record_` as a dict (what ``classifier.json`` keeps; 0.3's name): a copy, read-only."""
        return self.fit_record_.to_dict()

    # === Prediction ===

    def predict_proba(self, texts, batch_size=128):
        """Class probabilities, ``(len(texts), len(classes_))`` float32; columns in ``classes_`` order. Texts that
        hold no token the model knows (another language, made-up words) are named in one warning line."""
        self._check_fitted()
        texts = check_texts("texts", texts)
        probabilities = self.predict_paths(texts, batch_size)["model"]
        warn_unknown_texts(known_token_counts(self.keras_model(), texts))
        return probabilities

    def predict_paths(self, texts, batch_size=128):
        """The probabilities of the model and of each of its paths, as a dict of ``(len(texts), n_classes)``
        arrays: ``"model"`` (what :meth:`predict_proba` gives), ``"uncalibrated"`` (the same before temperature
        scaling), ``"members"`` (a list: each recurrent member's),
        ``"recurrent"`` (their mean, with a pair's companion) and, for a hybrid, ``"ngram"`` (the n-gram path
        alone). For error analysis and for studies of the blend (``bench/``)."""
        self._check_fitted()
        texts = check_texts("texts", texts)
        batch_size = check_batch_size(batch_size)
        names = [f"member_{k}" for k in range(1, len(ensemble_members(self.model_)) + 1)]
        names += ["recurrent", "model", "uncalibrated"] + (["ngram"] if self.ngram_ is not None else [])
        if texts:
            outputs = predict_text_model(self.keras_model(), texts, batch_size=batch_size,
                                         lengths=token_lengths(self.vectorizer_, texts, self.sequence_length_))
        else:  # (Keras' predict would fail on no batches)
            outputs = {name: np.zeros((0, len(self.classes_)), np.float32) for name in names}
        return {"members": [outputs[name] for name in names if name.startswith("member_")],
                **{name: outputs[name] for name in names if not name.startswith("member_")}}

    def keras_model(self, fixed_length=False):
        """The fitted classifier as one raw-text Keras model (:func:`zoo.models.text_model.text_model`: texts ->
        a dict of probabilities, ``"model"`` the classifier's); :meth:`predict_paths`, :meth:`predict_proba`,
        :meth:`evaluate` and :meth:`export` all run it. Built on first use, again when the fitted state changes
        (init auto's pair sets ``companions_`` and ``blend_weight_`` on a fitted candidate)."""
        self._check_fitted()
        self._keras_model, model = classifier_text_model(self, getattr(self, "_keras_model", None), fixed_length)
        return model

    def explain(self, texts, labels=None, *, steps=32):
        """Per-token contributions to each text's predicted class (or ``labels``), through the whole hybrid:
        integrated gradients through the recurrent path, the exact linear terms of the n-gram path, each times its
        blend weight (:mod:`zoo.evaluation.explanations`). Returns an ``Explanation`` per text (``tokens``,
        ``contributions``, ``top(k)``)."""
        self._check_fitted()
        return explanations.explain(self, check_texts("texts", texts), labels, steps=check_count("steps", steps))

    def predict(self, texts, batch_size=128, min_confidence=None):
        """The most probable label of each text (values of ``classes_``); with ``multi_label``, the list of
        labels at or above their thresholds (in ``classes_`` order, possibly empty).

        ``min_confidence``: abstain (None) where the most probable label's
        (calibrated) probability is below it; the report's coverage table
        shows the accuracy each level keeps."""
        check_min_confidence(min_confidence)
        probs = self.predict_proba(texts, batch_size=batch_size)
        if self.settings_.multi_label:
            if min_confidence is not None:
                raise ConfigError("min_confidence", "`min_confidence` is for single-label classifiers; a multi-label "
                                                    "one has a threshold per label (thresholds_)")
            return [[self.classes_[j] for j in np.flatnonzero(row)] for row in probs >= self.thresholds_]
        return [self.classes_[i] if min_confidence is None or p[i] >= min_confidence else None
                for i, p in zip(probs.argmax(-1), probs)]

    def score(self, texts, labels):
        """Accuracy on ``(texts, labels)``, as scikit-learn's ``ClassifierMixin.score`` (so ``GridSearchCV`` and
        ``cross_val_score`` can score a TextClassifier); with ``multi_label``, the share of texts whose predicted
        set of labels is exactly right. :meth:`evaluate` gives every other metric."""
        self._check_fitted()
        texts = check_texts("texts", texts)
        if not texts:
            raise DataError("texts: no texts to score on")
        multi = self.settings_.multi_label
        y = encode_given("labels", labels, len(texts), self.classes_, multi_label=multi)
        probs = self.predict_proba(texts)
        right = ((probs >= self.thresholds_) == y.astype(bool)).all(axis=1) if multi else probs.argmax(-1) == y
        return float(np.mean(right))

    def evaluate(self, texts, labels, *, baseline=False, explain_errors=False):
        """The metrics of the reports: accuracy, macro precision/recall/F1, per class, confusion matrix.

        Args:
            texts, labels: the evaluation split.
            baseline: True adds ``metrics["baseline"]``: the stronger of
                TF-IDF + LinearSVC and NBSVM by cross-validation
                (:func:`zoo.evaluation.baselines.fair_baseline`), trained on
                every labelled text :meth:`fit` was given (the training and
                validation texts); or a ``(texts, labels)`` pair to train it on.

        Returns:
            A dict; ``errors`` holds the texts of highest loss and the most
            confused pairs of classes
            (:func:`zoo.evaluation.scoring.error_analysis`; ``explain_errors``
            adds each one's explanation: what made it predict that); an ensemble adds
            each member's scores (``members``) and what each smaller ensemble
            would have scored (``accuracy_by_ensemble_size``).
        """
        self._check_fitted()
        texts = check_texts("texts", texts)
        explain_errors = check_flag("explain_errors", explain_errors)
        multi = self.settings_.multi_label
        if not texts:  # (scikit-learn's metrics would fail on none, a multi-label task's with their own error)
            raise DataError("texts: no texts to evaluate on")
        y = encode_given("labels", labels, len(texts), self.classes_, multi_label=multi)
        stored = self._baseline_data
        train = baseline_pair(baseline, stored, lambda what, given, size: encode_given(
            what, given, size, self.classes_, multi_label=multi))
        return (evaluate_multi_label if multi else evaluate_single_label)(self, texts, y, train, explain_errors)

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
        return write_classifier(self, path_argument(path), overwrite=check_flag("overwrite", overwrite))

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
        return read_classifier(cls, path_argument(path))

    def export(self, path, overwrite=False, fixed_length=False):
        """Writes a TF SavedModel that classifies raw strings (``serving_default``: texts -> probabilities,
        label_id, label; with ``multi_label``: probabilities, predicted, labels, num_labels); it needs only
        TensorFlow to load. Written beside ``path`` and swapped in, so a crash leaves the old or the new export
        whole; ``overwrite=True`` replaces only an export zoo wrote (see :mod:`zoo.serving.export`). Loading an
        export runs its graph: serve only exports you trust.

        Each batch is padded to its longest text; ``fixed_length=True`` pads every text to the sequence
        length instead (one static shape, the same probabilities, slower on short texts).
        """
        self._check_fitted()
        path_argument(path)
        overwrite, fixed_length = check_flag("overwrite", overwrite), check_flag("fixed_length", fixed_length)
        export_text_classifier(self.keras_model(fixed_length), [str(c) for c in self.classes_], os.fspath(path),
                               overwrite=overwrite, thresholds=self.thresholds_ if self.settings_.multi_label else None)
        return path

    def _check_fitted(self):
        if not hasattr(self, "model_"):
            raise ConfigError(None, "this TextClassifier is not fitted yet: call fit() or TextClassifier.load()")



# The signature that help(), IDEs and scikit-learn's clone() see: the config's fields and defaults.
TextClassifier.__init__.__signature__ = ClassifierConfig.keyword_signature()
