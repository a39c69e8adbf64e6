"""Classify texts with an exported zoo SavedModel.

Usage::

    python -m zoo.predict EXPORT_DIR "some text" "another text"
    cat texts.txt | python -m zoo.predict EXPORT_DIR

Prints one line per text: label, its probability, and the text. Needs only
TensorFlow.
"""

import argparse
import os
import sys


def load(export_dir):
    """Returns the ``serving_default`` function of an exported classifier."""
    import tensorflow as tf

    if not os.path.isdir(export_dir) or not os.path.exists(os.path.join(export_dir, "saved_model.pb")):
        raise SystemExit(f"zoo.predict: {export_dir}: not a SavedModel directory (no saved_model.pb)")
    return tf.saved_model.load(export_dir).signatures["serving_default"]


def classify(serve, texts):
    """Returns (label, probability) per text."""
    import tensorflow as tf

    out = serve(texts=tf.constant(texts, dtype=tf.string))
    labels = [x.decode("utf-8") for x in out["label"].numpy()]
    probs = out["probabilities"].numpy().max(axis=-1)
    return list(zip(labels, probs.tolist()))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m zoo.predict", description=__doc__.split("\n\n")[0])
    parser.add_argument("export_dir", help="directory written by a recipe's export step")
    parser.add_argument("texts", nargs="*", help="texts to classify (default: one per line on stdin)")
    args = parser.parse_args(argv)
    texts = args.texts or [line.rstrip("\n") for line in sys.stdin if line.strip()]
    if not texts:
        raise SystemExit("zoo.predict: no texts given (as arguments or on stdin)")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    serve = load(args.export_dir)
    for text, (label, prob) in zip(texts, classify(serve, texts)):
        print(f"{label}\t{prob:.4f}\t{text}")


if __name__ == "__main__":
    main()
