"""Training throughput: zoo's bucketed pipeline vs a fixed-length keras-io style reference.

Both train the same BiLSTM (``zoo.build_bilstm``) on the same real 20 Newsgroups
examples, epochs and seed:

* **zoo**: ``make_vectorizer`` on train, ``vectorize`` cut at the p90 train
  length, ``make_dataset(bucket=True)`` (cached, shuffled, length-bucketed,
  prefetched) and ``mask_zero=True``.
* **reference**, written like keras-io's ``bidirectional_lstm_imdb``: every
  text padded/cut to the same length L (``keras.utils.pad_sequences(maxlen=L,
  padding="post")``) and ``model.fit(x, y, batch_size=32)`` on numpy arrays.

Throughput is timed over epochs 2..N: epoch 1 also pays for tf.function
tracing (once per new batch shape) and for filling the tf.data cache, so it
is reported separately. Extra rows try variants (other bucket counts, no
masking, no bucketing, XLA); library code is not changed.

* **PyTorch nn.LSTM (peer)**, when torch is importable
  (``pip install -r bench/requirements-peer.txt``): the same BiLSTM in plain
  PyTorch (``bench/_torch_peer.py``) trained on zoo's own batches (each epoch's
  pass over the bucketed ``tf.data`` pipeline, written to a file), in a
  subprocess with ``torch.set_num_threads`` = the usable cores, TensorFlow's
  default; without torch the row is skipped with one line saying why.

* **Recurrent paths** (``--paths``): zoo's BiLSTM with every recurrent layer
  on Keras' masked loop or on zoo's lengths path (the unmasked kernel on each
  text's length, :mod:`zoo.layers.right_padded`), on TensorFlow here and on
  JAX and PyTorch in a subprocess (``bench/_keras_backend_rows.py``, in
  ``.venv-backends`` or ``--backends-python``) on zoo's own batches, for
  ``--seeds`` seeds (3 by default). The summary gives lengths / masked per
  backend and seed; ``zoo.layers.right_padded.CPU_DEFAULT`` follows it.

Run from the repo root: ``python bench/train_throughput.py [--quick]``, or
``python bench/train_throughput.py --paths`` for the recurrent paths.
"""

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings

import _common  # noqa: E402

_common.setup()  # sets TF_CPP_MIN_LOG_LEVEL before TensorFlow is imported
# Keras warns that fit(shuffle=True) is ignored for a tf.data input and that a
# finite dataset "ran out of data"; both are expected here.
warnings.filterwarnings("ignore", category=UserWarning, module="keras")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import zoo  # noqa: E402
from zoo.data import load_dataset  # noqa: E402
from zoo.data.text import make_dataset, make_vectorizer, resolve_sequence_length, vectorize  # noqa: E402
from zoo.training.optimizers import compile_model  # noqa: E402

PEER = "PyTorch nn.LSTM (peer)"
PEER_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_torch_peer.py")
BACKEND_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_keras_backend_rows.py")
BACKENDS_PYTHON = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".venv-backends", "bin",
                               "python")
# name -> how the run differs from the default zoo / reference setting.
VARIANTS = {
    "zoo": dict(kind="zoo"),
    "reference": dict(kind="reference"),
    "zoo, mask_zero=False": dict(kind="zoo", mask_zero=False),
    "zoo, 4 buckets": dict(kind="zoo", num_buckets=4),
    "zoo, 8 buckets": dict(kind="zoo", num_buckets=8),
    "zoo, no bucketing (pad per batch)": dict(kind="zoo", bucket=False),
    "reference, jit_compile=True": dict(kind="reference", jit=True),
    "reference, mask_zero=False (keras-io literal)": dict(kind="reference", mask_zero=False),
    PEER: dict(kind="torch"),
    # --paths: the recurrent layers' two paths on each backend (zoo.layers.right_padded).
    "tensorflow, masked loop": dict(kind="zoo", use_lengths=False),
    "tensorflow, lengths path": dict(kind="zoo", use_lengths=True),
    "jax, masked loop": dict(kind="keras", backend="jax", use_lengths=False),
    "jax, lengths path": dict(kind="keras", backend="jax", use_lengths=True),
    "torch, masked loop": dict(kind="keras", backend="torch", use_lengths=False),
    "torch, lengths path": dict(kind="keras", backend="torch", use_lengths=True),
}
PATH_VARIANTS = [name for name in VARIANTS if name.endswith(("masked loop", "lengths path"))]
# The default run keeps within ~6 minutes on 2 shared cores (plus the peer row); the others are
# available with --variants (or --variants all).
DEFAULT_VARIANTS = ["zoo", "reference", "zoo, 8 buckets", PEER]
QUICK_VARIANTS = ["zoo", "reference", "zoo, mask_zero=False", PEER]


