"""Raw-text serving: the per-batch export vs the fixed-length export, on short and long real texts.

The model is the main job's: ``--run-dir`` loads a classifier saved by it
(``python recipes/newsgroups_glove_bilstm.py --output-dir runs/newsgroups``
writes one); without it, the script trains the same architecture (BiLSTM,
96 units, 50-dimensional embeddings, the hybrid's n-gram path) from a random
start for one epoch on 2,000 real 20 Newsgroups texts: serving time does not
depend on the weights' values, only on their shapes. The classifier is
exported twice, side by side in this process:

* **per-batch export** (zoo 0.3's ``export()``): each batch is padded only to
  its longest text (:class:`zoo.data.text.TextToIds`), at most the sequence length;
* **fixed-length export** (zoo 0.2's, ``export(fixed_length=True)``): every
  text padded to the sequence length, as ``output_sequence_length`` does.

and the in-process raw-text Keras model (``TextClassifier.keras_model``, ``zoo.models.text_model``,
per-batch) is timed through ``predict_on_batch`` and a ``tf.function``. Texts
are real 20 Newsgroups test posts: **short** ones of 15 to 25 tokens (about
20 words) and **long** ones of at least the sequence length. Batch 1: p50/p99
latency over one call per text. Batch 64: texts per second over repeated
batches. Every path is warmed up first (tracing excluded), and each path's
probabilities are compared with the fixed-length export's on the same texts.

Run from the repo root: ``python bench/serving.py [--run-dir runs/newsgroups] [--quick]``.
"""

import argparse
import os
import tempfile
import time
import warnings

import _common  # noqa: E402

_common.setup()  # sets TF_CPP_MIN_LOG_LEVEL before TensorFlow is imported
warnings.filterwarnings("ignore", category=UserWarning, module="keras")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from zoo import TextClassifier  # noqa: E402
from zoo.data import load_dataset  # noqa: E402
from zoo.data.text import vectorize  # noqa: E402

SHORT = (15, 25)  # tokens of a "short" text: about 20 words


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--run-dir", default=None, help="a classifier saved by the main job (default: train its "
                                                   "architecture for one epoch)")
    p.add_argument("--train-examples", type=int, default=2000, help="without --run-dir: texts it trains on")
    p.add_argument("--units", type=int, default=96, help="without --run-dir")
    p.add_argument("--embedding-dim", type=int, default=50, help="without --run-dir")
    p.add_argument("--requests", type=int, default=200, help="batch-1 calls per path and text set")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--min-seconds", type=float, default=5.0, help="time per path and text set at the large batch")
    p.add_argument("--seed", type=int, default=0)
    _common.add_output_args(p)
    args = p.parse_args(argv)
    if args.quick:
        args.train_examples, args.units, args.embedding_dim = 200, 8, 8
        args.requests, args.batch_size, args.min_seconds = 8, 8, 0.1
    return args


def classifier(args, data):
    """The saved main-job classifier, or its architecture trained briefly from a random start."""
    if args.run_dir:
        return TextClassifier.load(args.run_dir), f"loaded from {args.run_dir}"
    n = args.train_examples
    clf = TextClassifier(model="bilstm", init="none", units=args.units, embedding_dim=args.embedding_dim,
                         epochs=1, seed=args.seed, verbose=0)
    names = data.class_names
    valid = min(500, n)
    clf.fit(data.train_texts[:n], [names[i] for i in data.train_labels[:n]],
            validation_data=(data.valid_texts[:valid], [names[i] for i in data.valid_labels[:valid]]))
    return clf, f"the main job's architecture, one epoch on {n} texts from a random start"


def text_sets(clf, texts, args):
    """Short (15-25 tokens) and long (at least the sequence length) real texts, in their original order."""
    lengths = np.array([len(ids) for ids in vectorize(clf.vectorizer_, texts).ids])
    need = max(args.requests, args.batch_size * 4)
    short = [t for t, n in zip(texts, lengths) if SHORT[0] <= n <= SHORT[1]][:need]
    long = [t for t, n in zip(texts, lengths) if n >= clf.sequence_length_][:need]
    return {"short": short, "long": long}, lengths


