"""Run reports: the metrics table, report.md, confusion-matrix and training-curve PNGs, and a table of runs.

Example:

>>> m = {"accuracy": 0.9, "macro_precision": 0.9, "macro_recall": 0.9, "macro_f1": 0.9,
...      "per_class": {"a": {"f1": 0.9}, "b": {"f1": 0.8}, "c": {"f1": 1.0}}}
>>> print(metrics_table(m))
| model | accuracy | macro_precision | macro_recall | macro_f1 |
|---|---|---|---|---|
| zoo model | 0.900 | 0.900 | 0.900 | 0.900 |
"""

import json
import math
import os

import matplotlib

matplotlib.use("Agg")  # headless: reports are written on servers and CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from zoo.errors import DataError  # noqa: E402
from zoo.files import atomic_file, write_text  # noqa: E402
from zoo.log import logger  # noqa: E402


def metrics_table(metrics):
    """A markdown table of the model against the baseline (when present).

    A hybrid gets a row for each of its paths alone. Binary tasks also get
    each class's F1 (the minority class is usually the one that matters, as
    with spam). Multi-label metrics get :func:`multi_label_table`.
    """
    if metrics.get("multi_label"):
        return multi_label_table(metrics)
    keys = ["accuracy", "macro_precision", "macro_recall", "macro_f1"]
    classes = list(metrics["per_class"]) if len(metrics["per_class"]) == 2 else []
    rows = [("zoo model", metrics)]
    if "paths" in metrics:  # a hybrid: its two paths, each alone
        rows = [("zoo hybrid", metrics), ("recurrent path alone", metrics["paths"]["recurrent"]),
                ("n-gram path alone", metrics["paths"]["ngram"])]
    if "baseline" in metrics:
        rows.append((baseline_name(metrics["baseline"]), metrics["baseline"]))
    header = keys + [f"f1 {c}" for c in classes]
    lines = ["| model | " + " | ".join(header) + " |", "|---" * (len(header) + 1) + "|"]
    for name, m in rows:
        values = [m[k] for k in keys] + [m["per_class"][c]["f1"] for c in classes]
        lines.append(f"| {name} | " + " | ".join(f"{v:.3f}" for v in values) + " |")
    return "\n".join(lines)


def baseline_name(baseline, multi_label=False):
    """The baseline's row in the tables: ``"baseline: "`` and the model that won
    (:func:`zoo.evaluation.baselines.fair_baseline`), or, for a metrics.json of
    zoo 0.3 or earlier (no ``short_name``), the one model those had.

    Example:

    >>> baseline_name({"short_name": "NBSVM word 1-2 grams"}), baseline_name({"model": "TF-IDF ..."})
    ('baseline: NBSVM word 1-2 grams', 'TF-IDF + LinearSVC')
    """
    if baseline.get("short_name"):
        return f"baseline: {baseline['short_name']}"
    return "one-vs-rest TF-IDF + LinearSVC" if multi_label else "TF-IDF + LinearSVC"


def baseline_details(baseline):
    """report.md's line on how the baseline was chosen (none for a metrics.json without ``chosen_by``).

    Example:

    >>> baseline_details({"model": "NBSVM, word 1-2 grams (chosen by 5-fold CV over TF-IDF + LinearSVC)",
    ...                   "chosen_by": {"cv_accuracy": {"TF-IDF + LinearSVC": 0.9809, "NBSVM": 0.9861}}})[0][-52:]
    '; CV accuracy: TF-IDF + LinearSVC 0.981, NBSVM 0.986'
    """
    chosen = baseline.get("chosen_by")
    if not chosen:
        return []
    scores = ", ".join(f"{name} {value:.3f}" for name, value in chosen.get("cv_accuracy", {}).items())
    return [f"baseline: {baseline['model']}" + (f"; CV accuracy: {scores}" if scores else "")]


MULTI_LABEL_KEYS = ("micro_f1", "macro_f1", "micro_precision", "micro_recall", "macro_precision", "macro_recall",
                    "samples_f1", "accuracy", "hamming_loss")


