"""Hyperparameter search over :class:`zoo.TextClassifier` settings, with KerasTuner (``zoo tune``).

A search is a loop of ordinary trainings that differ only in the settings of
:data:`SEARCH_SPACE`:

1. The data is loaded, the vectorizer adapted and the pretrained vectors
   aligned ONCE, before the search; trials only build a model and train it.
2. Each trial builds and trains exactly as ``TextClassifier.fit`` does
   (the same stage plan and stage runner: embedding frozen or not, cosine
   decay, gradient clipping, early stopping on ``val_accuracy`` with the
   best weights restored). The score of a setting is then the score
   ``zoo train`` gets for it, so ``best.json`` re-runs to the same validation
   accuracy.
3. The objective is the best ``val_accuracy`` of a trial (maximised), on the
   validation split carved out of train. The test split is never used.
4. Results go to ``leaderboard.csv`` / ``leaderboard.md`` (every trial, best
   first), ``best.json`` (settings that ``zoo train --config`` takes) and
   ``summary.json``.

The search is resumable: KerasTuner keeps its state in
``OUTPUT_DIR/search`` (``overwrite=False``), so the same command run again
skips finished trials and re-runs the one that was interrupted.

Example:

>>> from zoo.config import ClassifierConfig, DataConfig, TuneConfig
>>> summary = search(DataConfig(dataset="sms_spam"), ClassifierConfig(epochs=2),  # doctest: +SKIP
...                  TuneConfig(max_trials=3, output_dir="runs/tune"))
>>> summary["best_val_accuracy"]  # doctest: +SKIP
0.98...
"""

import contextlib
import csv
import dataclasses
import io
import json
import math
import os
import time

from zoo.config import (
    DEFAULT_EPOCHS,
    DEFAULT_MODEL,
    TUNERS,
    ClassifierConfig,
    init_kind,
    read_search_space,
    resolve_init_defaults,
)
from zoo.config.jobs import check_search_space
from zoo.errors import ConfigError, ExportError, SearchError
from zoo.files import (
    DirectoryLock,
    check_replaceable,
    marked_kind,
    remove_owned,
    write_json,
    write_marker,
    write_text,
)
from zoo.lazy import lazy_module
from zoo.log import logger
from zoo.models import registry
from zoo.training import optimizers

# (TensorFlow: the search's training, imported once the settings and the output folder are checked)
datasets = lazy_module("zoo.data.datasets")
distribute = lazy_module("zoo.training.distribute")
fit_steps = lazy_module("zoo.training.fit_steps")
from_vectors = lazy_module("zoo.training.from_vectors")

OBJECTIVE = "val_accuracy"
PROJECT_NAME = "search"

# The search space, declared here and nowhere else. Each entry is a setting of
# zoo.config.ClassifierConfig and how to sample it:
#   a list                        -> a choice among these values (hp.Choice)
#   a single value                -> fixed (hp.Fixed)
#   {"min", "max"[, "step"][, "sampling"]} -> a number (hp.Int for ints,
#                                    hp.Float otherwise; sampling "log")
# Override entries with ``TuneConfig(space=...)`` / ``zoo tune --space``.
SEARCH_SPACE = {
    "model": ["bilstm", "lstm"],  # registry names (zoo.list_models())
    "cell": ["lstm", "gru", "peephole", "cifg"],  # zoo.config.CELLS
    "units": [32, 64, 128],  # recurrent units per direction
    "num_layers": [1, 2],
    "pooling": ["max", "mean", "last"],
    "dropout": {"min": 0.0, "max": 0.5, "step": 0.1},  # before the head
    "optimizer": ["adam", "rmsprop", "sgd", "adagrad"],  # zoo.training.optimizers.OPTIMIZERS
    "learning_rate": {"min": 1e-3, "max": 2e-2, "sampling": "log"},
}

# Settings left out of best.json: the command that re-runs it chooses them (allow_pickle too: trusting a pickle
# is a choice of whoever runs the command, never one a settings file makes for them; issue #33).
NOT_IN_BEST = ("backup_dir", "log_dir", "lm_cache_dir", "strategy", "allow_pickle")


