"""The README's ULMFiT table: label budgets, from-scratch rows and the ablation, one script.

Runs ``recipes/newsgroups_ulmfit.py`` once per row (each in its own process,
same seed, same labelled subset per budget), sharing one fine-tuned language
model (it depends on the unlabelled train texts only), then writes
``results.json`` and ``results.md`` and copies each row's config, metrics and
report into ``--results-dir``.

Rows: with 200 and 1000 labels, ULMFiT and the same classifier from scratch;
with 1000 labels, ULMFiT without each of LM fine-tuning, discriminative rates,
STLR and gradual unfreezing; with all labels, ULMFiT; linear probes (the
encoder frozen, a logistic-regression head) on the fine-tuned and on a random
encoder, and on mean-pooled states alone; the probe followed by fine-tuning
(LP-FT) with 200 and 1000 labels; an ensemble of five fine-tuned classifiers
with 1000 labels, and the same ensemble from scratch.

    python recipes/ulmfit_study.py --output-dir runs/ulmfit_study --results-dir docs/results/ulmfit

``--seed 1 --only ROW ...`` gives the second seed of the label-budget rows and
the ablation (another labelled subset, language-model fine-tuning run and
initialisation; ``docs/results/ulmfit-seed1``). Any other flag is
passed to every row: ``--dev 1500`` evaluates every row on 1,500 held-out
train documents instead of the test split (for choosing settings;
``docs/results/ulmfit-dev``), ``--init lm:wiki-books-lstm-lm`` runs on the first,
smaller pretrained model (``docs/results/ulmfit-v1``), with ``--lm-epochs 2
--lm-learning-rate 2e-3 --lm-batch-size 64`` for its earlier, shorter
language-model fine-tuning (``docs/results/ulmfit-v1-lm2``). A row already in
``--output-dir`` is kept only if it ran with the same command.

A row that fails ends the study with the row's own one-line error and exit
code (a folder the study made for it and left empty is removed); Ctrl-C or
SIGTERM ends the row and the study with one line and 130 or 143.
"""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time

from zoo import interrupts
from zoo.cli.flags import ArgumentParser, fail, one_line_errors

HERE = os.path.dirname(os.path.abspath(__file__))

ROWS = [
    # name, labels, extra flags, what the row tests. Rows run in this order, most telling first.
    ("ulmfit-200", 200, [], "ULMFiT"),
    ("probe-200", 200, ["--probe"], "linear probe on the fine-tuned LM's encoder"),
    ("ulmfit-1000", 1000, [], "ULMFiT"),
    ("probe-1000", 1000, ["--probe"], "linear probe on the fine-tuned LM's encoder"),
    # The ablation: one step off at a time.
    ("no-discriminative-1000", 1000, ["--no-discriminative"], "ULMFiT without discriminative rates"),
    ("no-stlr-1000", 1000, ["--lr-schedule", "constant"], "ULMFiT without STLR (constant rate)"),
    ("no-gradual-1000", 1000, ["--no-gradual-unfreezing"], "ULMFiT without gradual unfreezing"),
    ("ulmfit-all", None, ["--epochs", "2"], "ULMFiT, all labels (2 epochs after the gradual stages, for time)"),
    # LP-FT: the probe's head, then every layer at one rate (chosen on a dev split of train, not on test).
    ("lpft-1000", 1000, ["--probe-init", "--no-discriminative", "--no-gradual-unfreezing"],
     "linear probe, then fine-tuning every layer (LP-FT)"),
    ("lpft-200", 200, ["--probe-init", "--no-discriminative", "--no-gradual-unfreezing"],
     "linear probe, then fine-tuning every layer (LP-FT)"),
    # Variants.
    ("aux-lm-1000", 1000, ["--aux-lm-weight", "0.5"], "ULMFiT with the LM loss kept as an auxiliary task"),
    ("plain-finetune-1000", 1000, ["--no-discriminative", "--no-gradual-unfreezing"],
     "LM fine-tuning, then every layer at one rate from the start"),
    # Five plain fine-tuning runs from the one fine-tuned LM (seeds 0, 1000, ...), probabilities averaged; five
    # chosen on the dev split (ensembles of 1 to 5 members: 0.556, 0.595, 0.609, 0.616, 0.621).
    ("ensemble-1000", 1000, ["--no-discriminative", "--no-gradual-unfreezing", "--ensemble", "5"],
     "plain fine-tuning, an ensemble of 5 classifiers"),
    ("probe-all", None, ["--probe"], "linear probe on the fine-tuned LM's encoder, all labels"),
    ("probe-mean-200", 200, ["--probe", "--pooling", "mean"], "linear probe on mean-pooled states"),
    ("probe-mean-1000", 1000, ["--probe", "--pooling", "mean"], "linear probe on mean-pooled states"),
    # Rows that do not read the fine-tuned language model.
    ("scratch-200", 200, ["--from-scratch"], "same classifier, from scratch"),
    ("scratch-1000", 1000, ["--from-scratch"], "same classifier, from scratch"),
    ("scratch-ensemble-1000", 1000, ["--from-scratch", "--ensemble", "5"],
     "same ensemble of 5 classifiers, from scratch"),
    ("no-lm-finetune-1000", 1000, ["--no-lm-finetune"], "ULMFiT without LM fine-tuning"),
    ("probe-scratch-1000", 1000, ["--probe", "--from-scratch"], "linear probe on a random (untrained) encoder"),
]


