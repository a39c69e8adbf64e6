"""Hyperparameter search (KerasTuner) over a classifier's settings, on the validation split.

Each trial trains like the recipes (same stages and early stopping) and is
scored by its best val_accuracy; the test split is never used. Writes
leaderboard.csv/.md, best.json and summary.json to --output-dir. Run the
same command again to resume an interrupted search; re-run the best trial
with ``--config best.json``:

    python recipes/tune.py --dataset sms_spam --tuner random --max-trials 10 \\
        --epochs 3 --output-dir runs/tune_sms
    python recipes/sms_spam_glove_bilstm.py --config runs/tune_sms/best.json --output-dir runs/sms_best

This is ``zoo tune`` with 5 epochs per trial.
"""

from zoo.cli import tune

if __name__ == "__main__":
    tune.main(defaults={"epochs": 5}, prog="recipes/tune.py")
