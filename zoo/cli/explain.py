"""``zoo explain``: which tokens made a trained classifier say what it said.

    zoo explain runs/newsgroups "the rocket reached orbit after a second burn"
    cat texts.txt | zoo explain runs/newsgroups --top 5 --json

Takes a run folder (or a folder ``TextClassifier.save`` wrote; a run's
``export/`` is read as its run), and prints for each text the predicted
label, its probability and the tokens that counted most for it: integrated
gradients through the recurrent path plus the n-gram path's exact linear
terms, each times its blend weight (``docs/trust.md``). ``--label`` explains
another class instead; ``--json`` prints one JSON object per text, every token.
In the plain output a text's backslashes, tabs and line breaks are escaped as
``zoo predict`` writes them, so each text keeps its two lines.
Loading a classifier runs its Keras model: explain only runs you trust.
"""

import json
import os

from zoo.cli.flags import ArgumentParser, fail, one_line_errors
from zoo.cli.predict import stdin_lines, tsv_field
from zoo.lazy import lazy_module
from zoo.log import start_tensorflow

text_classifier = lazy_module("zoo.text_classifier")  # (TensorFlow: imported once start_tensorflow() ran)


def main(argv=None):
    parser = ArgumentParser(prog="zoo explain", description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", help="a run folder of zoo train (or a saved TextClassifier)")
    parser.add_argument("texts", nargs="*", help="texts to explain (default: one per line on stdin)")
    parser.add_argument("--top", type=int, default=10, help="tokens shown per text (default: 10)")
    parser.add_argument("--label", default=None, help="the class to explain (default: each text's predicted one)")
    parser.add_argument("--steps", type=int, default=32, help="integrated gradients' path points (default: 32)")
    parser.add_argument("--json", action="store_true", help="one JSON object per text, with every token")
    args = parser.parse_intermixed_args(argv)  # (texts after the options too: `RUN --top 3 "a text"`)
    if args.top < 1 or args.steps < 1:
        fail(f"--top and --steps must be integers >= 1, got {args.top} and {args.steps}")
    run_dir = args.run_dir
    if not os.path.exists(os.path.join(run_dir, "classifier.json")) and os.path.exists(
            os.path.join(os.path.dirname(os.path.normpath(run_dir)), "classifier.json")):
        run_dir = os.path.dirname(os.path.normpath(run_dir))  # a run's export/: its run
    start_tensorflow()
    with one_line_errors():
        clf = text_classifier.TextClassifier.load(run_dir)
        label = args.label
        if label is not None:  # as the classes are named (a class of integers is given as digits)
            names = {str(c): c for c in clf.classes_}
            if label not in names:
                fail(f"--label {label!r}: not a class of {run_dir} (classes: {', '.join(names)})")
            label = names[label]
        texts = args.texts or list(stdin_lines())
        if not texts:
            fail("no texts to explain (give them as arguments or on stdin)")
        for e in clf.explain(texts, None if label is None else [label] * len(texts), steps=args.steps):
            if args.json:
                print(json.dumps(e.to_dict(), ensure_ascii=False, default=str))
                continue
            shown = ", ".join(f"{token} {value:+.3f}" for token, value in e.top(args.top))
            # (the text escaped as zoo predict writes it: a line break in it would pass for the next text's line)
            print(f"{e.label}\t{e.probability:.4f}\t{tsv_field(e.text)}\n\t{shown}")
