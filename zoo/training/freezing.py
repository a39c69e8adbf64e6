"""Freezing by layer group, fastai style, for the zoo's named layers.

A zoo model's layers fall into groups, bottom to top:

* ``embedding``: ``embedding`` and ``embedding_dropout``;
* ``encoder_1`` ... ``encoder_N``: each recurrent layer with its norm,
  dropout and residual layers;
* ``head``: everything above the encoders (self-attention, pooling, head).

``freeze``/``unfreeze`` take group names or layer names; ``freeze_to(model,
n)`` freezes the first ``n`` groups and unfreezes the rest, as fastai's
``Learner.freeze_to`` does. Recompile after changing what is trainable.
"""

import re

_ENCODER = re.compile(r"^(encoder_\d+)(?:_.*)?$")


def _weighted_layers(model):
    return [layer for layer in model.layers if layer.__class__.__name__ != "InputLayer"]


def layer_groups(model):
    """Returns the model's layer groups, bottom to top.

    Returns:
        A list of ``(group_name, [layer_name, ...])`` pairs.

    Example:

    >>> from zoo import build_stacked_lstm
    >>> [g for g, _ in layer_groups(build_stacked_lstm(100, 2, units=4))]
    ['embedding', 'encoder_1', 'encoder_2', 'head']
    """
    groups = {"embedding": []}
    for layer in _weighted_layers(model):
        match = _ENCODER.match(layer.name)
        if layer.name.startswith("embedding"):
            groups["embedding"].append(layer.name)
        elif match:
            groups.setdefault(match.group(1), []).append(layer.name)
        else:
            groups.setdefault("head", []).append(layer.name)
    encoders = sorted((g for g in groups if g.startswith("encoder_")), key=lambda g: int(g.split("_")[1]))
    order = ["embedding", *encoders, "head"]
    return [(g, groups[g]) for g in order if groups.get(g)]


def _resolve(model, names):
    groups = dict(layer_groups(model))
    layers = {layer.name for layer in _weighted_layers(model)}
    resolved = []
    for name in names:
        if name in groups:
            resolved.extend(groups[name])
        elif name in layers:
            resolved.append(name)
        else:
            raise ValueError(
                f"Unknown layer or group {name!r}. Groups: {', '.join(groups)}; "
                f"layers: {', '.join(sorted(layers))}"
            )
    return resolved


def _set_trainable(model, names, trainable):
    for name in _resolve(model, names):
        model.get_layer(name).trainable = trainable
    return model


def freeze(model, *names):
    """Freezes layers or groups by name; with no names, all but the head group.

    Example:

    >>> from zoo import build_lstm
    >>> model = freeze(build_lstm(100, 2, units=4), "embedding")
    >>> model.get_layer("embedding").trainable
    False
    """
    if not names:
        names = [g for g, _ in layer_groups(model)[:-1]]
    return _set_trainable(model, names, False)


def unfreeze(model, *names):
    """Unfreezes layers or groups by name; with no names, every layer."""
    if not names:
        names = [g for g, _ in layer_groups(model)]
    return _set_trainable(model, names, True)


def freeze_to(model, n):
    """Freezes the first ``n`` groups and unfreezes the others (``n`` may be negative).

    ``freeze_to(model, -1)`` trains only the head; ``freeze_to(model, 0)``
    trains everything.
    """
    groups = [g for g, _ in layer_groups(model)]
    if not isinstance(n, int) or not -len(groups) <= n <= len(groups):
        raise ValueError(f"`n` must be an integer in [-{len(groups)}, {len(groups)}] for groups {groups}, got {n!r}")
    unfreeze(model)
    frozen = groups[:n]
    return freeze(model, *frozen) if frozen else model


def trainable_groups(model):
    """Names of the groups that have at least one trainable layer."""
    return [g for g, layers in layer_groups(model) if any(model.get_layer(n).trainable for n in layers)]