def row_command(name, labels, flags, args):
    out = os.path.join(args.output_dir, name)
    cmd = [sys.executable, os.path.join(HERE, "newsgroups_ulmfit.py"), "--output-dir", out, "--overwrite",
           "--lm-cache-dir", os.path.join(args.output_dir, "lm"), "--seed", str(args.seed), *args.row_flags, *flags]
    if labels is not None:
        cmd += ["--labels", str(labels)]
    return cmd


def run_row(name, labels, flags, args):
    out = os.path.join(args.output_dir, name)
    cmd = row_command(name, labels, flags, args)
    if os.path.exists(os.path.join(out, "metrics.json")):
        # Kept only if it ran with this very command: a row left by another language model, seed or
        # flag in the same output directory would otherwise slip into the table.
        try:
            with open(os.path.join(out, "config.json")) as f:
                before = json.load(f).get("command")
        except (OSError, ValueError):
            before = None
        if before == cmd[1:]:
            print(f"== {name}: done before with the same command, kept", flush=True)
            return
        print(f"== {name}: done before with another command ({before}), run again", flush=True)
    print(f"== {name}: {' '.join(cmd[1:])}", flush=True)
    start = time.time()
    code = run_command(cmd)
    if code != 0:  # the row printed its one error line; the study ends with the row's exit code, no more lines
        print(f"== {name}: failed (exit code {code})", flush=True)
        raise SystemExit(code)
    print(f"== {name}: {time.time() - start:.0f} s", flush=True)


def _exit_code(returncode):
    return 128 - returncode if returncode < 0 else returncode  # killed by signal N: 128 + N, as a shell says


def run_command(cmd):
    """Runs a row; its exit code. Ctrl-C reaches the row too (the same process group), which ends with its own
    line and 130: the study waits for it and ends with its code. SIGTERM, sent to the study alone, is passed on
    to the row, which ends the same way with 143."""
    proc = subprocess.Popen(cmd)
    try:
        return _exit_code(proc.wait())
    except KeyboardInterrupt as stop:
        if isinstance(stop, interrupts.Terminated):
            proc.terminate()
        else:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:  # a SIGINT sent to the study alone: the row did not get it
                proc.send_signal(signal.SIGINT)
        code = _exit_code(proc.wait())
        if code == 0:  # the row finished before it: the study still stops, with its own line
            raise
        raise SystemExit(code) from None  # the row printed its line ("interrupted; ..." with how to resume)


def _remove_empty_folders(path, top):
    """Removes ``path`` and its parents up to ``top`` (the first that did not exist) while they are empty:
    folders the study's run created and left empty (os.rmdir refuses any that holds something)."""
    path, top = os.path.abspath(path), os.path.abspath(top)
    while True:
        try:
            os.rmdir(path)
        except OSError:
            return
        if path == top or os.path.dirname(path) == path:
            return
        path = os.path.dirname(path)


