"""GPU throughput of zoo's LSTMs on Keras 3's torch and JAX backends, with plain ``torch.nn.LSTM`` as the peer row.

Runs on a machine with an NVIDIA GPU, PyTorch (CUDA, cuDNN) and Keras 3, and
no TensorFlow: it sets ``KERAS_BACKEND=torch`` before importing Keras, makes
``import tensorflow`` fail inside this process (``sys.modules['tensorflow'] = None``) (so a stray import is caught
even where TensorFlow is installed) and imports only zoo's factories. It does
not use ``bench/_common.py``. See ``bench/README.md`` for how to carry it.

Measured, per model, batch size (32, 256, 1024) and precision (float32,
mixed float16):

* train-step and inference throughput in real (non-padding) tokens/s,
* whether cuDNN's RNN kernels ran (``torch.profiler``: the CUDA kernel names
  of one profiled train step, and the ``aten::_cudnn_rnn`` op),
* peak GPU memory (``torch.cuda.max_memory_allocated``, reset per phase),
  and against the peer's.

Models: the main job's BiLSTM (``build_bilstm(vocab_size=30000,
num_classes=20, embedding_dim=50, units=96)``, zoo's defaults: spatial
dropout 0.1, dropout 0.35, max pooling, ``mask_zero=True``) and a 2x1024
stacked LSTM (``build_stacked_lstm(..., embedding_dim=256, units=1024,
num_layers=2)``, dropout 0.2), both compiled as the main job does (Adam
4e-3, clipnorm 1.0). Rows:

* ``keras``: the zoo model as built: its LSTMs run masked batches through
  the unmasked cuDNN kernel on each text's length (``zoo.layers.right_padded``,
  exact);
* ``keras, masked loop``: the same model on Keras' masked loop
  (``use_lengths=False``: zoo 0.3's path; float32 only, it is slow);
* ``keras, mask_zero=False``: the same model without the mask (the padding is
  then read as tokens, so this row only shows what masking costs at most);
* ``torch``: the same layers in plain PyTorch (embedding, channel dropout,
  ``nn.LSTM`` over a packed batch, masked max pooling, dropout, linear head;
  ``torch.optim.Adam``, per-tensor gradient clipping at 1.0), the peer row.

Language-model pretraining rows (each backend): train tokens/s and peak memory of
zoo's AWD-LSTM (``zoo.transfer.lm_ids.lm_train_throughput``) at ULMFiT's size
(3 x 1,150, embedding 400) and at the committed model's (2 x 256), batch 64 x
bptt 70, random ids.

Batches: lengths sampled (fixed seed) from ``bench/data/20newsgroups_lengths.json``
(real 20 Newsgroups train lengths after zoo's tokenizer, capped at the main
job's p90 sequence length; ``bench/make_lengths.py`` writes it), each batch
right-padded to its longest text and masked. Two batchings: ``random`` (each
batch's lengths drawn independently: most padding) and ``bucketed`` (as
zoo's pipeline batches: 16 batches' worth of lengths drawn, sorted, and a
batch cut from them, so similar lengths share a batch).

JAX rows (``--jax``, on by default when JAX is installed): the same Keras
rows on Keras' JAX backend, run by this script in a subprocess
(``--backend jax``: Keras fixes its backend at import); peak memory there is
JAX's ``peak_bytes_in_use`` (not reset between rows: a running maximum). Token ids and labels are
uniformly random: the throughput of an LSTM does not depend on the values.

Timing: per configuration and phase, warm-up steps, then up to ``--steps``
timed steps (each one synchronised: ``train_on_batch`` / ``predict_on_batch``
return host values; the torch row calls ``torch.cuda.synchronize``), fewer
when a phase passes ``--phase-seconds``; configurations are skipped, and
listed as skipped, once the run passes ``--budget`` seconds, so the full run
stays under 8 minutes.

``--dry-run`` runs everything on the CPU with tiny sizes (the kernel check
then says "no CUDA"). Without ``--dry-run`` a CUDA GPU is required.

Run from the repo root: ``PYTHONPATH=. python bench/gpu.py [--dry-run] [--output PATH]``.
"""

import os
import sys


def _backend_from_argv(argv):
    """``--backend NAME`` (the JAX rows' subprocess), else torch: read before Keras is imported."""
    for i, arg in enumerate(argv):
        if arg == "--backend" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--backend="):
            return arg.split("=", 1)[1]
    return "torch"


os.environ["KERAS_BACKEND"] = _backend_from_argv(sys.argv[1:])  # before keras is imported, here or by zoo
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import gc
import importlib.util
import json
import platform
import re
import subprocess
import tempfile
import time

STARTED = time.perf_counter()  # the --budget counts from here (imports and model builds included)


