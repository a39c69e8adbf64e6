"""The PyTorch peer row of ``bench/train_throughput.py``, run in its own process.

``train_throughput.py`` writes zoo's own batches (its bucketed ``tf.data``
pipeline, one pass per epoch, so the same shuffles, lengths and padding) to an
``.npz`` and starts this script with ``sys.executable``; only torch and numpy
are imported here, so TensorFlow's and torch's thread pools never share a
process. The model is the BiLSTM that ``train_throughput.build`` makes, in
plain PyTorch: ``nn.Embedding``, a bidirectional ``nn.LSTM`` over a packed
batch (``pack_padded_sequence``: padding is skipped, as zoo's mask does), masked
max pooling over time, ``nn.Linear``, cross-entropy; Adam at the same rate
(Keras' epsilon 1e-7), weights initialised as Keras does (uniform embedding,
Glorot kernels, orthogonal recurrent kernels, forget-gate bias 1).

Not meant to be run by hand: ``python bench/_torch_peer.py DATA.npz RESULT.json``.
"""

import json
import sys
import time

import numpy as np
import torch
from torch import nn


class BiLSTM(nn.Module):
    def __init__(self, vocab_size, num_classes, embedding_dim, units):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, units, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * units, num_classes)
        self._keras_init(units)

    def _keras_init(self, units):
        """Keras' initialisers: uniform(-0.05, 0.05) embedding, glorot_uniform kernels, orthogonal
        recurrent kernels, zero biases but 1 on the forget gate (unit_forget_bias)."""
        nn.init.uniform_(self.embedding.weight, -0.05, 0.05)
        for name, p in self.lstm.named_parameters():
            if name.startswith("weight_ih"):
                nn.init.xavier_uniform_(p)
            elif name.startswith("weight_hh"):
                nn.init.orthogonal_(p)  # Keras' (units, 4*units) orthogonal kernel, transposed
            elif name.startswith("bias_ih"):
                nn.init.zeros_(p)
                p.data[units:2 * units] = 1.0  # gate order i, f, g, o (the same in Keras)
            else:  # bias_hh: torch has two biases, Keras one
                nn.init.zeros_(p)
        nn.init.xavier_uniform_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, ids, lengths):
        x = self.embedding(ids)
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=ids.shape[1])
        mask = torch.arange(ids.shape[1]).unsqueeze(0) < lengths.unsqueeze(1)
        return self.head(out.masked_fill(~mask.unsqueeze(-1), float("-inf")).amax(dim=1))


def batches(data, prefix):
    """[(ids, labels, lengths)] in order; lengths >= 1 (pack_padded_sequence refuses 0)."""
    out, i = [], 0
    while f"{prefix}_{i}_x" in data:
        x = torch.from_numpy(data[f"{prefix}_{i}_x"].astype("int64"))
        y = torch.from_numpy(data[f"{prefix}_{i}_y"].astype("int64"))
        # Texts are right-padded with 0 and never contain 0: the length is the count of non-zero ids. An
        # empty text (one padding id) runs one step; in zoo it is fully masked.
        lengths = (x != 0).sum(1).clamp(min=1)
        out.append((x, y, lengths))
        i += 1
    return out


def main(data_path, result_path):
    data = dict(np.load(data_path))
    meta = json.loads(str(data.pop("meta")))
    torch.set_num_threads(meta["threads"])
    torch.manual_seed(meta["seed"])
    model = BiLSTM(meta["vocab_size"], meta["num_classes"], meta["embedding_dim"], meta["units"])
    optimizer = torch.optim.Adam(model.parameters(), lr=meta["learning_rate"], eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    epoch_batches = [batches(data, f"train{e}") for e in range(meta["epochs"])]  # tensors made once, as a cache
    seconds = []
    for epoch in epoch_batches:
        model.train()
        start = time.perf_counter()
        for x, y, lengths in epoch:
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(x, lengths), y)
            loss.backward()
            optimizer.step()
        seconds.append(time.perf_counter() - start)
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for x, y, lengths in batches(data, "valid"):
            correct += int((model(x, lengths).argmax(-1) == y).sum())
            total += len(y)
    result = {"epoch_seconds": seconds, "valid_accuracy": correct / max(total, 1), "torch": torch.__version__,
              "threads": torch.get_num_threads(), "interop_threads": torch.get_num_interop_threads()}
    with open(result_path, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
