"""One fit's steps: the data prepared, the model started (word vectors, another task's classifier or a language
model), trained through the stage runner, and the hybrid's n-gram path fitted with its blend.

:class:`zoo.TextClassifier` validates what it is given and delegates here; ``zoo tune`` prepares one
:class:`FitSteps` and copies it per trial. The results (``model``, ``vectorizer``, ``length``, ``history``) and
the fit record (``info``: what ran, its epochs, coverage, transfer and blend) are attributes.
"""

import copy
import os
import time

import keras
import numpy as np

from zoo.backend import require_tensorflow

require_tensorflow("zoo.training.fit_steps (the text pipeline and the n-gram path)")

from zoo.config import DEFAULT_EPOCHS, DEFAULT_MODEL, init_kind
from zoo.data.text import (
    make_dataset,
    make_vectorizer,
    predict_in_order,
    resolve_sequence_length,
    vectorize,
)
from zoo.data.token_stream import lm_vectorizer
from zoo.data.tokenize import (
    is_unspaced,
    standardizer,
    standardizer_name,
    unspaced_share,
)
from zoo.errors import ConfigError
from zoo.log import logger
from zoo.models.cudnn import cudnn_report, format_cudnn_report
from zoo.models.ensemble import average_probabilities, build_ensemble, ensemble_members
from zoo.models.registry import get_model
from zoo.models.ulmfit_classifier import AuxiliaryLMClassifier, build_ulmfit_classifier
from zoo.training import distribute
from zoo.training.backups import data_fingerprint, open_backup, remove_backup
from zoo.training.freezing import layer_groups, unfreeze
from zoo.training.ngram_path import (
    choose_blend_weight,
    choose_label_weights,
    fit_multi_label_ngram_path,
    fit_ngram_path,
    ngram_logits,
)
from zoo.training.optimizers import momentum_options
from zoo.training.stages import (
    adaptive_epochs,
    class_weights,
    run_stages,
    word_vector_stages,
)
from zoo.transfer import pretrained
from zoo.transfer.classifier import (
    ARCHITECTURE,
    remapped_embedding,
    transfer_classifier,
)
from zoo.transfer.encoder import transfer_encoder
from zoo.transfer.ulmfit import ADAM_BETA_2, classifier_stages, finetune_lm, fit_probe


