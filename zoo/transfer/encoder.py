"""Weight transfer between zoo models by layer name: language model to classifier, and vocabulary remapping.

A language model's ``embedding`` and ``encoder_1..N`` have the shapes of a
``build_stacked_lstm`` classifier's layers of the same names (the layer-name
contract of :mod:`zoo.models.factories`), so ULMFiT's transfer is a copy by
name; a new vocabulary keeps the rows of the words both know.

Example:

>>> from zoo import build_lstm_lm, build_stacked_lstm
>>> lm = build_lstm_lm(100, embedding_dim=8, num_layers=2)
>>> clf = build_stacked_lstm(100, 3, embedding_dim=8, units=8, num_layers=2)
>>> transfer_encoder(lm, clf)
['embedding', 'encoder_1', 'encoder_2']
"""

import numpy as np
from keras import ops

from zoo.models.language_model import build_lstm_lm
from zoo.models.ulmfit_classifier import encoder_layer_names


def transfer_encoder(source, target):
    """Copies ``embedding`` and ``encoder_*`` weights from ``source`` to ``target`` by name.

    Works between language models and classifiers in any direction: only
    the embedding matrix moves between embeddings (a classifier's embedding
    has no output bias).

    Returns:
        The names of the layers copied.

    Raises:
        ValueError: a layer of ``target`` is missing from ``source`` or its
            weights have other shapes.
    """
    copied = []
    source_names = set(encoder_layer_names(source))
    for name in encoder_layer_names(target):
        if name not in source_names:
            raise ValueError(f"source model has no layer {name!r} (it has {', '.join(sorted(source_names))})")
        src, dst = source.get_layer(name), target.get_layer(name)
        if name == "embedding":
            pairs = [(src.embeddings, dst.embeddings)]
        else:
            pairs = list(zip(src.weights, dst.weights))
            if len(src.weights) != len(dst.weights):
                raise ValueError(f"{name}: source has {len(src.weights)} weights, target {len(dst.weights)}")
        for s, d in pairs:
            if tuple(s.shape) != tuple(d.shape):
                raise ValueError(f"{name}: weight {d.name} has shape {tuple(d.shape)} in the target "
                                 f"but {tuple(s.shape)} in the source")
            d.assign(ops.convert_to_numpy(s))
        copied.append(name)
    return copied


def remap_vocabulary(lm, old_vocab, new_vocab, **overrides):
    """A copy of ``lm`` for a new vocabulary (ULMFiT's step before LM fine-tuning).

    Rows of words in both vocabularies are copied; new words start at the
    mean embedding and mean output bias, as fastai does. Encoders are copied
    unchanged.

    Returns:
        ``(new_lm, hits)``: the model and how many words of ``new_vocab``
        were found in ``old_vocab``.
    """
    cfg = {**lm.lm_config, **overrides}
    cfg.pop("vocab_size")
    new = build_lstm_lm(len(new_vocab), **cfg)
    index = {w: i for i, w in enumerate(old_vocab)}
    old_emb = lm.get_layer("embedding")
    matrix = ops.convert_to_numpy(old_emb.embeddings)
    bias = ops.convert_to_numpy(old_emb.output_bias)
    rows = np.array([index.get(w, -1) for w in new_vocab])
    found = rows >= 0
    new_matrix = np.tile(matrix[2:].mean(0), (len(new_vocab), 1))
    new_bias = np.full(len(new_vocab), bias[2:].mean(), dtype=bias.dtype)
    new_matrix[found] = matrix[rows[found]]
    new_bias[found] = bias[rows[found]]
    emb = new.get_layer("embedding")
    emb.embeddings.assign(new_matrix.astype("float32"))
    emb.output_bias.assign(new_bias.astype("float32"))
    if not cfg["tie_weights"]:
        kernel = ops.convert_to_numpy(old_emb.output_kernel)
        new_kernel = np.tile(kernel[2:].mean(0), (len(new_vocab), 1))
        new_kernel[found] = kernel[rows[found]]
        emb.output_kernel.assign(new_kernel.astype("float32"))
    for name in encoder_layer_names(lm)[1:]:
        new.get_layer(name).set_weights(lm.get_layer(name).get_weights())
    return new, int(found[2:].sum())
