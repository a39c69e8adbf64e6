"""``zoo train``: train a classifier on a dataset or your own files, evaluate it beside a baseline, write a run.

The job, step by step (each step is a library call):

1. load the labelled splits (:func:`zoo.data.datasets.load_for_training`):
   a built-in dataset or ``--train``/``--test`` files, a seeded validation
   split, ``--labels`` / ``--max-train-examples`` / ``--dev`` budgets;
2. train a :class:`zoo.TextClassifier` with the given settings;
3. evaluate it on the test split beside the fair baseline (zoo.evaluation.baselines) trained on the
   same labelled texts;
4. write the run directory: the saved classifier (``classifier.json``,
   ``vocabulary.json``, ``model.keras``: ``TextClassifier.load`` reads it),
   ``export/`` (a raw-text SavedModel), ``config.json``, ``metrics.json``,
   ``report.md``, plots and TensorBoard logs (``logs/``).

Settings are checked, and the output directory too, before anything is
loaded or written.
"""

import dataclasses
import os
import sys
import tempfile

from zoo import interrupts
from zoo.cli.flags import SettingsParser, dry_run, one_line_errors
from zoo.config import (
    CLASSIFIER_GROUPS,
    ClassifierConfig,
    DataConfig,
    RunConfig,
    init_kind,
    resolve_init_defaults,
)
from zoo.errors import ConfigError, ExportError, Interrupted
from zoo.files import (
    DirectoryLock,
    atomic_directory,
    check_replaceable,
    make_owned_directory,
    remove_owned,
    write_json,
)
from zoo.lazy import lazy_module
from zoo.log import logger, meet_onednn_note, start_tensorflow
from zoo.training import backups

# TensorFlow (and scikit-learn, matplotlib): imported once run() has checked the settings and folders and
# start_tensorflow() ran, never for `zoo train --help` or `--dry-run`.
classifier_files = lazy_module("zoo.classifier_files")
datasets = lazy_module("zoo.data.datasets")
distribute = lazy_module("zoo.training.distribute")
report = lazy_module("zoo.evaluation.report")
run_report = lazy_module("zoo.evaluation.run_report")
text_classifier = lazy_module("zoo.text_classifier")

FINISHED = "metrics.json"  # written last: a directory with it holds a finished run

def settings_groups(exclude=()):
    """``(title, ClassifierConfig, field names)`` for the command line's groups of classifier settings: each
    field's ``group`` (:data:`zoo.config.CLASSIFIER_GROUPS`), but those in ``exclude``."""
    fields = dataclasses.fields(ClassifierConfig)
    return [(title, ClassifierConfig, [f.name for f in fields if f.metadata["group"] == group])
            for group, title in CLASSIFIER_GROUPS.items() if group not in exclude]


def parser(defaults=None, prog="zoo train", description=None):
    return SettingsParser(
        prog, description or __doc__.split("\n\n")[0],
        [("data", DataConfig), ("output", RunConfig), *settings_groups()],
        defaults=defaults, epilog="Every flag also reads from --config FILE; `zoo train --dry-run ...` checks them.")


def main(argv=None, defaults=None, prog="zoo train", description=None, recipe=None):
    """Parses the command line and runs the job; errors are one line and exit code 2."""
    with one_line_errors():
        configs = parser(defaults, prog, description).parse(argv)
        if configs["args"].dry_run:
            check_job(configs[DataConfig], configs[RunConfig], configs[ClassifierConfig])
            dry_run(prog, configs)
            return None
        return run(configs[DataConfig], configs[RunConfig], configs[ClassifierConfig], recipe=recipe or prog)


