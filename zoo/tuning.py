"""Hyperparameter search over the experiment's settings, with KerasTuner.

A search is a loop of ordinary experiments (:mod:`zoo.experiment`) that
differ only in the settings of :data:`SEARCH_SPACE`:

1. The data is loaded, the vectorizer adapted and the pretrained vectors
   aligned ONCE, before the search (:func:`prepare`); trials only build a
   model and train it.
2. Each trial builds its model with ``experiment.build_model`` and trains it
   with ``experiment.train``: the very stages of the recipes (embedding
   frozen, then fine-tuning at a lower rate, cosine decay, gradient clipping,
   early stopping on ``val_accuracy`` with the best weights restored). The
   score of a setting is then the score the recipe gets for it, so
   ``best.json`` re-runs to the same validation accuracy.
3. The objective is the best ``val_accuracy`` of a trial (maximised), on the
   validation split carved out of train. The test split is never used.
4. Results go to ``leaderboard.csv`` / ``leaderboard.md`` (every trial, best
   first), ``best.json`` (experiment settings that the recipes take with
   ``--config``) and ``summary.json``.

The search is resumable: KerasTuner keeps its state in
``OUTPUT_DIR/search`` (``directory``/``project_name``, ``overwrite=False``),
so the same command run again skips finished trials and re-runs the one that
was interrupted.

Example:

>>> from zoo import experiment, tuning
>>> cfg = {**experiment.DEFAULTS, "dataset": "sms_spam", "epochs": 2}
>>> result = tuning.search(cfg, tuner="random", max_trials=3, output_dir="runs/tune")
>>> result["best_val_accuracy"]
0.98...
"""

import csv
import dataclasses
import io
import json
import math
import os
import sys
import time

from zoo import experiment, text
from zoo.errors import ZooError

OBJECTIVE = "val_accuracy"
PROJECT_NAME = "search"
TUNERS = ("random", "grid", "bayesian", "hyperband")

# The search space, declared here and nowhere else. Each entry is a setting of
# ``experiment.DEFAULTS`` and how to sample it:
#   a list                        -> a choice among these values (hp.Choice)
#   a single value                -> fixed (hp.Fixed)
#   {"min", "max"[, "step"][, "sampling"]} -> a number (hp.Int for ints,
#                                    hp.Float otherwise; sampling "log")
# Override entries with ``search(space=...)`` / ``recipes/tune.py --space``.
SEARCH_SPACE = {
    "model": ["bilstm", "lstm", "gru"],  # registry names (zoo.list_models())
    "units": [32, 64, 128],  # recurrent units per direction
    "num_layers": [1, 2],
    "pooling": ["max", "mean", "last"],
    "dropout": {"min": 0.0, "max": 0.5, "step": 0.1},  # before the head
    "optimizer": ["adam", "rmsprop", "sgd", "adagrad"],  # zoo.training.OPTIMIZERS
    "learning_rate": {"min": 1e-3, "max": 2e-2, "sampling": "log"},
}

# Settings a trial may vary. Data settings (dataset, max_tokens,
# sequence_length, vectors, ...) are not among them: the data is prepared once.
TUNABLE = ("model", "units", "num_layers", "pooling", "dropout", "spatial_dropout", "recurrent_dropout", "l1",
           "l2", "embedding_dim", "optimizer", "learning_rate", "finetune_lr_factor", "clipnorm", "lr_schedule",
           "batch_size", "frozen_epochs", "patience")
# Settings left out of best.json: the recipe that re-runs it chooses them.
NOT_IN_BEST = ("recipe", "output_dir", "overwrite", "backup_dir")


class SearchError(ZooError, ValueError):
    """A search cannot start or finish (bad search space, no validation split, ...)."""


def _log(message):
    print(f"[zoo.tune] {message}", file=sys.stderr, flush=True)


# === Search space ===


def resolve_space(overrides=None):
    """:data:`SEARCH_SPACE` with ``overrides`` (a dict, same format) applied and checked.

    Example:

    >>> resolve_space({"units": [8], "optimizer": "adam"})["units"]
    [8]
    """
    space = dict(SEARCH_SPACE)
    for name, spec in (overrides or {}).items():
        if name not in TUNABLE:
            raise SearchError(f"cannot search over {name!r}: tunable settings are {', '.join(TUNABLE)}")
        space[name] = spec
    for name, spec in space.items():
        _check_spec(name, spec)
    return space


