"""``zoo tune``: a KerasTuner search over TextClassifier settings, scored on the validation split.

    zoo tune --dataset sms_spam --tuner random --max-trials 10 --epochs 3 --output-dir runs/tune_sms
    zoo train --config runs/tune_sms/best.json --output-dir runs/sms_best

Each trial trains like ``zoo train`` (same stages and early stopping) and is
scored by its best val_accuracy; the test split is never used. Writes
leaderboard.csv/.md, best.json and summary.json to --output-dir. The same
command run again resumes an interrupted search.
"""

from zoo import interrupts
from zoo.cli.flags import SettingsParser, dry_run, one_line_errors
from zoo.cli.train import settings_groups
from zoo.config import ClassifierConfig, DataConfig, TuneConfig
from zoo.errors import Interrupted
from zoo.lazy import lazy_module
from zoo.log import start_tensorflow

tuning = lazy_module("zoo.training.tuning")  # (its trials load TensorFlow: imported once start_tensorflow() ran)


def main(argv=None, defaults=None, prog="zoo tune"):
    parser = SettingsParser(prog, __doc__.split("\n\n")[0],
                            [("search", TuneConfig), ("data", DataConfig), *settings_groups(exclude=("ulmfit",))],
                            defaults=defaults)
    with one_line_errors():
        configs = parser.parse(argv)
        if configs["args"].dry_run:
            dry_run(prog, configs)
            return None
        start_tensorflow()
        try:
            return tuning.search(configs[DataConfig], configs[ClassifierConfig], configs[TuneConfig])
        except KeyboardInterrupt as stop:  # (Ctrl-C, SIGTERM) KerasTuner keeps each finished trial in search/
            word, code = interrupts.describe(stop)
            tune = configs[TuneConfig]
            how = "rerun the same command without `overwrite`" if tune.overwrite else "rerun the same command"
            raise Interrupted(f"{word}; {how} to resume the search in {tune.output_dir} (finished trials are kept; "
                              "the interrupted one runs again)", code) from None
