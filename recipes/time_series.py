"""Time-series forecasting: an LSTM regressor on weekly Mauna Loa CO2, beside naive and linear baselines.

The series is statsmodels' ``co2`` (weekly averages of atmospheric CO2 at
Mauna Loa, March 1958 - December 2001, in ppmv; it installs with
statsmodels, no download); its 59 missing weeks are filled by linear
interpolation in time. The weeks are split in time order, 70% train, 15%
validation, 15% test, and windows (``--window`` weeks in, the next
``--horizon`` weeks out) are cut inside each part, so no window crosses a
boundary and nothing is shuffled across them. The model reads each window
minus its last value, divided by the train part's standard deviation
(``--target change``; ``level`` reads and predicts the standardised level),
and trains with ``zoo.training.stages.run_stages``, early stopping on the
validation loss. In the same run, on the same test windows: the last value
(naive), the value one season (52 weeks) earlier (seasonal naive), and a
linear autoregressive model (ridge regression on the same window, fitted on
the train windows). MAE, RMSE and MAPE are in the series' units::

    python recipes/time_series.py --output-dir runs/time_series
    python recipes/time_series.py --output-dir runs/time_series --backup-dir runs/time_series/backup  # resumable

It writes ``metrics.json``, ``report.md``, ``forecast.png`` (test-period
forecasts against the truth), ``config.json`` and ``model.keras``, in a
folder marked as a time-series run (kind ``time_series``): a finished one is
replaced only with ``--overwrite``, and a folder of anything else (a ``zoo
train`` run among them) never. With ``--backup-dir``, a killed run started
again with the same command resumes at the epoch after its last backup; one
that finished training is not trained again. Ctrl-C (SIGTERM) ends it with one
line and exit code 130 (143), as zoo's commands do.

In Python, the same pieces::

    from zoo.data.series import load_series, chronological_split, split_windows
    from zoo.evaluation.forecast import baseline_forecasts, forecast_metrics
    from zoo.models.regressor import build_lstm_regressor

    series = load_series("co2")
    parts = chronological_split(len(series.values), 0.15, 0.15)
    (x_tr, y_tr, _), (x_va, y_va, _), (x_te, y_te, _) = split_windows(series.values, parts, 52)
    for name, forecast in baseline_forecasts(x_tr, y_tr, x_te, season=series.season).items():
        print(name, forecast_metrics(y_te, forecast))
"""

import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np

from zoo import interrupts
from zoo.cli.flags import fail, one_line_errors
from zoo.data.series import SERIES
from zoo.errors import ExportError, Interrupted
from zoo.files import check_replaceable, make_owned_directory, marked_kind, write_marker
from zoo.log import logger

DEFAULTS = {
    "series": "co2", "window": 52, "horizon": 1, "target": "change", "units": 32, "num_layers": 1, "dropout": 0.0,
    "epochs": 40, "patience": 5, "batch_size": 32, "learning_rate": 3e-3, "seed": 0,
    "valid_fraction": 0.15, "test_fraction": 0.15, "output_dir": "runs/time_series", "backup_dir": None,
}
METHODS = ("lstm", "last_value", "seasonal_naive", "linear_ar")
OUTPUTS = ("model.keras", "config.json", "metrics.json", "forecast.png", "report.md")  # what a run writes
FINISHED = "metrics.json"  # written last: a folder with it holds a finished run
# The run folder's marker kind: not a `zoo train` run's ("run"), whose folder holds a classifier (classifier.json
# and the rest) that this run's files would be mixed into, and which TextClassifier.save may replace.
KIND = "time_series"
NOT_SHAPING = ("output_dir", "backup_dir", "dry_run", "overwrite")  # arguments that do not change what is trained


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, as zoo's commands do
        fail(message)