class EpochTimer(keras.callbacks.Callback):
    """Wall time of every training epoch (fit is called without validation data)."""

    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--train-examples", type=int, default=2000)
    p.add_argument("--valid-examples", type=int, default=500)
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--units", type=int, default=64)
    p.add_argument("--embedding-dim", type=int, default=64)
    p.add_argument("--max-tokens", type=int, default=20000)
    p.add_argument("--sequence-length", default="p90", help="cap L: an int or a train-length percentile")
    p.add_argument("--learning-rate", type=float, default=4e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--paths", action="store_true",
                   help="the recurrent paths (masked loop, lengths path) on TensorFlow, JAX and PyTorch")
    p.add_argument("--seeds", type=int, default=None, help="seeds per row (default: 3 with --paths, else 1)")
    p.add_argument("--backends-python", default=BACKENDS_PYTHON,
                   help="the interpreter with Keras on JAX and PyTorch for --paths (default: .venv-backends)")
    p.add_argument("--variants", nargs="*", default=None,
                   help=f"rows to run, or 'all' (default: {DEFAULT_VARIANTS}). Choices: {'; '.join(VARIANTS)}")
    _common.add_output_args(p)
    args = p.parse_args(argv)
    if args.quick:
        args.train_examples, args.valid_examples, args.epochs = 200, 100, 2
        args.units, args.embedding_dim, args.max_tokens = 16, 16, 5000
        args.sequence_length = "p50"  # short, to keep the smoke test fast
    return args


def prepare_data(args):
    """Loads the texts, adapts the vectorizer on train and cuts everything at L."""
    data = load_dataset("20newsgroups", validation_split=0.1, seed=args.seed,
                        max_train_examples=args.train_examples)
    vectorizer = make_vectorizer(data.train_texts, max_tokens=args.max_tokens)
    full = vectorize(vectorizer, data.train_texts)
    length = resolve_sequence_length(args.sequence_length, full.lengths)
    train = vectorize(vectorizer, data.train_texts, length)
    valid_texts = data.valid_texts[: args.valid_examples]
    valid = vectorize(vectorizer, valid_texts, length)
    return {
        "train_ids": train.ids, "train_labels": np.asarray(data.train_labels),
        "valid_ids": valid.ids, "valid_labels": np.asarray(data.valid_labels[: args.valid_examples]),
        "vocab_size": len(vectorizer.get_vocabulary()), "num_classes": len(data.class_names),
        "sequence_length": length, "truncated": train.truncated, "source": data.source,
        "median_length": float(np.median(full.lengths)),
    }


def real_tokens(ids):
    """Non-padding tokens (id != 0) in a list of id arrays."""
    return int(sum(int(np.count_nonzero(x)) for x in ids))


def build(d, args, mask_zero, jit, use_lengths="auto"):
    """The same BiLSTM for every row, freshly seeded so all rows start from the same weights."""
    keras.utils.clear_session()
    keras.utils.set_random_seed(args.seed)
    model = zoo.build_bilstm(d["vocab_size"], d["num_classes"], embedding_dim=args.embedding_dim,
                             units=args.units, pooling="max", mask_zero=mask_zero, compile=False,
                             dropout=0.0, spatial_dropout=0.0)
    bidirectional = model.get_layer("encoder_1")
    for layer in (bidirectional.forward_layer, bidirectional.backward_layer):
        layer.use_lengths = use_lengths
    # The recipes' learning rate: at Keras' default 1e-3 neither pipeline
    # leaves chance accuracy in a few epochs, and the accuracy column says nothing.
    return compile_model(model, learning_rate=args.learning_rate, jit_compile=jit)


def padded_tokens(ds):
    """Timesteps the model actually runs in one pass over ``ds`` (real + padding)."""
    return int(sum(int(np.prod(x.shape)) for x, _ in ds))


def run_zoo(d, args, mask_zero=True, bucket=True, num_buckets=16, jit=False, use_lengths="auto"):
    """zoo's pipeline: cached, shuffled, length-bucketed tf.data batches."""
    model = build(d, args, mask_zero, jit, use_lengths)
    train = make_dataset(d["train_ids"], d["train_labels"], batch_size=args.batch_size, shuffle=True,
                         seed=args.seed, bucket=bucket, num_buckets=num_buckets)
    valid = make_dataset(d["valid_ids"], d["valid_labels"], batch_size=args.batch_size, bucket=bucket,
                         num_buckets=num_buckets)
    timer = EpochTimer()
    model.fit(train, epochs=args.epochs, callbacks=[timer], verbose=0)
    accuracy = model.evaluate(valid, verbose=0, return_dict=True)["accuracy"]
    return timer.seconds, accuracy, padded_tokens(train)


