"""Language-model pretraining without TensorFlow: the corpus tokenized once where TensorFlow is, into one id file,
then trained on any Keras backend (``zoo pretrain-lm --write-ids FILE``, then ``--from-ids FILE``).

An id file is one ``.npz`` archive without pickles (read with ``allow_pickle=False``):

* ``train``, ``heldout``: the token streams of :func:`zoo.transfer.pretraining.tokenize` (every document's ids
  after ``xxbos``, the training documents in a seeded order), in the smallest unsigned dtype that holds every
  id (``uint16`` for 20,000 tokens);
* ``vocab``: the vocabulary, a unicode array whose index is the token id;
* ``meta``: a JSON string: ``kind``, ``format``, the :class:`zoo.config.PretrainConfig` settings that wrote it,
  the corpus (documents and words of each source), the standardisation and the versions.

:func:`pretrain_from_ids` builds the same AWD-LSTM, reads the same truncated-BPTT windows as
``zoo.data.token_stream.lm_dataset`` (:mod:`zoo.training.lm_windows`, a ``keras.utils.PyDataset``), trains
with ``train_lm``'s optimizer (Adam, ``beta_2=0.99``, clipnorm 0.25, slanted triangular rates) and writes an artifact of :mod:`zoo.transfer.pretrained`'s format, which ``--init lm:PATH``
loads. On PyTorch or JAX nothing it imports imports TensorFlow or scikit-learn. :func:`lm_train_throughput`
times training steps on the current backend (``bench/``).

Example:

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "ids.npz")
>>> size = write_ids(path, [2, 3, 4, 2, 3], [2, 4], ["", "[UNK]", "xxbos", "the", "cat"], {"settings": {}})
>>> ids = read_ids(path)
>>> ids.train.dtype, ids.vocab[3], ids.meta["kind"]
(dtype('uint8'), 'the', 'zoo-lm-ids')
"""

import dataclasses
import importlib
import json
import os
import sys
import time
import zipfile
import zlib

import keras
import numpy as np

from zoo import interrupts
from zoo.errors import ConfigError, DataError
from zoo.files import atomic_file, is_empty_folder, sha256_file
from zoo.lazy import lazy_module
from zoo.log import fit_verbosity, logger
from zoo.models.language_model import build_lstm_lm
from zoo.training.lm_windows import LMWindows, TokenThroughput
from zoo.training.optimizers import make_optimizer
from zoo.training.schedules import learning_rate_schedule
from zoo.transfer import pretrained
from zoo.version import __version__

# train_lm is a TensorFlow program (tf.data, tf.distribute): imported only where Keras runs on TensorFlow.
lm_training = lazy_module("zoo.training.language_model")

KIND, FORMAT = "zoo-lm-ids", 1  # the id file's
ARRAYS = ("train", "heldout", "vocab", "meta")
# The settings that made the ids (the corpus, its split and order, the vocabulary): fixed by the file.
CORPUS_SETTINGS = ("sources", "max_words_per_source", "heldout_fraction", "vocab_size", "seed")
# PretrainConfig settings that are build_lstm_lm arguments.
ARCHITECTURE = ("embedding_dim", "num_layers", "embedding_row_dropout", "input_dropout", "hidden_dropout",
                "output_dropout", "weight_dropout", "num_sampled")
STANDARDIZE = "lower_and_strip_punctuation"  # lm_vectorizer's, and what save_artifact records by default
MIN_HELDOUT_TOKENS = 2  # what a held-out perplexity reads at least (a token and the next)


# === The id file ===


@dataclasses.dataclass
class LMIds:
    """An id file's contents: both token streams, the vocabulary (a list of str) and the metadata."""

    path: str
    train: np.ndarray
    heldout: np.ndarray
    vocab: list
    meta: dict