# ``import tensorflow`` raises ImportError from here on, as on a machine without it. Keras imports TensorFlow
# lazily when it is installed (e.g. to recognise a ``tf.TensorShape`` while serialising a layer config) and
# treats an ImportError as "not installed"; ``importlib.util.find_spec`` answers None. So this changes nothing
# on the GPU machine and proves, on one that has TensorFlow (the dry run here), that nothing below needs it.
sys.modules.setdefault("tensorflow", None)

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)  # zoo from the source tree when it is not installed

LENGTHS_FILE = os.path.join(REPO_ROOT, "bench", "data", "20newsgroups_lengths.json")
DEFAULT_OUTPUT = os.path.join(REPO_ROOT, "bench", "results", "gpu.json")

# name -> factory, its size arguments, the number of recurrent layers and whether they are bidirectional.
MODELS = {
    "bilstm 1x96 (main job)": dict(factory="build_bilstm", embedding_dim=50, units=96, num_layers=1,
                                   bidirectional=True, vocab_size=30000, num_classes=20),
    "stacked lstm 2x1024": dict(factory="build_stacked_lstm", embedding_dim=256, units=1024, num_layers=2,
                                bidirectional=False, vocab_size=30000, num_classes=20),
}
DRY_MODELS = {
    "bilstm 1x96 (main job)": dict(MODELS["bilstm 1x96 (main job)"], embedding_dim=8, units=8, vocab_size=1000),
    "stacked lstm 2x1024": dict(MODELS["stacked lstm 2x1024"], embedding_dim=8, units=16, vocab_size=1000),
}
# Language-model pretraining (zoo.transfer.lm_ids.lm_train_throughput: random ids, fixed windows, the AWD-LSTM
# of build_lstm_lm with its dropouts and sampled softmax, Adam + clipping as pretraining).
LM_MODELS = {
    "AWD-LSTM 3x1150 (ULMFiT size)": dict(units=1150, num_layers=3, embedding_dim=400, vocab_size=30000,
                                          batch_size=64, bptt=70),
    "AWD-LSTM 2x256 (committed)": dict(units=256, num_layers=2, embedding_dim=256, vocab_size=20000,
                                       batch_size=64, bptt=70),
}
DRY_LM_MODELS = {name: dict(spec, units=8, embedding_dim=8, vocab_size=200, batch_size=4, bptt=8)
                 for name, spec in LM_MODELS.items()}
IMPLS = ["keras", "keras, masked loop", "keras, mask_zero=False", "torch"]
BATCHINGS = ["random", "bucketed"]
BUCKETS = 16  # as zoo.data.text.make_dataset's default
PRECISIONS = ["float32", "mixed"]
LEARNING_RATE, CLIPNORM = 4e-3, 1.0  # the main job's (zoo.config INIT_DEFAULTS["vectors"])
RNN_KERNEL = re.compile(r"cudnn|rnn|lstm", re.IGNORECASE)


# === Machine ===


