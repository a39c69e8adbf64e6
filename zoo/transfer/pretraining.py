"""Pretraining an AWD-LSTM language model on text that installs offline: general English by default, Chinese
with ``people_daily`` (``zoo pretrain-lm``).

The corpus combines Wikipedia articles (bundled with gensim), Shakespeare's
plays, the King James Bible, the Python documentation and the GCIDE
dictionary (:mod:`zoo.data.corpus`), each capped at ``max_words_per_source``.
The vocabulary is built on the training documents; a seeded share of each
source's documents is held out for perplexity. The result is an artifact
directory (:mod:`zoo.transfer.pretrained`) that can be registered in the
manifest. TensorFlow's op determinism is on, so the same settings give the
same weights: an artifact's ``metadata.json`` holds the settings that
reproduce it. :func:`write_ids` stops after the tokenization and writes the
token ids to one file, which :mod:`zoo.transfer.lm_ids` trains from on any
Keras backend (a GPU machine without TensorFlow).
"""

import dataclasses
import os
import shutil
import sys
import time

from zoo.files import MARKER, atomic_directory, is_empty_folder
from zoo.lazy import lazy_module
from zoo.log import logger
from zoo.models.language_model import build_lstm_lm
from zoo.transfer import lm_ids, pretrained
from zoo.transfer.lm_ids import ARCHITECTURE, artifact_metadata
from zoo.version import __version__

# TensorFlow and scikit-learn (the corpus, its tokenization, train_lm): imported by pretrain() and write_ids() only,
# so that register() runs where neither is installed (zoo pretrain-lm --from-ids --register on JAX or PyTorch).
corpus = lazy_module("zoo.data.corpus")
data_tokenize = lazy_module("zoo.data.tokenize")
lm_training = lazy_module("zoo.training.language_model")
token_stream = lazy_module("zoo.data.token_stream")


def pretrain(config, output_dir, command=None):
    """Pretrains a language model with a :class:`zoo.config.PretrainConfig`; writes the artifact to ``output_dir``.

    Returns:
        ``(path, metadata)``.
    """
    import keras
    import tensorflow as tf

    settings = dataclasses.asdict(config)
    keras.utils.set_random_seed(config.seed)
    tf.config.experimental.enable_op_determinism()  # same settings, same perplexity
    start = time.time()
    data, vocab, train_stream, heldout_stream = tokenize(config)
    model = build_lstm_lm(len(vocab), seed=config.seed, **{k: settings[k] for k in ARCHITECTURE})
    result = lm_training.train_lm(model, train_stream, heldout_stream, epochs=config.epochs,
                                  batch_size=config.batch_size, bptt=config.bptt, learning_rate=config.learning_rate,
                                  seed=config.seed)
    versions = {"zoo": __version__, "tensorflow": tf.__version__, "keras": keras.__version__}
    metadata = artifact_metadata(config, data.sources, train_stream, heldout_stream, result, start, versions, command)
    path = pretrained.save_artifact(model, vocab, metadata, output_dir, overwrite=is_empty_folder(output_dir))
    lm_ids.log_result(metadata)
    return path, metadata


def tokenize(config):
    """The corpus of a :class:`zoo.config.PretrainConfig`, its vocabulary (built on the training documents) and
    both token streams.

    Returns:
        ``(corpus, vocab, train_stream, heldout_stream)``.

    Raises:
        DataError: the held-out documents give too few tokens for a perplexity.
    """
    data = corpus.load_corpus(config.sources.split(","), max_words_per_source=config.max_words_per_source,
                              seed=config.seed, heldout_fraction=config.heldout_fraction)
    vectorizer = token_stream.lm_vectorizer(data.train, max_tokens=config.vocab_size,
                                            standardize=data_tokenize.lm_corpus_standardizer(data.train))
    vocab = vectorizer.get_vocabulary()
    train_stream = token_stream.token_stream(vectorizer, data.train, seed=config.seed)
    heldout_stream = token_stream.token_stream(vectorizer, data.heldout)
    logger.info(f"vocabulary {len(vocab)}; {len(train_stream):,} training and {len(heldout_stream):,} held-out "
                "tokens")
    # Before training (and before --write-ids writes a file that cannot be trained from): documents are held out
    # whole, so a source capped to one document holds none out.
    whole = [f"{name} keeps {info['documents']} document" for name, info in data.sources.items()
             if info["documents"] < 2]
    why = f"documents are held out whole, and {', '.join(whole)}" if whole else "the held-out documents are too short"
    lm_ids.check_heldout(len(heldout_stream), "the corpus", f"{why}; pass a larger `max_words_per_source` or more "
                                                            "`sources`")
    return data, vocab, train_stream, heldout_stream


def write_ids(config, path, command=None):
    """``zoo pretrain-lm --write-ids``: tokenizes the corpus of a :class:`zoo.config.PretrainConfig` once, as
    :func:`pretrain` does, and writes the token streams, the vocabulary and the settings to one id file
    (:mod:`zoo.transfer.lm_ids`) that ``--from-ids`` trains from on any Keras backend.

    Returns:
        ``(meta, size)``: the file's metadata and its size in bytes.
    """
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(config.seed)  # as pretrain() before it tokenizes: the same streams
    data, vocab, train_stream, heldout_stream = tokenize(config)
    meta = {
        "settings": dataclasses.asdict(config),
        "corpus": {"sources": data.sources, "heldout_fraction": config.heldout_fraction},
        "train_tokens": len(train_stream),
        "heldout_tokens": len(heldout_stream),
        "standardize": lm_ids.STANDARDIZE,
        "versions": {"zoo": __version__, "tensorflow": tf.__version__, "keras": keras.__version__,
                     "python": sys.version.split()[0]},
        "command": command,
    }
    size = lm_ids.write_ids(path, train_stream, heldout_stream, vocab, meta)
    logger.info(f"wrote {path}: {size / 2**20:.1f} MiB")
    return lm_ids.read_ids(path, arrays=False).meta, size


def register(path, name):
    """Copies the artifact at ``path`` into :func:`zoo.transfer.pretrained.pretrained_dir` and lists it in the manifest."""
    pretrained.check_name(name)  # (first: a name such as "../x" would place the copy outside that folder)
    target = pretrained.pretrained_dir() / name
    with atomic_directory(target, overwrite=True, kind="artifact") as tmp:  # replaces only an artifact zoo wrote
        for entry in os.listdir(path):
            if entry != MARKER:
                shutil.copy2(os.path.join(path, entry), os.path.join(tmp, entry))
    return pretrained.register(target, name)


def compare_with(original_dir, path):
    """A line on how the artifact at ``path`` reproduces the one in ``original_dir`` (None if that has no weights)."""
    if not original_dir or not os.path.exists(os.path.join(original_dir, "weights.npz")):
        return None
    check = pretrained.compare(original_dir, path)
    return (f"reproduction of {original_dir}: weights "
            + ("identical" if check["identical_weights"] else f"differ (max |diff| {check['max_abs_diff']:.3g})")
            + f", vocabulary {'identical' if check['same_vocab'] else 'differs'}, held-out perplexity "
            f"{check['heldout_perplexity'][1]} (recorded {check['heldout_perplexity'][0]})")
