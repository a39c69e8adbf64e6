"""Which recurrent layers of a model can take the cuDNN fast path on GPU.

Keras 3 (TensorFlow backend) runs an LSTM or GRU through cuDNN only when its
arguments allow it, and silently falls back to the much slower generic loop
otherwise. This module says, per layer, whether the fast path is possible and
why not. Conditions, from ``keras.src.backend.tensorflow.rnn``:
``activation="tanh"``, ``recurrent_activation="sigmoid"``,
``recurrent_dropout=0``, ``unroll=False``, ``use_bias=True``, GRU
``reset_after=True``, ``use_cudnn`` not False. At run time cuDNN also needs
right-padded masks (Keras raises an error on a left-padded mask rather than
falling back), which zoo's pipelines produce.

Other cells (``cell="peephole"`` or ``"cifg"``, :mod:`zoo.layers.cells`)
always run the generic loop.

The JAX and PyTorch backends (``keras.src.backend.{jax,torch}.rnn``) have the
same activation, bias and unroll conditions, and one more: they take **no
mask**. A plain Keras LSTM that receives one (zoo's default ``mask_zero=True``)
runs Keras' generic per-timestep loop there, on GPU too. zoo's factories build
:class:`zoo.layers.RightPaddedLSTM` and ``RightPaddedGRU``, which run masked
right-padded batches through the unmasked kernel on each text's length
(exact; :mod:`zoo.layers.right_padded`), so cuDNN runs on every backend.
"""

import keras

from zoo.backend import gpu_visible
from zoo.layers.right_padded import GPU_DEFAULT, RightPaddedGRU, RightPaddedLSTM

_CUDNN_LAYERS = (keras.layers.LSTM, keras.layers.GRU)


def _reasons(layer, backend, masked):
    cell = layer.cell
    if not isinstance(layer, _CUDNN_LAYERS):  # keras.layers.RNN over another cell (zoo.layers.cells)
        return [f"{type(cell).__name__} is not cuDNN's LSTM or GRU (cuDNN has no peephole or coupled gates); "
                "Keras' generic loop runs"]
    reasons = []
    activation = keras.activations.serialize(cell.activation)
    recurrent_activation = keras.activations.serialize(cell.recurrent_activation)
    if activation != "tanh":
        reasons.append(f"activation={activation!r} (needs 'tanh')")
    if recurrent_activation != "sigmoid":
        reasons.append(f"recurrent_activation={recurrent_activation!r} (needs 'sigmoid')")
    if cell.recurrent_dropout:
        reasons.append(f"recurrent_dropout={cell.recurrent_dropout} (needs 0)")
    if layer.unroll:
        reasons.append("unroll=True (needs False)")
    if not cell.use_bias:
        reasons.append("use_bias=False (needs True)")
    if isinstance(layer, keras.layers.GRU) and not cell.reset_after:
        reasons.append("reset_after=False (needs True)")
    if getattr(layer, "use_cudnn", "auto") is False:
        reasons.append("use_cudnn=False")
    if masked and backend != "tensorflow" and not _lengths_path(layer, backend):
        reasons.append(f"a masked input (mask_zero=True) on the {backend} backend (its cuDNN path takes no mask; "
                       "zoo.layers.RightPaddedLSTM/GRU would run it on lengths)")
    return reasons


def _lengths_path(layer, backend):
    """Whether ``layer`` runs masked batches through the unmasked kernel on lengths on ``backend``'s GPU."""
    if not isinstance(layer, (RightPaddedLSTM, RightPaddedGRU)) or layer.use_lengths is False:
        return False
    if layer.stateful or not layer.return_sequences:
        return False
    return layer.use_lengths is True or GPU_DEFAULT.get(backend, False)


def _path(layer, backend, masked, eligible):
    """What runs ``layer`` on ``backend`` with a GPU, in words."""
    if not eligible:
        return "generic loop" + (", masked" if masked else "")
    if not masked:
        return "cuDNN"
    if _lengths_path(layer, backend):
        return "cuDNN on lengths (unmasked kernel, exact: zoo.layers.right_padded)"
    return "cuDNN with the right-padded mask (Keras' TensorFlow backend)"


def _masked(model):
    """Whether the model's inputs carry a mask: an embedding with ``mask_zero``."""
    return any(isinstance(layer, keras.layers.Embedding) and layer.mask_zero
               or isinstance(layer, keras.Model) and _masked(layer) for layer in model.layers)


def _recurrent_layers(model):
    for layer in model.layers:
        if isinstance(layer, keras.layers.Bidirectional):
            yield layer.name, layer.forward_layer
            yield layer.name, layer.backward_layer
        elif isinstance(layer, keras.layers.RNN):
            yield layer.name, layer
        elif isinstance(layer, keras.Model):
            yield from _recurrent_layers(layer)


def cudnn_report(model, backend=None):
    """Reports cuDNN eligibility, and the path that runs, for every recurrent layer of ``model``.

    Args:
        model: a Keras model (nested models and ``Bidirectional`` wrappers are
            searched).
        backend: whose conditions apply: ``"tensorflow"``, ``"jax"`` or
            ``"torch"`` (default: Keras' backend in this process), so one
            process can say what each backend would run.

    Returns:
        A list of dicts, one per LSTM/GRU (two per bidirectional layer), with
        ``layer`` (the model-level name), ``sublayer``, ``eligible`` (bool),
        ``reasons`` (why not, empty when eligible), ``backend`` (Keras'
        backend, whose conditions apply), ``path`` (what runs the layer on
        that backend with a GPU: cuDNN, cuDNN with the mask, cuDNN on
        lengths, or the generic loop) and ``gpu`` (whether this process's
        backend sees a GPU, so the fast path will actually run).

    Example:

    >>> from zoo import build_lstm
    >>> [r["eligible"] for r in cudnn_report(build_lstm(100, 2, units=4))]
    [True]
    >>> cudnn_report(build_lstm(100, 2, units=4, recurrent_dropout=0.1))[0]["reasons"]
    ['recurrent_dropout=0.1 (needs 0)']
    >>> cudnn_report(build_lstm(100, 2, units=4), backend="torch")[0]["path"]
    'cuDNN on lengths (unmasked kernel, exact: zoo.layers.right_padded)'
    """
    backend = backend or keras.backend.backend()
    gpu, masked = backend == keras.backend.backend() and gpu_visible(backend), _masked(model)
    report = []
    for name, layer in _recurrent_layers(model):
        reasons = _reasons(layer, backend, masked)
        report.append({"layer": name, "sublayer": layer.name, "eligible": not reasons, "reasons": reasons,
                       "backend": backend, "path": _path(layer, backend, masked, not reasons), "gpu": gpu})
    return report


def format_cudnn_report(report):
    """One human-readable line per recurrent layer."""
    lines = []
    for row in report:
        where = row["layer"] if row["layer"] == row["sublayer"] else f"{row['layer']}/{row['sublayer']}"
        if row["eligible"]:
            status = f"cuDNN eligible: {row['path']}" + ("" if row["gpu"] else " (no GPU visible: generic kernel runs)")
        else:
            status = "NOT cuDNN eligible: " + "; ".join(row["reasons"])
        lines.append(f"{where}: {status}")
    return "\n".join(lines)