# === Search space ===


def resolve_space(overrides=None):
    """:data:`SEARCH_SPACE` with ``overrides`` (a dict, same format) applied and checked.

    Example:

    >>> resolve_space({"units": [8], "optimizer": "adam"})["units"]
    [8]
    """
    space = dict(SEARCH_SPACE)
    space.update(overrides or {})
    try:
        check_search_space(space)  # (TuneConfig checked the overrides already: this is for Python callers)
    except ConfigError as error:
        raise SearchError(str(error)) from None
    return space


def declare(hp, space):
    """Declares ``space`` on a ``keras_tuner.HyperParameters``; returns the chosen values."""
    values = {}
    for name, spec in space.items():
        if isinstance(spec, list):
            if len({type(v) for v in spec}) > 1:  # ints among floats of a number setting: KerasTuner takes one type
                spec = [float(v) for v in spec]
            values[name] = hp.Choice(name, spec) if len(spec) > 1 else hp.Fixed(name, spec[0])
        elif isinstance(spec, dict):
            ints = all(isinstance(spec.get(k, 1), int) for k in ("min", "max", "step"))
            kind = hp.Int if ints else hp.Float
            kwargs = {"step": spec["step"]} if "step" in spec else {}
            values[name] = kind(name, spec["min"], spec["max"], sampling=spec.get("sampling", "linear"), **kwargs)
        else:
            values[name] = hp.Fixed(name, spec)
    return values


def clean(value):
    """A sampled float to 6 significant digits (0.30000000000000004 -> 0.3).

    Trials train with the cleaned value, and best.json holds the same one.
    """
    if isinstance(value, float) and math.isfinite(value):
        return float(f"{value:.6g}")
    return value


# === Data, prepared once ===


def prepare(data, settings):
    """Loads the data, adapts the vectorizer and aligns the vectors once, as ``TextClassifier.fit`` would.

    Returns:
        ``(dataset, fit)``: the splits, and the prepared training that every
        trial copies with its own settings.
    """
    import keras

    keras.utils.set_random_seed(settings.seed)
    logger.info("loading data")
    dataset, _ = datasets.load_for_training(data, validation_split=settings.validation_split, seed=settings.seed)
    logger.info(f"{dataset.name}: {dataset.summary()}")
    if not len(dataset.valid_labels):
        raise SearchError("the search scores trials on a validation split: use `validation_split` > 0 or `valid` "
                          "FILE (the test split is never used for the search)")
    import tensorflow as tf

    fit = fit_steps.FitSteps(settings, tf.distribute.get_strategy(), dataset.class_names, dataset.train_texts,
                             dataset.train_labels, dataset.valid_texts, dataset.valid_labels)
    from_vectors.prepare(fit)
    return dataset, fit


# === The hypermodel ===


