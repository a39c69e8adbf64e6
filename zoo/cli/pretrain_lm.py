"""``zoo pretrain-lm``: pretrain an AWD-LSTM language model on text that installs offline (general English by
default, or Chinese: ``--sources people_daily``).

    zoo pretrain-lm --output-dir runs/lm/wiki-books-lstm-lm-v2            # the default model's settings
    zoo pretrain-lm --from-metadata pretrained/wiki-books-lstm-lm-v2/metadata.json --output-dir runs/lm/again
    zoo pretrain-lm --write-ids runs/lm/ids.npz                           # only tokenize (TensorFlow)
    KERAS_BACKEND=torch zoo pretrain-lm --from-ids runs/lm/ids.npz --output-dir runs/lm/torch

``--from-metadata`` takes the settings recorded in an artifact's
``metadata.json`` (flags given still win) and ends by comparing what it
wrote with that artifact. ``--register`` copies the artifact into the
pretrained directory and lists it in its manifest.

``--write-ids FILE`` loads the corpus and builds the vocabulary as a run
does, writes the token ids, the vocabulary and the settings to FILE and
stops. ``--from-ids FILE`` trains from it on any Keras backend, where no
TensorFlow is installed (``zoo.transfer.lm_ids``): the file's settings are
the defaults, and those that made its ids (corpus, vocabulary, seed) stay.
"""

import importlib.util
import json
import os
import sys

from zoo import interrupts
from zoo.cli.flags import (
    EXIT_INPUT,
    EXIT_OUTPUT,
    SettingsParser,
    dry_run,
    fail,
    fail_with,
    one_line_errors,
)
from zoo.config import PretrainConfig
from zoo.errors import ConfigError, DataError, Interrupted, ZooError
from zoo.files import is_empty_folder
from zoo.lazy import lazy_module
from zoo.log import start_tensorflow

# Keras: imported once _start_keras() ran (start_tensorflow() where Keras runs on TensorFlow); on JAX or PyTorch
# (--from-ids) lm_ids imports neither TensorFlow nor scikit-learn, and pretraining only where it is needed.
lm_ids = lazy_module("zoo.transfer.lm_ids")
pretrained = lazy_module("zoo.transfer.pretrained")  # (NumPy only: checking --name imports no Keras)
pretraining = lazy_module("zoo.transfer.pretraining")


def _metadata_settings(argv):
    if "--from-metadata" not in (argv or []):
        return None, {}
    path = argv[argv.index("--from-metadata") + 1] if argv.index("--from-metadata") + 1 < len(argv) else None
    try:
        with open(path, encoding="utf-8") as f:
            settings = json.load(f)["settings"]
        if not isinstance(settings, dict):
            raise TypeError("'settings' is not an object")
    except (OSError, ValueError, KeyError, TypeError) as error:
        fail(f"{path}: cannot read the settings of a metadata.json ({type(error).__name__}: {error})", EXIT_INPUT)
    try:
        PretrainConfig.from_dict(settings, source=path)
    except ConfigError as error:
        fail(str(error))
    return path, settings


def _start_keras():
    """Imports Keras, through :func:`zoo.log.start_tensorflow` (its start-up lines filtered) where Keras will run on
    TensorFlow: ``KERAS_BACKEND`` unset or ``tensorflow``, and TensorFlow installed."""
    if os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow" and importlib.util.find_spec("tensorflow"):
        start_tensorflow()


def _ids_settings(argv):
    """The settings an id file was written with (``--from-ids FILE``): the defaults of the run that trains from it."""
    if "--from-ids" not in argv or argv.index("--from-ids") + 1 >= len(argv):
        return None, {}  # (argparse says that --from-ids needs a value)
    path = argv[argv.index("--from-ids") + 1]
    _start_keras()
    try:
        ids = lm_ids.read_ids(path, arrays=False)
        PretrainConfig.from_dict(ids.meta["settings"], source=path)
    except ConfigError as error:
        fail(str(error))
    except ZooError as error:
        fail_with(error)
    return ids, ids.meta["settings"]