class FitSteps:
    """The steps of one :meth:`zoo.TextClassifier.fit` (word vectors, another classifier or ULMFiT, then the
    n-gram path); the results are attributes: ``model``, ``vectorizer``, ``length``, ``history`` and ``info``
    (the fit record). ``zoo tune`` prepares one and copies it per trial (:meth:`with_settings`)."""

    def __init__(self, settings, strategy, classes, texts, y, valid_texts, valid_y, fixed_blend=None,
                 unlabelled_texts=()):
        self.s, self.strategy, self.classes, self.fixed_blend = settings, strategy, classes, fixed_blend
        self.unlabelled_texts = unlabelled_texts
        self.texts, self.y, self.valid_texts, self.valid_y = texts, y, valid_texts, valid_y
        self.chief = distribute.is_chief(strategy)
        self.batch = distribute.global_batch_size(settings.batch_size, strategy)
        self.info = {}
        self.architecture = None  # init model: the source classifier's (zoo.transfer.classifier.ARCHITECTURE)

    # --- shared steps ---

    def vectorize(self, vectorizer):
        """Sequence length from the training lengths, then the ids of train and valid."""
        self.vectorizer = vectorizer
        full = vectorize(vectorizer, self.texts)
        self.length = resolve_sequence_length(self.s.sequence_length, full.lengths)
        self.train_ids = vectorize(vectorizer, self.texts, self.length, truncation=self.s.truncation)
        self.valid_ids = vectorize(vectorizer, self.valid_texts, self.length, truncation=self.s.truncation)
        self.info["truncated_train_texts"] = self.train_ids.truncated
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
        self.info["cudnn"] = format_cudnn_report(cudnn_report(model))
        logger.info("cuDNN check:\n" + self.info["cudnn"])

    # --- word vectors (or random embeddings) ---

    def word_vectors(self):
        self.prepare_word_vectors()
        model = self.build_word_vector_model()
        self.cudnn(model)
        self.train_word_vector_model(model)

    def prepare_word_vectors(self):
        """The vocabulary, sequence length, ids and the embedding matrix (done once per search in tuning)."""
        s = self.s
        self.vectorize(make_vectorizer(self.texts, max_tokens=s.max_tokens, standardize=standardizer(s.standardize)))
        self.embeddings = None
        if init_kind(s.init) == "vectors":
            from zoo.transfer.vectors import embedding_matrix, load_vectors

            name = vectors_for(s.init, self.texts)
            vectors = load_vectors(name, format=s.vectors_format, allow_pickle=s.allow_pickle)
            self.embeddings, coverage = embedding_matrix(vectors, self.vectorizer.get_vocabulary(), seed=s.seed)
            self.info["vector_coverage"] = {**coverage.to_dict(), "vectors": name}
            logger.info(str(coverage))

    # --- another task's classifier (init model:RUN_DIR) ---

    def from_classifier(self, source):
        """The source's architecture and weights (embedding remapped, new head), then the staged fine-tuning.

        ``source``: the classifier ``init="model:RUN_DIR"`` names, loaded (``TextClassifier.load(RUN_DIR)``).
        """
        s = self.s
        run_dir = s.init[len("model:"):]
        if init_kind(source.settings_.init) not in ("vectors", "none"):
            raise ConfigError("init", f"`init` {s.init!r}: that classifier was trained with init="
                                      f"{source.settings_.init!r}; init model: takes one trained with word vectors "
                                      "or init none")
        # A source that itself started from a classifier keeps that one's architecture in its fit_info_.
        arch = source.fit_info_.get("transfer", {}).get("architecture") or {
            name: getattr(source.settings_, name) for name in ARCHITECTURE}
        self.architecture = arch
        standardize = standardizer_name(source.vectorizer_.get_config()["standardize"])
        self.vectorize(make_vectorizer(self.texts, max_tokens=s.max_tokens, standardize=standardizer(standardize)))
        # The embedding starts remapped to this vocabulary (the model is built on it); then the other layers.
        self.embeddings, _ = remapped_embedding(
            keras.ops.convert_to_numpy(source.model_.get_layer("embedding").embeddings),
            source.vectorizer_.get_vocabulary(), self.vectorizer.get_vocabulary())
        model = self.build_word_vector_model()
        copied, hits = transfer_classifier(source.model_, source.vectorizer_.get_vocabulary(), model,
                                           self.vectorizer.get_vocabulary())
        words = len(self.vectorizer.get_vocabulary()) - 2
        self.info["transfer"] = {"source": run_dir, "source_classes": len(source.classes_), "copied_layers": copied,
                                 "vocabulary_known": round(hits / max(words, 1), 4), "standardize": standardize,
                                 "architecture": arch}
        logger.info(f"init {s.init}: {len(copied)} layers from a {len(source.classes_)}-class "
                    f"{arch['model'] or DEFAULT_MODEL} ({', '.join(copied)}); {hits} of the {words} words known to it; "
                    "a new head")
        self.cudnn(model)
        self.train_word_vector_model(model)

    def with_settings(self, settings):
        """A copy for other training settings that shares the prepared data (tuning's trials)."""
        other = copy.copy(self)
        other.s, other.info = settings, dict(self.info)
        other.batch = distribute.global_batch_size(settings.batch_size, self.strategy)
        return other

    def build_word_vector_model(self):
        with self.strategy.scope():
            return build_classifier(self.s, len(self.vectorizer.get_vocabulary()), len(self.classes),
                                    self.embeddings, self.architecture)

    def word_vector_plan(self, model=None):
        s = self.s
        if init_kind(s.init) == "model":  # the new head alone first, then everything
            below = tuple(name for name, _ in layer_groups(model) if name != "head")
            return word_vector_stages(self.adaptive_epochs(), s.learning_rate, s.lr_schedule, s.frozen_epochs,
                                      s.finetune_lr_factor, frozen_groups=below, frozen_name="new_head")
        return word_vector_stages(self.adaptive_epochs(), s.learning_rate, s.lr_schedule, s.frozen_epochs,
                                  s.finetune_lr_factor, pretrained=self.embeddings is not None)

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
        self.info["epochs_planned"] = epochs
        return epochs

    def train_word_vector_model(self, model, plan=None, log_dir=None):
        s = self.s
        weights = class_weights(self.y, s.class_weight)
        if weights:
            logger.info(f"class weights: {weights}")
        train_ds, valid_ds = self.datasets(s.seed)
        backup = self.backup_dir()
        start = time.time()
        self.history = run_stages(model, plan or self.word_vector_plan(model), train_ds, valid_ds, class_weight=weights,
                                  **self.run_options(backup, log_dir or s.log_dir))
        self.info.update(train_seconds=round(time.time() - start, 1), epochs_run=len(self.history),
                         model=(self.architecture or {}).get("model") or s.model or DEFAULT_MODEL)
        self.model = self.local_copy(model)
        remove_backup(backup)  # the training is complete: a rerun starts afresh

    # --- the n-gram path ---

    def ngram_path(self):
        """The hybrid's n-gram path and blend weight, both fitted here (the validation split chooses)."""
        start = time.time()
        fixed = self.fixed_blend  # (temperature, weight, bigram weight) an init-auto comparison chose:
        # the refit keeps the features its temperature was chosen for
        layer, info = fit_ngram_path(self.texts, self.y, len(self.classes), self.s.ngram_max_tokens,
                                     self.valid_texts, self.valid_y, seed=self.s.seed,
                                     temperature=fixed and fixed[0], bigram_weight=fixed[2] if fixed else "auto",
                                     unlabelled_texts=self.unlabelled_texts)
        if fixed:
            weight, scores = fixed[1], {}
        elif len(self.valid_y):
            weight, scores = choose_blend_weight(recurrent_probabilities(self.model, self.valid_ids.ids),
                                                 ngram_logits(layer, self.valid_texts), self.valid_y)
        else:
            weight, scores = choose_blend_weight(None, None, self.valid_y)  # the default, with a warning
        info.update(blend_weight=weight, valid_accuracy=scores, seconds=round(time.time() - start, 1))
        self.info["hybrid"] = info
        scored = f" (validation accuracy {', '.join(f'{k} {v:.4f}' for k, v in scores.items())})" if scores else ""
        logger.info(f"hybrid: the recurrent path weighs {weight:.2f} in the blend{scored}")
        return layer, weight

    def multi_label_ngram_path(self):
        """A multi-label hybrid's n-gram path (one linear model per label) and each label's blend weight, both
        fitted here (the validation split chooses)."""
        start = time.time()
        layer, info = fit_multi_label_ngram_path(self.texts, self.y, self.s.ngram_max_tokens, self.valid_texts,
                                                 self.valid_y, seed=self.s.seed)
        recurrent = (recurrent_probabilities(self.model, self.valid_ids.ids) if len(self.valid_y) else
                     np.zeros((0, len(self.classes)), np.float32))
        weights, chosen = choose_label_weights(recurrent, ngram_logits(layer, self.valid_texts), self.valid_y)
        info.update(blend_weights=[round(float(w), 2) for w in weights], blend=chosen,
                    seconds=round(time.time() - start, 1))
        self.info["hybrid"] = info
        logger.info(f"hybrid: the recurrent path weighs from {weights.min():.2f} to {weights.max():.2f} "
                    f"(median {np.median(weights):.2f}) in each label's blend")
        return layer, weights

    # --- ULMFiT ---

    def ulmfit(self, lm_texts):
        s = self.s
        name = s.init[len("lm:"):]
        logger.info(f"{len(lm_texts)} texts for the language model")
        start = time.time()
        lm = None
        if s.from_scratch:
            vectorizer = lm_vectorizer(lm_texts, max_tokens=s.max_tokens)
            lm_config = pretrained.load(name).lm.lm_config
        else:
            artifact = pretrained.load(name)
            lm, vectorizer, self.info["language_model"] = finetune_lm(artifact, lm_texts, s,
                                                                      cache_dir=s.lm_cache_dir)
            lm_config = lm.lm_config
        self.vectorize(vectorizer)
        # Member 1 is the single-model run; the others differ only in their initialisation, dropout and batch
        # order (the labels, the fine-tuned language model and the settings are shared).
        seeds = [s.seed + 1000 * k for k in range(s.ensemble)]
        members, self.history = [], []
        backup = self.backup_dir()
        for k, seed in enumerate(seeds, start=1):
            tag = f"member {k}" if len(seeds) > 1 else None
            if tag:
                logger.info(f"ensemble {tag} of {len(seeds)} (seed {seed})")
            log_dir = s.log_dir and (os.path.join(s.log_dir, f"member_{k}") if tag else s.log_dir)
            member_backup = backup and (os.path.join(backup, f"member_{k}") if tag else backup)
            member, history = self.ulmfit_member(lm, lm_config, seed, member_backup, log_dir)
            members.append(self.local_copy(member))
            self.history += [{**h, "stage": f"{tag}: {h['stage']}"} if tag else h for h in history]
        kind = "ulmfit_probe" if s.probe else "ulmfit_probe_then_finetune" if s.probe_init else "ulmfit_stacked_lstm"
        if len(members) > 1:
            self.model = build_ensemble(members, name="ulmfit_ensemble")
            kind = f"{kind}_ensemble_of_{len(members)}"
        else:
            self.model = members[0]
        self.cudnn(self.model)
        self.info.update(train_seconds=round(time.time() - start, 1), epochs_run=len(self.history), model=kind,
                         language_model_config=lm_config)
        remove_backup(backup)  # the training is complete: a rerun starts afresh

    def ulmfit_member(self, lm, lm_config, seed, backup, log_dir):
        """One classifier on the language model's encoder (unless from scratch), trained; returns (model, history)."""
        s = self.s
        keras.utils.set_random_seed(seed)
        vocab_size = len(self.vectorizer.get_vocabulary())
        with self.strategy.scope():
            model = build_ulmfit_classifier(lm_config, vocab_size, len(self.classes), pooling=s.pooling,
                                            dropout=s.dropout, spatial_dropout=s.spatial_dropout,
                                            head_units=s.head_units)
        if lm is not None:
            copied = transfer_encoder(lm, model)
            logger.info(f"copied {', '.join(copied)} from the language model")
        history = []
        if s.probe or s.probe_init:
            model, history = fit_probe(model, self.train_ids.ids, self.y, len(self.classes), seed)
        if s.probe:
            return model, history
        train_ds, valid_ds = self.datasets(seed)
        trainer = None
        if s.aux_lm_weight and lm is not None:
            bias = keras.ops.convert_to_numpy(lm.get_layer("embedding").output_bias)
            trainer = lambda m: AuxiliaryLMClassifier(m, bias, s.aux_lm_weight)
        options = self.run_options(backup, log_dir)
        if s.optimizer in ("adam", "adamw"):  # ULMFiT's Adam (Howard & Ruder 2018: beta_2 0.99)
            options["optimizer_options"] = {**options["optimizer_options"], "beta_2": ADAM_BETA_2}
        history += run_stages(model, classifier_stages(model, s), train_ds, valid_ds, trainer=trainer, **options)
        return model, history