def _cpu_model():
    # As bench/_common.py's cpu_model: gpu.py travels alone (bench/gpu_bundle.sh carries zoo/, gpu.py and data/).
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info(torch, keras):
    """GPU, CUDA/cuDNN and library versions, without TensorFlow."""
    cuda = torch.cuda.is_available()
    info = {
        "gpu": torch.cuda.get_device_name(0) if cuda else None,
        "gpu_count": torch.cuda.device_count() if cuda else 0,
        "gpu_memory_gib": (round(torch.cuda.get_device_properties(0).total_memory / 2**30, 1) if cuda else None),
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "torch": torch.__version__,
        "keras": keras.__version__,
        "keras_backend": keras.backend.backend(),
        "tensorflow": None,  # never imported (blocked at the top of this file)
        "matmul_allow_tf32": torch.backends.cuda.matmul.allow_tf32,  # torch's defaults, left as they are
        "cudnn_allow_tf32": torch.backends.cudnn.allow_tf32,
        "cpu": _cpu_model(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    return info


def format_machine(info):
    gpu = f"{info['gpu']} ({info['gpu_memory_gib']} GiB)" if info["gpu"] else "no CUDA GPU"
    return (f"machine: {gpu}, CUDA {info['cuda']}, cuDNN {info['cudnn']}; torch {info['torch']}, "
            f"Keras {info['keras']} ({info['keras_backend']} backend), no TensorFlow; CPU {info['cpu']}, "
            f"{info['usable_cores']} cores, Python {info['python']}")


def markdown_table(rows, columns):
    lines = ["| " + " | ".join(h for _, h, _ in columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    for row in rows:
        cells = []
        for key, _, fmt in columns:
            value = row.get(key)
            cells.append("-" if value is None else (fmt.format(value) if fmt else str(value)))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# === Batches ===


def load_lengths(path):
    """The capped length histogram as (lengths, probabilities), and the file's description."""
    with open(path) as f:
        data = json.load(f)
    lengths = [int(n) for n, _ in data["histogram"]]
    counts = [int(c) for _, c in data["histogram"]]
    total = float(sum(counts))
    return lengths, [c / total for c in counts], data


class Batches:
    """Fixed-seed batches: lengths from the 20 Newsgroups histogram, random ids, right padding."""

    def __init__(self, np, lengths, probabilities, vocab_size, num_classes, max_length, seed):
        self.np = np
        self.lengths = np.minimum(np.asarray(lengths), max_length)
        self.p = np.asarray(probabilities)
        self.vocab_size, self.num_classes = vocab_size, num_classes
        self.rng = np.random.default_rng(seed)

    def make(self, batch_size, bucketed=False):
        """ids (batch, T) int32 with 0 after each text, labels, per-text lengths (all >= 1).

        ``bucketed``: as zoo's pipeline batches (similar lengths together): ``BUCKETS`` batches' worth of lengths
        are drawn and sorted, and the batch is one contiguous slice of them.
        """
        np = self.np
        if bucketed:
            pool = np.sort(self.rng.choice(self.lengths, size=batch_size * BUCKETS, p=self.p)).astype("int64")
            start = int(self.rng.integers(0, BUCKETS)) * batch_size
            lengths = self.rng.permutation(pool[start:start + batch_size])
        else:
            lengths = self.rng.choice(self.lengths, size=batch_size, p=self.p).astype("int64")
        width = int(lengths.max())
        ids = self.rng.integers(1, self.vocab_size, size=(batch_size, width), dtype="int32")
        ids[np.arange(width)[None, :] >= lengths[:, None]] = 0
        labels = self.rng.integers(0, self.num_classes, size=batch_size).astype("int32")
        return ids, labels, lengths


# === The two implementations ===


class KerasRunner:
    """The zoo model on Keras' torch (or JAX) backend, driven by train_on_batch / predict_on_batch."""

    def __init__(self, spec, precision, mixed_policy, mask_zero, use_lengths="auto"):
        import keras

        from zoo.models import factories
        from zoo.training.optimizers import compile_model

        keras.utils.clear_session()
        keras.config.set_dtype_policy(mixed_policy if precision == "mixed" else "float32")
        try:
            build = getattr(factories, spec["factory"])
            kwargs = dict(embedding_dim=spec["embedding_dim"], units=spec["units"], compile=False)
            if spec["factory"] == "build_stacked_lstm":
                kwargs["num_layers"] = spec["num_layers"]
            if not mask_zero:
                kwargs["mask_zero"] = False
            self.model = build(vocab_size=spec["vocab_size"], num_classes=spec["num_classes"], **kwargs)
            for layer in self.model.layers:  # the path of every recurrent layer (zoo.layers.right_padded)
                for sub in (layer.forward_layer, layer.backward_layer) if hasattr(layer, "forward_layer") else [layer]:
                    if hasattr(sub, "use_lengths"):
                        sub.use_lengths = use_lengths
            compile_model(self.model, learning_rate=LEARNING_RATE, clipnorm=CLIPNORM)
        finally:
            keras.config.set_dtype_policy("float32")
        self.settings = {k: v for k, v in _model_settings(self.model).items()}
        from zoo.models.cudnn import cudnn_report

        self.settings["keras_path"] = sorted({r["path"] for r in cudnn_report(self.model)})

    def train_step(self, x, y, lengths):
        self.model.train_on_batch(x, y)  # returns host floats: synchronised

    def infer_step(self, x, lengths):
        self.model.predict_on_batch(x)  # returns a numpy array: synchronised

    def close(self):
        import keras

        del self.model
        keras.utils.clear_session()


def _model_settings(model):
    """The settings that decide the kernel path, read back from the built Keras model."""
    import keras

    out = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.Embedding):
            out["mask_zero"] = bool(layer.mask_zero)
        if isinstance(layer, keras.layers.SpatialDropout1D):
            out["spatial_dropout"] = float(layer.rate)
        if isinstance(layer, keras.layers.Dropout) and layer.name == "head_dropout":
            out["dropout"] = float(layer.rate)
        if layer.name == "pooling":
            out["pooling"] = type(layer).__name__
    return out


class TorchRunner:
    """The peer: the same layers in plain PyTorch, nn.LSTM on a packed batch."""

    def __init__(self, spec, precision, mixed_dtype, device, dropouts):
        import torch
        from torch import nn

        self.torch, self.device = torch, device
        spatial, between, head = dropouts

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.embedding = nn.Embedding(spec["vocab_size"], spec["embedding_dim"])
                self.lstm = nn.LSTM(spec["embedding_dim"], spec["units"], num_layers=spec["num_layers"],
                                    batch_first=True, bidirectional=spec["bidirectional"],
                                    dropout=between if spec["num_layers"] > 1 else 0.0)
                width = spec["units"] * (2 if spec["bidirectional"] else 1)
                self.head_dropout = nn.Dropout(head)
                self.head = nn.Linear(width, spec["num_classes"])

            def forward(self, ids, lengths):
                x = self.embedding(ids)
                if self.training and spatial:  # SpatialDropout1D: whole channels per example
                    keep = torch.empty(x.shape[0], 1, x.shape[2], device=x.device, dtype=x.dtype)
                    x = x * keep.bernoulli_(1 - spatial) / (1 - spatial)
                packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
                out, _ = self.lstm(packed)
                out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=ids.shape[1])
                mask = (ids != 0).unsqueeze(-1)
                pooled = out.masked_fill(~mask, float("-inf")).amax(dim=1)  # every text has >= 1 token
                return self.head(self.head_dropout(pooled)).float()

        torch.manual_seed(0)
        self.net = Net().to(device)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=LEARNING_RATE)
        self.loss = nn.CrossEntropyLoss()
        self.amp_dtype = mixed_dtype if precision == "mixed" else None
        self.scaler = torch.amp.GradScaler(device.type, enabled=self.amp_dtype == torch.float16)

    def _autocast(self):
        return self.torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.amp_dtype is not None)

    def _sync(self):
        if self.device.type == "cuda":
            self.torch.cuda.synchronize()

    def train_step(self, x, y, lengths):
        torch = self.torch
        self.net.train()
        self.optimizer.zero_grad(set_to_none=True)
        with self._autocast():
            loss = self.loss(self.net(x, lengths), y.long())
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(self.optimizer)
        for p in self.net.parameters():  # Keras' clipnorm clips each gradient by its own norm
            torch.nn.utils.clip_grad_norm_([p], CLIPNORM)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self._sync()

    def infer_step(self, x, lengths):
        self.net.eval()
        with self.torch.no_grad(), self._autocast():
            self.net(x, lengths).softmax(-1)
        self._sync()

    def close(self):
        del self.net, self.optimizer


