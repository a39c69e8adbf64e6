"""Training in stages: the one stage runner every training path uses.

A :class:`Stage` says which layer groups stay frozen, for how many epochs,
at what learning rate and schedule, and whether lower groups train at
discriminative (lower) rates. Plans:

* :func:`word_vector_stages`: one stage, or (``frozen_epochs``) the
  pretrained embedding frozen first, then everything at a lower rate;
* :func:`gradual_unfreezing`: ULMFiT's, the head first, then one more group
  per stage, each stage's rate decayed;
* the language model's own training is one stage
  (:func:`zoo.training.language_model.train_lm`).

:func:`run_stages` runs any plan with ``model.fit``: it freezes and
recompiles per stage (a built optimizer only knows the variables it was
built with), adds early stopping on validation accuracy, TensorBoard logs,
and with a backup directory Keras' ``BackupAndRestore`` plus a CSV log per
stage, so a killed run started again skips finished stages and resumes the
current one at the epoch after its last backup.

Example:

>>> import numpy as np
>>> from zoo import build_lstm
>>> from zoo.data.text import make_dataset
>>> model = build_lstm(50, 2, units=4, compile=False)
>>> ids = [np.array([3, 4, 5], "int32"), np.array([6, 7], "int32")] * 4
>>> train = make_dataset(ids, np.array([0, 1] * 4), batch_size=4)
>>> plan = word_vector_stages(epochs=2, learning_rate=1e-2, schedule="cosine")
>>> history = run_stages(model, plan, train, verbose=0)
>>> [h["stage"] for h in history]
['train', 'train']
"""

import dataclasses
import os
import typing
import warnings

import keras
import numpy as np

from zoo import interrupts
from zoo.config import CLASS_WEIGHTS, DEFAULT_EPOCHS, MAX_ADAPTIVE_EPOCHS
from zoo.errors import ConfigError
from zoo.files import atomic_file
from zoo.log import fit_verbosity, logger
from zoo.training import distribute
from zoo.training.backups import (
    WEIGHTS,
    damaged,
    read_history,
    read_state,
    resumed_epoch,
)
from zoo.training.discriminative import discriminative_optimizer, group_multipliers
from zoo.training.freezing import freeze, layer_groups, trainable_groups, unfreeze
from zoo.training.optimizers import compile_model, head_activation, make_optimizer
from zoo.training.schedules import learning_rate_schedule


@dataclasses.dataclass(frozen=True)
class Stage:
    """One stage of training.

    Attributes:
        name: the stage's name (in logs, history and backups).
        epochs: epochs of the stage.
        learning_rate: its (top) learning rate.
        frozen: layer groups or layer names kept frozen (``zoo.freeze`` names).
        schedule: ``constant``, ``cosine`` or ``stlr`` over the stage's steps.
        lr_factor: 1 for one rate; above 1, each layer group below the top
            trains at the rate of the group above divided by it
            (discriminative rates, ULMFiT's 2.6).
    """

    name: str
    epochs: int
    learning_rate: float
    frozen: tuple = ()
    schedule: str = "constant"
    lr_factor: float = 1.0


# === Plans ===