def build_classifier(settings, vocab_size, num_classes, embeddings=None, architecture=None):
    """The word-vector path's model: ``settings.model`` with the knobs that are set, the embedding at ``embeddings``.

    ``architecture`` (init model:) overrides the model and its shape settings with the source classifier's.
    """
    settings = settings.replace(init="none", **architecture) if architecture else settings
    kwargs = {k: getattr(settings, k) for k in ("units", "num_layers", "cell", "pooling", "dropout",
                                                "spatial_dropout", "recurrent_dropout", "l1", "l2")
              if getattr(settings, k) is not None}
    if embeddings is not None:
        kwargs["embeddings"] = embeddings
    elif settings.embedding_dim is not None:
        kwargs["embedding_dim"] = settings.embedding_dim
    if settings.multi_label:
        kwargs["multi_label"] = True  # one sigmoid per label
    return get_model(settings.model or DEFAULT_MODEL, vocab_size, num_classes, compile=False, **kwargs)


def vectors_for(init, texts):
    """The word vectors ``init`` names, or, when it names zoo's English default (GloVe 6B 50d) and the training
    texts are mostly in a script written without spaces, zoo's Chinese character vectors.

    Why: GloVe 6B is English; on Chinese reviews it covered 0.7% of the vocabulary (issue "zoo reads Chinese"),
    so the default start would be a random one. Any other vectors (a file, gensim:NAME) are used as given.
    """
    from zoo.transfer.vectors import (  # (lazy: gensim)
        CHINESE_CHAR_VECTORS,
        DEFAULT_VECTORS,
    )

    if init != DEFAULT_VECTORS or not is_unspaced(texts):
        return init
    logger.info(f"{unspaced_share(texts):.0%} of the training texts' letters are Han or kana characters: init "
                f"{CHINESE_CHAR_VECTORS} (zoo's Chinese character vectors) instead of {DEFAULT_VECTORS} (English)")
    return CHINESE_CHAR_VECTORS


def member_probabilities(model, ids, batch_size=128):
    """Each member's probabilities of a recurrent model (an ensemble's ``member_1`` ..., else the model's own), in
    the order of ``ids`` (:func:`zoo.data.text.predict_in_order`)."""
    return [predict_in_order(m, ids, batch_size=batch_size) for m in ensemble_members(model)]


def recurrent_probabilities(model, ids):
    """The recurrent model's probabilities (an ensemble's mean)."""
    return average_probabilities(member_probabilities(model, ids))