# === Measuring ===


def profile_kernels(torch, step):
    """Runs ``step`` under torch.profiler; which cuDNN/RNN kernels and ops ran."""
    if not torch.cuda.is_available():
        return {"cudnn_rnn": "no CUDA", "rnn_kernels": [], "cudnn_rnn_op": None, "cuda_kernels": 0}
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        step()
        torch.cuda.synchronize()
    kernels, ops = set(), set()
    count = 0
    for event in prof.events():
        if event.device_type == torch.autograd.DeviceType.CUDA:
            count += 1
            kernels.add(event.name)
        else:
            ops.add(event.name)
            kernels.update(k.name for k in getattr(event, "kernels", []))  # kernels attached to their CPU op
    rnn_kernels = sorted(k for k in kernels if RNN_KERNEL.search(k))
    cudnn_op = any("_cudnn_rnn" in o for o in ops)
    return {
        "cudnn_rnn": bool(rnn_kernels) or cudnn_op,
        "rnn_kernels": [k[:120] for k in rnn_kernels[:6]],
        "cudnn_rnn_op": cudnn_op,
        "cuda_kernels": count,  # kernel launches in one train step (the generic loop launches thousands)
    }


def _size(x):
    return int(x.numel()) if hasattr(x, "numel") else int(x.size)


def time_phase(step, batches, warmup, steps, phase_seconds):
    """Warm-up, then timed steps over distinct batches; (real tokens/s, padded steps/s, steps timed)."""
    for i in range(warmup):
        step(*batches[i % len(batches)])
    seconds, real, padded, n = 0.0, 0, 0, 0
    for i in range(steps):
        batch = batches[(warmup + i) % len(batches)]
        t0 = time.perf_counter()
        step(*batch)
        seconds += time.perf_counter() - t0
        real += int(batch[-1].sum())
        padded += _size(batch[0])
        n += 1
        if n >= 3 and seconds > phase_seconds:
            break
    return real / seconds, padded / seconds, n, seconds / n


class Memory:
    """Peak GPU memory of a phase: torch's (reset per phase), or JAX's running peak (it cannot be reset)."""

    def __init__(self, torch, device):
        self.torch, self.cuda = torch, device is not None and device.type == "cuda"

    def reset(self):
        if self.torch is not None and self.cuda:
            self.torch.cuda.empty_cache()
            self.torch.cuda.reset_peak_memory_stats()

    def peak_gib(self):
        if self.torch is not None:
            return self.torch.cuda.max_memory_allocated() / 2**30 if self.cuda else None
        import jax

        stats = jax.devices()[0].memory_stats() or {}
        return stats["peak_bytes_in_use"] / 2**30 if "peak_bytes_in_use" in stats else None


