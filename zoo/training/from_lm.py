"""Training procedure: ULMFiT (``init="lm:ARTIFACT"``): the pretrained language model fine-tuned on the task's
texts (:func:`zoo.transfer.ulmfit.finetune_lm`), then a classifier on its encoder, trained by gradual
unfreezing with discriminative rates (:func:`zoo.transfer.ulmfit.classifier_stages`), a linear probe or both;
``ensemble`` members differ only in their seed."""

import os
import time

import keras

from zoo.backend import require_tensorflow

require_tensorflow("zoo.training.from_lm (the language model and the text pipeline)")

from zoo.data.token_stream import lm_vectorizer
from zoo.log import logger
from zoo.models.ensemble import build_ensemble
from zoo.models.ulmfit_classifier import AuxiliaryLMClassifier, build_ulmfit_classifier
from zoo.training.backups import remove_backup
from zoo.training.stages import class_weights, run_stages
from zoo.transfer import pretrained
from zoo.transfer.encoder import transfer_encoder
from zoo.transfer.ulmfit import ADAM_BETA_2, classifier_stages, finetune_lm, fit_probe


def train(steps, lm_texts):
    """The language model fine-tuned on ``lm_texts`` (unless ``from_scratch``), then the classifier member(s):
    a :class:`~zoo.training.fit_steps.Trained`."""
    s = steps.s
    began = time.time()
    lm, lm_config = prepare(steps, lm_texts)
    # Member 1 is the single-model run; the others differ only in their initialisation, dropout and batch
    # order (the labels, the fine-tuned language model and the settings are shared).
    seeds = [s.seed + 1000 * k for k in range(s.ensemble)]
    members, steps.history = [], []
    backup = steps.backup_dir()
    for k, seed in enumerate(seeds, start=1):
        tag = f"member {k}" if len(seeds) > 1 else None
        if tag:
            logger.info(f"ensemble {tag} of {len(seeds)} (seed {seed})")
        log_dir = s.log_dir and (os.path.join(s.log_dir, f"member_{k}") if tag else s.log_dir)
        member_backup = backup and (os.path.join(backup, f"member_{k}") if tag else backup)
        member, history = train_member(steps, lm, lm_config, seed, member_backup, log_dir)
        members.append(steps.local_copy(member))
        steps.history += [{**h, "stage": f"{tag}: {h['stage']}"} if tag else h for h in history]
    kind = "ulmfit_probe" if s.probe else "ulmfit_probe_then_finetune" if s.probe_init else "ulmfit_stacked_lstm"
    if len(members) > 1:
        steps.model = build_ensemble(members, name="ulmfit_ensemble")
        kind = f"{kind}_ensemble_of_{len(members)}"
    else:
        steps.model = members[0]
    steps.cudnn(steps.model)
    steps.record.train_seconds = round(time.time() - began, 1)
    steps.record.epochs_run = len(steps.history)
    steps.record.model, steps.record.language_model_config = kind, lm_config
    remove_backup(backup)  # the training is complete: a rerun starts afresh
    return steps.trained()


def prepare(steps, lm_texts):
    """The language model fine-tuned on ``lm_texts`` (its cache reused) and its tokenizer's ids; returns
    ``(lm, lm_config)`` (``lm`` None from scratch)."""
    s = steps.s
    steps.record.procedure = "ulmfit"
    name = s.init[len("lm:"):]
    logger.info(f"{len(lm_texts)} texts for the language model")
    lm = None
    if s.from_scratch:
        vectorizer = lm_vectorizer(lm_texts, max_tokens=s.max_tokens)
        lm_config = pretrained.load(name).lm.lm_config
    else:
        lm, vectorizer, steps.record.language_model = finetune_lm(pretrained.load(name), lm_texts, s,
                                                                  cache_dir=s.lm_cache_dir)
        lm_config = lm.lm_config
    steps.vectorize(vectorizer)
    return lm, lm_config


def start(steps, lm_texts):
    """The first member :func:`train` starts from, untrained, with its first stage (the head alone, under
    gradual unfreezing) and ULMFiT's optimizer options."""
    lm, lm_config = prepare(steps, lm_texts)
    model = build_member(steps, lm, lm_config, steps.s.seed)
    return model, classifier_stages(model, steps.s)[0], optimizer_options(steps, steps.run_options(None, None))


def build_member(steps, lm, lm_config, seed):
    """One classifier on the language model's encoder (unless from scratch), untrained."""
    s = steps.s
    keras.utils.set_random_seed(seed)
    vocab_size = len(steps.vectorizer.get_vocabulary())
    with steps.strategy.scope():
        model = build_ulmfit_classifier(lm_config, vocab_size, len(steps.classes), pooling=s.pooling,
                                        dropout=s.dropout, spatial_dropout=s.spatial_dropout,
                                        head_units=s.head_units)
    if lm is not None:
        copied = transfer_encoder(lm, model)
        logger.info(f"copied {', '.join(copied)} from the language model")
    return model


def optimizer_options(steps, options):
    """ULMFiT's Adam (Howard & Ruder 2018: beta_2 0.99) in the run options' optimizer options."""
    if steps.s.optimizer in ("adam", "adamw"):
        return {**options["optimizer_options"], "beta_2": ADAM_BETA_2}
    return options["optimizer_options"]


def train_member(steps, lm, lm_config, seed, backup, log_dir):
    """One classifier on the language model's encoder (unless from scratch), trained; returns (model, history)."""
    s = steps.s
    model = build_member(steps, lm, lm_config, seed)
    history = []
    if s.probe or s.probe_init:
        model, history = fit_probe(model, steps.train_ids.ids, steps.y, len(steps.classes), seed)
    if s.probe:
        return model, history
    train_ds, valid_ds = steps.datasets(seed)
    trainer = None
    if s.aux_lm_weight and lm is not None:
        bias = keras.ops.convert_to_numpy(lm.get_layer("embedding").output_bias)
        trainer = lambda m: AuxiliaryLMClassifier(m, bias, s.aux_lm_weight)
    options = steps.run_options(backup, log_dir)
    options["optimizer_options"] = optimizer_options(steps, options)
    weights = class_weights(steps.y, s.class_weight)  # (as the word-vector path's: every path weighs them)
    history += run_stages(model, classifier_stages(model, s), train_ds, valid_ds, trainer=trainer,
                          class_weight=weights, **options)
    return model, history
