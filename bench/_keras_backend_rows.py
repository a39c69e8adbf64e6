"""The JAX and PyTorch rows of ``bench/train_throughput.py --paths``, run in their own process.

``train_throughput.py`` writes zoo's own batches (its bucketed ``tf.data``
pipeline, one pass per epoch) to an ``.npz``, as for the PyTorch peer, and
starts this script with Keras' backend set (``KERAS_BACKEND``) in an
interpreter that has it (``.venv-backends``, which ``.ci/run`` makes; no
TensorFlow there). It trains the same zoo BiLSTM (``zoo.build_bilstm``, the
settings of ``train_throughput.build``) with every recurrent layer on the
path asked for (``use_lengths``: the lengths path or Keras' masked loop,
:mod:`zoo.layers.right_padded`) and times each epoch.

Not meant to be run by hand: ``python bench/_keras_backend_rows.py DATA.npz RESULT.json``.
"""

import json
import sys
import time

import keras
import numpy as np

import zoo
from zoo.training.optimizers import compile_model


def batches(data, prefix):
    out, i = [], 0
    while f"{prefix}_{i}_x" in data:
        out.append((data[f"{prefix}_{i}_x"].astype("int32"), data[f"{prefix}_{i}_y"].astype("int32")))
        i += 1
    return out


def main(data_path, result_path):
    data = dict(np.load(data_path))
    meta = json.loads(str(data.pop("meta")))
    keras.utils.set_random_seed(meta["seed"])
    model = zoo.build_bilstm(meta["vocab_size"], meta["num_classes"], embedding_dim=meta["embedding_dim"],
                             units=meta["units"], pooling="max", compile=False, dropout=0.0, spatial_dropout=0.0)
    bidirectional = model.get_layer("encoder_1")
    for layer in (bidirectional.forward_layer, bidirectional.backward_layer):
        layer.use_lengths = meta["use_lengths"]
    compile_model(model, learning_rate=meta["learning_rate"])
    seconds = []
    for epoch in range(meta["epochs"]):
        start = time.perf_counter()
        for x, y in batches(data, f"train{epoch}"):
            model.train_on_batch(x, y)
        seconds.append(time.perf_counter() - start)
    correct = total = 0
    for x, y in batches(data, "valid"):
        correct += int((np.argmax(keras.ops.convert_to_numpy(model.predict_on_batch(x)), -1) == y).sum())
        total += len(y)
    result = {"epoch_seconds": seconds, "valid_accuracy": correct / max(total, 1), "backend": keras.backend.backend(),
              "keras": keras.__version__}
    with open(result_path, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