def measure(config, args, torch, np, device, sampler_args):
    """One row: a model, an implementation, a precision, a batch size and a batching."""
    model_name, impl, precision, batch_size, batching = config
    spec = args.models_spec[model_name]
    sampler = Batches(np, *sampler_args, spec["vocab_size"], spec["num_classes"], args.max_length,
                      seed=args.seed + batch_size)
    host = [sampler.make(batch_size, bucketed=batching == "bucketed") for _ in range(args.distinct_batches)]

    def to_device(ids, labels, lengths):
        # lengths stay on the host: pack_padded_sequence wants them there; they are also the real-token count
        if torch is None:  # JAX: Keras moves NumPy batches itself
            return ids, labels, lengths
        return (torch.from_numpy(ids).to(device), torch.from_numpy(labels).to(device), torch.from_numpy(lengths))

    batches = [to_device(*b) for b in host]
    train_batches = [(x, y, lengths) for x, y, lengths in batches]
    infer_batches = [(x, lengths) for x, _, lengths in batches]
    padding = 1 - sum(int(b[-1].sum()) for b in batches) / sum(_size(b[0]) for b in batches)

    memory = Memory(torch, device)
    memory.reset()
    if impl == "torch":
        runner = TorchRunner(spec, precision, args.mixed_torch_dtype, device, args.dropouts[model_name])
        settings = {}
    else:
        runner = KerasRunner(spec, precision, args.mixed_policy, mask_zero=impl != "keras, mask_zero=False",
                             use_lengths=False if impl == "keras, masked loop" else "auto")
        settings = runner.settings
    row = {"model": model_name, "impl": args.impl_labels[impl], "precision": args.precision_labels[precision],
           "batch": batch_size, "batching": batching, "padding_fraction": padding, **settings}
    try:
        train = time_phase(runner.train_step, train_batches, args.warmup, args.steps, args.phase_seconds)
        row["train_peak_gib"] = memory.peak_gib()
        memory.reset()
        infer = time_phase(runner.infer_step, infer_batches, args.warmup, args.steps, args.phase_seconds)
        row["infer_peak_gib"] = memory.peak_gib()
        key = (model_name, impl, precision)
        if torch is None:
            row["cudnn_rnn"] = "not profiled (JAX)"
        elif key not in args.profiled:  # the kernel path does not depend on the batch size: profile once
            args.profiled[key] = dict(profile_kernels(torch, lambda: runner.train_step(*train_batches[0])),
                                      profiled_at_batch=batch_size)
        row.update(args.profiled.get(key, {}))
    finally:
        runner.close()
        gc.collect()
    row.update({
        "train_tokens_per_second": train[0], "train_padded_steps_per_second": train[1],
        "train_steps_timed": train[2], "train_ms_per_step": train[3] * 1e3,
        "infer_tokens_per_second": infer[0], "infer_padded_steps_per_second": infer[1],
        "infer_steps_timed": infer[2], "infer_ms_per_step": infer[3] * 1e3,
    })
    return row


IMPL_LABELS = {"keras": "zoo Keras (torch backend)", "keras, masked loop": "zoo Keras, masked loop (0.3)",
               "keras, mask_zero=False": "zoo Keras, mask_zero=False", "torch": "PyTorch nn.LSTM (peer)"}
JAX_LABELS = {"keras": "zoo Keras (JAX backend)", "keras, masked loop": "zoo Keras (JAX), masked loop (0.3)"}
COLUMNS = [
    ("model", "model", None),
    ("impl", "implementation", None),
    ("precision", "precision", None),
    ("batch", "batch", None),
    ("batching", "batching", None),
    ("train_tokens_per_second", "train tokens/s", "{:,.0f}"),
    ("infer_tokens_per_second", "inference tokens/s", "{:,.0f}"),
    ("train_vs_peer", "train x peer", "{:.2f}"),
    ("cudnn_rnn", "cuDNN RNN ran", None),
    ("train_peak_gib", "train peak GiB", "{:.2f}"),
    ("train_peak_vs_peer", "peak x peer", "{:.2f}"),
    ("infer_peak_gib", "infer peak GiB", "{:.2f}"),
]


