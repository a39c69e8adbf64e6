"""Scaling: time per example and peak memory as sequence length and batch size double.

Two sweeps of the BiLSTM (``zoo.build_bilstm``, embedding 64, units 64,
mask_zero=True as the library defaults, random full-length ids so there is
no padding):

* sequence length 64, 128, ..., 1024 at a fixed batch (32);
* batch size 16, 32, ..., 512 at a fixed length (128).

Each point runs in its own subprocess so that peak memory is that point's
alone: it is the growth of the process's max RSS (``resource.getrusage``
``ru_maxrss``) over its value after the model is built, first while running
inference (forward pass in a tf.function), then while training
(``train_on_batch``; max RSS never goes down, so the training figure is the
peak of both). TensorFlow's ``get_memory_info`` does not track CPU devices;
whether it answered is recorded in the JSON.

Run from the repo root: ``python bench/scaling.py [--quick]``.
"""

import argparse
import json
import os
import subprocess
import sys

import _common  # noqa: E402

_common.setup()  # sets TF_CPP_MIN_LOG_LEVEL before TensorFlow is imported

VOCAB, CLASSES = 20000, 20


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--lengths", type=int, nargs="+", default=[64, 128, 256, 512, 1024])
    p.add_argument("--fixed-batch", type=int, default=32)
    p.add_argument("--batches", type=int, nargs="+", default=[16, 32, 64, 128, 256, 512])
    p.add_argument("--fixed-length", type=int, default=128)
    p.add_argument("--units", type=int, default=64)
    p.add_argument("--embedding-dim", type=int, default=64)
    p.add_argument("--min-seconds", type=float, default=1.0, help="time budget per measurement")
    p.add_argument("--timeout", type=float, default=300, help="seconds allowed per point")
    p.add_argument("--worker", nargs=2, type=int, metavar=("BATCH", "LENGTH"),
                   help=argparse.SUPPRESS)  # internal: measure one point, print JSON
    _common.add_output_args(p)
    args = p.parse_args(argv)
    if args.quick:
        args.lengths, args.batches = [16, 32], [8]
        args.fixed_batch, args.fixed_length = 8, 16
        args.units, args.embedding_dim, args.min_seconds = 8, 8, 0.1
    return args


# === One point, in a subprocess ===


def max_rss_mb():
    """This process's peak resident set size so far, in MiB (Linux reports KiB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def tf_memory_info():
    """TensorFlow's own allocator stats on CPU, or None where it does not track them."""
    import tensorflow as tf

    try:
        return tf.config.experimental.get_memory_info("CPU:0")
    except (ValueError, RuntimeError, tf.errors.OpError):
        return None


def worker(batch, length, args):
    """Measures one (batch, length) point and prints it as one JSON line."""
    import keras
    import numpy as np
    import tensorflow as tf

    import zoo

    keras.utils.set_random_seed(0)
    model = zoo.build_bilstm(VOCAB, CLASSES, embedding_dim=args.embedding_dim, units=args.units, **_common.MEASURED)
    rng = np.random.default_rng(0)
    x = rng.integers(1, VOCAB, size=(batch, length)).astype("int32")
    y = rng.integers(0, CLASSES, size=(batch,))
    xt = tf.constant(x)
    forward = tf.function(lambda t: model(t, training=False))
    base = max_rss_mb()

    forward(xt).numpy()  # trace
    infer_s = _common.timed(lambda: forward(xt).numpy(), args.min_seconds, min_repeats=2)
    infer_rss = max_rss_mb()
    model.train_on_batch(x, y)  # trace
    train_s = _common.timed(lambda: model.train_on_batch(x, y), args.min_seconds, min_repeats=2)
    train_rss = max_rss_mb()
    print(json.dumps({
        "batch": batch, "seq_len": length,
        "train_ms_per_example": float(np.median(train_s)) / batch * 1e3,
        "infer_ms_per_example": float(np.median(infer_s)) / batch * 1e3,
        "train_step_ms": float(np.median(train_s)) * 1e3,
        "infer_step_ms": float(np.median(infer_s)) * 1e3,
        "base_rss_mb": base,
        "infer_peak_growth_mb": infer_rss - base,
        "train_peak_growth_mb": train_rss - base,
        "tf_memory_info_cpu": tf_memory_info(),
    }))


def run_point(batch, length, args):
    """Runs :func:`worker` in a fresh Python process and parses its JSON line."""
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", str(batch), str(length),
           "--units", str(args.units), "--embedding-dim", str(args.embedding_dim),
           "--min-seconds", str(args.min_seconds)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"point batch={batch} len={length} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def sweep(points, args, label):
    """Measures each point; adds each one's cost relative to the first point of the sweep."""
    rows = []
    for batch, length in points:
        row = run_point(batch, length, args)
        row["sweep"] = label
        rows.append(row)
        print(f"  {label}: batch {batch} len {length}: train {row['train_ms_per_example']:.2f} "
              f"ms/example, peak +{row['train_peak_growth_mb']:.0f} MiB", flush=True)
    first = rows[0]
    for row in rows:
        row["train_time_vs_first"] = row["train_ms_per_example"] / first["train_ms_per_example"]
        row["infer_time_vs_first"] = row["infer_ms_per_example"] / first["infer_ms_per_example"]
    return rows


COLUMNS = [
    ("batch", "batch", None), ("seq_len", "seq len", None),
    ("train_ms_per_example", "train ms/example", "{:.3f}"),
    ("train_time_vs_first", "train x first", "{:.2f}"),
    ("infer_ms_per_example", "infer ms/example", "{:.3f}"),
    ("infer_time_vs_first", "infer x first", "{:.2f}"),
    ("infer_peak_growth_mb", "infer peak +MiB", "{:.0f}"),
    ("train_peak_growth_mb", "train peak +MiB", "{:.0f}"),
]


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        worker(*args.worker, args)
        return
    info = _common.machine_info()
    print(_common.format_machine(info))
    by_length = sweep([(args.fixed_batch, n) for n in args.lengths], args, "length")
    by_batch = sweep([(b, args.fixed_length) for b in args.batches], args, "batch")
    t1 = _common.markdown_table(by_length, COLUMNS)
    t2 = _common.markdown_table(by_batch, COLUMNS)
    print(f"\nSequence length doubling at batch {args.fixed_batch} (BiLSTM units {args.units}, "
          f"embedding {args.embedding_dim})\n\n{t1}\n")
    print(f"Batch size doubling at sequence length {args.fixed_length}\n\n{t2}\n")
    memory = ("peak memory = growth of ru_maxrss (resource.getrusage) in a fresh subprocess per point, "
              "over its value after the model is built; includes tracing")
    print(memory)
    payload = {
        "script": "scaling", "machine": info,
        "settings": {k: v for k, v in vars(args).items() if k not in ("output", "results_dir", "worker")},
        "memory_method": memory,
        "tf_memory_info_cpu_supported": by_length[0]["tf_memory_info_cpu"] is not None,
        "by_length": by_length, "by_batch": by_batch, "table": t1 + "\n\n" + t2,
    }
    _common.write_json(_common.output_path(args, "scaling"), payload)


if __name__ == "__main__":
    main()
