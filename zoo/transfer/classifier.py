"""Starting from a classifier zoo trained on another task (``init="model:RUN_DIR"``).

The new classifier has the source's architecture and starts from its weights:
the embedding is remapped to the new task's vocabulary the way the
language-model path remaps it (:func:`zoo.transfer.encoder.remap_vocabulary`:
rows of words both vocabularies know are copied, new words start at the mean
row), every other layer is copied by name, and only the ``head`` (the new
labels) starts fresh. The word-vector path's staging follows: the new head
alone first (``frozen_epochs``, default 1), then everything.

Example:

>>> import numpy as np
>>> from zoo import build_bilstm
>>> source = build_bilstm(5, 3, units=4, embedding_dim=4)
>>> target = build_bilstm(4, 2, units=4, embedding_dim=4)
>>> copied, hits = transfer_classifier(source, ["", "[UNK]", "cat", "dog", "fish"], target, ["", "[UNK]", "dog", "emu"])
>>> copied[:2], hits
(['embedding', 'encoder_1'], 1)
"""

import numpy as np
from keras import ops

# The settings that make the source's architecture; the new classifier takes them from the source.
ARCHITECTURE = ("model", "units", "num_layers", "cell", "pooling")


def remapped_embedding(matrix, old_vocab, new_vocab):
    """``matrix``'s rows for ``new_vocab``: known words keep theirs, new words get the mean of the word rows.

    Returns:
        ``(new_matrix, hits)``: the rows and how many words (padding and OOV aside) were known.
    """
    index = {w: i for i, w in enumerate(old_vocab)}
    rows = np.array([index.get(w, -1) for w in new_vocab])
    found = rows >= 0
    new = np.tile(matrix[2:].mean(0), (len(new_vocab), 1)).astype(matrix.dtype)
    new[found] = matrix[rows[found]]
    return new, int(found[2:].sum())


def transfer_classifier(source, source_vocab, target, target_vocab):
    """Copies ``source``'s weights into ``target`` by layer name, the embedding remapped, the ``head`` left new.

    Args:
        source, target: zoo classifiers of the same architecture (names and shapes of every layer but the head).
        source_vocab, target_vocab: their vocabularies (token lists, id order).

    Returns:
        ``(copied, hits)``: the names of the layers copied, and how many of the target's words the source knew.

    Raises:
        ValueError: a layer of ``target`` is missing from ``source`` or its weights have other shapes.
    """
    matrix = ops.convert_to_numpy(source.get_layer("embedding").embeddings)
    new_matrix, hits = remapped_embedding(matrix, list(source_vocab), list(target_vocab))
    target.get_layer("embedding").embeddings.assign(new_matrix)
    copied = ["embedding"]
    source_layers = {layer.name: layer for layer in source.layers}
    for layer in target.layers:
        if layer.name in ("embedding", "head") or not layer.weights:
            continue
        if layer.name not in source_layers:
            raise ValueError(f"the source classifier has no layer {layer.name!r}")
        weights = source_layers[layer.name].get_weights()
        shapes = [tuple(w.shape) for w in weights], [tuple(w.shape) for w in layer.get_weights()]
        if shapes[0] != shapes[1]:
            raise ValueError(f"{layer.name}: weights of shapes {shapes[1]} here but {shapes[0]} in the source")
        layer.set_weights(weights)
        copied.append(layer.name)
    return copied, hits
