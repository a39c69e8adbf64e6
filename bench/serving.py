"""Serving latency and throughput on raw strings: exported SavedModel vs in-process Keras.

Trains a small BiLSTM on real 20 Newsgroups for one epoch, exports it with
``zoo.serving.export.export_text_classifier`` to a temporary directory, then times the
same raw texts through:

* **savedmodel**: ``tf.saved_model.load(path).signatures["serving_default"]``
  (what a TensorFlow-only server runs);
* **keras call**: the in-process raw-text model ``zoo.serving.export.text_model``,
  called eagerly as ``model(tf.constant(texts))``;
* **keras predict_on_batch**: the same model through ``predict_on_batch``
  (Keras' compiled predict function);
* **keras tf.function**: the same model wrapped once in ``tf.function``.

Batch 1: p50/p99 latency over one call per text. Batch 64: texts per second
over repeated batches. Every path is warmed up first (tracing excluded), and
all paths run side by side in this one process.

Run from the repo root: ``python bench/serving.py [--quick]``.
"""

import argparse
import os
import tempfile
import time
import warnings

import _common  # noqa: E402

_common.setup()  # sets TF_CPP_MIN_LOG_LEVEL before TensorFlow is imported
warnings.filterwarnings("ignore", category=UserWarning, module="keras")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import zoo  # noqa: E402
from zoo.data import load_dataset  # noqa: E402
from zoo.data.text import make_dataset, make_vectorizer, vectorize  # noqa: E402
from zoo.serving.export import export_text_classifier, text_model  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--train-examples", type=int, default=1000)
    p.add_argument("--units", type=int, default=32)
    p.add_argument("--embedding-dim", type=int, default=32)
    p.add_argument("--max-tokens", type=int, default=10000)
    p.add_argument("--sequence-length", type=int, default=256, help="the export pads/cuts every text to this")
    p.add_argument("--requests", type=int, default=200, help="batch-1 calls per path")
    p.add_argument("--eager-requests", type=int, default=10,
                   help="batch-1 calls for the eager 'keras call' path, which runs the LSTM loop in Python")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--min-seconds", type=float, default=5.0, help="time per path at the large batch")
    p.add_argument("--seed", type=int, default=0)
    _common.add_output_args(p)
    args = p.parse_args(argv)
    if args.quick:
        args.train_examples, args.units, args.embedding_dim, args.max_tokens = 100, 8, 8, 2000
        args.sequence_length, args.requests, args.batch_size, args.min_seconds = 32, 10, 8, 0.2
    return args


def train_tiny(args):
    """One epoch of a small BiLSTM on real texts; returns (model, vectorizer, data)."""
    data = load_dataset("20newsgroups", validation_split=0.1, seed=args.seed,
                        max_train_examples=args.train_examples)
    vectorizer = make_vectorizer(data.train_texts, max_tokens=args.max_tokens)
    ids = vectorize(vectorizer, data.train_texts, args.sequence_length).ids
    keras.utils.set_random_seed(args.seed)
    model = zoo.build_bilstm(len(vectorizer.get_vocabulary()), len(data.class_names),
                             embedding_dim=args.embedding_dim, units=args.units, **_common.MEASURED)
    model.fit(make_dataset(ids, data.train_labels, shuffle=True, seed=args.seed), epochs=1, verbose=0)
    return model, vectorizer, data


def paths(export_dir, model, vectorizer, args):
    """name -> function(texts tensor) -> probabilities as numpy, for every serving path."""
    signature = tf.saved_model.load(export_dir).signatures["serving_default"]
    keras_text = text_model(model, vectorizer, args.sequence_length)
    compiled = tf.function(lambda t: keras_text(t, training=False))
    return {
        "savedmodel": lambda t: signature(texts=t)["probabilities"].numpy(),
        "keras call": lambda t: keras.ops.convert_to_numpy(keras_text(t)),
        "keras predict_on_batch": lambda t: np.asarray(keras_text.predict_on_batch(t)),
        "keras tf.function": lambda t: compiled(t).numpy(),
    }