def check_output_dir(path, overwrite):
    """Refuses an output folder that is a file, is not writable, is not zoo's, or holds a finished run (without
    ``overwrite``). A new or empty folder, or a run folder zoo wrote, passes."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise ExportError(f"`output_dir` {path}: is a file, not a directory")
    check_replaceable(path, ("run",), what="`output_dir`")  # `overwrite` replaces a zoo run, never a foreign folder
    if os.path.exists(os.path.join(path, FINISHED)) and not overwrite:
        raise ExportError(f"{path}: a finished run already exists here; pass `overwrite` to replace it, or choose "
                          "another `output_dir`")
    existing = os.path.abspath(path)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise ExportError(f"`output_dir` {path}: {existing} is a file, not a directory")
    check_name_lengths("output_dir", path)
    try:  # a probe file, removed at once: os.access says yes to root even on a read-only file system
        fd, probe = tempfile.mkstemp(prefix=".zoo-write-test-", dir=existing)
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        raise ExportError(f"`output_dir` {path}: cannot write in {existing} ({error.strerror})") from None


def check_name_lengths(name, path):
    """Refuses a folder ``path`` (setting ``name``) with a name longer than its file system allows: found here, in
    one line, not as OSError's traceback (or TensorFlow's, for the logs) once the training ran."""
    existing = os.path.abspath(path)
    while not os.path.isdir(existing):
        existing = os.path.dirname(existing)
    limit = os.pathconf(existing, "PC_NAME_MAX")
    longest = max(os.path.abspath(path).split(os.sep), key=lambda part: len(os.fsencode(part)))
    if len(os.fsencode(longest)) > limit:
        raise ExportError(f"`{name}` {path}: the name {longest[:40]}... is {len(os.fsencode(longest))} bytes long, "
                          f"more than the {limit} the file system allows")


def check_other_dirs(settings, output_dir):
    """``backup_dir``, ``log_dir`` and ``lm_cache_dir`` must be folders (or not exist yet); a backup folder must be
    one zoo made (or empty), and not the output folder: checked before anything is loaded."""
    for name in ("backup_dir", "log_dir", "lm_cache_dir"):
        path = getattr(settings, name)
        if path and os.path.exists(path) and not os.path.isdir(path):
            raise ExportError(f"`{name}` {path}: is a file, not a directory")
        if path:
            check_name_lengths(name, path)
    if settings.backup_dir:
        if os.path.realpath(settings.backup_dir) == os.path.realpath(output_dir):
            raise ExportError(f"`backup_dir` {settings.backup_dir}: is the output folder too; give the backup a "
                              "folder of its own (it is removed when the run finishes)")
        check_replaceable(settings.backup_dir, ("backup",), what="`backup_dir`")
        if os.path.exists(os.path.join(settings.backup_dir, backups.RECORD)):  # a run to resume: its files sound
            backups.check_backup_files(settings.backup_dir)  # (no TensorFlow needed; checked again as they are read)


class OutputDir:
    """The run folder while the run is on: created (marked as zoo's) or checked, and locked against a second
    ``zoo train`` writing there (:class:`zoo.files.DirectoryLock`); :meth:`discard` removes it again if this run
    created it and failed."""

    def __init__(self, path, overwrite):
        check_output_dir(path, overwrite)
        self.path = path
        self.created = make_owned_directory(path, "run")
        self.lock = DirectoryLock(path)  # (refused: the folder is the other process's now, left as it is)

    def discard(self):
        """After a failed run: the folder goes if this run created it and no finished run got into it."""
        if self.created and not os.path.exists(os.path.join(self.path, FINISHED)):
            remove_owned(self.path, ("run",))

    def release(self):
        if getattr(self, "lock", None) is not None:
            self.lock.release()


def check_job(data, output, settings):
    """What the data, output and classifier settings say together, checked before anything is read or written
    (``--dry-run`` too): a label separator needs a multi-label run, and no folder zoo writes may lie inside a
    folder of class folders that it reads (the next run would read the run's files as texts of a class)."""
    if data.label_separator is not None and not settings.multi_label:
        raise ConfigError("label_separator", f"`label_separator` {data.label_separator!r} reads several labels per "
                                             "row: pass `multi_label` too")
    written = {"output_dir": output.output_dir, "backup_dir": settings.backup_dir, "log_dir": settings.log_dir}
    for source in ("train", "test", "valid"):
        folder = getattr(data, source)
        if not folder or not os.path.isdir(folder):
            continue
        for name, path in written.items():
            if path and _within(path, folder):
                raise ExportError(f"`{name}` {path}: is inside `{source}` {folder}, whose sub-folders are read as "
                                  "classes; choose a folder outside it")


def _within(path, folder):
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def run(data, output, settings, recipe="zoo train"):
    """Runs one training job (see the module docstring); returns the metrics."""
    check_job(data, output, settings)
    out = output.output_dir
    check_other_dirs(settings, out)  # before TensorFlow starts: a refusal is quick (these only read, and probe)
    check_output_dir(out, output.overwrite)
    start_tensorflow()  # first of the TensorFlow work: its start-up lines filtered
    resolved = resolve_init_defaults(settings)
    # Multi-worker collectives must be set up before any other TensorFlow work.
    strategy = distribute.get_strategy(settings.strategy)
    meet_onednn_note()  # (after the strategy: it starts TensorFlow's context)
    chief = distribute.is_chief(strategy)
    folder = OutputDir(out, output.overwrite) if chief else None
    try:
        with backups.removed_when_written():  # (Ctrl-C while the run is evaluated or written resumes from it)
            return _run(data, output, settings, recipe, strategy, chief, resolved)
    except Exception:
        # Any failure, a zoo error or not (a disk full, a fault of zoo's own: its traceback is the report), leaves
        # no half-made run folder: this run made it, and nothing finished got into it.
        if folder is not None:
            folder.discard()
        raise
    except KeyboardInterrupt as stop:
        word, code = interrupts.describe(stop)
        if folder is not None and not settings.backup_dir:
            folder.discard()  # "nothing was saved": nor is a run folder of a marker, a lock and empty logs left
        raise Interrupted(f"{word}; " + (
            f"rerun the same command to resume from the backup in {settings.backup_dir}" if settings.backup_dir else
            "nothing was saved (pass `backup_dir` to make a run resumable)"), code) from None
    finally:
        if folder is not None:
            folder.release()


def _run(data, output, settings, recipe, strategy, chief, resolved):
    out = output.output_dir
    logger.info("loading data")
    dataset, all_train_texts = datasets.load_for_training(data, validation_split=settings.validation_split,
                                                          seed=settings.seed, multi_label=settings.multi_label)
    logger.info(f"{dataset.name}: {dataset.summary()}")
    if dataset.multi_label != settings.multi_label:
        raise ConfigError("multi_label", f"{dataset.name} is a " + (
            "multi-label dataset: pass `multi_label`" if dataset.multi_label else
            "single-label dataset: `multi_label` is for rows with several labels (--label-separator, JSON lists)"))
    resuming = settings.backup_dir and os.path.exists(settings.backup_dir)
    if chief and not settings.log_dir:  # the run's own logs/ (a --log-dir of the user's is never emptied)
        if not resuming:  # a rerun must not mix an earlier run's TensorBoard events with its own
            remove_owned(os.path.join(out, "logs"), ("logs",))
        make_owned_directory(os.path.join(out, "logs"), "logs")
    clf = text_classifier.TextClassifier(**{
        **settings.to_dict(), "strategy": strategy,
        "log_dir": settings.log_dir or os.path.join(out, "logs"),
        "lm_cache_dir": settings.lm_cache_dir or os.path.join(out, "lm"),
    })
    names = dataset.class_names
    clf.fit(dataset.train_texts, dataset.labels("train"),  # class ids, as read: encoded once
            validation_data=(dataset.valid_texts, dataset.labels("valid")),
            lm_texts=all_train_texts if init_kind(resolved.init) in ("lm", "auto") else None,
            unlabelled_texts=_unlabelled(data, dataset, all_train_texts))
    split = "test" if data.dev is None else "dev"
    logger.info("evaluating on the test split" if split == "test" else
                f"evaluating on the dev split: {data.dev} held-out train examples (the test split is not used)")
    metrics = clf.evaluate(dataset.test_texts, dataset.labels("test"), baseline=output.baseline,
                           explain_errors=True)
    metrics = run_report.run_metrics(clf, metrics, labels=len(dataset.train_labels), evaluated_on=split)
    config = run_report.run_config(clf, recipe=recipe, command=sys.argv, data=data.to_dict(), run=output.to_dict(),
                                   classifier=settings.to_dict(), dataset_summary=dataset.summary(),
                                   class_names=names)
    if chief:
        write_run(out, clf, config, metrics)
    print(report.metrics_table(metrics))
    if chief:
        print(f"\nwrote {out}/ (report.md, metrics.json, export/, the saved classifier)")
    return metrics


def write_run(out, clf, config, metrics):
    """The run folder, built beside the old one and swapped in whole (:func:`zoo.files.atomic_directory`): a
    crash leaves the earlier run or this one, complete. The folder's other entries (TensorBoard logs, the
    language-model cache, anything else put there) move over; the earlier run's own outputs do not."""
    with atomic_directory(out, overwrite=True, kind="run", carry=lambda name: name not in RUN_OUTPUTS and not (
            classifier_files.owned_by_classifier(name) or name.endswith(".png"))) as tmp:
        _write_run_files(tmp, clf, config, metrics)


# What a run writes, besides the saved classifier (zoo.classifier_files) and the plots (*.png).
RUN_OUTPUTS = ("config.json", "metrics.json", "report.md", "export")


def _write_run_files(out, clf, config, metrics):
    """The run's files in the new folder ``out``; the metrics last, so a folder with ``metrics.json`` is complete."""
    clf.save(out)
    write_json(os.path.join(out, "config.json"), config)
    clf.export(os.path.join(out, "export"))
    run_report.write_run_report(out, clf, config, metrics)
    write_json(os.path.join(out, "metrics.json"), metrics)


def _unlabelled(data, dataset, all_train_texts):
    """With ``--labels N``, the train texts beyond the N (fit leaves out the labelled ones), never the ``--dev``
    split's; else None: ``--max-train-examples`` asks for less training, not for other texts."""
    if data.labels is None:
        return None
    held_out = set(dataset.test_texts) if data.dev is not None else set()
    return [t for t in all_train_texts if t not in held_out]


