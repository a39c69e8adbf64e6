"""``zoo lr-find``: the learning-rate range test on the model ``zoo train`` would start from.

    zoo lr-find --dataset sms_spam --output-dir runs/lr_find_sms
    zoo train --dataset sms_spam --learning-rate SUGGESTED ...

Takes ``zoo train``'s data and classifier flags, prepares the data and the
model the same way, trains up to ``--steps`` batches while the rate grows
from ``--start-lr`` to ``--end-lr`` (stopping once the loss diverges), and
writes ``lr_find.json`` (the curve and the suggestion) and ``lr_find.png``
(the plot) to ``--output-dir``. The test split is not used.
"""

import os

from zoo import interrupts
from zoo.cli.flags import SettingsParser, dry_run, one_line_errors
from zoo.cli.train import settings_groups
from zoo.config import (
    ClassifierConfig,
    DataConfig,
    LRFindConfig,
    init_kind,
    resolve_init_defaults,
)
from zoo.errors import ConfigError, ExportError, Interrupted
from zoo.files import atomic_directory, check_replaceable, write_json
from zoo.lazy import lazy_module
from zoo.log import logger, start_tensorflow

# (TensorFlow: imported once start_tensorflow() ran)
datasets = lazy_module("zoo.data.datasets")
text_classifier = lazy_module("zoo.text_classifier")

RESULTS = ("lr_find.json", "lr_find.png")


def main(argv=None, defaults=None, prog="zoo lr-find"):
    parser = SettingsParser(prog, __doc__.split("\n\n")[0],
                            [("range test", LRFindConfig), ("data", DataConfig), *settings_groups()],
                            defaults=defaults)
    with one_line_errors():
        configs = parser.parse(argv)
        if configs["args"].dry_run:
            dry_run(prog, configs)
            return None
        try:
            return run(configs[DataConfig], configs[ClassifierConfig], configs[LRFindConfig])
        except KeyboardInterrupt as stop:  # (Ctrl-C, SIGTERM) the folder is written only at the end, whole
            word, code = interrupts.describe(stop)
            raise Interrupted(f"{word}; nothing was written to {configs[LRFindConfig].output_dir}: rerun the same "
                              "command to run the range test again (it starts over)", code) from None


def run(data, settings, job):
    """Loads the splits, runs :meth:`zoo.TextClassifier.lr_find`, writes the folder; returns the test."""
    if init_kind(settings.init) == "auto":
        raise ConfigError("init", "lr-find tests one way to start; init auto compares several: pass the init it "
                                  "chose (its run's report names it)")
    out = job.output_dir
    check_replaceable(out, ("lr_find",), what="`output_dir`")  # before anything is loaded
    if any(os.path.exists(os.path.join(out, name)) for name in RESULTS) and not job.overwrite:
        raise ExportError(f"{out}: holds a range test already; pass `overwrite` to replace it, or choose another "
                          "`output_dir`")
    start_tensorflow()
    dataset, all_train_texts = datasets.load_for_training(data, validation_split=settings.validation_split,
                                                          seed=settings.seed, multi_label=settings.multi_label)
    logger.info(f"{dataset.name}: {dataset.summary()}")
    clf = text_classifier.TextClassifier(**settings.to_dict())
    test = clf.lr_find(dataset.train_texts, dataset.labels("train"),
                       validation_data=(dataset.valid_texts, dataset.labels("valid")),
                       lm_texts=all_train_texts if init_kind(settings.init) == "lm" else None,
                       start_lr=job.start_lr, end_lr=job.end_lr, steps=job.steps)
    # A new folder swapped in whole; the other entries of the old one (a note of the user's, anything but the
    # results, which this run writes anew) go over to it, as zoo train's do.
    with atomic_directory(out, overwrite=True, kind="lr_find", carry=lambda name: name not in RESULTS) as tmp:
        write_json(os.path.join(tmp, "lr_find.json"), {"dataset": dataset.name, "settings": settings.to_dict(),
                                                       "range_test": test.to_dict()})
        test.plot(os.path.join(tmp, "lr_find.png"))
    print(f"suggested learning rate: {test.suggested:.3g} (a tenth of {test.minimum:.3g}, where the smoothed loss "
          f"was lowest; steepest fall at {test.steepest:.3g}); {len(test.rates)} steps ({test.stopped}); "
          f"the settings' learning_rate: {resolve_init_defaults(settings).learning_rate:g}")
    print(f"wrote {out}/ (lr_find.json, lr_find.png)")
    return test