def _check_ids_target(path):
    """``--write-ids`` replaces only an id file (one zoo wrote, or nothing)."""
    if os.path.lexists(path):
        try:
            lm_ids.read_ids(path, arrays=False)
        except DataError:
            fail(f"{path}: exists and is not an id file zoo wrote; choose another --write-ids", EXIT_OUTPUT)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    metadata_path, settings = _metadata_settings(argv)
    ids, ids_settings = _ids_settings(argv)
    if metadata_path and ids is not None:
        fail("--from-metadata and --from-ids do not go together: an id file's settings are its own")
    parser = SettingsParser(
        "zoo pretrain-lm", __doc__.split("\n\n")[0], [("language model and corpus", PretrainConfig)],
        defaults=settings or ids_settings, positionals=[
            ("--output-dir", {"help": "the artifact directory to write (new, or an empty folder); needed unless "
                                      "--write-ids"}),
            ("--register", {"action": "store_true", "help": "copy the artifact into the pretrained directory and "
                                                            "list it in its manifest.json"}),
            ("--from-metadata", {"metavar": "METADATA_JSON", "help": "reuse the settings recorded in an "
                                                                     "artifact's metadata.json"}),
            ("--write-ids", {"metavar": "FILE", "help": "only tokenize: write the corpus's token ids, vocabulary and "
                                                        "settings to FILE (.npz) for --from-ids, and stop"}),
            ("--from-ids", {"metavar": "FILE", "help": "train from an id file of --write-ids, on any Keras backend "
                                                       "(no TensorFlow needed)"}),
        ])
    with one_line_errors():
        configs = parser.parse(argv)
        args = configs["args"]
        if args.write_ids and (args.output_dir or args.from_ids or args.register):
            fail("--write-ids only writes the id file: give --output-dir (and --register) to the run that trains "
                 "from it with --from-ids")
        if not args.write_ids and not args.output_dir:
            fail("the following arguments are required: --output-dir (or --write-ids FILE, to only tokenize)")
        if ids is not None:
            lm_ids.check_settings(configs[PretrainConfig], ids)  # the settings that made the ids stay the file's
        # The name becomes a folder of the pretrained directory (--register) and its manifest key: one plain name,
        # checked before anything runs (`--name ../../x` would write outside the folder, `--name .` over it).
        pretrained.check_name(configs[PretrainConfig].name)
        if args.dry_run:
            dry_run("zoo pretrain-lm", configs)
            return
        try:
            _run(configs, args, argv, metadata_path)
        except KeyboardInterrupt as stop:  # (Ctrl-C, SIGTERM) a language model's training keeps no backup
            word, code = interrupts.describe(stop)
            raise Interrupted(f"{word}; {_what_a_rerun_does(args)}", code) from None


def _what_a_rerun_does(args):
    """What the interrupted command left, and what running it again does (the end of its one line)."""
    if args.write_ids:
        return f"nothing was written to {args.write_ids}: rerun the same command to tokenize the corpus again"
    if os.path.exists(os.path.join(args.output_dir, "metadata.json")):  # (an artifact appears whole, renamed in)
        return (f"the artifact in {args.output_dir} was written" + (
            ", but maybe not registered: register it from Python (zoo.transfer.pretraining.register)"
            if args.register else "") + "; a rerun needs a new --output-dir")
    if args.from_ids:
        return (f"nothing was written to {args.output_dir}: rerun the same command to train again from the id file "
                f"{args.from_ids} (the corpus is not tokenized again; the training starts over)")
    return (f"nothing was written to {args.output_dir} (a language model's training keeps no backup): rerun the "
            "same command to start it over, or tokenize once with --write-ids FILE and train with --from-ids FILE")


def _run(configs, args, argv, metadata_path):
    command = "zoo pretrain-lm " + " ".join(argv)
    if args.write_ids:
        _write_ids(configs[PretrainConfig], args.write_ids, command)
        return
    if os.path.lexists(args.output_dir) and not is_empty_folder(args.output_dir):  # (an empty one is as new)
        fail(f"{args.output_dir}: already exists; choose a new or empty --output-dir", EXIT_OUTPUT)
    if args.from_ids:
        _from_ids(configs[PretrainConfig], args, command)
        return
    start_tensorflow()
    path, metadata = pretraining.pretrain(configs[PretrainConfig], args.output_dir, command=command)
    print(f"held-out perplexity {metadata['heldout_perplexity']:.1f} on {metadata['heldout_tokens']:,} tokens")
    print(f"wrote {path}/")
    line = pretraining.compare_with(os.path.dirname(os.path.abspath(metadata_path)) if metadata_path else None,
                                    path)
    if line:
        print(line)
    if args.register:
        entry = pretraining.register(path, metadata["name"])
        print(f"registered {metadata['name']} ({entry['size_bytes'] / 1e6:.1f} MB)")


def _write_ids(config, path, command):
    start_tensorflow()  # before Keras is imported (by zoo.transfer.lm_ids)
    _check_ids_target(path)
    meta, size = pretraining.write_ids(config, path, command=command)
    print(f"wrote {path}: {meta['train_tokens']:,} training and {meta['heldout_tokens']:,} held-out tokens, "
          f"vocabulary {meta['vocab_size']:,} ({size / 2**20:.1f} MiB)")


def _from_ids(config, args, command):
    import keras

    if args.register:  # before training: registering reads zoo.transfer.pretrained, which needs scikit-learn
        try:
            register = pretraining.register  # (imports zoo.transfer.pretraining now)
        except ImportError as error:
            fail(f"--register needs zoo's full installation ({error}); copy the artifact to where zoo is installed "
                 "and register it there (zoo.transfer.pretraining.register)")
    path, metadata = lm_ids.pretrain_from_ids(config, args.from_ids, args.output_dir, command=command)
    print(f"held-out perplexity {metadata['heldout_perplexity']:.1f} on {metadata['heldout_tokens']:,} tokens "
          f"({keras.backend.backend()})")
    print(f"wrote {path}/")
    if args.register:
        entry = register(path, metadata["name"])
        print(f"registered {metadata['name']} ({entry['size_bytes'] / 1e6:.1f} MB)")