def _hypermodel_class():
    import keras_tuner as kt

    class TrainingHyperModel(kt.HyperModel):
        """Builds and trains one TextClassifier training per trial; ``settings`` hold what is not searched."""

        def __init__(self, settings, fit, space):
            super().__init__(name="zoo_text_classifier")
            self.settings, self.fit_data, self.space = settings, fit, space
            self.trial_dir = None
            self.checkpoint = None
            self.execution = 0

        def trial_settings(self, hp):
            values = _without_moot_cell({k: clean(v) for k, v in hp.values.items() if k in self.space},
                                        self.settings.model)
            # executions of a trial differ by their seed
            return self.settings.replace(**values, seed=self.settings.seed + self.execution)

        def declare_hyperparameters(self, hp):
            declare(hp, self.space)

        def build(self, hp):
            import keras

            declare(hp, self.space)
            settings = self.trial_settings(hp)
            keras.utils.set_random_seed(settings.seed)
            model = from_vectors.build_model(self.fit_data.with_settings(settings))
            options = optimizers.momentum_options(settings.optimizer, settings.momentum, settings.nesterov)
            return optimizers.compile_model(model, optimizers.make_optimizer(
                settings.optimizer, settings.learning_rate, settings.clipnorm, **options))

        def fit(self, hp, model, *args, epochs=None, initial_epoch=0, callbacks=None, **kwargs):
            # The tuner's own callbacks (per-epoch checkpoint, progress hooks) are not passed on: the trial trains
            # with the stage runner's callbacks, and the weights are saved below instead.
            settings = self.trial_settings(hp)
            if epochs:  # Hyperband sets each trial's budget
                settings = settings.replace(epochs=epochs)
            trial = self.fit_data.with_settings(settings)
            plan = _remaining(from_vectors.plan(trial), initial_epoch)
            log_dir = os.path.join(self.trial_dir or "logs", f"logs_{self.execution}")
            try:
                from_vectors.train_model(trial, model, stages=plan, log_dir=log_dir)
            finally:
                self.execution += 1
            if self.checkpoint:  # Hyperband continues a trial from these weights
                model.save_weights(self.checkpoint)
            history = trial.history
            scores = [h[OBJECTIVE] for h in history if OBJECTIVE in h and math.isfinite(h[OBJECTIVE])]
            if not scores:
                raise RuntimeError(f"training gave no finite {OBJECTIVE}")
            best = max(range(len(history)), key=lambda i: history[i].get(OBJECTIVE, -1.0))
            return {OBJECTIVE: float(max(scores)), "val_loss": float(history[best].get("val_loss", float("nan"))),
                    "best_epoch": best + 1 + initial_epoch, "epochs_run": len(history),
                    "train_seconds": trial.record.train_seconds}

    return TrainingHyperModel


def _remaining(plan, initial_epoch):
    """The stages of ``plan`` left after ``initial_epoch`` epochs (Hyperband resumes trials)."""
    out, done = [], initial_epoch
    for stage in plan:
        skip = min(done, stage.epochs)
        done -= skip
        if stage.epochs - skip > 0:
            out.append(dataclasses.replace(stage, epochs=stage.epochs - skip))
    return out


def _tuner_class(name):
    import keras_tuner as kt

    base = {"random": kt.RandomSearch, "grid": kt.GridSearch, "bayesian": kt.BayesianOptimization,
            "hyperband": kt.Hyperband}[name]

    class ZooTuner(base):
        """Tells the hypermodel where the trial lives, and logs one line per finished trial."""

        def on_trial_begin(self, trial):
            super().on_trial_begin(trial)
            self.hypermodel.trial_dir = self.get_trial_dir(trial.trial_id)
            self.hypermodel.checkpoint = self._get_checkpoint_fname(trial.trial_id)
            self.hypermodel.execution = 0

        def on_trial_end(self, trial):
            super().on_trial_end(trial)
            logger.info(trial_line(trial, self.hypermodel.space))
            # Keep the leaderboard current: an interrupted search still has one.
            space = self.hypermodel.space
            write_leaderboard(leaderboard(self.oracle.trials.values(), space), str(self.directory), space)

    ZooTuner.__name__ = ZooTuner.__qualname__ = f"Zoo{base.__name__}"
    return ZooTuner


def make_tuner(hypermodel, name="random", *, directory, max_trials=10, executions_per_trial=1, seed=0,
               overwrite=False, max_epochs=None):
    """A KerasTuner tuner by name (``random``, ``grid``, ``bayesian``, ``hyperband``), objective val_accuracy."""
    import keras_tuner as kt

    if name not in TUNERS:
        raise SearchError(f"unknown tuner {name!r}: expected one of {', '.join(TUNERS)}")
    common = dict(objective=kt.Objective(OBJECTIVE, direction="max"), seed=seed, directory=directory,
                  project_name=PROJECT_NAME, overwrite=overwrite, executions_per_trial=executions_per_trial)
    cls = _tuner_class(name)
    if name == "hyperband":
        tuner = cls(hypermodel, max_epochs=max_epochs or hypermodel.settings.epochs, factor=3, **common)
        tuner.oracle.max_trials = max_trials  # Hyperband has no max_trials of its own
    else:
        tuner = cls(hypermodel, max_trials=max_trials, **common)
    return tuner


# === The search ===