def run_reference(d, args, mask_zero=True, jit=False):
    """keras-io style: every text post-padded to L, numpy arrays straight into fit."""
    model = build(d, args, mask_zero, jit)
    length = d["sequence_length"]
    x = keras.utils.pad_sequences(d["train_ids"], maxlen=length, padding="post", truncating="post")
    xv = keras.utils.pad_sequences(d["valid_ids"], maxlen=length, padding="post", truncating="post")
    timer = EpochTimer()
    model.fit(x, d["train_labels"], batch_size=args.batch_size, epochs=args.epochs, callbacks=[timer],
              verbose=0)
    accuracy = model.evaluate(xv, d["valid_labels"], batch_size=args.batch_size, verbose=0,
                              return_dict=True)["accuracy"]
    return timer.seconds, accuracy, int(x.size)


_PEER_SKIP = []


def peer_skip_reason():
    """Why the PyTorch row cannot run here, or None: torch is tried in a fresh interpreter, never in this one."""
    if not _PEER_SKIP:
        reason = None
        if importlib.util.find_spec("torch") is None:
            reason = "torch is not installed"
        else:
            proc = subprocess.run([sys.executable, "-c", "import torch"], capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                lines = proc.stderr.strip().splitlines()
                reason = f"import torch failed ({lines[-1] if lines else proc.returncode})"
        if reason:
            reason += "; pip install -r bench/requirements-peer.txt for the row"
        _PEER_SKIP.append(reason)
    return _PEER_SKIP[0]


def usable_cores():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def zoo_batches(d, args):
    """zoo's batches as arrays: one pass of the train pipeline per epoch (each reshuffled, as fit's), and valid."""
    train = make_dataset(d["train_ids"], d["train_labels"], batch_size=args.batch_size, shuffle=True,
                         seed=args.seed, bucket=True)
    valid = make_dataset(d["valid_ids"], d["valid_labels"], batch_size=args.batch_size, bucket=True)
    arrays = {}
    for epoch in range(args.epochs):  # each pass reshuffles, as fit's epochs do
        for i, (x, y) in enumerate(train):
            arrays[f"train{epoch}_{i}_x"], arrays[f"train{epoch}_{i}_y"] = x.numpy(), y.numpy()
    for i, (x, y) in enumerate(valid):
        arrays[f"valid_{i}_x"], arrays[f"valid_{i}_y"] = x.numpy(), y.numpy()
    return arrays


def run_in_subprocess(python, script, arrays, meta, env=None):
    """Runs a row's script on the batches in another interpreter; its result dict."""
    with tempfile.TemporaryDirectory() as tmp:
        data_path, result_path = os.path.join(tmp, "batches.npz"), os.path.join(tmp, "result.json")
        np.savez(data_path, meta=json.dumps(meta), **arrays)
        proc = subprocess.run([python, script, data_path, result_path], capture_output=True, text=True,
                              check=False, env=env)
        if proc.returncode != 0:
            raise RuntimeError(f"{script} failed:\n{proc.stderr[-3000:]}")
        with open(result_path) as f:
            return json.load(f)


def train_timesteps(arrays):
    return sum(int(v.size) for k, v in arrays.items() if k.startswith("train0_") and k.endswith("_x"))


def run_keras_backend(d, args, backend, use_lengths):
    """zoo's BiLSTM on another Keras backend, on zoo's batches, in a subprocess (bench/_keras_backend_rows.py)."""
    arrays = zoo_batches(d, args)
    meta = {"vocab_size": d["vocab_size"], "num_classes": d["num_classes"], "embedding_dim": args.embedding_dim,
            "units": args.units, "learning_rate": args.learning_rate, "epochs": args.epochs, "seed": args.seed,
            "use_lengths": use_lengths}
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "KERAS_BACKEND": backend, "JAX_PLATFORMS": "cpu", "CUDA_VISIBLE_DEVICES": "",
           "PYTHONPATH": repo}
    result = run_in_subprocess(args.backends_python, BACKEND_SCRIPT, arrays, meta, env=env)
    return result["epoch_seconds"], result["valid_accuracy"], train_timesteps(arrays), {"keras": result["keras"]}