def multi_label_table(metrics):
    """The multi-label table: micro/macro F1, precision and recall, samples F1, subset accuracy and
    Hamming loss of the model and of the baseline (when present).

    Example:

    >>> m = dict.fromkeys(MULTI_LABEL_KEYS, 0.5)
    >>> print(multi_label_table({**m, "multi_label": True}).splitlines()[2])
    | zoo model | 0.500 | 0.500 | 0.500 | 0.500 | 0.500 | 0.500 | 0.500 | 0.500 | 0.500 |
    """
    rows = [("zoo model", metrics)]
    if "paths" in metrics:  # a hybrid: its two paths, each alone at the thresholds chosen for it
        rows = [("zoo hybrid", metrics), ("recurrent path alone", metrics["paths"]["recurrent"]),
                ("n-gram path alone", metrics["paths"]["ngram"])]
    if "baseline" in metrics:
        rows.append((baseline_name(metrics["baseline"], multi_label=True), metrics["baseline"]))
    names = [k if k != "accuracy" else "subset accuracy" for k in MULTI_LABEL_KEYS]
    lines = ["| model | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for name, m in rows:
        lines.append(f"| {name} | " + " | ".join(f"{m[k]:.3f}" for k in MULTI_LABEL_KEYS) + " |")
    return "\n".join(lines)


def per_label_table(metrics):
    """One row per label: the model's precision, recall, F1, its threshold, the support, and the baseline's F1."""
    base = metrics.get("baseline", {}).get("per_class", {})
    thresholds = metrics.get("thresholds", {})
    thresholds = thresholds.get("values", thresholds)
    lines = ["| label | precision | recall | f1 | threshold | support | baseline f1 |", "|---|---|---|---|---|---|---|"]
    for name, m in metrics["per_class"].items():
        threshold = f"{thresholds[name]:.2f}" if name in thresholds else "-"
        baseline = f"{base[name]['f1']:.3f}" if name in base else "-"
        lines.append(f"| {name} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {threshold} | "
                     f"{m['support']} | {baseline} |")
    return "\n".join(lines)


# Past this many classes the confusion matrix is not drawn. The figure's side grows 0.45 in a class (room for each
# tick label) at 120 dpi, so its pixels grow as the square of the classes: 100 classes draw in about 3 s (a 5,600 px
# square), 400 took 71 s, and 3,000 asked for some 100 GB and died (std::bad_alloc) after the training was done.
# Past 100 the picture is unreadable anyway: the matrix stays in metrics.json, the most confused pairs in report.md.
CONFUSION_MATRIX_MAX_CLASSES = 100


def plot_confusion_matrix(matrix, class_names, path):
    """Writes the confusion matrix as a PNG at ``path`` and returns True; with more than
    :data:`CONFUSION_MATRIX_MAX_CLASSES` classes, logs that it is skipped, writes nothing and returns False."""
    if len(class_names) > CONFUSION_MATRIX_MAX_CLASSES:
        logger.info(f"confusion matrix: not drawn for {len(class_names)} classes (more than "
                    f"{CONFUSION_MATRIX_MAX_CLASSES}: too large a figure to read or to render); it is in metrics.json")
        return False
    matrix = np.asarray(matrix)
    size = max(4, 0.45 * len(class_names) + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(matrix, cmap="Blues")
    # parse_math=False: a class named like "$x^$" is a label, not mathtext (which refused it: no matrix drawn).
    ax.set_xticks(range(len(class_names)), class_names, rotation=90, fontsize=7, parse_math=False)
    ax.set_yticks(range(len(class_names)), class_names, fontsize=7, parse_math=False)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if len(class_names) <= 25:
        for (i, j), value in np.ndenumerate(matrix):
            ax.text(j, i, str(value), ha="center", va="center", fontsize=6,
                    color="white" if value > matrix.max() / 2 else "black")
    fig.tight_layout()
    _save(fig, path)
    return True


def _save(fig, path):
    with atomic_file(path, binary=True) as f:
        fig.savefig(f, dpi=120, format="png")
    plt.close(fig)


def plot_calibration(calibration, path):
    """Writes the reliability diagram (accuracy against confidence per bin, before and after calibration) beside
    accuracy against coverage (abstaining below each confidence level): one PNG; a multi-label classifier's has the
    diagram alone (every label's probability against how often it is there; no top class to abstain on)."""
    multi = calibration.get("multi_label", False)
    fig, axes = plt.subplots(1, 1 if multi else 2, figsize=(4.5 if multi else 9, 3.8), squeeze=False)
    left = axes[0, 0]
    left.plot([0, 1], [0, 1], color="gray", linestyle="--", linewidth=0.8, label="calibrated")
    for name in ("before", "after"):
        bins = calibration["reliability"][name]
        kept = [(c, a) for c, a, n in zip(bins["confidence"], bins["accuracy"], bins["count"]) if n]
        left.plot([c for c, _ in kept], [a for _, a in kept], marker="o", label=f"{name} (ECE "
                  f"{calibration['ece'][name]:.3f})")
    left.set_xlabel("probability of each label" if multi else "confidence (top probability)")
    left.set_ylabel("share of them present" if multi else "accuracy")
    left.set_title(f"reliability; {_temperature(calibration)}", fontsize=9)
    left.legend(fontsize=8)
    if multi:
        fig.tight_layout()
        _save(fig, path)
        return
    right = axes[0, 1]
    rows = [r for r in calibration["coverage"] if r["accuracy"] is not None]
    right.plot([r["coverage"] for r in rows], [r["accuracy"] for r in rows], marker="o")
    for r in rows[::4]:
        right.annotate(f"{r['min_confidence']:.2f}", (r["coverage"], r["accuracy"]), fontsize=7)
    right.set_xlabel("coverage (share of texts answered)")
    right.set_ylabel("accuracy on them")
    right.set_title("abstaining below a confidence", fontsize=9)
    fig.tight_layout()
    _save(fig, path)


def calibration_section(calibration):
    """report.md's lines on calibration: ECE and log loss before and after, and a few confidence levels."""
    if not calibration:
        return []
    ece, loss = calibration["ece"], calibration["log_loss"]
    where = calibration.get("chosen_on", "the validation split")
    multi = calibration.get("multi_label", False)
    how = _temperature(calibration)
    lines = ["## Calibration", "", (f"{how[:1].upper()}{how[1:]}, chosen on {where} (no prediction changes"
                                    + ("; the thresholds move with it)." if multi else ").")),
             "", "| | before | after |", "|---|---|---|",
             (f"| expected calibration error{' (every text and label)' if multi else ''} | {ece['before']:.4f} | "
              f"{ece['after']:.4f} |")]
    if multi:
        mean = calibration["mean_label_ece"]
        return [*lines, f"| the labels' mean ECE | {mean['before']:.4f} | {mean['after']:.4f} |",
                f"| binary log loss | {loss['before']:.4f} | {loss['after']:.4f} |", "",
                "![calibration](calibration.png)", ""]
    lines += [f"| log loss | {loss['before']:.4f} | {loss['after']:.4f} |", "",
              "| min_confidence | coverage | accuracy |", "|---|---|---|"]
    lines += [f"| {r['min_confidence']:.2f} | {r['coverage']:.3f} | {r['accuracy']:.3f} |"
              for r in calibration["coverage"] if r["accuracy"] is not None and r["min_confidence"] in
              (0.0, 0.5, 0.7, 0.8, 0.9, 0.95)]
    return [*lines, "", "![calibration](calibration.png)", ""]


def _temperature(calibration):
    """``"temperature 1.2"``, or for a multi-label classifier the ranges of its Platt slopes and biases."""
    if calibration.get("multi_label"):
        a, b = calibration["scaling"]["slope"], calibration["scaling"]["bias"]
        return (f"Platt scaling per label: slopes {a['min']:.3g} to {a['max']:.3g}, biases {b['min']:.3g} to "
                f"{b['max']:.3g}")
    return f"temperature {calibration['temperature']:.3g}"


def plot_history(history, path_prefix):
    """Writes ``<prefix>_loss.png`` and ``<prefix>_accuracy.png`` from a list of per-epoch dicts."""
    written = []
    for metric in ("loss", "accuracy"):
        if not any(metric in h for h in history):
            continue
        fig, ax = plt.subplots(figsize=(5, 3.5))
        epochs = np.arange(1, len(history) + 1)
        for split, key in (("train", metric), ("valid", f"val_{metric}")):
            values = [h.get(key, np.nan) for h in history]
            ax.plot(epochs, values, marker="o", label=split)
        stages = [h.get("stage") for h in history]
        for i in range(1, len(stages)):
            if stages[i] != stages[i - 1]:
                ax.axvline(i + 0.5, color="gray", linestyle="--", linewidth=0.8)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.legend()
        fig.tight_layout()
        path = f"{path_prefix}_{metric}.png"
        _save(fig, path)
        written.append(path)
    return written


def write_report(path, *, title, metrics, details, cudnn=None, confusion_matrix=True):
    """Writes ``report.md``: the metrics table, ``details`` (one bullet each), cuDNN, per-class figures, plots
    (``confusion_matrix``: whether ``confusion_matrix.png`` was drawn, so that the report names no missing figure)."""
    lines = [f"# {title}", "", metrics_table(metrics), ""]
    lines += [f"- {line}" for line in [*details, *baseline_details(metrics.get("baseline", {}))]]
    if cudnn:
        lines += ["", "## cuDNN", "", "```", cudnn, "```"]
    if metrics.get("multi_label"):
        lines += ["", "## Per label", "", per_label_table(metrics), "", *calibration_section(metrics.get("calibration")),
                  *errors_section(metrics.get("errors")),
                  "![loss](curves_loss.png)", "![binary accuracy](curves_accuracy.png)", ""]
        write_text(path, "\n".join(lines))
        return
    lines += ["", "## Per class", "", "| class | precision | recall | f1 | support |", "|---|---|---|---|---|"]
    for name, m in metrics["per_class"].items():
        lines.append(f"| {name} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['support']} |")
    if confusion_matrix:
        lines += ["", "![confusion matrix](confusion_matrix.png)"]
    lines += ["", *calibration_section(metrics.get("calibration")), *errors_section(metrics.get("errors")),
              "![loss](curves_loss.png)", "![accuracy](curves_accuracy.png)", ""]
    write_text(path, "\n".join(lines))


def errors_section(errors):
    """report.md's lines on where the model is wrong (:func:`zoo.evaluation.scoring.error_analysis`): the most
    confused pairs of classes and the texts of highest loss; none for metrics without them (before zoo 0.4).

    Example:

    >>> errors_section({"most_confused": [{"true": "a", "predicted": "b", "count": 3}], "top_losses": [
    ...     {"text": "x y", "label": "a", "predicted": "b", "loss": 4.6, "probability_of_label": 0.01}]})[2:]
    ['| true class | predicted | texts |', '|---|---|---|', '| a | b | 3 |', '', '| loss | label | predicted | text |', '|---|---|---|---|', '| 4.60 | a | b (a: 0.010) | x y |', '']
    """
    if not errors:
        return []
    lines = ["## Errors", ""]
    if errors.get("most_confused"):
        lines += ["| true class | predicted | texts |", "|---|---|---|"]
        lines += [f"| {e['true']} | {e['predicted']} | {e['count']} |" for e in errors["most_confused"]]
        lines.append("")
    why = any("explanation" in e for e in errors["top_losses"])
    lines += ["| loss | label | predicted | text |" + (" tokens behind the prediction |" if why else ""),
              "|---|---|---|---|" + ("---|" if why else "")]
    for e in errors["top_losses"]:
        label, predicted = (", ".join(e[k]) if isinstance(e[k], list) else e[k] for k in ("label", "predicted"))
        sure = f" ({label}: {e['probability_of_label']:.3f})" if "probability_of_label" in e else ""
        text = e["text"].replace("|", "\\|")
        tokens = ", ".join(f"{t} {v:+.2f}" for t, v in e.get("explanation", [])).replace("|", "\\|")
        lines.append(f"| {e['loss']:.2f} | {label} | {predicted}{sure} | {text} |" + (f" {tokens} |" if why else ""))
    return [*lines, ""]


# === Several runs ===


class RunReadError(DataError):
    """A run directory cannot be read (no or broken config.json / metrics.json)."""


def read_run(run_dir):
    """``(config, metrics)`` of a finished run directory.

    Raises:
        RunReadError: a file is missing, is not JSON, or lacks what a row needs or has it in the wrong shape.
    """
    loaded = []
    for name in ("config.json", "metrics.json"):
        path = os.path.join(run_dir, name)
        try:
            with open(path, encoding="utf-8") as f:
                loaded.append(json.load(f))
        except FileNotFoundError:
            raise RunReadError(f"{path}: missing (not a finished zoo run)") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise RunReadError(f"{path}: cannot read it: {error}") from None
    config, metrics = loaded
    _check_run(config, metrics, *(os.path.join(run_dir, name) for name in ("config.json", "metrics.json")))
    return config, metrics


# What a value must be, for _expect: the words of the message and the test.
# (JSON true is no number; Python's json reads NaN and Infinity, which no metric zoo writes can be)
_NUMBER = ("a number", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v))
_OBJECT = ("a JSON object", lambda v: isinstance(v, dict))
_NAMES = ("a list of strings", lambda v: isinstance(v, list) and all(isinstance(name, str) for name in v))


def _check_run(config, metrics, config_path, metrics_path):
    """Checks the shape of what a row of :func:`runs_table` reads, once, where the files are read, so that a
    hand-edited or foreign file is one line naming the file and the field, not a traceback halfway through the table.

    Raises:
        RunReadError: a value of the wrong type, or a key a row needs that is missing.
    """
    _expect(config, _OBJECT, config_path, "the file")
    for key in ("data", "settings", "dataset_summary"):  # (zoo 0.1's flat config.json has `data` alone)
        if key in config:
            _expect(config[key], _OBJECT, config_path, key)
    class_names = config.get("class_names")
    if class_names is not None:
        _expect(class_names, _NAMES, config_path, "class_names")
    _expect(metrics, _OBJECT, metrics_path, "the file")
    for key in ("accuracy", "macro_f1", "per_class", "epochs_run", "train_seconds"):
        if key not in metrics:
            raise RunReadError(f"{metrics_path}: no {key!r} (an incomplete run?)")
    for key in ("accuracy", "macro_f1", "epochs_run", "train_seconds"):
        _expect(metrics[key], _NUMBER, metrics_path, key)
    second = class_names[1] if class_names and len(class_names) == 2 else None  # the class of the class-1 F1 column
    _check_per_class(metrics["per_class"], second, metrics_path, "per_class")
    if metrics.get("paths"):  # a hybrid's paths
        recurrent = _expect(metrics["paths"], _OBJECT, metrics_path, "paths").get("recurrent")
        _expect(_expect(recurrent, _OBJECT, metrics_path, "paths.recurrent").get("accuracy"), _NUMBER, metrics_path,
                "paths.recurrent.accuracy")
    if metrics.get("baseline"):
        base = _expect(metrics["baseline"], _OBJECT, metrics_path, "baseline")
        for key in ("accuracy", "macro_f1"):
            if key in base:
                _expect(base[key], _NUMBER, metrics_path, f"baseline.{key}")
        if second is not None:
            _check_per_class(base.get("per_class"), second, metrics_path, "baseline.per_class")


def _check_per_class(per_class, second, path, field):
    """``per_class`` is an object; of a binary task, with the second class's ``f1`` a number."""
    _expect(per_class, _OBJECT, path, field)
    if second is not None:
        entry = _expect(per_class.get(second), _OBJECT, path, f"{field}.{second}")
        _expect(entry.get("f1"), _NUMBER, path, f"{field}.{second}.f1")


def _expect(value, kind, path, field):
    """``value``, if it is of ``kind`` (``_NUMBER``, ``_OBJECT``, ``_NAMES``); else RunReadError: expected, got."""
    expected, test = kind
    if not test(value):
        name = "the file" if field == "the file" else repr(field)
        raise RunReadError(f"{path}: {name} must be {expected}, got {_json_value(value)}")
    return value


def _json_value(value):
    """A JSON value as a message shows it: its type and its text, shortened (``the string "high"``)."""
    if value is None:
        return "null (or nothing)"
    if isinstance(value, float) and not math.isfinite(value):
        return json.dumps(value)  # NaN, Infinity
    kind = ("a boolean" if isinstance(value, bool) else "a number" if isinstance(value, (int, float)) else
            {str: "the string", list: "a list", dict: "an object"}.get(type(value), type(value).__name__))
    text = json.dumps(value, ensure_ascii=False)
    return f"{kind} {text if len(text) <= 40 else text[:37] + '...'}"


def _row_fields(config):
    """Dataset, train size, model, init and frozen epochs from a config.json (this version's, or 0.1's)."""
    if "classifier" in config:  # zoo train
        data, resolved = config.get("data", {}), config.get("settings", {})
        return (data.get("dataset") or data.get("train"), config.get("dataset_summary", {}).get("train"),
                config.get("model"), resolved.get("init"), resolved.get("frozen_epochs"), config.get("class_names"))
    # zoo 0.1's flat config.json (the committed results in docs/results)
    return (config.get("dataset") or config.get("train"), config.get("data", {}).get("train"), config.get("model"),
            config.get("vectors"), config.get("frozen_epochs"), config.get("class_names"))


def runs_table(run_dirs):
    """A markdown table comparing finished runs (one row each) with their same-run baselines.

    Returns:
        ``(table, problems)``: the table of the runs that could be read, and
        one line per run directory that could not.
    """
    lines = ["| run | dataset | train examples | model | init | frozen epochs | epochs run | train s | accuracy "
             "| macro F1 | class-1 F1 | recurrent alone acc | baseline acc | baseline macro F1 | baseline class-1 F1 "
             "| baseline |", "|---" * 16 + "|"]
    problems = []
    for run in run_dirs:
        try:
            config, metrics = read_run(run)
        except RunReadError as error:
            problems.append(str(error))
            continue
        dataset, train, model, init, frozen, class_names = _row_fields(config)
        base = metrics.get("baseline", {})
        second = class_names[1] if class_names and len(class_names) == 2 else None

        def f1(m):  # the second class's F1 (spam, for sms_spam): binary tasks only
            return f"{m['per_class'][second]['f1']:.3f}" if second and m else "-"

        named = baseline_name(base, bool(base.get("multi_label"))).removeprefix("baseline: ") if base else "-"
        paths = metrics.get("paths")  # a hybrid's recurrent path alone
        recurrent = f"{paths['recurrent']['accuracy']:.3f}" if paths else "-"
        lines.append(
            f"| {os.path.basename(os.path.normpath(run))} | {dataset} | {train} | {model} | {init} | "
            f"{frozen if init not in (None, 'none') and frozen is not None else '-'} | "
            f"{metrics['epochs_run']} | {metrics['train_seconds']:.0f} | "
            f"{metrics['accuracy']:.3f} | {metrics['macro_f1']:.3f} | {f1(metrics)} | "
            f"{recurrent} | {base.get('accuracy', float('nan')):.3f} | "
            f"{base.get('macro_f1', float('nan')):.3f} | {f1(base)} | {named} |"
        )
    return "\n".join(lines), problems