def _check_spec(name, spec):
    import zoo
    from zoo import models, training

    allowed = {"model": zoo.list_models(), "pooling": models.POOLINGS, "optimizer": list(training.OPTIMIZERS),
               "lr_schedule": ["cosine", "constant"]}.get(name)
    if isinstance(spec, dict):
        unknown = set(spec) - {"min", "max", "step", "sampling"}
        if unknown or not {"min", "max"} <= set(spec):
            raise SearchError(f"search space {name!r}: a range needs min and max (and optionally step, sampling); "
                              f"got {spec!r}")
        if not all(isinstance(spec[k], (int, float)) and not isinstance(spec[k], bool) for k in ("min", "max")) \
                or spec["min"] > spec["max"]:
            raise SearchError(f"search space {name!r}: min and max must be numbers with min <= max, got {spec!r}")
        if spec.get("sampling", "linear") not in ("linear", "log", "reverse_log"):
            raise SearchError(f"search space {name!r}: sampling must be linear or log, got {spec['sampling']!r}")
        if spec.get("sampling") == "log" and spec["min"] <= 0:
            raise SearchError(f"search space {name!r}: log sampling needs min > 0, got {spec['min']!r}")
        values = []
    else:
        values = spec if isinstance(spec, list) else [spec]
        if not values:
            raise SearchError(f"search space {name!r}: an empty list of values")
    if allowed is not None:
        bad = [v for v in values if v not in allowed]
        if bad or isinstance(spec, dict):
            raise SearchError(f"search space {name!r}: {bad[0] if bad else spec!r} is not one of "
                              f"{', '.join(map(str, allowed))}")


def declare(hp, space):
    """Declares ``space`` on a ``keras_tuner.HyperParameters``; returns the chosen values."""
    values = {}
    for name, spec in space.items():
        if isinstance(spec, list):
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


@dataclasses.dataclass
class Prepared:
    """What every trial shares: the data, token ids and embedding matrix."""

    dataset: object
    vectorizer: object
    sequence_length: int
    ids: dict
    embeddings: object
    coverage: object

    @property
    def vocab_size(self):
        return len(self.vectorizer.get_vocabulary())


def prepare(cfg):
    """Loads the data, adapts the vectorizer and aligns the vectors (as ``experiment.run`` does)."""
    import keras

    keras.utils.set_random_seed(cfg["seed"])
    _log("loading data")
    dataset = experiment.load_data(cfg)
    _log(f"{dataset.name}: {dataset.summary()}")
    if not len(dataset.valid_labels):
        raise SearchError("the search scores trials on a validation split: use --validation-split > 0 or --valid FILE "
                          "(the test split is never used for the search)")
    vectorizer, length, ids = experiment.prepare_text(dataset, cfg)
    _log(f"vocabulary {len(vectorizer.get_vocabulary())} tokens; sequence length {length}")
    embeddings, coverage = experiment.pretrained_embeddings(vectorizer, cfg)
    if coverage is not None:
        _log(str(coverage))
    return Prepared(dataset, vectorizer, length, ids, embeddings, coverage)


# === The hypermodel ===


def _hypermodel_class():
    import keras_tuner as kt

    class ExperimentHyperModel(kt.HyperModel):
        """Builds and trains one experiment per trial; ``cfg`` holds the settings not searched."""

        def __init__(self, cfg, prepared, space):
            super().__init__(name="zoo_experiment")
            self.cfg, self.prepared, self.space = cfg, prepared, space
            self.trial_dir = None
            self.checkpoint = None
            self.execution = 0

        def trial_config(self, hp):
            cfg = {**self.cfg, **{k: clean(v) for k, v in hp.values.items() if k in self.space}}
            cfg["seed"] = self.cfg["seed"] + self.execution  # executions of a trial differ by their seed
            return cfg

        def declare_hyperparameters(self, hp):
            declare(hp, self.space)

        def build(self, hp):
            import keras

            import zoo

            declare(hp, self.space)
            cfg = self.trial_config(hp)
            keras.utils.set_random_seed(cfg["seed"])
            p = self.prepared
            model = experiment.build_model(cfg, p.vocab_size, len(p.dataset.class_names), p.embeddings)
            return zoo.compile_model(model, cfg["optimizer"], cfg["learning_rate"], cfg["clipnorm"])

        def fit(self, hp, model, *args, epochs=None, initial_epoch=0, callbacks=None, **kwargs):
            # The tuner's own callbacks (per-epoch checkpoint, progress hooks)
            # are not passed on: experiment.train runs the recipes' stages with
            # their own callbacks, and the weights are saved below instead.
            cfg = self.trial_config(hp)
            if epochs:  # Hyperband sets each trial's budget
                cfg["epochs"] = epochs
            p = self.prepared
            train_ds = text.make_dataset(p.ids["train"].ids, p.dataset.train_labels, cfg["batch_size"],
                                         shuffle=True, seed=cfg["seed"])
            valid_ds = text.make_dataset(p.ids["valid"].ids, p.dataset.valid_labels, cfg["batch_size"])
            plan = _remaining(experiment.stages(cfg, p.embeddings is not None), initial_epoch)
            log_dir = os.path.join(self.trial_dir or "logs", f"logs_{self.execution}")
            start = time.time()
            try:
                history = experiment.train(model, train_ds, valid_ds, cfg, plan, log_dir)
            finally:
                self.execution += 1
            if self.checkpoint:  # Hyperband continues a trial from these weights
                model.save_weights(self.checkpoint)
            scores = [h[OBJECTIVE] for h in history if OBJECTIVE in h and math.isfinite(h[OBJECTIVE])]
            if not scores:
                raise RuntimeError(f"training gave no finite {OBJECTIVE}")
            best = max(range(len(history)), key=lambda i: history[i].get(OBJECTIVE, -1.0))
            return {OBJECTIVE: float(max(scores)), "val_loss": float(history[best].get("val_loss", float("nan"))),
                    "best_epoch": best + 1 + initial_epoch, "epochs_run": len(history),
                    "train_seconds": round(time.time() - start, 1)}

    return ExperimentHyperModel