def _fingerprint(data, settings, space, tuner):
    return {"tuner": tuner, "space": space, "data": data.to_dict(),
            "settings": {k: v for k, v in settings.to_dict().items() if k not in NOT_IN_BEST}}


def _check_resume(path, fingerprint):
    """Refuses to resume a search that was started with other settings."""
    if not os.path.exists(path):
        return
    try:
        with open(path, encoding="utf-8") as f:
            before = json.load(f)
    except (OSError, ValueError) as error:
        raise SearchError(f"{path}: cannot read the settings of the search there ({type(error).__name__}); pass "
                          "`overwrite` to start afresh, or another `output_dir`") from None
    if not isinstance(before, dict):
        raise SearchError(f"{path}: not the settings of a search zoo wrote (expected a JSON object); pass "
                          "`overwrite` to start afresh, or another `output_dir`")
    now = json.loads(json.dumps(fingerprint, default=str))
    if before != now:
        changed = sorted({k for part in ("data", "settings") for k in set(before.get(part, {})) | set(now[part])
                          if before.get(part, {}).get(k) != now[part].get(k)})
        changed += [k for k in ("tuner", "space") if before.get(k) != now[k]]
        raise SearchError(f"{os.path.dirname(path)} holds a search started with other settings "
                          f"({', '.join(changed)}): pass `overwrite` to start afresh, or another `output_dir`")


def _check_output_dir(output_dir, project):
    """``output_dir`` must be new, empty, or a search zoo wrote: ``overwrite`` makes KerasTuner delete its
    ``search/`` folder, and the leaderboard and best.json replace files of those names. A search of zoo 0.3 (no
    marker yet) is known by its ``search/zoo_search.json``."""
    if os.path.exists(os.path.join(project, "zoo_search.json")):
        return
    check_replaceable(output_dir, ("tune",), what="`output_dir`")
    check_replaceable(project, ("search",))


def search(data, settings, tune):
    """Runs (or resumes) a search; writes the leaderboard, best.json and summary.json; returns the summary.

    Args:
        data: a :class:`zoo.config.DataConfig` (the test split is loaded with train, never used).
        settings: a :class:`zoo.config.ClassifierConfig` with the settings not searched; ``epochs`` is per
            trial (Hyperband's ``max_epochs``).
        tune: a :class:`zoo.config.TuneConfig`: tuner, trial budget, ``space`` overrides, output directory.
    """
    if data.train:  # absolute, so best.json re-runs from any directory
        data = data.replace(**{k: os.path.abspath(getattr(data, k)) for k in ("train", "test", "valid")
                               if getattr(data, k)})
    if init_kind(settings.init) in ("lm", "auto", "model"):
        raise SearchError(f"the search tunes word-vector or random-embedding models: `init` {settings.init!r} "
                          "is not searched")
    if settings.multi_label:
        raise SearchError("the search scores single-label validation accuracy: `multi_label` runs are not searched")
    space = resolve_space(read_search_space(tune.space))
    project = os.path.join(tune.output_dir, PROJECT_NAME)
    fingerprint = _fingerprint(data, settings, space, tune.tuner)
    _check_output_dir(tune.output_dir, project)
    # One search per folder: a second one would take the first one's running trial for an interrupted one and
    # write trials into the same folders. The lock is taken before anything is loaded, and held to the end.
    created = not os.path.exists(tune.output_dir)
    try:
        os.makedirs(tune.output_dir, exist_ok=True)
    except OSError as error:  # a file where a folder of the path belongs, a read-only place
        raise ExportError(f"`output_dir` {tune.output_dir}: cannot make it ({error.strerror or error})") from None
    lock = None
    try:
        try:
            lock = DirectoryLock(tune.output_dir)  # (refused: the folder is the other search's, left as it is)
        except OSError as error:  # a folder this user cannot write in
            raise ExportError(f"`output_dir` {tune.output_dir}: cannot write in it ({error.strerror or error})") \
                from None
        if not tune.overwrite:  # (under the lock: the settings file of a search that is over)
            _check_resume(os.path.join(project, "zoo_search.json"), fingerprint)
        return _search(data, settings, tune, space, project, fingerprint)
    except BaseException:
        if created and lock is not None and not os.path.exists(project):  # no search in it yet: as if never run
            with contextlib.suppress(OSError, ExportError):  # (the error on its way out is the one to tell)
                remove_owned(tune.output_dir, ("tune",))
        raise
    finally:
        if lock is not None:
            lock.release()