def add_ratios(rows):
    """Each row's train and inference throughput relative to the torch row of the same shape."""
    def shape(r):
        return r["model"], r["precision"], r["batch"], r["batching"]

    peers = {shape(r): r for r in rows if r["impl"] == IMPL_LABELS["torch"]}
    for row in rows:
        peer = peers.get(shape(row))
        row["train_vs_peer"] = row["train_tokens_per_second"] / peer["train_tokens_per_second"] if peer else None
        row["infer_vs_peer"] = row["infer_tokens_per_second"] / peer["infer_tokens_per_second"] if peer else None
        peaks = (row.get("train_peak_gib"), peer and peer.get("train_peak_gib"))
        row["train_peak_vs_peer"] = peaks[0] / peaks[1] if None not in peaks and peaks[1] else None


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dry-run", action="store_true", help="CPU, tiny sizes: a smoke test of the whole script")
    p.add_argument("--output", default=None, help=f"JSON result path (default {DEFAULT_OUTPUT})")
    p.add_argument("--batches", type=int, nargs="+", default=[32, 256, 1024])
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    p.add_argument("--impls", nargs="+", default=IMPLS, choices=IMPLS)
    p.add_argument("--batchings", nargs="+", default=BATCHINGS, choices=BATCHINGS)
    p.add_argument("--backend", default="torch", choices=["torch", "jax"],
                   help="Keras' backend of this process (jax: the JAX rows' subprocess, which --jax starts)")
    p.add_argument("--jax", action=argparse.BooleanOptionalAction, default=None,
                   help="also the JAX rows, in a subprocess (default: when JAX is installed)")
    p.add_argument("--jax-budget", type=float, default=130.0, help="the JAX subprocess's --budget")
    p.add_argument("--rows-json", default=None, help=argparse.SUPPRESS)  # where the JAX subprocess leaves its rows
    p.add_argument("--precisions", nargs="+", default=PRECISIONS, choices=PRECISIONS)
    p.add_argument("--mixed", default=None, choices=["float16", "bfloat16"],
                   help="the mixed-precision compute dtype (Keras mixed_<dtype>, torch.autocast); default float16, "
                        "bfloat16 with --dry-run (oneDNN's CPU LSTM has no float16 kernel)")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps per phase (the first pays for setup)")
    p.add_argument("--steps", type=int, default=10, help="most timed steps per phase")
    p.add_argument("--phase-seconds", type=float, default=2.5, help="stop timing a phase after this (>= 3 steps)")
    p.add_argument("--budget", type=float, default=270.0,
                   help="seconds since the script started after which no new torch configuration starts (the rest "
                        "are listed as skipped); the one under way finishes, then the JAX rows (--jax-budget), so "
                        "the run stays under 9 minutes")
    p.add_argument("--distinct-batches", type=int, default=4, help="different sampled batches cycled through")
    p.add_argument("--lengths", default=LENGTHS_FILE, help="the length histogram (bench/make_lengths.py)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.dry_run:
        args.batches, args.warmup, args.steps, args.distinct_batches = [4], 1, 2, 2
        args.max_length_cap = 16  # short texts: the generic Keras loop runs on the CPU
        args.mixed = args.mixed or "bfloat16"
    else:
        args.max_length_cap = None
        args.mixed = args.mixed or "float16"
    return args


def configurations(args):
    """(model, impl, precision, batch, batching) in the order they run: what the issue's goals need first, so
    the budget cuts the extras (0.3's masked loop, mask_zero=False, bucketed batches)."""
    configs = []
    for m in args.models:
        for precision in args.precisions:
            for b in args.batches:
                for batching in args.batchings:
                    for impl in args.impls:
                        if impl == "keras, masked loop" and precision != "float32":
                            continue  # 0.3's path: float32 shows it, and it is slow
                        if batching == "bucketed" and impl not in ("keras", "torch"):
                            continue
                        configs.append((m, impl, precision, b, batching))
    tier = {"keras": 0, "torch": 0, "keras, masked loop": 2, "keras, mask_zero=False": 3}

    def order(config):
        m, impl, precision, b, batching = config
        return tier[impl] + (1 if batching == "bucketed" else 0), args.models.index(m), precision != "float32", b

    return sorted(configs, key=order)


def jax_rows(args, argv):
    """Runs this script on Keras' JAX backend in a subprocess; its (rows, skipped, LM rows, LM skipped)."""
    with tempfile.TemporaryDirectory() as tmp:
        rows_json = os.path.join(tmp, "rows.json")
        command = [sys.executable, os.path.abspath(__file__), *argv, "--backend", "jax", "--rows-json", rows_json,
                   "--budget", str(args.jax_budget), "--impls", "keras", "keras, masked loop"]
        env = {**os.environ, "KERAS_BACKEND": "jax"}
        if args.dry_run:
            env["JAX_PLATFORMS"] = "cpu"
        proc = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        print(proc.stdout, end="", flush=True)
        if proc.returncode != 0:
            return [], [{"impl": JAX_LABELS["keras"], "error": proc.stderr.strip()[-600:]}], [], []
        with open(rows_json) as f:
            result = json.load(f)
    return result["rows"], result["skipped"], result["lm_rows"], result["lm_skipped"]


CONFIG_KEYS = ("model", "impl", "precision", "batch", "batching")
LM_COLUMNS = [("model", "language model", None), ("backend", "backend", None), ("batch", "batch", None),
              ("bptt", "bptt", None), ("tokens_per_second", "train tokens/s", "{:,.0f}"),
              ("peak_gib", "peak GiB", "{:.2f}")]


def lm_rows(args, np):
    """Language-model pretraining throughput on this process's backend, one row per model; (rows, skipped)."""
    import keras

    from zoo.transfer.lm_ids import lm_train_throughput

    rows, skipped = [], []
    for name, spec in (DRY_LM_MODELS if args.dry_run else LM_MODELS).items():
        spec = dict(spec)
        vocab_size = spec.pop("vocab_size")
        ids = np.random.default_rng(args.seed).integers(2, vocab_size, 200_000 if not args.dry_run else 2_000)
        try:
            result = lm_train_throughput(ids, vocab_size, steps=args.steps, warmup_steps=args.warmup + 1, **spec)
        except Exception as error:  # noqa: BLE001 (recorded, the run goes on)
            skipped.append({"model": name, "backend": keras.backend.backend(),
                            "error": f"{type(error).__name__}: {str(error)[:300]}"})
            print(f"  {name}: failed: {skipped[-1]['error']}", flush=True)
            continue
        peak = result["peak_memory_bytes"]
        rows.append({"model": name, "backend": result["backend"], "batch": spec["batch_size"], "bptt": spec["bptt"],
                     **{k: spec[k] for k in ("units", "num_layers", "embedding_dim")}, "vocab_size": vocab_size,
                     "tokens_per_second": result["tokens_per_second"], "steps_timed": result["steps"],
                     "peak_gib": peak / 2**30 if peak is not None else None})
        print(f"  {name} on {result['backend']}: {result['tokens_per_second']:,.0f} tokens/s", flush=True)
        keras.utils.clear_session()
    return rows, skipped


def run_configurations(args, torch, np, device, sampler_args, start):
    """Measures every configuration until the budget passes; (rows, skipped)."""
    rows, skipped = [], []
    for config in configurations(args):
        if time.perf_counter() - start > args.budget:
            skipped.append(dict(zip(CONFIG_KEYS, config)))
            continue
        try:
            row = measure(config, args, torch, np, device, sampler_args)
        except Exception as error:  # noqa: BLE001 (e.g. out of memory: recorded, the run goes on)
            skipped.append({**dict(zip(CONFIG_KEYS, config)), "error": f"{type(error).__name__}: {str(error)[:300]}"})
            print(f"  {config}: failed: {skipped[-1]['error']}", flush=True)
            gc.collect()
            if torch is not None and device.type == "cuda":
                torch.cuda.empty_cache()
            continue
        rows.append(row)
        print(f"  {row['model']} | {row['impl']} | {row['precision']} | batch {row['batch']} {row['batching']}: "
              f"train {row['train_tokens_per_second']:,.0f} tok/s, infer {row['infer_tokens_per_second']:,.0f} "
              f"tok/s, cuDNN {row['cudnn_rnn']} ({time.perf_counter() - start:.0f} s)", flush=True)
    if any("error" not in s for s in skipped):
        print(f"time budget of {args.budget:.0f} s passed: skipped {sum('error' not in s for s in skipped)} "
              f"configurations on {args.backend} (listed in the JSON)", flush=True)
    return rows, skipped


def main_jax(args):
    """The JAX rows (started by :func:`jax_rows`): the Keras rows on Keras' JAX backend, to ``--rows-json``."""
    import jax
    import keras
    import numpy as np

    if not args.dry_run and jax.default_backend() != "gpu":
        sys.exit(f"the JAX rows need JAX with CUDA (jax.default_backend() is {jax.default_backend()!r})")
    print(f"JAX {jax.__version__} on {jax.default_backend()}, Keras {keras.__version__} ({keras.backend.backend()})",
          flush=True)
    lengths, probabilities, lengths_info = load_lengths(args.lengths)
    args.max_length = min(lengths_info["sequence_length"], args.max_length_cap or 10**9)
    args.models_spec = DRY_MODELS if args.dry_run else MODELS
    args.mixed_policy = f"mixed_{args.mixed}"
    args.precision_labels = {"float32": "float32", "mixed": args.mixed_policy}
    args.impl_labels = JAX_LABELS
    args.profiled = {}
    rows, skipped = run_configurations(args, None, np, None, (lengths, probabilities), time.perf_counter())
    lm, lm_skipped = lm_rows(args, np)
    assert sys.modules.get("tensorflow") is None, "TensorFlow was imported"
    for row in rows + lm:
        row["jax"] = jax.__version__
    with open(args.rows_json, "w") as f:
        json.dump({"rows": rows, "skipped": skipped, "lm_rows": lm, "lm_skipped": lm_skipped}, f)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if args.backend == "jax":
        return main_jax(args)
    if args.dry_run:
        os.environ["KERAS_TORCH_DEVICE"] = "cpu"  # the CPU even on a GPU machine (read when keras is imported)
    import torch

    if not args.dry_run and not torch.cuda.is_available():
        sys.exit("bench/gpu.py needs a CUDA GPU (torch.cuda.is_available() is False); "
                 "use --dry-run for a CPU smoke test")
    import keras
    import numpy as np

    device = torch.device("cpu" if args.dry_run else "cuda")
    if device.type == "cpu":
        torch.set_num_threads(max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1))
    info = machine_info(torch, keras)
    print(format_machine(info), flush=True)
    args.impl_labels = IMPL_LABELS

    lengths, probabilities, lengths_info = load_lengths(args.lengths)
    args.max_length = min(lengths_info["sequence_length"], args.max_length_cap or 10**9)
    args.models_spec = DRY_MODELS if args.dry_run else MODELS
    args.mixed_policy = f"mixed_{args.mixed}"
    args.mixed_torch_dtype = getattr(torch, args.mixed)
    args.precision_labels = {"float32": "float32", "mixed": args.mixed_policy}
    # zoo's defaults for each factory, as the Keras rows are built: (spatial dropout, between layers, head).
    from zoo.models.factories import (  # imports no TensorFlow
        DEFAULTS,
        build_bilstm,
        build_stacked_lstm,
    )

    args.dropouts = {}
    for name, spec in args.models_spec.items():
        factory_defaults = {"build_bilstm": build_bilstm.defaults, "build_stacked_lstm": build_stacked_lstm.defaults}
        d = {**DEFAULTS, **factory_defaults[spec["factory"]]}
        args.dropouts[name] = (d["spatial_dropout"], d["dropout"], d["dropout"])
    args.profiled = {}
    mean_length = sum(n * p for n, p in zip(np.minimum(lengths, args.max_length), probabilities))
    print(f"lengths: 20 Newsgroups train after zoo's tokenizer ({lengths_info['num_texts']} texts), capped at "
          f"{args.max_length} (main job: p90 = {lengths_info['sequence_length']}), mean {mean_length:.0f}; "
          f"random ids; mixed precision = {args.mixed_policy}", flush=True)

    if args.dry_run:
        print("dry run: CPU, tiny sizes; the numbers test the script and are not a benchmark", flush=True)
    start = STARTED
    rows, skipped = run_configurations(args, torch, np, device, (lengths, probabilities), start)
    lm, lm_skipped = lm_rows(args, np)
    use_jax = args.jax if args.jax is not None else importlib.util.find_spec("jax") is not None
    if use_jax:
        more_rows, more_skipped, more_lm, more_lm_skipped = jax_rows(args, argv)
        rows, skipped, lm, lm_skipped = rows + more_rows, skipped + more_skipped, lm + more_lm, lm_skipped + more_lm_skipped
    add_ratios(rows)
    lm_table = markdown_table(lm, LM_COLUMNS)
    table = markdown_table(rows, COLUMNS)
    print("\n" + table)
    print("\nlanguage-model pretraining:\n" + lm_table)
    assert sys.modules.get("tensorflow") is None, "TensorFlow was imported"
    payload = {
        "script": "gpu",
        "machine": info,
        "settings": {
            "dry_run": args.dry_run, "device": device.type, "batches": args.batches, "models": args.models_spec,
            "impls": {k: IMPL_LABELS[k] for k in args.impls}, "precisions": args.precision_labels,
            "mixed_precision": f"{args.mixed_policy}: Keras dtype policy (LossScaleOptimizer for float16) and "
                               f"torch.autocast({args.mixed}) (GradScaler for float16)",
            "optimizer": f"Adam lr={LEARNING_RATE}, clipnorm={CLIPNORM} per gradient (the main job's)",
            "warmup_steps": args.warmup, "max_timed_steps": args.steps, "phase_seconds": args.phase_seconds,
            "budget_seconds": args.budget, "seed": args.seed, "max_length": args.max_length,
        },
        "data": {k: v for k, v in lengths_info.items() if k != "histogram"},
        "batches": "lengths sampled with a fixed seed from the length histogram, each batch right-padded to its "
                   "longest text (0 = padding, masked); token ids and labels uniformly random (an LSTM's "
                   "throughput does not depend on the values)",
        "timing": "tokens/s = real (non-padding) tokens of the timed steps / their wall time; every step "
                  "synchronised; peak memory = torch.cuda.max_memory_allocated, reset before each phase "
                  "(model and optimizer state included)",
        "cudnn_check": "torch.profiler on one train step per (model, implementation, precision): CUDA kernel "
                       "names matching cudnn|rnn|lstm, and the aten::_cudnn_rnn op",
        "rows": rows,
        "skipped": skipped,
        "lm_rows": lm,
        "lm_skipped": lm_skipped,
        "lm": "zoo.transfer.lm_ids.lm_train_throughput: build_lstm_lm (dropouts, sampled softmax), fixed windows of "
              "random ids, Adam with clipnorm 0.25; tokens/s of the timed steps",
        "seconds": time.perf_counter() - start,
        "table": table,
        "lm_table": lm_table,
    }
    path = args.output or DEFAULT_OUTPUT
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(payload, f, indent=2)
        f.write("\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