def run_torch(d, args):
    """The PyTorch peer on zoo's batches: one pass of zoo's train pipeline per epoch, in a subprocess."""
    arrays = zoo_batches(d, args)
    meta = {"vocab_size": d["vocab_size"], "num_classes": d["num_classes"], "embedding_dim": args.embedding_dim,
            "units": args.units, "learning_rate": args.learning_rate, "epochs": args.epochs, "seed": args.seed,
            "threads": usable_cores()}
    result = run_in_subprocess(sys.executable, PEER_SCRIPT, arrays, meta)
    return result["epoch_seconds"], result["valid_accuracy"], train_timesteps(arrays), result


def measure(name, d, args):
    """Trains one row and turns its epoch times into throughput numbers."""
    spec = dict(VARIANTS[name])
    kind = spec.pop("kind")
    extra = {}
    if kind == "torch":
        seconds, accuracy, steps_tokens, result = run_torch(d, args)
        extra = {"torch": result["torch"], "torch_threads": result["threads"],
                 "torch_interop_threads": result["interop_threads"]}
    elif kind == "keras":
        seconds, accuracy, steps_tokens, extra = run_keras_backend(d, args, **spec)
    else:
        runner = run_zoo if kind == "zoo" else run_reference
        seconds, accuracy, steps_tokens = runner(d, args, **spec)
    timed = seconds[1:] or seconds  # epochs 2..N; epoch 1 only if there is no other
    n, tokens = len(d["train_ids"]), real_tokens(d["train_ids"])
    return {
        "name": name,
        "seed": args.seed,
        "settings": VARIANTS[name],
        "epoch_seconds": seconds,
        "timed_epochs": len(timed),
        "first_epoch_seconds": seconds[0],
        # The fastest timed epoch, as timeit does: on a shared machine other
        # jobs only ever slow an epoch down, so the minimum is the least noisy.
        "examples_per_second": n / min(timed),
        "real_tokens_per_second": tokens / min(timed),
        "mean_examples_per_second": n * len(timed) / sum(timed),
        "timesteps_per_epoch": steps_tokens,
        "padding_fraction": 1 - tokens / steps_tokens,
        "valid_accuracy": float(accuracy),
        **extra,
    }


def add_ratios(rows):
    """Each row's throughput relative to the reference row (the headline is zoo/reference) and to zoo's."""
    ref = next((r for r in rows if r["name"] == "reference"), None)
    zoo_row = next((r for r in rows if r["name"] == "zoo"), None)
    for row in rows:
        row["speedup_vs_reference"] = (row["real_tokens_per_second"] / ref["real_tokens_per_second"]
                                       if ref else None)
        row["speedup_vs_zoo"] = (row["real_tokens_per_second"] / zoo_row["real_tokens_per_second"]
                                 if zoo_row else None)


COLUMNS = [
    ("name", "pipeline", None),
    ("examples_per_second", "examples/s", "{:.1f}"),
    ("real_tokens_per_second", "real tokens/s", "{:.0f}"),
    ("speedup_vs_reference", "x reference", "{:.2f}"),
    ("speedup_vs_zoo", "x zoo", "{:.2f}"),
    ("padding_fraction", "padding", "{:.0%}"),
    ("first_epoch_seconds", "epoch 1 s (tracing)", "{:.1f}"),
    ("valid_accuracy", "valid acc", "{:.3f}"),
]


