r"""``zoo predict``: classify texts with an exported SavedModel (needs only TensorFlow).

    zoo predict EXPORT_DIR "some text" "another text"
    cat texts.txt | zoo predict EXPORT_DIR

Prints one line per text: label, its probability, and the text, tab-separated
(in the text, a backslash, tab, line break, carriage return or NUL is written
``\\``, ``\t``, ``\n``, ``\r``, ``\0``, so each text stays one field of one line). Lines from
stdin are classified in batches (``--batch-size``), so memory stays bounded.
With ``--min-confidence P`` a single-label export abstains: a text whose top
probability is below P gets an empty label (``TextClassifier.predict``'s None).
"""

import sys

from zoo.cli.flags import ArgumentParser, fail, one_line_errors
from zoo.errors import DataError
from zoo.lazy import lazy_module
from zoo.log import start_tensorflow
from zoo.serving.predict import batches, classify, load, warn_unknown_texts

data_files = lazy_module("zoo.data.files")  # (zoo.data imports scikit-learn: not for --help)

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0"})


def tsv_field(text):
    r"""``text`` as one field of a tab-separated line (the module docstring's escapes).

    >>> print(tsv_field("a\tb\nc \\ d"))
    a\tb\nc \\ d
    """
    return text.translate(_ESCAPES)


def stdin_lines():
    """Non-blank stdin lines, decoded as UTF-8 one by one, so a bad byte names its line."""
    for number, raw in enumerate(sys.stdin.buffer, 1):
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8").rstrip("\r\n")
        except UnicodeDecodeError as error:
            raise DataError(f"stdin:{number}: not valid UTF-8 (byte 0x{raw[error.start]:02x} at column "
                           f"{error.start + 1}); expected UTF-8 text") from None
        if line.strip():
            yield line


def main(argv=None):

    parser = ArgumentParser(prog="zoo predict", description=__doc__.split("\n\n")[0])
    parser.add_argument("export_dir", help="the export/ directory of a run")
    parser.add_argument("texts", nargs="*", help="texts to classify (default: one per line on stdin)")
    # 64: with the main job's model (BiLSTM 96, 328 tokens), 50,000 lines from stdin peak at 786 MiB RSS and take
    # 29 s on 2 cores; 256 peaks at 1,051 MiB (the LSTM's gate inputs for a whole batch) and takes 33 s.
    parser.add_argument("--batch-size", type=int, default=64, help="texts per call of the model (default: 64)")
    parser.add_argument("--min-confidence", type=float, default=None, metavar="P",
                        help="abstain (an empty label) where the top probability is below P (single-label exports)")
    args = parser.parse_intermixed_args(argv)  # (texts after the options too: `EXPORT --min-confidence 0.9 "a text"`)
    if args.batch_size < 1:
        fail(f"--batch-size must be an integer >= 1, got {args.batch_size}")
    if args.min_confidence is not None and not 0.0 <= args.min_confidence <= 1.0:
        fail(f"--min-confidence must be a number in [0, 1], got {args.min_confidence}")
    start_tensorflow()  # before load() imports TensorFlow
    with one_line_errors():
        data_files.check_unicode("arguments", args.texts, lambda i: f"text {i + 1}")  # (bytes that are not UTF-8, as stdin's)
        serve = load(args.export_dir)
        if args.min_confidence is not None and "num_labels" in serve.structured_outputs:
            fail("--min-confidence is for single-label exports; a multi-label export has a threshold per label")
        known = []
        for batch in batches(args.texts or stdin_lines(), args.batch_size):
            for text, (label, prob, count) in zip(batch, classify(serve, batch, known=True)):
                if args.min_confidence is not None and prob < args.min_confidence:
                    label = ""
                print(f"{label}\t{prob:.4f}\t{tsv_field(text)}")
                known.append(1 if count is None else count)
        if not known:
            fail("no texts given (as arguments or on stdin)")
        sys.stdout.flush()  # (the warning after the lines it is about, where both go to a terminal)
        warn_unknown_texts(known, "texts", lambda i: f"text {i + 1}")
