"""Export a trained classifier as a TF SavedModel that takes raw text.

The SavedModel's ``serving_default`` signature takes a 1-D string tensor
``texts`` and returns ``probabilities`` (batch, num_classes), ``label_id``
(int64), ``label`` (the class name) and ``known_tokens`` (int32: how many of
the tokens the model reads are in its vocabulary; 0 for a text it reads as
empty, such as one in another language). It needs only TensorFlow to load:
``tf.saved_model.load(path).signatures["serving_default"](texts=...)``.

A multi-label classifier's (``thresholds`` given) returns instead, every
output with the batch first, so TensorFlow Serving's row format works too:

* ``probabilities`` (batch, num_labels) float32: each label's sigmoid;
* ``predicted`` (batch, num_labels) bool: ``probabilities >= thresholds``;
* ``labels`` (batch, num_labels) string: the predicted labels' names, most
  probable first, then ``""`` padding (``labels[i, :num_labels[i]]``);
* ``num_labels`` (batch,) int32: how many labels each text got;
* ``known_tokens`` (batch,) int32: as above.

Its ``label_names`` signature (no inputs) returns ``label_names`` and
``thresholds``, the columns of ``probabilities`` and ``predicted``.

The export is written to a temporary directory beside the target and swapped
into place (:func:`zoo.files.atomic_directory`), so a crash leaves the old or
the new export whole, never a half-written one; it gets the umask's
permissions like any other output. An existing export is replaced only with
``overwrite=True``, and only if zoo wrote it (its ``.zoo`` marker): any other
folder at ``path`` is refused.

Loading an export runs its graph: a SavedModel is a TensorFlow program, so
load (or ``zoo predict``) only exports you trust, as TensorFlow's own
security guide says of any model.
"""

import os

import keras

from zoo.backend import require_tensorflow

require_tensorflow("zoo.serving.export (the TensorFlow SavedModel)")

import tensorflow as tf

from zoo.errors import ExportError
from zoo.files import atomic_directory, check_replaceable, is_empty_folder
from zoo.models.text_model import known_tokens


def check_export_target(path, overwrite=False):
    """Raises ExportError if ``path`` exists and may not be replaced: without ``overwrite``, or when it is not an
    export zoo wrote (:func:`zoo.files.check_replaceable`). An empty folder is used as a new one."""
    check_replaceable(path, ("export",))  # first: a file, a link or a foreign folder is named as what it is
    if os.path.lexists(path) and not is_empty_folder(path) and not overwrite:
        raise ExportError(f"{path}: an export already exists (pass `overwrite` to replace it)")


def export_text_classifier(serving, class_names, path, overwrite=False, thresholds=None):
    """Writes the raw-text SavedModel of ``serving`` to ``path``: the fitted classifier's one raw-text Keras model
    (:func:`zoo.models.text_model.text_model`; the SavedModel serves its ``"model"`` output).

    ``thresholds`` (one per class): a multi-label classifier's export (see the module docstring).

    Example:

        export_text_classifier(text_model(model, vectorizer, 256), ["ham", "spam"], "run/export")
    """
    check_export_target(path, overwrite)
    names = tf.constant([str(c) for c in class_names])

    archive = keras.export.ExportArchive()
    archive.track(serving)

    # (autograph=False: no Python control flow to convert; AutoGraph sometimes matched the other `serve` below by
    # its source and warned "could not transform ... closure mismatch")
    @tf.function(autograph=False, input_signature=[tf.TensorSpec([None], tf.string, name="texts")])
    def serve(texts):
        probabilities = tf.cast(serving(texts)["model"], tf.float32)
        label_id = tf.argmax(probabilities, axis=-1)
        return {"probabilities": probabilities, "label_id": label_id, "label": tf.gather(names, label_id),
                "known_tokens": known_tokens(serving.get_layer("text_to_ids")(texts))}

    if thresholds is not None:
        _add_multi_label_endpoints(archive, serving, names, thresholds)
    else:
        archive.add_endpoint("serve", serve)
    with atomic_directory(path, overwrite=overwrite or is_empty_folder(path), kind="export") as tmp:
        archive.write_out(tmp, verbose=False)


def _add_multi_label_endpoints(archive, serving, names, thresholds):
    """``serve`` (texts -> probabilities, predicted, labels, num_labels) and ``label_names``."""
    if len(thresholds) != int(names.shape[0]):
        raise ExportError(f"thresholds: expected one per label ({int(names.shape[0])}), got {len(thresholds)}")
    cut = tf.constant([float(t) for t in thresholds], tf.float32)

    @tf.function(autograph=False, input_signature=[tf.TensorSpec([None], tf.string, name="texts")])
    def serve(texts):
        probabilities = tf.cast(serving(texts)["model"], tf.float32)
        predicted = probabilities >= cut
        order = tf.argsort(tf.where(predicted, probabilities, -1.0), axis=-1, direction="DESCENDING", stable=True)
        kept = tf.gather(predicted, order, batch_dims=1)
        labels = tf.where(kept, tf.gather(names, order), tf.constant(""))
        return {"probabilities": probabilities, "predicted": predicted, "labels": labels,
                "num_labels": tf.reduce_sum(tf.cast(predicted, tf.int32), axis=-1),
                "known_tokens": known_tokens(serving.get_layer("text_to_ids")(texts))}

    @tf.function(autograph=False, input_signature=[])
    def label_names():
        return {"label_names": tf.identity(names), "thresholds": tf.identity(cut)}

    archive.add_endpoint("serve", serve)
    archive.add_endpoint("label_names", label_names)