def _remaining(plan, initial_epoch):
    """The stages of ``plan`` left after ``initial_epoch`` epochs (Hyperband resumes trials)."""
    out, done = [], initial_epoch
    for name, epochs, factor, frozen in plan:
        skip = min(done, epochs)
        done -= skip
        if epochs - skip > 0:
            out.append((name, epochs - skip, factor, frozen))
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
            _log(trial_line(trial, self.hypermodel.space))
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
        tuner = cls(hypermodel, max_epochs=max_epochs or hypermodel.cfg["epochs"], factor=3, **common)
        tuner.oracle.max_trials = max_trials  # Hyperband has no max_trials of its own
    else:
        tuner = cls(hypermodel, max_trials=max_trials, **common)
    return tuner


# === The search ===


def _fingerprint(cfg, space, tuner):
    settings = {k: v for k, v in cfg.items() if k not in NOT_IN_BEST and k != "baseline"}
    return {"tuner": tuner, "space": space, "settings": settings}


def _check_resume(path, fingerprint):
    """Refuses to resume a search that was started with other settings."""
    if not os.path.exists(path):
        return
    with open(path) as f:
        before = json.load(f)
    before = json.loads(json.dumps(before))
    now = json.loads(json.dumps(fingerprint, default=str))
    if before != now:
        changed = sorted({k for k in set(before["settings"]) | set(now["settings"])
                          if before["settings"].get(k) != now["settings"].get(k)})
        changed += [k for k in ("tuner", "space") if before[k] != now[k]]
        raise SearchError(f"{os.path.dirname(path)} holds a search started with other settings "
                          f"({', '.join(changed)}): pass --overwrite to start afresh, or another --output-dir")