def write_ids(path, train, heldout, vocab, meta):
    """Writes an id file atomically (a temporary file beside ``path``, renamed over it); returns its size in bytes.

    ``meta`` (JSON-able) is stored after ``kind``, ``format`` and ``vocab_size``.
    """
    vocab = [str(token) for token in vocab]
    names = np.array(vocab, dtype=str)
    if names.tolist() != vocab:  # NumPy's fixed-width strings drop trailing NULs
        raise DataError("a vocabulary token ends in a NUL character, which the id file cannot hold")
    dtype = np.min_scalar_type(max(len(vocab) - 1, 0))
    streams = {}
    for name, stream in (("train", train), ("heldout", heldout)):
        stream = np.asarray(stream)
        if stream.ndim != 1 or (stream.size and (stream.min() < 0 or stream.max() >= len(vocab))):
            raise ValueError(f"`{name}` must be one stream of ids in [0, {len(vocab)}), got shape {stream.shape}")
        streams[name] = stream.astype(dtype)
    meta = {"kind": KIND, "format": FORMAT, "vocab_size": len(vocab), **meta}
    with atomic_file(path, binary=True) as f:
        np.savez_compressed(f, **streams, vocab=names, meta=np.array(json.dumps(meta, ensure_ascii=False)))
    return os.path.getsize(path)


def read_ids(path, arrays=True):
    """Reads an id file of :func:`write_ids`; with ``arrays=False`` only its metadata (quick: the settings).

    Raises:
        DataError: a missing file, or one that is not an id file of this format or is damaged (one line).
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DataError(f"{path}: no such id file (zoo pretrain-lm --write-ids FILE writes one)")
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise _not_ids(path, "one array, not an .npz archive")
        with loaded as npz:
            return _read(path, npz, arrays)
    except DataError:
        raise
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as error:
        reason = str(error).strip().splitlines()[0][:160] if str(error).strip() else type(error).__name__
        raise _not_ids(path, f"{type(error).__name__}: {reason}") from None


def _not_ids(path, reason):
    return DataError(f"{path}: not an id file of zoo pretrain-lm --write-ids, or a damaged one ({reason})")


def _read(path, npz, arrays):
    missing = [name for name in ARRAYS if name not in npz.files]
    if missing:
        raise _not_ids(path, f"no {', '.join(missing)} in it")
    meta = npz["meta"]
    if meta.dtype.kind != "U" or meta.ndim != 0:
        raise _not_ids(path, "its meta is not a JSON string")
    meta = json.loads(str(meta[()]))
    if not isinstance(meta, dict) or meta.get("kind") != KIND:
        raise _not_ids(path, f"kind {meta.get('kind') if isinstance(meta, dict) else None!r}, expected {KIND!r}")
    if meta.get("format") != FORMAT:
        raise DataError(f"{path}: id file format {meta.get('format')!r}, and this zoo reads format {FORMAT}; "
                        "write it again with this zoo's --write-ids")
    if not isinstance(meta.get("settings"), dict):
        raise _not_ids(path, "no settings in its meta")
    if not arrays:
        return LMIds(path, None, None, None, meta)
    vocab = npz["vocab"]
    if vocab.dtype.kind != "U" or vocab.ndim != 1 or len(vocab) != meta.get("vocab_size"):
        raise _not_ids(path, f"a vocabulary of {vocab.shape} {vocab.dtype}, expected {meta.get('vocab_size')} strings")
    streams = []
    for name in ("train", "heldout"):
        stream = npz[name]
        if stream.dtype.kind != "u" or stream.ndim != 1:
            raise _not_ids(path, f"{name} is {stream.shape} {stream.dtype}, expected one stream of unsigned ids")
        if stream.size and int(stream.max()) >= len(vocab):
            raise _not_ids(path, f"{name} has id {int(stream.max())}, beyond the vocabulary of {len(vocab)} tokens")
        streams.append(stream)
    return LMIds(path, streams[0], streams[1], vocab.tolist(), meta)


def check_settings(config, ids):
    """Raises ConfigError for a setting of ``config`` that made the ids (:data:`CORPUS_SETTINGS`) but differs."""
    for name in CORPUS_SETTINGS:
        wrote = ids.meta["settings"].get(name)
        if getattr(config, name) != wrote:
            raise ConfigError(name, f"`{name}` is {getattr(config, name)!r}, but {ids.path} was written with "
                                    f"{wrote!r}, and its ids depend on it; write another id file with --write-ids")


def check_heldout(tokens, what, remedy):
    """Raises DataError (before any training) when ``what`` holds fewer held-out tokens than a perplexity needs."""
    if tokens < MIN_HELDOUT_TOKENS:
        raise DataError(f"{what} gives {tokens:,} held-out tokens; expected at least {MIN_HELDOUT_TOKENS} for the "
                        f"held-out perplexity: {remedy}")


# === Truncated-BPTT windows (zoo.data.token_stream.lm_dataset reads the same) ===


# === Training ===


def _compile(lm, learning_rate, total_steps, clipnorm):
    """train_lm's optimizer: Adam with ``beta_2=0.99`` (as fastai), clipping, slanted triangular rates."""
    lm.compile(make_optimizer("adam", learning_rate_schedule("stlr", learning_rate, total_steps), clipnorm,
                              beta_2=0.99))


