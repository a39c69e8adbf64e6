"""``zoo predict``: classify texts with an exported SavedModel (needs only TensorFlow).

    zoo predict EXPORT_DIR "some text" "another text"
    cat texts.txt | zoo predict EXPORT_DIR

Prints one line per text: label, its probability, and the text. Lines from
stdin are classified in batches (``--batch-size``), so memory stays bounded.
"""

import argparse
import sys

from zoo.cli.flags import fail
from zoo.errors import ZooError


def _stdin_lines():
    """Non-blank stdin lines, decoded as UTF-8 one by one, so a bad byte names its line."""
    for number, raw in enumerate(sys.stdin.buffer, 1):
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8").rstrip("\r\n")
        except UnicodeDecodeError as error:
            raise ZooError(f"stdin:{number}: not valid UTF-8 (byte 0x{raw[error.start]:02x} at column "
                           f"{error.start + 1}); expected UTF-8 text") from None
        if line.strip():
            yield line


def main(argv=None):
    from zoo.serving.predict import batches, classify, load

    parser = argparse.ArgumentParser(prog="zoo predict", description=__doc__.split("\n\n")[0])
    parser.add_argument("export_dir", help="the export/ directory of a run")
    parser.add_argument("texts", nargs="*", help="texts to classify (default: one per line on stdin)")
    parser.add_argument("--batch-size", type=int, default=256, help="texts per call of the model (default: 256)")
    args = parser.parse_args(argv)
    if args.batch_size < 1:
        fail(f"--batch-size must be an integer >= 1, got {args.batch_size}")
    try:
        serve = load(args.export_dir)
        found = False
        for batch in batches(args.texts or _stdin_lines(), args.batch_size):
            found = True
            for text, (label, prob) in zip(batch, classify(serve, batch)):
                print(f"{label}\t{prob:.4f}\t{text}")
        if not found:
            fail("no texts given (as arguments or on stdin)")
    except ZooError as error:
        fail(str(error))
