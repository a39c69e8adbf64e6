"""Run reports: metrics table, report.md, confusion-matrix and training-curve PNGs."""

import json
import os

import matplotlib

matplotlib.use("Agg")  # headless: reports are written on servers and CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def write_json(path, data):
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=2, sort_keys=False, default=str)
        f.write("\n")
    os.replace(tmp, path)


def metrics_table(metrics):
    """A markdown table of the model against the baseline (when present).

    Binary tasks also get each class's F1 (the minority class is usually the
    one that matters, as with spam).
    """
    keys = ["accuracy", "macro_precision", "macro_recall", "macro_f1"]
    classes = list(metrics["per_class"]) if len(metrics["per_class"]) == 2 else []
    rows = [("zoo model", metrics)]
    if "baseline" in metrics:
        rows.append(("TF-IDF + LinearSVC", metrics["baseline"]))
    header = keys + [f"f1 {c}" for c in classes]
    lines = ["| model | " + " | ".join(header) + " |", "|---" * (len(header) + 1) + "|"]
    for name, m in rows:
        values = [m[k] for k in keys] + [m["per_class"][c]["f1"] for c in classes]
        lines.append(f"| {name} | " + " | ".join(f"{v:.3f}" for v in values) + " |")
    return "\n".join(lines)


def plot_confusion_matrix(matrix, class_names, path):
    matrix = np.asarray(matrix)
    size = max(4, 0.45 * len(class_names) + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(class_names)), class_names, rotation=90, fontsize=7)
    ax.set_yticks(range(len(class_names)), class_names, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if len(class_names) <= 25:
        for (i, j), value in np.ndenumerate(matrix):
            ax.text(j, i, str(value), ha="center", va="center", fontsize=6,
                    color="white" if value > matrix.max() / 2 else "black")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


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
        fig.savefig(path, dpi=120)
        plt.close(fig)
        written.append(path)
    return written


def write_report(path, config, metrics, coverage=None, cudnn=None):
    lines = [
        f"# {config.get('recipe', 'zoo run')}: {config['dataset']} with {config['model']}",
        "",
        metrics_table(metrics),
        "",
        f"- {metrics.get('evaluated_on', 'test')} examples: {metrics['num_test_examples']}",
        f"- training time: {metrics['train_seconds']:.0f} s; epochs run: {metrics['epochs_run']}",
        f"- vectors: {config.get('vectors')}" + (f" ({coverage})" if coverage else ""),
        f"- sequence length: {config.get('resolved_sequence_length')} tokens "
        f"({metrics.get('truncated_train_texts', 0)} training texts cut)",
        f"- seed: {config['seed']}",
    ]
    if cudnn:
        lines += ["", "## cuDNN", "", "```", cudnn, "```"]
    lines += ["", "## Per class", "", "| class | precision | recall | f1 | support |", "|---|---|---|---|---|"]
    for name, m in metrics["per_class"].items():
        lines.append(f"| {name} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['support']} |")
    lines += ["", "![confusion matrix](confusion_matrix.png)", "", "![loss](curves_loss.png)",
              "![accuracy](curves_accuracy.png)", ""]
    with open(path, "w") as f:
        f.write("\n".join(lines))


def runs_table(run_dirs):
    """A markdown table comparing finished runs (one row each) with their same-run baselines."""
    lines = ["| run | dataset | train examples | model | vectors | frozen epochs | epochs run | train s | accuracy "
             "| macro F1 | class-1 F1 | baseline acc | baseline macro F1 | baseline class-1 F1 |", "|---" * 14 + "|"]
    for run in run_dirs:
        with open(os.path.join(run, "config.json")) as f:
            config = json.load(f)
        with open(os.path.join(run, "metrics.json")) as f:
            metrics = json.load(f)
        base = metrics.get("baseline", {})
        second = config["class_names"][1]

        def f1(m):  # the second class's F1 (spam, for sms_spam): binary tasks only
            return f"{m['per_class'][second]['f1']:.3f}" if len(config["class_names"]) == 2 and m else "-"
        lines.append(
            f"| {os.path.basename(os.path.normpath(run))} | {config['dataset'] or config['train']} | "
            f"{config['data']['train']} | {config['model']} | {config['vectors']} | "
            f"{config['frozen_epochs'] if config['vectors'] not in (None, 'none') else '-'} | "
            f"{metrics['epochs_run']} | {metrics['train_seconds']:.0f} | "
            f"{metrics['accuracy']:.3f} | {metrics['macro_f1']:.3f} | {f1(metrics)} | "
            f"{base.get('accuracy', float('nan')):.3f} | {base.get('macro_f1', float('nan')):.3f} | {f1(base)} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    if len(sys.argv) < 2:
        raise SystemExit("usage: python -m zoo.report RUN_DIR [RUN_DIR ...]")
    print(runs_table(sys.argv[1:]))