def fit_lm(lm, train_stream, heldout_stream, *, epochs, batch_size, bptt, learning_rate, seed=0, clipnorm=0.25,
           callbacks=(), verbose=None):
    """``zoo.training.language_model.train_lm`` on any backend; returns what it returns.

    On TensorFlow it is ``train_lm`` itself (tf.data and the stage runner), so that an id file trained there
    gives what ``zoo pretrain-lm`` gives from the corpus. Elsewhere the same stage is run here: why not
    ``run_stages``: it is a TensorFlow program (``tf.distribute`` scopes, ``tf.data`` passes replayed on
    resume), and a language model's training is one stage without freezing, early stopping or backups, so
    it is one ``fit`` over :class:`LMWindows` with the same optimizer, schedule over all steps, and clipping.

    Returns:
        ``{"history": per-epoch dicts, "perplexity": held-out perplexity, "steps": steps}``.
    """
    if keras.backend.backend() == "tensorflow":
        return lm_training.train_lm(lm, train_stream, heldout_stream, epochs=epochs, batch_size=batch_size, bptt=bptt,
                                    learning_rate=learning_rate, seed=seed, clipnorm=clipnorm, callbacks=callbacks,
                                    verbose=verbose)
    windows = LMWindows(train_stream, batch_size, bptt, seed=seed)
    logger.info(f"language model: {len(train_stream):,} tokens, {epochs} epoch(s) of {windows.steps} steps "
                f"(batch {batch_size} x bptt ~{bptt}) on {keras.backend.backend()}")
    _compile(lm, learning_rate, epochs * windows.steps, clipnorm)
    fit = lm.fit(windows, epochs=epochs, shuffle=False, verbose=fit_verbosity() if verbose is None else verbose,
                 callbacks=[interrupts.callback(), TokenThroughput(batch_size * bptt), *callbacks])
    done = len(next(iter(fit.history.values()), []))
    history = [{"stage": "language_model", **{k: float(v[i]) for k, v in fit.history.items()}} for i in range(done)]
    ppl = perplexity(lm, heldout_stream, batch_size=min(batch_size, 32), bptt=bptt)
    logger.info(f"held-out perplexity {ppl:.1f}")
    return {"history": history, "perplexity": ppl, "steps": windows.steps * epochs}