def paths(clf, export_dirs):
    """name -> function(texts tensor) -> probabilities as numpy, for every serving path."""
    signatures = {name: tf.saved_model.load(d).signatures["serving_default"] for name, d in export_dirs.items()}
    keras_text = clf.keras_model()
    compiled = tf.function(lambda t: keras_text(t, training=False)["model"])
    return {
        "fixed-length export (0.2)": lambda t: signatures["fixed"](texts=t)["probabilities"].numpy(),
        "per-batch export (0.3)": lambda t: signatures["batch"](texts=t)["probabilities"].numpy(),
        "in-process predict_on_batch": lambda t: np.asarray(keras_text.predict_on_batch(t)["model"]),
        "in-process tf.function": lambda t: compiled(t).numpy(),
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


def measure(fns, sets, args):
    """Warms each path up, then times batch 1 and the large batch on each text set."""
    rows = []
    for set_name, texts in sets.items():
        reference = None
        for name, fn in fns.items():
            for _ in range(3):  # tracing and first-call costs, excluded
                fn(tf.constant(texts[:1]))
                fn(tf.constant(texts[: args.batch_size]))
            probabilities = np.concatenate([fn(tf.constant(texts[i:i + args.batch_size]))
                                            for i in range(0, len(texts), args.batch_size)])
            reference = probabilities if reference is None else reference
            seconds = latency(fn, texts[: args.requests])
            rows.append({
                "texts": set_name, "path": name, "batch1_requests": len(seconds),
                "p50_ms": float(np.percentile(seconds, 50) * 1e3),
                "p99_ms": float(np.percentile(seconds, 99) * 1e3),
                "batch_texts_per_second": throughput(fn, texts, args.batch_size, args.min_seconds),
                "max_abs_diff_vs_fixed": float(np.abs(probabilities - reference).max()),
            })
            print(f"  {set_name} texts, {name}: p50 {rows[-1]['p50_ms']:.1f} ms, "
                  f"{rows[-1]['batch_texts_per_second']:.0f} texts/s at batch {args.batch_size}", flush=True)
        fixed = next(r for r in rows if r["texts"] == set_name)
        for row in rows:
            if row["texts"] == set_name:
                row["p50_speedup_vs_fixed"] = fixed["p50_ms"] / row["p50_ms"]
                row["throughput_vs_fixed"] = row["batch_texts_per_second"] / fixed["batch_texts_per_second"]
    return rows


def main(argv=None):
    args = parse_args(argv)
    info = _common.machine_info()
    print(_common.format_machine(info))
    data = load_dataset("20newsgroups", validation_split=0.1, seed=args.seed)
    clf, source = classifier(args, data)
    sets, lengths = text_sets(clf, list(data.test_texts), args)
    encoder = clf.model_.get_layer("encoder_1")
    model = {"source": source, "model": clf.settings_.model or "bilstm",
             "units": getattr(encoder, "forward_layer", encoder).units, "sequence_length": clf.sequence_length_,
             "hybrid": clf.ngram_ is not None, "parameters": clf.model_.count_params()}
    text_info = {name: {"count": len(texts), "median_tokens": float(np.median(
        [len(ids) for ids in vectorize(clf.vectorizer_, texts).ids]))} for name, texts in sets.items()}
    print(f"model: {model}\ntexts: {text_info}")
    with tempfile.TemporaryDirectory() as tmp:
        dirs = {"batch": os.path.join(tmp, "batch"), "fixed": os.path.join(tmp, "fixed")}
        clf.export(dirs["batch"])
        clf.export(dirs["fixed"], fixed_length=True)
        rows = measure(paths(clf, dirs), sets, args)
    columns = [
        ("texts", "texts", None), ("path", "path", None),
        ("p50_ms", "batch 1 p50 ms", "{:.2f}"), ("p99_ms", "batch 1 p99 ms", "{:.2f}"),
        ("p50_speedup_vs_fixed", "p50 speed-up x fixed", "{:.1f}"),
        ("batch_texts_per_second", f"batch {args.batch_size} texts/s", "{:.0f}"),
        ("throughput_vs_fixed", "throughput x fixed", "{:.2f}"),
        ("max_abs_diff_vs_fixed", "max abs diff vs fixed", "{:.1e}"),
    ]
    table = _common.markdown_table(rows, columns)
    print(f"\nRaw-text serving of {source} (sequence length {clf.sequence_length_}); batch 1 over "
          f"{args.requests} real texts per set\n\n{table}")
    payload = {
        "script": "serving", "machine": info,
        "settings": {k: v for k, v in vars(args).items() if k not in ("output", "results_dir")},
        "model": model, "texts": text_info, "rows": rows, "table": table,
    }
    _common.write_json(_common.output_path(args, "serving"), payload)


if __name__ == "__main__":
    main()
