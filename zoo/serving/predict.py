"""Classify texts with an exported zoo SavedModel (needs only TensorFlow).

Example:

>>> serve = load("runs/newsgroups/export")  # doctest: +SKIP
>>> classify(serve, ["the goalie saved the game"])  # doctest: +SKIP
[('rec.sport.hockey', 0.93)]
"""

import os

import numpy as np

from zoo.errors import DataError
from zoo.files import path_argument, recover
from zoo.lazy import lazy_module
from zoo.log import logger

inputs = lazy_module("zoo.data.inputs")  # (scikit-learn, through zoo.data: only once texts are classified)


def load(export_dir):
    """The ``serving_default`` function of an exported classifier.

    Loading runs the SavedModel's graph (TensorFlow ops): load only exports you trust.

    Raises:
        DataError: ``export_dir`` is not a readable SavedModel.
    """
    import tensorflow as tf

    export_dir = os.fspath(path_argument(export_dir, "export_dir"))  # (None: os.path's TypeError otherwise)
    recover(export_dir)
    if not os.path.exists(export_dir):
        raise DataError(f"{export_dir}: no such directory (expected the export/ directory of a run)")
    if not os.path.isdir(export_dir) or not os.path.exists(os.path.join(export_dir, "saved_model.pb")):
        inner = os.path.join(export_dir, "export")
        hint = f"; it holds a run: pass {inner}" if os.path.exists(os.path.join(inner, "saved_model.pb")) else ""
        raise DataError(f"{export_dir}: not a SavedModel directory (no saved_model.pb){hint}")
    try:
        return tf.saved_model.load(export_dir).signatures["serving_default"]
    except Exception as error:  # noqa: BLE001 - TensorFlow raises many types for a corrupt SavedModel
        first = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
        raise DataError(f"{export_dir}: cannot load the SavedModel ({type(error).__name__}: {first})") from None


def classify(serve, texts, known=False):
    """``(label, probability)`` per text, from one call of ``serve``; a multi-label export's label is its
    predicted labels joined by ``|`` (most probable first; ``""`` for none) and the probability the highest.
    With ``known``, ``(label, probability, known_tokens)``: how many of the text's tokens the model knows (None
    from an export made before zoo 0.4 served that count)."""
    import tensorflow as tf

    # Checked as TextClassifier.predict checks them: a single string would be classified letter by letter, and
    # None, a number or a lone surrogate would be TensorFlow's own traceback.
    texts = inputs.check_texts("texts", texts)
    if not texts:
        return []
    out = serve(texts=tf.constant(texts, dtype=tf.string))
    if "num_labels" in out:  # multi-label
        labels = ["|".join(x.decode("utf-8") for x in row[:n])
                  for row, n in zip(out["labels"].numpy(), out["num_labels"].numpy())]
    else:
        labels = [x.decode("utf-8") for x in out["label"].numpy()]
    probs = out["probabilities"].numpy().max(axis=-1)
    if not known:
        return list(zip(labels, probs.tolist()))
    counts = out["known_tokens"].numpy().tolist() if "known_tokens" in out else [None] * len(labels)
    return list(zip(labels, probs.tolist(), counts))


def warn_unknown_texts(known, what="texts", name=lambda i: f"item {i}"):
    """One warning line for the texts that hold no token the model knows (``known`` is 0: another language,
    made-up words): the recurrent path reads them as an empty text, and nothing else would say so."""
    unknown = np.flatnonzero(np.asarray(known) == 0)
    if len(unknown):
        logger.warning(f"{what}: {len(unknown)} of {len(known)} hold no token the model knows (first: "
                       f"{name(int(unknown[0]))}); the recurrent model reads them as empty texts")


def batches(texts, size):
    """``texts`` (any iterable) in lists of at most ``size``, so memory stays bounded on long inputs."""
    size = inputs.check_batch_size(size)  # (0 made one batch of everything)
    batch = []
    for text in texts:
        batch.append(text)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