def _search(data, settings, tune, space, project, fingerprint):
    """The search itself, in the locked ``tune.output_dir``: see :func:`search`."""
    # Every trial trains exactly the epochs the tuner gives it (Hyperband's budgets): no adaptive epochs.
    resolved = resolve_init_defaults(settings)
    resolved = resolved.replace(epochs=resolved.epochs or DEFAULT_EPOCHS)
    distribute.resolve_precision(resolved.precision)
    dataset, fit = prepare(data, resolved)
    hypermodel = _hypermodel_class()(resolved, fit, space)
    resuming = not tune.overwrite and os.path.exists(os.path.join(project, "oracle.json"))
    start = time.time()
    for folder, kind in ((tune.output_dir, "tune"), (project, "search")):  # KerasTuner's overwrite removes `project`
        os.makedirs(folder, exist_ok=True)
        if marked_kind(folder) is None:
            write_marker(folder, kind)
    tuner_obj = make_tuner(hypermodel, tune.tuner, directory=tune.output_dir, max_trials=tune.max_trials,
                           executions_per_trial=tune.executions_per_trial, seed=resolved.seed,
                           overwrite=tune.overwrite, max_epochs=resolved.epochs)
    os.makedirs(project, exist_ok=True)
    write_json(os.path.join(project, "zoo_search.json"), fingerprint)
    done = [t for t in tuner_obj.oracle.trials.values() if t.status == "COMPLETED"]
    if resuming:
        interrupted = sum(t.status == "RUNNING" for t in tuner_obj.oracle.trials.values())
        logger.info(f"resuming the search in {project}: {len(done)} trial(s) finished (not re-run), {interrupted} "
                    f"interrupted (run again first); pass --overwrite to start afresh")
    logger.info(f"{tune.tuner} search over {', '.join(f'{k}={v}' for k, v in space.items())}; "
                f"up to {tune.max_trials} trials of {resolved.epochs} epochs")
    try:
        tuner_obj.search(verbose=1)
    except RuntimeError as error:
        if "consecutive failures" not in str(error):
            raise
        failed = [t for t in tuner_obj.oracle.trials.values() if t.status in ("FAILED", "INVALID") and t.message]
        last = failed[-1].message.strip().splitlines()[-1] if failed else str(error).strip().splitlines()[-1]
        raise SearchError(f"trials keep failing; the last one: {last}") from None

    rows = leaderboard(tuner_obj.oracle.trials.values(), space)
    best = next((r for r in rows if r[OBJECTIVE] is not None), None)
    if best is None:
        raise SearchError(f"no trial finished (see {project}/trial_*/trial.json)")
    best_cfg = best_settings(data, settings, best)
    write_leaderboard(rows, tune.output_dir, space)
    write_json(os.path.join(tune.output_dir, "best.json"), best_cfg)
    summary = {
        "objective": OBJECTIVE, "best_val_accuracy": best[OBJECTIVE], "best_trial": best["trial"],
        "best_settings": {k: best_cfg[k] for k in space if k in best_cfg}, "tuner": tune.tuner,
        "trials": len(rows), "completed": sum(r["status"] == "COMPLETED" for r in rows),
        "max_trials": tune.max_trials, "executions_per_trial": tune.executions_per_trial,
        "epochs_per_trial": resolved.epochs, "search_space": space, "resumed": resuming,
        "seconds_this_run": round(time.time() - start, 1), "dataset": dataset.summary(), "project_dir": project,
        "note": "scores are on the validation split; the test split was not used",
    }
    write_json(os.path.join(tune.output_dir, "summary.json"), summary)
    logger.info(f"best: trial {best['trial']} val_accuracy {best[OBJECTIVE]:.4f} "
                f"({', '.join(f'{k}={_fmt(best[k])}' for k in space)})")
    logger.info(f"wrote {tune.output_dir}/ (leaderboard.csv, leaderboard.md, best.json, summary.json)")
    return summary