def search(cfg, *, tuner="random", max_trials=10, executions_per_trial=1, output_dir="runs/tune", space=None,
           overwrite=False):
    """Runs (or resumes) a search; writes the leaderboard, best.json and summary.json; returns the summary.

    Args:
        cfg: experiment settings (``experiment.DEFAULTS`` keys); ``epochs`` is per trial.
        tuner: ``random``, ``grid``, ``bayesian`` or ``hyperband`` (``epochs`` is its max_epochs).
        max_trials: trials in all, those of an earlier run of the same search included.
        executions_per_trial: trainings per trial (seeds ``seed``, ``seed + 1``...); the score is their mean.
        output_dir: outputs, and the tuner's state in ``output_dir/search``.
        space: overrides of :data:`SEARCH_SPACE`.
        overwrite: start afresh instead of resuming.
    """
    cfg = {**experiment.DEFAULTS, **cfg}
    for key in ("train", "test", "valid"):
        if cfg[key]:
            cfg[key] = os.path.abspath(cfg[key])
    if tuner not in TUNERS:
        raise SearchError(f"unknown tuner {tuner!r}: expected one of {', '.join(TUNERS)}")
    for key, value, low in (("max_trials", max_trials, 1), ("executions_per_trial", executions_per_trial, 1),
                            ("epochs", cfg["epochs"], 1)):
        if not isinstance(value, int) or value < low:
            raise SearchError(f"{key} must be an integer >= {low}, got {value!r}")
    space = resolve_space(space)
    project = os.path.join(output_dir, PROJECT_NAME)
    fingerprint = _fingerprint(cfg, space, tuner)
    if not overwrite:
        _check_resume(os.path.join(project, "zoo_search.json"), fingerprint)

    from zoo import distribute

    distribute.resolve_precision(cfg["precision"])
    prepared = prepare(cfg)
    hypermodel = _hypermodel_class()(cfg, prepared, space)
    resuming = not overwrite and os.path.exists(os.path.join(project, "oracle.json"))
    start = time.time()
    tuner_obj = make_tuner(hypermodel, tuner, directory=output_dir, max_trials=max_trials,
                           executions_per_trial=executions_per_trial, seed=cfg["seed"], overwrite=overwrite,
                           max_epochs=cfg["epochs"])
    _write_json(os.path.join(project, "zoo_search.json"), fingerprint)
    done = [t for t in tuner_obj.oracle.trials.values() if t.status == "COMPLETED"]
    if resuming:
        interrupted = sum(t.status == "RUNNING" for t in tuner_obj.oracle.trials.values())
        _log(f"resuming the search in {project}: {len(done)} trial(s) finished (not re-run), {interrupted} "
             f"interrupted (run again first); pass --overwrite to start afresh")
    _log(f"{tuner} search over {', '.join(f'{k}={v}' for k, v in space.items())}; "
         f"up to {max_trials} trials of {cfg['epochs']} epochs")
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
    best_cfg = best_settings(cfg, best)
    os.makedirs(output_dir, exist_ok=True)
    write_leaderboard(rows, output_dir, space)
    _write_json(os.path.join(output_dir, "best.json"), best_cfg)
    summary = {
        "objective": OBJECTIVE, "best_val_accuracy": best[OBJECTIVE], "best_trial": best["trial"],
        "best_settings": {k: best_cfg[k] for k in space if k in best_cfg}, "tuner": tuner,
        "trials": len(rows), "completed": sum(r["status"] == "COMPLETED" for r in rows),
        "max_trials": max_trials, "executions_per_trial": executions_per_trial, "epochs_per_trial": cfg["epochs"],
        "search_space": space, "resumed": resuming, "seconds_this_run": round(time.time() - start, 1),
        "dataset": prepared.dataset.summary(), "project_dir": project,
        "note": "scores are on the validation split; the test split was not used",
    }
    _write_json(os.path.join(output_dir, "summary.json"), summary)
    _log(f"best: trial {best['trial']} val_accuracy {best[OBJECTIVE]:.4f} "
         f"({', '.join(f'{k}={_fmt(best[k])}' for k in space)})")
    _log(f"wrote {output_dir}/ (leaderboard.csv, leaderboard.md, best.json, summary.json)")
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
        row["epochs"] = values.get("tuner/epochs")  # Hyperband's budget of the trial, else None
        for extra in ("best_epoch", "epochs_run", "train_seconds"):
            value = trial.metrics.get_last_value(extra) if trial.metrics.exists(extra) else None
            row[extra] = int(value) if extra != "train_seconds" and value is not None and value == int(value) \
                else value
        rows.append(row)
    rows.sort(key=lambda r: (r[OBJECTIVE] is None, -(r[OBJECTIVE] or 0.0), r["trial"]))
    return rows


def best_settings(cfg, row):
    """Experiment settings of a leaderboard row: ``DEFAULTS`` keys that a recipe's ``--config`` takes."""
    best = {k: v for k, v in cfg.items() if k in experiment.DEFAULTS and k not in NOT_IN_BEST}
    best.update({k: row[k] for k in row if k in experiment.DEFAULTS and row[k] is not None})
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
    _write_text(os.path.join(output_dir, "leaderboard.csv"), buffer.getvalue())

    def cell(value):
        return "" if value is None else _fmt(value) if isinstance(value, float) and not isinstance(value, bool) \
            else str(value)

    lines = ["| rank | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for rank, row in enumerate(rows, 1):
        lines.append(f"| {rank} | " + " | ".join(
            f"{row[c]:.4f}" if c == OBJECTIVE and row[c] is not None else cell(row[c]) for c in columns) + " |")
    _write_text(os.path.join(output_dir, "leaderboard.md"),
                f"# Search leaderboard ({OBJECTIVE}, validation split; best first)\n\n" + "\n".join(lines) + "\n")


def _write_text(path, content):
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.write(content)
    os.replace(tmp, path)


def _write_json(path, data):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    _write_text(path, json.dumps(data, indent=2, default=str) + "\n")
