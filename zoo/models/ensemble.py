"""``build_ensemble``: several trained classifiers as one model that averages their probabilities."""

import keras
import numpy as np


def build_ensemble(members, name="ensemble"):
    """One functional model that averages the probabilities of several trained classifiers.

    Each member is wrapped as ``member_1`` ... ``member_K`` (its layers, and so
    its weights, are shared, not copied) and a ``keras.layers.Average`` named
    ``average`` combines their outputs. The result saves, reloads and exports
    like any single classifier. Averaging probabilities is ULMFiT's own
    ensembling (its forward and backward models); here it also pays for the
    variance of a classifier fine-tuned on a few hundred labels.

    Args:
        members: two or more models with the same input and output shapes.
        name: the ensemble model's name.

    Returns:
        A functional ``keras.Model`` (not compiled).

    Raises:
        ValueError: fewer than two members, or members whose shapes differ.

    Example:

    >>> from zoo import build_lstm
    >>> a, b = build_lstm(100, 3, units=4), build_lstm(100, 3, units=4)
    >>> ensemble = build_ensemble([a, b])
    >>> ids = np.array([[5, 9, 2, 0]])
    >>> bool(np.allclose(ensemble.predict(ids, verbose=0), (a.predict(ids, verbose=0) + b.predict(ids, verbose=0)) / 2))
    True
    """
    members = list(members)
    if len(members) < 2:
        raise ValueError(f"an ensemble needs at least 2 members, got {len(members)}")
    first = members[0]
    for k, member in enumerate(members[1:], start=2):
        if member.input_shape != first.input_shape or member.output_shape != first.output_shape:
            raise ValueError(f"member {k} maps {member.input_shape} to {member.output_shape}, "
                             f"member 1 maps {first.input_shape} to {first.output_shape}: they must match")
    token_ids = keras.Input(shape=first.input_shape[1:], dtype=first.inputs[0].dtype, name="token_ids")
    # Re-wrapped so that every member has its own stable name inside the ensemble.
    outputs = [keras.Model(m.input, m.output, name=f"member_{k}")(token_ids) for k, m in enumerate(members, 1)]
    return keras.Model(token_ids, keras.layers.Average(name="average")(outputs), name=name)


def ensemble_members(model):
    """The members of a :func:`build_ensemble` model (``member_1`` ... in order), else ``[model]``."""
    members = [layer for layer in model.layers if layer.name.startswith("member_") and isinstance(layer, keras.Model)]
    return sorted(members, key=lambda m: int(m.name.split("_")[1])) or [model]


def average_probabilities(member_probabilities):
    """The mean of the members' probability arrays, as the ensemble's ``average`` layer computes it (one member:
    its own array)."""
    return member_probabilities[0] if len(member_probabilities) == 1 else np.mean(member_probabilities, axis=0)