def leaderboard(trials, space):
    """One row per trial (settings, score, status), best first; unfinished trials last."""
    rows = []
    for trial in trials:
        values = trial.hyperparameters.values
        score = trial.metrics.get_best_value(OBJECTIVE) if trial.metrics.exists(OBJECTIVE) else None
        row = {"trial": trial.trial_id, OBJECTIVE: None if score is None else round(float(score), 6),
               "status": trial.status}
        row.update({k: clean(values.get(k)) for k in space})
        if "cell" in row and "cell" not in _without_moot_cell(dict(row), None):
            row["cell"] = None  # the model's own
        row["epochs"] = values.get("tuner/epochs")  # Hyperband's budget of the trial, else None
        for extra in ("best_epoch", "epochs_run", "train_seconds"):
            value = trial.metrics.get_last_value(extra) if trial.metrics.exists(extra) else None
            row[extra] = int(value) if extra != "train_seconds" and value is not None and value == int(value) \
                else value
        rows.append(row)
    rows.sort(key=lambda r: (r[OBJECTIVE] is None, -(r[OBJECTIVE] or 0.0), r["trial"]))
    return rows


def _without_moot_cell(values, default_model):
    """``values`` without ``cell`` when the model fixes its own (``gru``, ``peephole_lstm``): it would not build.

    Example:

    >>> _without_moot_cell({"model": "gru", "cell": "cifg"}, None), _without_moot_cell({"cell": "cifg"}, "lstm")
    ({'model': 'gru'}, {'cell': 'cifg'})
    """
    model = values.get("model") or default_model or DEFAULT_MODEL
    if "cell" in registry.get_factory(model).fixed:
        values.pop("cell", None)
    return values


def best_settings(data, settings, row):
    """The settings of a leaderboard row, as ``zoo train --config`` takes them: data, fixed and searched settings."""
    best = {k: v for k, v in data.to_dict().items() if v is not None and k not in ("labels", "dev")}
    best.update({k: v for k, v in settings.to_dict().items() if k not in NOT_IN_BEST})
    best.update({k: row[k] for k in row if k in ClassifierConfig.names() and row[k] is not None})
    return best


def trial_line(trial, space):
    """One line for a finished trial: id, status, score and settings."""
    values = trial.hyperparameters.values
    score = trial.metrics.get_best_value(OBJECTIVE) if trial.metrics.exists(OBJECTIVE) else None
    settings = " ".join(f"{k}={_fmt(values[k])}" for k in space if k in values)
    if "tuner/epochs" in values:
        settings += f" epochs={values['tuner/epochs']}"
    shown = f"{OBJECTIVE}={score:.4f}" if score is not None else f"{OBJECTIVE}=n/a"
    return f"trial {trial.trial_id} {str(trial.status).lower()}: {shown} {settings}"


def _fmt(value):
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _columns(rows, space):
    columns = ["trial", OBJECTIVE, "status", *space]
    if any(r["epochs"] is not None for r in rows):
        columns.append("epochs")
    return columns + ["best_epoch", "epochs_run", "train_seconds"]


def write_leaderboard(rows, output_dir, space):
    columns = _columns(rows, space)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text(os.path.join(output_dir, "leaderboard.csv"), buffer.getvalue())

    def cell(value):
        return "" if value is None else _fmt(value) if isinstance(value, float) and not isinstance(value, bool) \
            else str(value)

    lines = ["| rank | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for rank, row in enumerate(rows, 1):
        lines.append(f"| {rank} | " + " | ".join(
            f"{row[c]:.4f}" if c == OBJECTIVE and row[c] is not None else cell(row[c]) for c in columns) + " |")
    write_text(os.path.join(output_dir, "leaderboard.md"),
                f"# Search leaderboard ({OBJECTIVE}, validation split; best first)\n\n" + "\n".join(lines) + "\n")