def _first_missing(path):
    """The outermost folder of ``path`` that does not exist yet (None: ``path`` exists)."""
    path, missing = os.path.abspath(path), None
    while not os.path.lexists(path):
        path, missing = os.path.dirname(path), path
    return missing


def table(rows):
    split = rows[0]["evaluated_on"] if rows else "test"
    lines = [f"| run | labels | what | {split} accuracy | macro F1 | TF-IDF + LinearSVC (same labels) | train s |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['name']} | {r['labels']} | {r['what']} | {r['accuracy']:.3f} | {r['macro_f1']:.3f} | "
                     f"{r['baseline_accuracy']:.3f} | {r['train_seconds']:.0f} |")
    return "\n".join(lines)


def main(argv=None):
    # As zoo's commands: a zoo error is one line and its exit code; Ctrl-C (SIGTERM) one line and 130 (143).
    with one_line_errors():
        _main(argv)


def _main(argv):
    p = ArgumentParser(prog="recipes/ulmfit_study.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--output-dir", default="runs/ulmfit_study")
    p.add_argument("--results-dir", default="docs/results/ulmfit")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--only", nargs="*", help="run only these rows")
    p.add_argument("--dry-run", action="store_true", help="check the rows and flags, print the commands, run nothing")
    args, row_flags = p.parse_known_args(argv)  # anything else is a newsgroups_ulmfit.py flag for every row
    unknown = sorted(set(args.only or ()) - {r[0] for r in ROWS})
    if unknown:  # else a typo would run nothing and still rewrite the results table
        fail(f"--only: no row named {', '.join(unknown)}; rows: {', '.join(r[0] for r in ROWS)}")
    if row_flags:  # checked now, with the recipe's own parser: a typo is one usage line, not N failed rows
        from zoo.cli import train

        train.parser({"dataset": "20newsgroups", "init": "lm:wiki-books-lstm-lm-v2"},
                     prog="recipes/newsgroups_ulmfit.py").parse(row_flags)
    args.row_flags = row_flags
    chosen = [r for r in ROWS if not args.only or r[0] in args.only]
    if args.dry_run:
        for name, labels, flags, _ in chosen:
            print(f"== {name}: " + " ".join(row_command(name, labels, flags, args)[1:]))
        return
    top = _first_missing(args.output_dir)
    try:
        for name, labels, flags, _ in chosen:
            run_row(name, labels, flags, args)
    except BaseException:
        if top is not None:  # created by this study's rows: not left behind empty
            with contextlib.suppress(OSError):
                _remove_empty_folders(args.output_dir, top)
        raise

    rows = []
    for name, labels, flags, what in ROWS:
        path = os.path.join(args.output_dir, name, "metrics.json")
        if not os.path.exists(path):
            continue
        with open(path) as f:
            m = json.load(f)
        rows.append({"name": name, "labels": m["labels"], "what": what, "flags": flags,
                     "accuracy": m["accuracy"], "macro_f1": m["macro_f1"],
                     "baseline_accuracy": m["baseline"]["accuracy"], "baseline_macro_f1": m["baseline"]["macro_f1"],
                     "train_seconds": m["train_seconds"], "language_model": m.get("language_model"),
                     "evaluated_on": m.get("evaluated_on", "test")})
        target = os.path.join(args.results_dir, name)
        os.makedirs(target, exist_ok=True)
        for fname in ("config.json", "metrics.json", "report.md"):
            shutil.copy(os.path.join(args.output_dir, name, fname), target)
    os.makedirs(args.results_dir, exist_ok=True)
    with open(os.path.join(args.results_dir, "results.json"), "w") as f:
        json.dump({"seed": args.seed, "rows": rows}, f, indent=2)
    md = table(rows)
    with open(os.path.join(args.results_dir, "results.md"), "w") as f:
        f.write(md + "\n")
    print(md)


if __name__ == "__main__":
    main()
