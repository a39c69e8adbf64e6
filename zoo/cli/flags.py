"""Command-line flags generated from the config dataclasses of :mod:`zoo.config`.

Every setting of a command becomes ``--the-setting`` with the field's help
text, its allowed values (the library's own constants) and its default;
booleans get ``--x`` / ``--no-x``. Values are layered: the dataclass
defaults, then a recipe's defaults, then ``--config FILE`` (a JSON object of
settings), then the flags given. Each layer is checked by the dataclasses
themselves, so a bad value is one line naming the flag (or, for a value from
the config file, the file and the setting).

Example:

>>> from zoo.config import RunConfig
>>> parser = SettingsParser("zoo demo", "a demo", [("output", RunConfig)])
>>> configs = parser.parse(["--output-dir", "runs/x", "--no-baseline"])
>>> configs[RunConfig].output_dir, configs[RunConfig].baseline
('runs/x', False)
"""

import argparse
import contextlib
import dataclasses
import os
import sys

from zoo import interrupts
from zoo.config import per_init_default, read_config_file
from zoo.config.checks import Flag, Integer, Number, SequenceLength
from zoo.errors import (
    ConfigError,
    DataError,
    ExportError,
    Interrupted,
    PretrainedError,
    VectorsError,
    ZooError,
)
from zoo.files import disk_full


def flag(name):
    """The flag of a setting: ``learning_rate`` -> ``--learning-rate``."""
    return "--" + name.replace("_", "-")


def _metavar(check, name):
    choices = check.choices()
    if choices is not None:
        return "{" + ",".join(map(str, choices)) + "}"
    if isinstance(check, Integer):
        return "N"
    if isinstance(check, Number):
        return "X"
    if isinstance(check, SequenceLength):
        return "N|pNN"
    return name.upper()


# The settings this command took from its --config file (and no flag overrode), by name: an error about one of
# them names the file, as an error in its value does (fail_with), not a flag the user never typed.
_FROM_FILE = {}

# A recipe's default for the key gives way where the user gives any of the settings it names (from a flag or the
# --config file): a recipe's built-in dataset yields to the user's own --train/--test files, as zoo train's does.
GIVES_WAY = {"dataset": ("train", "test", "valid")}

# Settings a --config file may not set (issue #33: loading a pickle runs the code in it).
FLAG_ONLY = ("allow_pickle",)


class ArgumentParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` whose usage errors (a missing value, an unknown flag, a bad choice) are one line,
    ``error: ...``, and exit code 2, as every other bad setting is: argparse's own prints the whole usage block
    (some 60 lines for ``zoo train``) and ``PROG: error: ...``, and a script reading stderr takes its first line."""

    def error(self, message):
        fail(f"{message} (`{self.prog} --help` lists the flags)" if self.prog else message)


class SettingsParser:
    """An ``argparse`` parser for the fields of several config dataclasses.

    Args:
        prog: the program name in usage lines (``zoo train``).
        description: the help's first paragraph.
        groups: ``(title, ConfigClass)`` pairs, or ``(title, ConfigClass, field names)``
            to show only those fields of the class (the others keep their defaults).
        defaults: a recipe's own defaults, by setting name.
        positionals: ``(name, kwargs)`` for ``add_argument`` (not settings).
    """

    def __init__(self, prog, description, groups, defaults=None, positionals=(), epilog=None):
        self.prog, self.description, self.epilog = prog, description, epilog
        self.groups = [(g[0], g[1], tuple(g[2]) if len(g) > 2 else None) for g in groups]
        self.defaults = dict(defaults or {})
        self.positionals = list(positionals)
        self.classes = []
        for _, cls, _ in self.groups:
            if cls not in self.classes:
                self.classes.append(cls)
        unknown = sorted(set(self.defaults) - self.names())
        if unknown:
            raise ValueError(f"{prog}: defaults for unknown settings {unknown}")

    def names(self):
        return {f.name for cls in self.classes for f in dataclasses.fields(cls)}

    def _shown_default(self, f, defaults):
        value = defaults.get(f.name, f.default)
        if value is None and per_init_default(f):  # None: the value for the way the model starts
            return per_init_default(f)
        return "none" if value is None else str(value).lower() if isinstance(value, bool) else str(value)

    def build(self, defaults):
        parser = ArgumentParser(prog=self.prog, description=self.description, epilog=self.epilog,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
        for name, kwargs in self.positionals:
            parser.add_argument(name, **kwargs)
        parser.add_argument("--config", metavar="FILE",
                            help="a JSON object of settings (names with underscores, as in best.json); "
                                 "flags given here win over it")
        parser.add_argument("--dry-run", action="store_true",
                            help="check the settings, print them and stop (nothing is loaded or written)")
        for title, cls, only in self.groups:
            group = parser.add_argument_group(title)
            for f in dataclasses.fields(cls):
                if only is not None and f.name not in only:
                    continue
                check, help_text = f.metadata["check"], f.metadata["help"]
                text = f"{help_text} (default: {self._shown_default(f, defaults)})".replace("%", "%%")
                if isinstance(check, Flag):
                    group.add_argument(flag(f.name), dest=f.name, action=argparse.BooleanOptionalAction,
                                       default=argparse.SUPPRESS, help=text)
                else:
                    group.add_argument(flag(f.name), dest=f.name, type=check.parse, default=argparse.SUPPRESS,
                                       metavar=_metavar(check, f.name), help=text)
        return parser

    def parse(self, argv=None):
        """The configs (a dict keyed by config class) and, as ``configs["args"]``, the positionals and flags.

        Raises:
            SystemExit: a usage error (argparse's) or a bad setting (``error: ...`` on one line); exit code 2.
        """
        pre = ArgumentParser(prog=self.prog, add_help=False)
        pre.add_argument("--config")
        known, _ = pre.parse_known_args(argv)
        if known.config == "":  # (`if known.config` below would read no file, silently)
            fail("--config must be the path of a JSON file of settings, got ''")
        layered = dict(self.defaults)
        if known.config:
            try:
                from_file = read_config_file(known.config)
                unknown = sorted(set(from_file) - self.names())
                if unknown:
                    raise ConfigError(unknown[0], f"{known.config}: unknown setting(s) {', '.join(unknown)} for "
                                                  f"{self.prog}")
                only_flags = sorted(set(from_file) & set(FLAG_ONLY))
                if only_flags:
                    raise ConfigError(only_flags[0], f"{known.config}: `{only_flags[0]}` is taken from the command "
                                                     "line only: trusting a pickle is the choice of whoever runs the "
                                                     "command, never one a settings file makes for them")
                layered.update(from_file)
                self._give_way(layered, from_file)
                self._make(layered, source=known.config)
            except ConfigError as error:
                fail(str(error))
        parser = self.build(layered)
        args = parser.parse_args(argv)
        given = {k: v for k, v in vars(args).items() if k in self.names()}
        _FROM_FILE.clear()  # (one command a process, but tests call several)
        if known.config:
            _FROM_FILE.update({name: known.config for name in from_file if name not in given})
        self._give_way(layered, {**(from_file if known.config else {}), **given})
        try:
            configs = self._make({**layered, **given})
        except ConfigError as error:
            fail_with(error)
        configs["args"] = args
        return configs

    def _give_way(self, layered, chosen):
        """Drops from ``layered`` a recipe default that gives way to settings the user ``chosen`` (GIVES_WAY)."""
        for name, others in GIVES_WAY.items():
            if name in self.defaults and name not in chosen and any(chosen.get(other) for other in others):
                layered.pop(name, None)

    def _make(self, values, source=None):
        configs = {}
        for cls in self.classes:
            own = {k: v for k, v in values.items() if k in {f.name for f in dataclasses.fields(cls)}}
            configs[cls] = cls.from_dict(own, source=source)
        return configs


# Exit codes, one per kind of error (docs/bad-input.md).
EXIT_USAGE = 2  # a flag, a setting or a config file (argparse's own usage errors too)
EXIT_INPUT = 3  # what the command reads: a data or vectors file, a dataset, a pretrained model, an export
EXIT_OUTPUT = 4  # what it writes: a finished run in the way, a folder zoo did not write, a full disk
# Ctrl-C and SIGTERM: 130 and 143 (128 + the signal, as a shell reports it), from zoo.interrupts.describe.
EXIT_BROKEN_PIPE = 141  # the reader of stdout went away, as in `zoo predict ... | head -1` (128 + SIGPIPE)


def exit_code(error):
    """The exit code for a zoo error, by its kind."""
    if isinstance(error, Interrupted):
        return error.exit_code
    if isinstance(error, (DataError, VectorsError, PretrainedError)):
        return EXIT_INPUT
    if isinstance(error, ExportError):
        return EXIT_OUTPUT
    return EXIT_USAGE


@contextlib.contextmanager
def one_line_errors():
    """Every command's body runs in this: a zoo error is one line and its exit code (:func:`fail_with`); Ctrl-C
    is ``error: interrupted`` and 130 (SIGTERM ``error: terminated`` and 143); a closed stdout (``| head -1``)
    ends the command quietly with 141."""
    try:
        with interrupts.watch():  # Ctrl-C recorded too: one dropped inside a finalizer is raised again
            yield
        sys.stdout.flush()  # here, so a reader gone before the last lines is caught below, not at exit
    except ZooError as error:
        fail_with(error)
    except KeyboardInterrupt as stop:
        fail_with(Interrupted(*interrupts.describe(stop)))
    except BrokenPipeError:
        # Python's recipe (the signal module's docs, "Note on SIGPIPE"): stdout to /dev/null, so that the
        # interpreter's own flush at exit does not raise again and print "Exception ignored".
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise SystemExit(EXIT_BROKEN_PIPE) from None
    except Exception as error:
        if not disk_full(error):
            raise
        first = (str(error).strip().splitlines() or [""])[0][-160:]
        fail_with(ExportError(f"cannot write: no space left on the device ({first}); what was being written was "
                              "removed (free some space and rerun)"))


# What a message quotes from the user (a path, a CSV header's column name, a label, a class folder's name) may hold
# a line break or a terminal control character; written as is, the one line would be two, or drive the terminal.
# Python's str.splitlines() also breaks at U+0085, U+2028 and U+2029 (and \v, \f, \x1c-\x1e, among the C0 codes).
_ONE_LINE = str.maketrans({**{c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F)},
                           "\n": "\\n", "\r": "\\r", "\t": "\\t", "\0": "\\0",
                           "\x85": "\\x85", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def one_line(message):
    r"""``message`` with every character that would break its line, or drive a terminal, escaped.

    >>> print(one_line("train.csv: no column 'text' (columns: te\nxt, label)"))
    train.csv: no column 'text' (columns: te\nxt, label)
    """
    return str(message).translate(_ONE_LINE)


def fail(message, code=EXIT_USAGE):
    """Ends the command with ``error: message`` on one line of stderr (:func:`one_line`)."""
    print(f"error: {one_line(message)}", file=sys.stderr, flush=True)
    raise SystemExit(code)


def fail_with(error):
    """Ends the command for a zoo error: one line, the settings named as flags (or, for a setting the
    ``--config`` file gave, the file and the setting), the exit code of its kind."""
    source = _FROM_FILE.get(getattr(error, "parameter", None))
    fail(f"{source}: {error}" if source else ConfigError(None, str(error)).for_cli(), exit_code(error))


def dry_run(prog, configs):
    """Prints the settings a command would run with (``--dry-run``)."""
    print(f"{prog}: settings checked (dry run, nothing loaded or written)")
    for cls, config in configs.items():
        if cls == "args":
            continue
        print(f"  {cls.__name__}: " + ", ".join(f"{k}={v!r}" for k, v in config.to_dict().items()))