def main(argv=None):
    args = parse_args(argv)
    info = _common.machine_info()
    print(_common.format_machine(info))
    d = prepare_data(args)
    names = args.variants or (QUICK_VARIANTS if args.quick else DEFAULT_VARIANTS)
    if names == ["all"]:
        names = list(VARIANTS)
    print(f"20 Newsgroups: {len(d['train_ids'])} train / {len(d['valid_ids'])} valid, "
          f"L={d['sequence_length']} ({args.sequence_length}, {d['truncated']} train texts cut), "
          f"median length {d['median_length']:.0f}, vocab {d['vocab_size']}, {args.epochs} epochs")
    if args.paths:
        return main_paths(args, info, d)
    rows, skipped = [], {}
    for name in names:
        if VARIANTS[name]["kind"] == "torch" and peer_skip_reason():
            skipped[name] = peer_skip_reason()
            print(f"  {name}: skipped: {skipped[name]}", flush=True)
            continue
        rows.append(measure(name, d, args))
        print(f"  {name}: {rows[-1]['examples_per_second']:.1f} examples/s", flush=True)
    add_ratios(rows)
    table = _common.markdown_table(rows, COLUMNS)
    print(f"\nThroughput of the fastest of epochs 2..{args.epochs} (epoch 1 includes tracing and cache fill).\n")
    print(table)
    zoo_row = next((r for r in rows if r["name"] == "zoo"), None)
    payload = {
        "script": "train_throughput", "machine": info,
        "settings": {k: v for k, v in vars(args).items() if k not in ("output", "results_dir")},
        "data": {k: d[k] for k in ("sequence_length", "truncated", "source", "median_length",
                                   "vocab_size", "num_classes")},
        "timing": "examples/s and real (non-padding) tokens/s of the fastest of epochs 2..N; epoch 1 reported apart",
        "rows": rows,
        "zoo_vs_reference": zoo_row["speedup_vs_reference"] if zoo_row else None,
        "peer_vs_zoo": next((r["speedup_vs_zoo"] for r in rows if r["name"] == PEER), None),
        "peer": ("the same BiLSTM in plain PyTorch (bench/_torch_peer.py: nn.LSTM over packed batches, masked max "
                 "pooling, Adam) on zoo's own bucketed batches, in a subprocess with torch.set_num_threads = the "
                 "usable cores"),
        "skipped": skipped,
        "table": table,
    }
    _common.write_json(_common.output_path(args, "train_throughput"), payload)


PATH_COLUMNS = [
    ("name", "backend, path", None),
    ("seed", "seed", "{}"),
    ("real_tokens_per_second", "real tokens/s", "{:.0f}"),
    ("lengths_vs_masked", "lengths / masked", "{:.2f}"),
    ("first_epoch_seconds", "epoch 1 s (tracing)", "{:.1f}"),
    ("valid_accuracy", "valid acc", "{:.3f}"),
]


def backends_skip_reason(python):
    if not os.path.exists(python):
        return f"{python} not found: make .venv-backends as .ci/run does, or pass --backends-python"
    return None


def main_paths(args, info, d):
    """The recurrent paths on every backend, for each seed; lengths / masked per backend and seed."""
    import copy

    rows, skipped = [], {}
    for seed in range(args.seeds or 3):
        run_args = copy.copy(args)
        run_args.seed = seed  # the model's weights and the batches' shuffles; the data split stays
        for name in PATH_VARIANTS:
            if VARIANTS[name]["kind"] == "keras" and backends_skip_reason(args.backends_python):
                skipped[name] = backends_skip_reason(args.backends_python)
                continue
            rows.append(measure(name, d, run_args))
            print(f"  seed {seed} {name}: {rows[-1]['real_tokens_per_second']:.0f} real tokens/s", flush=True)
    summary = {}
    for row in rows:
        if row["name"].endswith("lengths path"):
            backend = row["name"].split(",")[0]
            masked = next(r for r in rows if r["seed"] == row["seed"] and r["name"] == f"{backend}, masked loop")
            row["lengths_vs_masked"] = row["real_tokens_per_second"] / masked["real_tokens_per_second"]
            summary.setdefault(backend, []).append(row["lengths_vs_masked"])
    for name in skipped:
        print(f"  {name}: skipped: {skipped[name]}")
    table = _common.markdown_table(rows, PATH_COLUMNS)
    print(f"\nThroughput of the fastest of epochs 2..{args.epochs}.\n")
    print(table)
    faster = {b: {"lengths_vs_masked": ratios, "median": float(np.median(ratios)),
                  "faster": "lengths path" if np.median(ratios) > 1 else "masked loop"} for b, ratios in summary.items()}
    for backend, result in faster.items():
        print(f"{backend}: lengths / masked {', '.join(f'{r:.2f}' for r in result['lengths_vs_masked'])} "
              f"(median {result['median']:.2f}): {result['faster']} is faster on this CPU")
    payload = {
        "script": "train_throughput --paths", "machine": info,
        "settings": {k: v for k, v in vars(args).items() if k not in ("output", "results_dir")},
        "data": {k: d[k] for k in ("sequence_length", "truncated", "source", "median_length",
                                   "vocab_size", "num_classes")},
        "timing": "real (non-padding) tokens/s of the fastest of epochs 2..N, per seed; TensorFlow in this "
                  "process on tf.data, JAX and PyTorch in bench/_keras_backend_rows.py on the same batches",
        "rows": rows, "summary": faster, "skipped": skipped, "table": table,
    }
    _common.write_json(_common.output_path(args, "train_throughput_paths"), payload)


if __name__ == "__main__":
    main()