def adaptive_epochs(examples, batch_size, min_steps=3000):
    """Epochs for a word-vector model when none are given: 10, or up to 40 to make ``min_steps`` steps.

    A small training set makes few optimizer steps per epoch: 200 texts in
    batches of 32 make 70 in 10 epochs. The measurements behind the rule are
    in ``docs/hybrid.md`` (validation splits only).

    Example:

    >>> adaptive_epochs(10182, 32), adaptive_epochs(1000, 32), adaptive_epochs(200, 32)
    (10, 40, 40)
    >>> adaptive_epochs(4013, 32)
    24
    """
    steps = max(1, -(-int(examples) // int(batch_size)))
    if not min_steps:
        return DEFAULT_EPOCHS
    return max(DEFAULT_EPOCHS, min(MAX_ADAPTIVE_EPOCHS, -(-int(min_steps) // steps)))


def word_vector_stages(epochs, learning_rate, schedule="cosine", frozen_epochs=0, finetune_lr_factor=0.5,
                       pretrained=True, frozen_groups=("embedding",), frozen_name="frozen_embedding"):
    """One stage of ``epochs``; or, with a pretrained start and ``frozen_epochs``, ``frozen_groups`` frozen first.

    With word vectors the embedding is frozen first; starting from another
    classifier (``init="model:..."``) everything but its new head is.

    Example:

    >>> [(s.name, s.epochs, s.learning_rate, s.frozen) for s in word_vector_stages(3, 0.01, frozen_epochs=1)]
    [('frozen_embedding', 1, 0.01, ('embedding',)), ('finetune', 2, 0.005, ())]
    """
    if not pretrained or not frozen_epochs:
        return [Stage("train", epochs, learning_rate, (), schedule)]
    frozen = min(frozen_epochs, epochs)
    plan = [Stage(frozen_name, frozen, learning_rate, tuple(frozen_groups), schedule)]
    if epochs > frozen:
        plan.append(Stage("finetune", epochs - frozen, learning_rate * finetune_lr_factor, (), schedule))
    return plan


def gradual_unfreezing(model, learning_rate, *, epochs_per_stage=1, final_epochs=None, stage_lr_decay=0.5,
                       schedule="stlr", lr_factor=1.0):
    """ULMFiT's gradual unfreezing: the head first, then one more layer group per stage, then everything.

    Stage ``k`` (from 0) trains at ``learning_rate * stage_lr_decay ** k``,
    as fastai's ULMFiT notebooks halve the rate per stage.

    Args:
        model: a zoo model (groups as in :func:`zoo.training.freezing.layer_groups`).
        learning_rate: the first (head-only) stage's top rate.
        epochs_per_stage: epochs of each stage but the last (>= 1).
        final_epochs: epochs of the last stage, everything trainable
            (default ``epochs_per_stage``).
        stage_lr_decay: each stage's rate relative to the one before.
        schedule: every stage's schedule.
        lr_factor: discriminative rates (1: one rate).

    Example:

    >>> from zoo import build_stacked_lstm
    >>> plan = gradual_unfreezing(build_stacked_lstm(100, 2, units=4, embedding_dim=4), 0.02, final_epochs=3)
    >>> [(s.name, s.epochs, s.learning_rate, s.frozen) for s in plan]  # doctest: +NORMALIZE_WHITESPACE
    [('head', 1, 0.02, ('embedding', 'encoder_1', 'encoder_2')), ('from_encoder_2', 1, 0.01, ('embedding', 'encoder_1')),
     ('from_encoder_1', 1, 0.005, ('embedding',)), ('all', 3, 0.0025, ())]
    """
    for name, value in (("epochs_per_stage", epochs_per_stage), ("final_epochs", final_epochs)):
        if value is None and name == "final_epochs":
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(name, f"`{name}` must be an integer >= 1, got {value!r}")
    groups = [g for g, _ in layer_groups(model)]
    plan = []
    for k in range(1, len(groups)):
        top = groups[-k:]
        plan.append(Stage("head" if top == ["head"] else f"from_{top[0]}", epochs_per_stage,
                          learning_rate * stage_lr_decay ** (k - 1), tuple(groups[:-k]), schedule, lr_factor))
    plan.append(Stage("all", epochs_per_stage if final_epochs is None else final_epochs,
                      learning_rate * stage_lr_decay ** (len(groups) - 1), (), schedule, lr_factor))
    return plan


def apply_stage(model, stage):
    """Freezes ``model`` as ``stage`` says (everything else trainable); returns the trainable groups.

    Example:

    >>> from zoo import build_stacked_lstm
    >>> model = build_stacked_lstm(100, 2, units=4, embedding_dim=4)
    >>> apply_stage(model, gradual_unfreezing(model, 0.01)[1])
    ['encoder_2', 'head']
    """
    unfreeze(model)
    if stage.frozen:
        freeze(model, *stage.frozen)
    return trainable_groups(model)


class LabelWeights(typing.NamedTuple):
    """A multi-label model's class weights: each label's positives' and negatives' weights."""

    positive: list
    negative: list


def split_class_weight(class_weight):
    """``(for fit, for the loss)``: Keras' ``class_weight`` goes to ``fit``; a multi-label model's
    ``LabelWeights`` to its loss instead (Keras' ``class_weight`` cannot weigh one label's positives)."""
    return (None, class_weight) if isinstance(class_weight, LabelWeights) else (class_weight, None)


def class_weights(labels, mode):
    """Keras ``class_weight`` from scikit-learn's ``compute_class_weight`` (None: unweighted); for a 0/1 label
    matrix (multi-label), each label's two classes weighed so: ``LabelWeights(positive, negative)``, which
    :func:`run_stages` turns into the loss (:class:`zoo.training.losses.LabelWeightedBinaryCrossentropy`).
    A label present in all texts or in none weighs 1.

    Example:

    >>> class_weights(np.array([0, 0, 0, 1]), "balanced")
    {0: 0.6666666666666666, 1: 2.0}
    >>> class_weights(np.array([[1, 0], [0, 0], [0, 0], [0, 0]]), "balanced")
    LabelWeights(positive=[2.0, 1.0], negative=[0.6667, 1.0])
    """
    if mode in (None, "none"):
        return None
    if mode != "balanced":
        raise ConfigError("class_weight", f"`class_weight` must be one of {', '.join(map(repr, CLASS_WEIGHTS))}; "
                                          f"got {mode!r}")
    from sklearn.utils.class_weight import compute_class_weight

    if np.ndim(labels) == 2:  # multi-label: each label's two classes, its negatives and its positives
        weights = [compute_class_weight("balanced", classes=np.array([0, 1]), y=column)
                   if 0 < column.sum() < len(column) else (1.0, 1.0) for column in np.asarray(labels).T]
        return LabelWeights([round(float(w[1]), 4) for w in weights], [round(float(w[0]), 4) for w in weights])
    classes = np.unique(labels)
    weights = compute_class_weight("balanced", classes=classes, y=labels)
    return {int(c): float(w) for c, w in zip(classes, weights)}


# === The runner ===


def run_stages(model, stages, train_ds, valid_ds=None, *, optimizer="adam", optimizer_options=None, clipnorm=None,
               patience=None, class_weight=None, strategy=None, lr_scaling="none", backup_dir=None, log_dir=None,
               chief=True, steps_per_epoch=None, trainer=None, callbacks=(), verbose=None, monitor=None):
    """Runs ``stages`` in order with ``model.fit``; returns the per-epoch history (dicts with their stage).

    Args:
        model: the model; a zoo classifier (compiled with the loss its head
            calls for) or a model without a ``head`` layer (a language model:
            compiled with the optimizer only, its own loss).
        stages: :class:`Stage` list.
        train_ds, valid_ds: ``tf.data`` datasets (``valid_ds`` optional).
        optimizer: a name of :data:`zoo.training.optimizers.OPTIMIZERS`.
        optimizer_options: more optimizer arguments (ULMFiT: ``beta_2=0.99``).
        clipnorm: gradient clipping norm (None or 0: none).
        patience: early stopping on ``monitor`` with the best
            weights restored, after this many epochs without improvement
            (None: no early stopping).
        class_weight: Keras ``class_weight``, or a multi-label model's ``LabelWeights`` (:func:`class_weights`).
        strategy: the ``tf.distribute`` strategy the model was built under.
        lr_scaling: ``linear`` multiplies every rate by the replicas.
        backup_dir: make the run resumable (per stage: a ``BackupAndRestore``
            directory, a CSV log, and the weights of a finished stage).
        log_dir: TensorBoard logs, one folder per stage (chief only).
        chief: whether this process writes shared logs.
        steps_per_epoch: for an endless dataset; default: counted once.
        trainer: ``trainer(model)`` returns the model to compile and fit
            instead (a multi-task view of the same layers).
        callbacks: more Keras callbacks, for every stage.
        verbose: Keras' ``verbose``; default a live bar on a terminal, one
            line per epoch when piped.
        monitor: what early stopping watches (default :func:`default_monitor`).
    """
    import tensorflow as tf

    strategy = strategy or tf.distribute.get_strategy()
    class_weight, label_weights = split_class_weight(class_weight)
    verbose = fit_verbosity() if verbose is None else verbose
    steps = steps_per_epoch or sum(1 for _ in train_ds)
    monitor = monitor or default_monitor(model)
    if backup_dir:
        os.makedirs(backup_dir, exist_ok=True)
    # Every pass over train_ds (an iterator: the count above, then the epochs') draws the next shuffle order.
    # A resumed run replays the passes the run before the restart made, so each epoch sees the same order.
    # Keras 3.15's EpochIterator makes one iterator per epoch for a dataset of unknown size (zoo's bucketed
    # text batches), and for one whose number of batches is known also a spare one at the end of every epoch
    # (keras/src/trainers/epoch_iterator.py, _enumerate_iterator): two passes per epoch.
    per_epoch = 2 if int(train_ds.cardinality()) >= 0 else 1
    made = before = 0 if steps_per_epoch else 1  # passes made in this process; made by the run, before this stage
    history = []
    for stage in stages:
        done = os.path.join(backup_dir, f"{stage.name}.done.weights.h5") if backup_dir else None
        if done and os.path.exists(done):
            _load_weights(model, done, backup_dir)
            stage_history = _stage_history(os.path.join(backup_dir, f"{stage.name}.csv"))
            history += [{"stage": stage.name, **h} for h in stage_history]
            before += per_epoch * len(stage_history)
            logger.info(f"stage {stage.name}: finished before the restart ({len(stage_history)} epochs); "
                        "weights restored")
            continue
        resumed = resumed_epoch(os.path.join(backup_dir, stage.name), stage.epochs) if backup_dir else 0
        if backup_dir and not steps_per_epoch:
            for _ in range(before + per_epoch * resumed - made):
                iter(train_ds)  # creating the iterator draws that pass's shuffle seeds
            made = before + per_epoch * resumed
        groups = apply_stage(model, stage)
        rate = distribute.scaled_learning_rate(stage.learning_rate, strategy, lr_scaling)
        schedule = learning_rate_schedule(stage.schedule, rate, stage.epochs * steps)
        fit_model = _compile(model, stage, schedule, optimizer, optimizer_options or {}, clipnorm, strategy,
                             trainer, label_weights)
        discriminative = f", each group below at 1/{stage.lr_factor:g} of the one above" if stage.lr_factor != 1 \
            else ""
        logger.info(f"stage {stage.name}: {stage.epochs} epoch(s), learning rate {rate:.3g} ({stage.schedule}"
                    f"{discriminative}), training {', '.join(groups)}")
        stage_callbacks = _callbacks(stage, valid_ds, patience, backup_dir, log_dir, chief, resumed,
                                     monitor) + list(callbacks)
        # BackupAndRestore sets the model's private `_initial_epoch` when it restores a stage and Keras never
        # resets it (fit reads `self._initial_epoch or initial_epoch`, keras/src/backend/tensorflow/trainer.py),
        # so the next stage's fit would skip as many epochs. Each stage starts from its own backup, or epoch 0.
        fit_model._initial_epoch = None
        # shuffle=False: the tf.data pipeline reshuffles every epoch itself.
        with warnings.catch_warnings():
            if not steps_per_epoch:
                # Keras 3.15 warns "Your input ran out of data; interrupting training" at the end of the first epoch
                # of every dataset of unknown size (zoo's bucketed batches), where running out is how it learns
                # the epoch's length: nothing is interrupted. keras#23360 warns only where steps_per_epoch was set.
                warnings.filterwarnings("ignore", message="Your input ran out of data", category=UserWarning)
            fit = fit_model.fit(train_ds, validation_data=valid_ds, epochs=stage.epochs,
                                steps_per_epoch=steps_per_epoch, callbacks=stage_callbacks, verbose=verbose,
                                shuffle=False, class_weight=class_weight)
        made += per_epoch * len(next(iter(fit.history.values()), []))
        if backup_dir:
            stage_history = _stage_history(os.path.join(backup_dir, f"{stage.name}.csv"))
            model.save_weights(done + ".tmp.weights.h5")
            os.replace(done + ".tmp.weights.h5", done)
            _ResumeState.remove(backup_dir, stage.name)
        else:
            stage_history = [{k: float(v[i]) for k, v in fit.history.items()}
                             for i in range(len(next(iter(fit.history.values()), [])))]
        before += per_epoch * len(stage_history)
        history += [{"stage": stage.name, **h} for h in stage_history]
    return history


def _compile(model, stage, schedule, optimizer, options, clipnorm, strategy, trainer, label_weights=None):
    """Compiles (a fresh optimizer) what the stage fits; returns it. ``label_weights``: a multi-label model's
    ``LabelWeights``, its loss's."""
    with strategy.scope():
        if stage.lr_factor != 1:
            opt = discriminative_optimizer(optimizer, schedule, group_multipliers(model, stage.lr_factor),
                                           clipnorm=clipnorm, **options)
        else:
            opt = make_optimizer(optimizer, schedule, clipnorm, **options)
        if trainer is not None:
            fit_model = trainer(model)
            fit_model.compile(opt)
            return fit_model
        if any(layer.name == "head" for layer in model.layers):
            return compile_model(model, opt, label_weights=label_weights)
        model.compile(opt)  # a language model: its own loss (LanguageModel.compute_loss)
        return model


def default_monitor(model):
    """``"val_loss"`` for a sigmoid head (multi-label), else ``"val_accuracy"``.

    Why: a multi-label model's thresholds are chosen per label after
    training, and its binary accuracy is mostly the many absent labels (33
    debtags, 1.6 per text: predicting none scores 0.95); the validation
    binary cross-entropy scores the probabilities the thresholds are then
    chosen on.
    """
    if any(layer.name == "head" for layer in model.layers) and head_activation(model) == "sigmoid":
        return "val_loss"
    return "val_accuracy"


def _callbacks(stage, valid_ds, patience, backup_dir, log_dir, chief, resumed=0, monitor="val_accuracy"):
    callbacks = [interrupts.callback()]  # a Ctrl-C that a finalizer dropped is raised again after the next batch
    if log_dir and chief:  # one writer: TensorBoard event files of several workers would collide
        callbacks.append(keras.callbacks.TensorBoard(os.path.join(log_dir, stage.name)))
    early_stopping = None
    if valid_ds is not None and patience is not None:
        early_stopping = keras.callbacks.EarlyStopping(monitor=monitor, patience=patience,
                                                       restore_best_weights=True)
        callbacks.append(early_stopping)
    if backup_dir:
        backup = os.path.join(backup_dir, stage.name)
        if resumed:
            logger.info(f"stage {stage.name}: resuming at epoch {resumed + 1} of {stage.epochs} from the backup in "
                        f"{backup}")
        # Before BackupAndRestore: at an epoch's end the extra state and the epoch's history row are written
        # first, so a backup of epoch N always has both (a kill between them leaves the state one epoch ahead,
        # which on_train_begin detects, and a row the re-run epoch rewrites; _stage_history counts it once).
        # With the CSVLogger after BackupAndRestore, a kill in between lost the epoch's row from the history.
        callbacks += [_ResumeState(backup_dir, stage.name, early_stopping),
                      keras.callbacks.CSVLogger(os.path.join(backup_dir, f"{stage.name}.csv"), append=True),
                      _BackupAndRestore(backup, backup_dir)]
    return callbacks


def _load_weights(model, path, backup_dir):
    try:
        model.load_weights(path)
    except (OSError, ValueError, KeyError) as error:  # h5py's, or Keras' for weights of another model
        raise damaged(path, backup_dir, "expected this model's weights", error) from None


class _BackupAndRestore(keras.callbacks.BackupAndRestore):
    """Keras' callback, with a damaged weights file one line (Keras lets h5py's or its own traceback through).
    Its epoch record was checked before (:func:`~zoo.training.backups.resumed_epoch`)."""

    def __init__(self, backup, backup_dir):
        super().__init__(backup)
        # (not `backup_dir`: Keras' own name for the stage's folder, which it saves into and deletes at the end)
        self.weights_file, self.run_backup = os.path.join(backup, WEIGHTS), backup_dir

    def on_train_begin(self, logs=None):
        try:
            super().on_train_begin(logs)
        except (OSError, ValueError, KeyError) as error:
            raise damaged(self.weights_file, self.run_backup, "expected this model's weights", error) from None


class _ResumeState(keras.callbacks.Callback):
    """What ``keras.callbacks.BackupAndRestore`` does not keep, kept beside its backup.

    Why: BackupAndRestore restores weights, optimizer state and the epoch, but
    not the dropout layers' random state (Keras ``SeedGenerator`` variables
    are not in ``save_weights``) nor ``EarlyStopping``'s (its best epoch,
    best weights and patience count, reset by ``on_train_begin``). Without
    them a resumed run draws other dropout masks and may stop at another
    epoch. This callback saves both at every epoch's end and puts them back
    when a stage resumes; with the shuffle passes replayed by the runner, a
    run killed and resumed ends with the same weights as one never killed.
    """

    def __init__(self, backup_dir, stage, early_stopping=None):
        super().__init__()
        self.backup_dir = backup_dir
        self.path = os.path.join(backup_dir, f"{stage}.state.npz")
        self.backup = os.path.join(backup_dir, stage)
        self.early_stopping = early_stopping

    @staticmethod
    def remove(backup_dir, stage):
        path = os.path.join(backup_dir, f"{stage}.state.npz")
        if os.path.exists(path):
            os.unlink(path)

    def _seed_states(self):
        return [v for v in self.model.non_trainable_variables if v.path.endswith("seed_generator_state")]

    def on_epoch_end(self, epoch, logs=None):
        arrays = {"epoch": np.array(epoch + 1)}
        for k, v in enumerate(self._seed_states()):
            arrays[f"seed_{k}"] = keras.ops.convert_to_numpy(v)
        es = self.early_stopping
        if es is not None:
            arrays.update(es_wait=np.array(es.wait), es_best_epoch=np.array(es.best_epoch),
                          es_best=np.array(np.nan if es.best is None else es.best, "float64"))
            for k, w in enumerate(es.best_weights or []):
                arrays[f"es_weight_{k}"] = w
        with atomic_file(self.path, binary=True) as f:
            np.savez(f, **arrays)

    def on_train_begin(self, logs=None):
        resumed = resumed_epoch(self.backup)
        if not resumed or not os.path.exists(self.path):
            return
        saved = read_state(self.path, self.backup_dir)
        if int(saved["epoch"]) != resumed:
            logger.warning(f"{self.path}: saved at epoch {int(saved['epoch'])}, the backup at {resumed}: "
                           "the run resumes, but its dropout masks and early stopping start afresh")
            return
        # Checked against this model before anything is set: Keras would fail here with a traceback, or for the
        # best weights only when early stopping restores them, at the end of the stage.
        seeds = self._seed_states()
        self._check_shapes("dropout seeds", [saved.get(f"seed_{k}") for k in range(len(seeds))], seeds)
        es = self.early_stopping
        restore_es = es is not None and "es_wait" in saved
        if restore_es:
            names = sorted((k for k in saved if k.startswith("es_weight_")), key=lambda k: int(k[10:]))
            best_weights = [saved[k] for k in names]
            if best_weights:
                self._check_shapes("best weights", best_weights, self.model.weights)
        for k, v in enumerate(seeds):
            v.assign(saved[f"seed_{k}"])
        if restore_es:
            es.wait, es.best_epoch = int(saved["es_wait"]), int(saved["es_best_epoch"])
            es.best = None if np.isnan(saved["es_best"]) else float(saved["es_best"])
            es.best_weights = best_weights or None

    def _check_shapes(self, what, arrays, variables):
        got = [None if a is None else tuple(a.shape) for a in arrays]
        wanted = [tuple(v.shape) for v in variables]
        if None in got or len(got) != len(wanted):
            found = sum(g is not None for g in got)
            raise damaged(self.path, self.backup_dir, f"expected this model's {len(wanted)} {what}, got {found}")
        for k, (g, w) in enumerate(zip(got, wanted)):
            if g != w:
                raise damaged(self.path, self.backup_dir, f"expected {what} #{k} of shape {w}, got {g}")


def _stage_history(log_path):
    """Per-epoch rows of a stage's CSVLogger file (an epoch re-run after a crash counts once)."""
    if not os.path.exists(log_path):
        return []
    rows = read_history(log_path, os.path.dirname(log_path))
    return [rows[e] for e in sorted(rows)]
