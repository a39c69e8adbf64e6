"""Helpers shared by the benchmark scripts: machine info, tables, JSON results.

Every script prints the machine it ran on, because the numbers only mean
something next to it (these runs share a small CPU with other jobs, so the
scripts compare variants side by side in one process and report ratios).
"""

import json
import os
import platform
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS_DIR = os.path.join(REPO_ROOT, "bench", "results")


# The BiLSTM these benchmarks have always measured: no dropout, last-state pooling (zoo's factory defaults
# have since become the main job's; the committed results are for this model).
MEASURED = {"dropout": 0.0, "spatial_dropout": 0.0, "pooling": "last"}


def setup():
    """Quiets TensorFlow and picks its backend; call before importing zoo (installed, e.g. ``pip install -e .``)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def cpu_model():
    """The CPU model name from /proc/cpuinfo (platform.processor() is often empty on Linux)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags():
    """The SIMD flags that decide matmul speed (AVX2, AVX-512, AMX, bf16 support)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    wanted = ("avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")
                    return [w for w in wanted if w in flags]
    except OSError:
        pass
    return []


def machine_info():
    """A JSON-friendly description of the machine and library versions."""
    import keras
    import tensorflow as tf

    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": cpu_model(),
        "cpu_flags": cpu_flags(),
        "logical_cores": os.cpu_count(),
        "usable_cores": usable,
        "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "platform": platform.platform(),
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def format_machine(info):
    """One line for the top of a script's output."""
    return (f"machine: {info['cpu']} ({info['usable_cores']} usable of {info['logical_cores']} cores, "
            f"flags {','.join(info['cpu_flags']) or '-'}, GPUs {len(info['gpus'])}); "
            f"TensorFlow {info['tensorflow']}, Keras {info['keras']}, Python {info['python']}")


def markdown_table(rows, columns):
    """A markdown table of ``rows`` (dicts) with ``columns`` as (key, header, format) triples."""
    lines = ["| " + " | ".join(h for _, h, _ in columns) + " |",
             "|" + "|".join("---" for _ in columns) + "|"]
    for row in rows:
        cells = []
        for key, _, fmt in columns:
            value = row.get(key)
            cells.append("-" if value is None else (fmt.format(value) if fmt else str(value)))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def output_path(args, script):
    """Where a script writes its JSON: ``--output``, else ``--results-dir/<script>.json``."""
    if getattr(args, "output", None):
        return args.output
    return os.path.join(args.results_dir or RESULTS_DIR, f"{script}.json")


def add_output_args(parser):
    """The ``--quick``, ``--output`` and ``--results-dir`` options every script has."""
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke test")
    parser.add_argument("--output", default=None, help="JSON result path (overrides --results-dir)")
    parser.add_argument("--results-dir", default=None, help=f"directory for <script>.json (default {RESULTS_DIR})")


def write_json(path, payload):
    """Writes ``payload`` as indented JSON, creating the directory."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(payload, f, indent=2, sort_keys=False, default=_jsonable)
        f.write("\n")
    print(f"wrote {path}")


def finished_run(run, script):
    """A finished ``zoo train`` run: ``(classifier, dataset, encode)``, the dataset split exactly as the run split it.

    ``encode(dataset, split)`` gives a split's labels as the classifier's class
    ids. A folder that is not a saved classifier exits with one line naming it.
    """
    import sys

    import numpy as np

    from zoo import TextClassifier
    from zoo.config import DataConfig
    from zoo.data.datasets import load_for_training
    from zoo.errors import ZooError

    try:
        clf = TextClassifier.load(run)
    except ZooError as error:
        sys.exit(f"{script}: {error}")
    with open(os.path.join(run, "config.json")) as f:
        config = json.load(f)
    settings = config["classifier"]
    dataset, _ = load_for_training(DataConfig(**config["data"]), validation_split=settings["validation_split"],
                                   seed=settings["seed"])
    index = {name: i for i, name in enumerate(clf.classes_)}

    def encode(data, split):
        return np.array([index[name] for name in data.label_lists(split)])

    return clf, dataset, encode


def _jsonable(value):
    """numpy scalars and arrays to plain Python."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"not JSON serializable: {type(value)}")


def timed(fn, min_seconds=1.0, min_repeats=3, max_repeats=1000):
    """Calls ``fn`` until ``min_seconds`` have passed (at least ``min_repeats`` times).

    Returns the list of per-call durations in seconds. ``fn`` must block until
    its result is ready (call ``.numpy()`` on it) so the time is real.
    """
    durations, start = [], time.perf_counter()
    while len(durations) < max_repeats and (len(durations) < min_repeats
                                            or time.perf_counter() - start < min_seconds):
        t0 = time.perf_counter()
        fn()
        durations.append(time.perf_counter() - t0)
    return durations