def latency(fn, texts):
    """Per-call seconds of ``fn`` on each text alone (batch 1)."""
    seconds = []
    for text in texts:
        batch = tf.constant([text])
        t0 = time.perf_counter()
        fn(batch)
        seconds.append(time.perf_counter() - t0)
    return np.array(seconds)


def throughput(fn, texts, batch_size, min_seconds):
    """Texts per second over repeated calls on batches of ``batch_size`` texts."""
    batches = [tf.constant(texts[i:i + batch_size]) for i in range(0, len(texts) - batch_size + 1, batch_size)]
    done, start, i = 0, time.perf_counter(), 0
    while done == 0 or time.perf_counter() - start < min_seconds:
        fn(batches[i % len(batches)])
        done, i = done + batch_size, i + 1
    return done / (time.perf_counter() - start)


def measure(fns, texts, args):
    """Warms each path up, then times batch 1 and the large batch on the same texts.

    The eager path gets fewer calls: it steps through every timestep in
    Python, so it is orders of magnitude slower and would dominate the run.
    """
    big = texts[: max(args.batch_size, len(texts) // args.batch_size * args.batch_size)]
    reference = None
    rows = []
    for name, fn in fns.items():
        eager = name == "keras call"
        for _ in range(1 if eager else 3):  # tracing and first-call costs, excluded
            fn(tf.constant(texts[:1]))
            fn(tf.constant(big[: args.batch_size]))
        probabilities = fn(tf.constant(big[: args.batch_size]))
        reference = probabilities if reference is None else reference
        requests = min(args.requests, args.eager_requests) if eager else args.requests
        seconds = latency(fn, texts[:requests])
        rows.append({
            "path": name,
            "batch1_requests": requests,
            "p50_ms": float(np.percentile(seconds, 50) * 1e3),
            "p99_ms": float(np.percentile(seconds, 99) * 1e3),
            "mean_ms": float(seconds.mean() * 1e3),
            "batch_texts_per_second": throughput(fn, big, args.batch_size, 0 if eager else args.min_seconds),
            "max_abs_diff_vs_savedmodel": float(np.abs(probabilities - reference).max()),
        })
        print(f"  {name}: p50 {rows[-1]['p50_ms']:.1f} ms, "
              f"{rows[-1]['batch_texts_per_second']:.0f} texts/s at batch {args.batch_size}", flush=True)
    base = rows[0]
    for row in rows:
        row["p50_vs_savedmodel"] = row["p50_ms"] / base["p50_ms"]
        row["throughput_vs_savedmodel"] = row["batch_texts_per_second"] / base["batch_texts_per_second"]
    return rows


def main(argv=None):
    args = parse_args(argv)
    info = _common.machine_info()
    print(_common.format_machine(info))
    model, vectorizer, data = train_tiny(args)
    texts = list(data.valid_texts) + list(data.test_texts)
    texts = texts[: max(args.requests, args.batch_size * 4)]
    with tempfile.TemporaryDirectory() as tmp:
        export_dir = os.path.join(tmp, "export")
        export_text_classifier(model, vectorizer, args.sequence_length, data.class_names, export_dir)
        rows = measure(paths(export_dir, model, vectorizer, args), texts, args)
    columns = [
        ("path", "path", None), ("p50_ms", "batch 1 p50 ms", "{:.2f}"), ("p99_ms", "batch 1 p99 ms", "{:.2f}"),
        ("batch_texts_per_second", f"batch {args.batch_size} texts/s", "{:.0f}"),
        ("throughput_vs_savedmodel", "throughput x savedmodel", "{:.2f}"),
        ("max_abs_diff_vs_savedmodel", "max |p - p_savedmodel|", "{:.1e}"),
    ]
    table = _common.markdown_table(rows, columns)
    print(f"\nRaw-text serving, BiLSTM units {args.units}, every text padded/cut to "
          f"{args.sequence_length} tokens; batch 1 over {args.requests} real texts "
          f"({args.eager_requests} for the eager keras call; its batch figure is one batch)\n\n{table}")
    payload = {
        "script": "serving", "machine": info,
        "settings": {k: v for k, v in vars(args).items() if k not in ("output", "results_dir")},
        "rows": rows, "table": table,
    }
    _common.write_json(_common.output_path(args, "serving"), payload)


if __name__ == "__main__":
    main()