def perplexity(lm, stream, batch_size=32, bptt=70):
    """Full-softmax perplexity of ``lm`` on a token stream (fixed windows), as
    ``zoo.training.language_model.perplexity`` reads it, on any backend.

    A short stream is read as fewer, narrower rows rather than refused.
    """
    if len(stream) < 2:
        raise ValueError(f"a perplexity needs at least 2 tokens, got {len(stream)}")
    bptt = min(bptt, len(stream) - 1)
    batch_size = max(1, min(batch_size, len(stream) // (bptt + 1)))  # each row reads bptt + 1 tokens
    loss = lm.evaluate(LMWindows(stream, batch_size, bptt, variable=False), verbose=0, return_dict=True)["loss"]
    return float(np.exp(loss))


def pretrain_from_ids(config, ids_path, output_dir, command=None):
    """``zoo pretrain-lm --from-ids``: trains a language model on an id file, on the current Keras backend.

    Args:
        config: a :class:`zoo.config.PretrainConfig`; its :data:`CORPUS_SETTINGS` must be the file's.
        ids_path: an id file of ``zoo pretrain-lm --write-ids``.
        output_dir: the artifact directory to write (new, or an empty folder).
        command: the command line, for the metadata.

    Returns:
        ``(path, metadata)``, as :func:`zoo.transfer.pretraining.pretrain`.

    Raises:
        DataError: the file holds too few held-out tokens for the perplexity (before training).
    """
    ids = read_ids(ids_path)
    check_settings(config, ids)
    check_heldout(len(ids.heldout), ids_path, "write another id file with --write-ids, from more text (a larger "
                                              "`max_words_per_source` or more `sources`)")
    settings = dataclasses.asdict(config)
    backend = keras.backend.backend()
    keras.utils.set_random_seed(config.seed)
    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()  # as zoo pretrain-lm: the same ids, the same weights
    start = time.time()
    logger.info(f"{ids_path}: vocabulary {len(ids.vocab)}; {len(ids.train):,} training and "
                f"{len(ids.heldout):,} held-out tokens")
    model = build_lstm_lm(len(ids.vocab), seed=config.seed, **{k: settings[k] for k in ARCHITECTURE})
    result = fit_lm(model, ids.train, ids.heldout, epochs=config.epochs, batch_size=config.batch_size,
                    bptt=config.bptt, learning_rate=config.learning_rate, seed=config.seed)
    versions = {"zoo": __version__, backend: _version(backend), "keras": keras.__version__}
    metadata = artifact_metadata(
        config, ids.meta.get("corpus", {}).get("sources"), ids.train, ids.heldout, result, start, versions, command,
        backend=backend,
        ids={"file": os.path.basename(ids_path), "sha256": sha256_file(ids_path), "versions": ids.meta.get("versions")})
    path = pretrained.save_artifact(model, ids.vocab, metadata, output_dir, overwrite=is_empty_folder(output_dir),
                                   standardize=ids.meta.get("standardize", STANDARDIZE))
    log_result(metadata)
    return path, metadata


def artifact_metadata(config, sources, train_stream, heldout_stream, result, start, versions, command, **extra):
    """A pretrained artifact's ``metadata.json``, for :func:`pretrain_from_ids` and
    :func:`zoo.transfer.pretraining.pretrain` alike: the corpus, both streams' sizes, the held-out result, the
    settings that reproduce it, ``versions`` (with Python's added), the command, then ``extra``'s keys.

    Args:
        result: :func:`fit_lm`'s (or ``train_lm``'s) ``{"perplexity", "steps", "history"}``.
        start: the run's ``time.time()`` at its start.
    """
    return {
        "name": config.name,
        "corpus": {"sources": sources, "heldout_fraction": config.heldout_fraction},
        "train_tokens": len(train_stream),
        "heldout_tokens": len(heldout_stream),
        "heldout_oov_rate": round(float(np.mean(np.asarray(heldout_stream) == 1)), 4),
        "heldout_perplexity": round(result["perplexity"], 2),
        "steps": result["steps"],
        "final_train_loss": round(float(result["history"][-1]["loss"]), 4),
        "seed": config.seed,
        "settings": dataclasses.asdict(config),
        "train_seconds": round(time.time() - start, 1),
        "versions": {**versions, "python": sys.version.split()[0]},
        "command": command,
        **extra,
    }


def log_result(metadata):
    """Logs an artifact's held-out result from its metadata."""
    logger.info(f"held-out perplexity {metadata['heldout_perplexity']:.1f} on {metadata['heldout_tokens']:,} tokens "
                f"(OOV rate {metadata['heldout_oov_rate']:.3f})")


def _version(module):
    try:
        return importlib.import_module(module).__version__
    except (ImportError, AttributeError):
        return None


# === Timing (bench/) ===


class _StepClock(keras.callbacks.Callback):
    """When each training step ended: Keras hands a batch callback the step's loss as a Python number, so the
    step has finished on the device by then."""

    def __init__(self):
        super().__init__()
        self.ends = []

    def on_train_batch_end(self, batch, logs=None):
        self.ends.append(time.perf_counter())


def lm_train_throughput(ids, vocab_size, *, units, num_layers, embedding_dim, batch_size, bptt, steps,
                        warmup_steps=3, num_sampled=512, tie_weights=None, seed=0):
    """Tokens per second of language-model training steps on the current Keras backend and device.

    Builds :func:`zoo.models.language_model.build_lstm_lm` (the committed model's dropouts; every layer
    ``units`` wide, so weights are tied only where ``units == embedding_dim`` unless ``tie_weights`` says),
    compiles it as pretraining does and fits ``warmup_steps + steps`` windows of ``batch_size x bptt`` ids (the
    stream cycled where it is short). The windows have one fixed length, so JAX compiles once and every
    backend times the same work (pretraining's variable windows make JAX compile one step per length). Only
    the last ``steps`` are timed, each until its loss reached Python.

    Args:
        ids: a stream of token ids below ``vocab_size`` (an id file's ``train``, or random ids).
        vocab_size, units, num_layers, embedding_dim, num_sampled, tie_weights: the model
            (ULMFiT's AWD-LSTM: ``units=1150, num_layers=3, embedding_dim=400``; the committed model: 256, 2, 256).
        batch_size, bptt: the windows.
        steps, warmup_steps: timed steps, and untimed ones before them (compilation, autotuning; >= 1).

    Returns:
        ``{"tokens_per_second", "seconds", "steps", "tokens_per_step", "peak_memory_bytes", "backend"}``;
        ``peak_memory_bytes`` is the accelerator's peak (PyTorch and TensorFlow: since the model was built;
        JAX: since the process started), None on a CPU.
    """
    if warmup_steps < 1 or steps < 1:
        raise ValueError(f"`steps` and `warmup_steps` must be >= 1, got {steps} and {warmup_steps}")
    ids = np.asarray(ids).ravel()
    if ids.size == 0 or ids.min() < 0 or ids.max() >= vocab_size:
        raise ValueError(f"`ids` must be token ids in [0, {vocab_size}), got {ids.size} ids")
    total = warmup_steps + steps
    ids = np.resize(ids, max(ids.size, batch_size * (total * bptt + 1)))
    windows = LMWindows(ids, batch_size, bptt, variable=False)
    _peak_memory(reset=True)
    keras.utils.set_random_seed(seed)
    lm = build_lstm_lm(vocab_size, embedding_dim=embedding_dim, units=units, num_layers=num_layers,
                       num_sampled=num_sampled, seed=seed,
                       tie_weights=units == embedding_dim if tie_weights is None else tie_weights)
    _compile(lm, 1e-3, total, 0.25)
    clock = _StepClock()
    lm.fit(windows, epochs=1, steps_per_epoch=total, shuffle=False, verbose=0, callbacks=[clock])
    seconds = clock.ends[-1] - clock.ends[warmup_steps - 1]
    return {"tokens_per_second": steps * batch_size * bptt / seconds, "seconds": seconds, "steps": steps,
            "tokens_per_step": batch_size * bptt, "peak_memory_bytes": _peak_memory(),
            "backend": keras.backend.backend()}


def _peak_memory(reset=False):
    """The accelerator's peak memory in bytes as the backend reports it (None on a CPU); ``reset`` starts anew."""
    backend = keras.backend.backend()
    if backend == "torch":
        import torch

        if not torch.cuda.is_available():
            return None
        if reset:
            torch.cuda.reset_peak_memory_stats()
        return int(torch.cuda.max_memory_allocated())
    if backend == "jax":
        import jax

        device = jax.devices()[0]
        stats = device.memory_stats() if device.platform != "cpu" else None  # JAX has no reset
        return int(stats["peak_bytes_in_use"]) if stats and "peak_bytes_in_use" in stats else None
    if backend == "tensorflow":
        import tensorflow as tf

        if not tf.config.list_logical_devices("GPU"):
            return None
        if reset:
            tf.config.experimental.reset_memory_stats("GPU:0")
        return int(tf.config.experimental.get_memory_info("GPU:0")["peak"])
    return None
