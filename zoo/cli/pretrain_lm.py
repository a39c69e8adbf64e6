"""``zoo pretrain-lm``: pretrain an AWD-LSTM language model on text that installs offline (general English by
default, or Chinese: ``--sources people_daily``).

    zoo pretrain-lm --output-dir runs/lm/wiki-books-lstm-lm-v2            # the default model's settings
    zoo pretrain-lm --from-metadata pretrained/wiki-books-lstm-lm-v2/metadata.json --output-dir runs/lm/again

``--from-metadata`` takes the settings recorded in an artifact's
``metadata.json`` (flags given still win) and ends by comparing what it
wrote with that artifact. ``--register`` copies the artifact into the
pretrained directory and lists it in its manifest.
"""

import json
import os
import sys

from zoo.cli.flags import EXIT_INPUT, EXIT_OUTPUT, SettingsParser, dry_run, fail, one_line_errors
from zoo.config import PretrainConfig
from zoo.errors import ConfigError


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


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    metadata_path, settings = _metadata_settings(argv)
    parser = SettingsParser(
        "zoo pretrain-lm", __doc__.split("\n\n")[0], [("language model and corpus", PretrainConfig)],
        defaults=settings, positionals=[
            ("--output-dir", {"required": True, "help": "the artifact directory to write (must not exist)"}),
            ("--register", {"action": "store_true", "help": "copy the artifact into the pretrained directory and "
                                                            "list it in its manifest.json"}),
            ("--from-metadata", {"metavar": "METADATA_JSON", "help": "reuse the settings recorded in an "
                                                                     "artifact's metadata.json"}),
        ])
    with one_line_errors():
        configs = parser.parse(argv)
        args = configs["args"]
        if args.dry_run:
            dry_run("zoo pretrain-lm", configs)
            return
        if os.path.exists(args.output_dir):
            fail(f"{args.output_dir}: already exists; choose another --output-dir", EXIT_OUTPUT)
        from zoo.log import start_tensorflow
        from zoo.transfer import pretraining

        start_tensorflow()
        path, metadata = pretraining.pretrain(configs[PretrainConfig], args.output_dir,
                                              command="zoo pretrain-lm " + " ".join(argv))
        print(f"held-out perplexity {metadata['heldout_perplexity']:.1f} on {metadata['heldout_tokens']:,} tokens")
        print(f"wrote {path}/")
        line = pretraining.compare_with(os.path.dirname(os.path.abspath(metadata_path)) if metadata_path else None,
                                        path)
        if line:
            print(line)
        if args.register:
            entry = pretraining.register(path, metadata["name"])
            print(f"registered {metadata['name']} ({entry['size_bytes'] / 1e6:.1f} MB)")