def parser():
    p = _Parser(prog="recipes/time_series.py", description=__doc__.split("\n\n")[0],
                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    d = DEFAULTS
    p.add_argument("--series", choices=sorted(SERIES), default=d["series"], help="the series (statsmodels ships it)")
    p.add_argument("--window", type=int, default=d["window"], help="input steps per window")
    p.add_argument("--horizon", type=int, default=d["horizon"], help="steps predicted per window")
    p.add_argument("--target", choices=("change", "level"), default=d["target"],
                   help="change: the window minus its last value in, the change from it out; level: levels")
    p.add_argument("--units", type=int, default=d["units"], help="LSTM units per layer")
    p.add_argument("--num-layers", type=int, default=d["num_layers"], help="stacked LSTM layers")
    p.add_argument("--dropout", type=float, default=d["dropout"], help="dropout after each LSTM layer")
    p.add_argument("--epochs", type=int, default=d["epochs"], help="most epochs (early stopping may end sooner)")
    p.add_argument("--patience", type=int, default=d["patience"],
                   help="epochs without a better validation loss before stopping (the best weights are kept)")
    p.add_argument("--batch-size", type=int, default=d["batch_size"])
    p.add_argument("--learning-rate", type=float, default=d["learning_rate"], help="Adam's rate")
    p.add_argument("--seed", type=int, default=d["seed"], help="weights, dropout and the train windows' order")
    p.add_argument("--valid-fraction", type=float, default=d["valid_fraction"],
                   help="the validation part: this share of the steps after the train part")
    p.add_argument("--test-fraction", type=float, default=d["test_fraction"], help="the test part: the last steps")
    p.add_argument("--output-dir", default=d["output_dir"])
    p.add_argument("--overwrite", action="store_true", help="replace a finished time-series run in --output-dir")
    p.add_argument("--backup-dir", default=d["backup_dir"], help="make the run resumable (backups per epoch)")
    p.add_argument("--dry-run", action="store_true", help="check the flags, print the settings, write nothing")
    p.add_argument("--max-points", type=int, default=None, help=argparse.SUPPRESS)  # tiny test runs
    return p


def parse_args(argv=None):
    """The flags, checked: a bad value ends the command with one line (exit 2) before anything is written."""
    p = parser()
    args = p.parse_args(argv)
    for name in ("window", "horizon", "units", "num_layers", "epochs", "patience", "batch_size"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be an integer >= 1, got {getattr(args, name)}")
    if not args.learning_rate > 0:
        p.error(f"--learning-rate must be positive, got {args.learning_rate}")
    if not 0 <= args.dropout < 1:
        p.error(f"--dropout must be in [0, 1), got {args.dropout}")
    for name in ("valid_fraction", "test_fraction"):
        if not 0 < getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be between 0 and 1 (exclusive), got {getattr(args, name)}")
    if args.valid_fraction + args.test_fraction >= 1:
        p.error(f"--valid-fraction + --test-fraction must be below 1, got {args.valid_fraction} + "
                f"{args.test_fraction}")
    if args.max_points is not None and args.max_points < 1:
        p.error(f"--max-points must be an integer >= 1, got {args.max_points}")
    return args


# === The folders, checked before anything is loaded ===


def _older_time_series_run(path):
    """Whether ``path`` is a run this recipe wrote before it had a marker kind of its own: marked ``run``, no
    classifier in it, and its ``config.json`` written by this recipe (its command)."""
    if marked_kind(path) != "run" or os.path.lexists(os.path.join(path, "classifier.json")):
        return False
    try:
        with open(os.path.join(path, "config.json"), encoding="utf-8") as f:
            config = json.load(f)
    except (OSError, ValueError):
        return False
    return isinstance(config, dict) and str(config.get("command", "")).startswith("python recipes/time_series.py")


def _claim_older_run(path):
    """Marks an older run of this recipe's (:func:`_older_time_series_run`) with the recipe's own kind, so that the
    folder writers of :mod:`zoo.files` take it as this recipe's."""
    if _older_time_series_run(path):
        write_marker(path, KIND)


def check_output_dir(path, overwrite):
    """Refuses a file, a folder zoo did not write, a zoo folder of another kind (a text-classifier run: even with
    ``overwrite``) and a finished time-series run without ``overwrite``; a new or empty folder passes."""
    if os.path.lexists(path) and not os.path.isdir(path):
        raise ExportError(f"`output_dir` {path}: is a file, not a directory")
    if not _older_time_series_run(path):
        check_replaceable(path, (KIND,), what="`output_dir`")
    if os.path.exists(os.path.join(path, FINISHED)) and not overwrite:
        raise ExportError(f"{path}: a finished run already exists here; pass `overwrite` to replace it, or choose "
                          "another `output_dir`")
    existing = os.path.abspath(path)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise ExportError(f"`output_dir` {path}: {existing} is a file, not a directory")
    try:  # a probe file, removed at once: os.access says yes to root even on a read-only file system
        fd, probe = tempfile.mkstemp(prefix=".zoo-write-test-", dir=existing)
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        raise ExportError(f"`output_dir` {path}: cannot write in {existing} ({error.strerror})") from None


def check_backup_dir(backup_dir, output_dir):
    """A backup folder must be zoo's backup (or new, or empty) and not the output folder itself."""
    if not backup_dir:
        return
    if os.path.realpath(backup_dir) == os.path.realpath(output_dir):
        raise ExportError(f"`backup_dir` {backup_dir}: is the output folder too; give the backup a folder of its own "
                          "(inside the output folder is fine)")
    check_replaceable(backup_dir, ("backup",), what="`backup_dir`")


def _within(path, folder):
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return path.startswith(folder.rstrip(os.sep) + os.sep)


# === Encoding the windows for the network ===


def encode(x, y, scaler, target):
    """The network's inputs and targets: relative to each window's last value (``change``) or standardised levels."""
    if target == "change":
        last = x[:, -1:]
        return (x - last) / scaler.scale, (y - last) / scaler.scale
    return scaler.transform(x), scaler.transform(y)


def decode(x, predicted, scaler, target):
    """Network outputs back to forecasts in the series' units."""
    if target == "change":
        return np.asarray(predicted, "float64") * scaler.scale + x[:, -1:]
    return scaler.inverse(predicted)


def resumable_early_stopping(backup_dir, patience):
    """Keras ``EarlyStopping`` on ``val_loss`` (best weights kept) whose state survives a restart from a backup.

    ``run_stages`` keeps its own early stopping's state across a restart,
    but that one watches ``val_accuracy``, which a regressor has not; this
    one saves its counters and best weights beside the stage's backup at
    every epoch's end and puts them back when the stage resumes at the
    epoch after them.
    """
    import keras

    class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
        def __init__(self):
            super().__init__(monitor="val_loss", mode="min", patience=patience, restore_best_weights=True)
            self.path = os.path.join(backup_dir, "train.early_stopping.npz") if backup_dir else None

        def on_train_begin(self, logs=None):
            super().on_train_begin(logs)
            if not self.path or not os.path.exists(self.path):
                return
            from zoo.training.stages import resumed_epoch

            with np.load(self.path) as saved:
                if int(saved["epoch"]) != resumed_epoch(os.path.join(backup_dir, "train")):
                    return  # killed between the two writes, or from another run: start afresh
                self.wait, self.best_epoch, self.best = int(saved["wait"]), int(saved["best_epoch"]), \
                    float(saved["best"])
                names = sorted((k for k in saved.files if k.startswith("weight_")), key=lambda k: int(k[7:]))
                self.best_weights = [saved[k] for k in names] or None

        def on_epoch_end(self, epoch, logs=None):
            super().on_epoch_end(epoch, logs)
            if self.path and self.best is not None:
                from zoo.files import atomic_file

                arrays = {"epoch": np.array(epoch + 1), "wait": np.array(self.wait),
                          "best_epoch": np.array(self.best_epoch), "best": np.array(self.best, "float64")}
                arrays.update({f"weight_{k}": w for k, w in enumerate(self.best_weights or [])})
                with atomic_file(self.path, binary=True) as f:
                    np.savez(f, **arrays)

    return ResumableEarlyStopping()


# === Outputs ===


def plot_forecasts(path, dates, truth, forecasts, title):
    """Writes ``forecast.png`` (atomically): the test period's truth and each method's forecasts."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from zoo.files import atomic_file

    styles = {"lstm": ("LSTM", "tab:red", 1.4), "linear_ar": ("linear AR", "tab:blue", 1.0),
              "last_value": ("last value", "tab:gray", 0.8), "seasonal_naive": ("seasonal naive", "tab:green", 0.8)}
    fig, axes = plt.subplots(2, 1, figsize=(11, 7.5))
    last_year = slice(max(0, len(dates) - 52), len(dates))
    for ax, part, sub in ((axes[0], slice(None), "the whole test period"), (axes[1], last_year, "its last 52 steps")):
        ax.plot(dates[part], truth[part], color="black", lw=1.6, label="truth")
        for name, forecast in forecasts.items():
            label, color, width = styles.get(name, (name, None, 1.0))
            ax.plot(dates[part], forecast[part], color=color, lw=width, label=label,
                    ls="--" if name in ("last_value", "seasonal_naive") else "-")
        ax.set_title(f"{title}: {sub}", fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8, ncol=5)
    fig.tight_layout()
    with atomic_file(path, binary=True) as f:
        fig.savefig(f, format="png", dpi=110)
    plt.close(fig)


def report_markdown(args, series, sizes, results, epochs, command):
    from zoo.evaluation.forecast import metrics_table

    step = {"weekly": "week"}.get(SERIES[series.name]["frequency"], "step")
    lines = [
        f"# Time-series recipe: {series.name}, {args.horizon} {step}(s) ahead",
        "",
        f"Series: {series.description}. {len(series.values)} values"
        + (f"; {series.filled} missing values filled by linear interpolation" if series.filled else "") + ".",
        "",
        f"Chronological split (no shuffling across it; windows cut inside each part): train {sizes['train']}, "
        f"validation {sizes['valid']}, test {sizes['test']} windows of {args.window} inputs and {args.horizon} "
        f"target(s). LSTM: {args.num_layers} layer(s) of {args.units} units, target `{args.target}`, "
        f"{epochs['trained']} epoch(s) trained, the weights of epoch {epochs['best']} kept (early stopping on the "
        "validation loss). MAE and RMSE in the series' units, MAPE in percent, over every forecast step.",
        "",
        "## Test",
        "",
        metrics_table(results["test"], series.units, METHODS),
        "",
        "## Validation (where settings were chosen)",
        "",
        metrics_table(results["valid"], series.units, METHODS),
        "",
    ]
    if "seasonal_naive" not in results["test"]:
        lines += [f"Seasonal naive: not computed (needs --window >= the season, {series.season}).", ""]
    lines += ["Command:", "", f"    {command}", ""]
    return "\n".join(lines)


# === The run ===


def run(args, command="python recipes/time_series.py"):
    """Loads, splits, trains, evaluates the model and the baselines, writes the outputs; returns the metrics."""
    from zoo.log import start_tensorflow

    check_output_dir(args.output_dir, args.overwrite)  # before anything is loaded: a refusal is quick
    check_backup_dir(args.backup_dir, args.output_dir)
    try:
        return _run(args, command, start_tensorflow)
    except KeyboardInterrupt as stop:  # (and SIGTERM): one line that says how to go on, as `zoo train`'s
        word, code = interrupts.describe(stop)
        raise Interrupted(f"{word}; " + (
            f"rerun the same command to resume from the backup in {args.backup_dir}" if args.backup_dir else
            "nothing was saved (pass `backup_dir` to make a run resumable)"), code) from None


def _run(args, command, start_tensorflow):
    start_tensorflow()
    import keras

    from zoo.data.series import chronological_split, fit_scaler, load_series, make_dataset, split_windows
    from zoo.evaluation.forecast import baseline_forecasts, forecast_metrics
    from zoo.files import atomic_directory, write_json, write_text
    from zoo.models.regressor import build_lstm_regressor
    from zoo.training.stages import Stage, run_stages
    from zoo.version import __version__

    start = time.time()
    keras.utils.set_random_seed(args.seed)
    series = load_series(args.series, max_points=args.max_points)
    parts = chronological_split(len(series.values), args.valid_fraction, args.test_fraction)
    (x_tr, y_tr, _), (x_va, y_va, _), (x_te, y_te, t_te) = split_windows(series.values, parts, args.window,
                                                                         args.horizon)
    scaler = fit_scaler(series.values[parts[0]])  # the train part only
    sizes = {"train": len(x_tr), "valid": len(x_va), "test": len(x_te)}
    logger.info(f"windows: train {sizes['train']}, validation {sizes['valid']}, test {sizes['test']} "
                f"({args.window} in, {args.horizon} out); scaler fitted on the train part: mean {scaler.center:.3f}, "
                f"std {scaler.scale:.3f}")

    train_ds = make_dataset(*encode(x_tr, y_tr, scaler, args.target), args.batch_size, shuffle=True, seed=args.seed)
    valid_ds = make_dataset(*encode(x_va, y_va, scaler, args.target), args.batch_size)
    model = build_lstm_regressor(args.window, units=args.units, num_layers=args.num_layers, dropout=args.dropout,
                                 horizon=args.horizon, compile=False)
    if args.backup_dir:  # a backup of a run with other settings or data is refused, not resumed
        from zoo.training.backups import data_fingerprint, open_backup

        if _within(args.backup_dir, args.output_dir):  # (the docs' resumable command): the run folder is marked
            _claim_older_run(args.output_dir)  # first, else it is a folder zoo did not write at the end
            make_owned_directory(args.output_dir, KIND)

        open_backup(args.backup_dir, {k: v for k, v in vars(args).items() if k not in NOT_SHAPING},
                    data_fingerprint(series.values))
    early_stopping = resumable_early_stopping(args.backup_dir, args.patience)
    history = run_stages(model, [Stage("train", args.epochs, args.learning_rate)], train_ds, valid_ds,
                         backup_dir=args.backup_dir, callbacks=[early_stopping])
    val_losses = [h["val_loss"] for h in history]
    epochs = {"trained": len(history), "best": int(np.argmin(val_losses)) + 1 if val_losses else 0}

    results, forecasts = {}, {}
    for split, x, y in (("valid", x_va, y_va), ("test", x_te, y_te)):
        encoded, _ = encode(x, y, scaler, args.target)
        predicted = model.predict(encoded[..., None].astype("float32"), batch_size=256, verbose=0)
        forecasts[split] = {"lstm": decode(x, predicted, scaler, args.target),
                            **baseline_forecasts(x_tr, y_tr, x, season=series.season)}
        results[split] = {name: forecast_metrics(y, f) for name, f in forecasts[split].items()}
    for name, m in results["test"].items():
        logger.info(f"test {name}: MAE {m['mae']:.3f}, RMSE {m['rmse']:.3f}, MAPE {m['mape']:.3f}%")

    out = args.output_dir
    split_dates = {name: [str(series.dates[p.start]), str(series.dates[p.stop - 1])]
                   for name, p in zip(("train", "valid", "test"), parts)}
    config = {**{k: v for k, v in vars(args).items() if k != "dry_run"}, "command": command, "zoo_version": __version__,
              "season": series.season, "units_of_values": series.units, "filled_missing_values": series.filled,
              "split_dates": split_dates, "windows": sizes,
              "scaler": {"center": scaler.center, "scale": scaler.scale, "fitted_on": "train part"}}
    metrics = {"series": series.name, "units": {"mae": series.units, "rmse": series.units, "mape": "percent"},
               "horizon": args.horizon, "test": results["test"], "valid": results["valid"], "epochs": epochs,
               "history": history, "seconds": round(time.time() - start, 1)}
    _claim_older_run(out)
    # The run folder is built beside the old one and swapped in whole (zoo.files.atomic_directory); anything else
    # in it (a --backup-dir inside it, say) moves over.
    with atomic_directory(out, overwrite=True, kind=KIND, carry=lambda name: name not in OUTPUTS) as tmp:
        model.save(os.path.join(tmp, "model.keras"))
        write_json(os.path.join(tmp, "config.json"), config)
        last = args.horizon - 1  # the plot shows each window's last step, `horizon` steps ahead
        plot_forecasts(os.path.join(tmp, "forecast.png"), series.dates[t_te + last], y_te[:, last],
                       {k: v[:, last] for k, v in forecasts["test"].items()},
                       f"{series.name} ({series.units}), forecasts {args.horizon} step(s) ahead, test split")
        write_text(os.path.join(tmp, "report.md"), report_markdown(args, series, sizes, results, epochs, command))
        write_json(os.path.join(tmp, "metrics.json"), metrics)
    logger.info(f"wrote {out}: metrics.json, report.md, forecast.png, config.json, model.keras")
    return metrics


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    # As zoo's commands: a zoo error is one line and its exit code, Ctrl-C (SIGTERM) one line and 130 (143).
    with one_line_errors():
        args = parse_args(argv)
        if args.dry_run:
            print("recipes/time_series.py: settings checked (dry run, nothing loaded or written)")
            print("  " + ", ".join(f"{k}={v!r}" for k, v in vars(args).items() if k != "dry_run"))
            return None
        command = " ".join(["python recipes/time_series.py", *argv])
        return run(args, command)


if __name__ == "__main__":
    main()
