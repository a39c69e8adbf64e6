"""Training procedure: start from another task's trained classifier (``init="model:RUN_DIR"``): its architecture
and weights, the embedding remapped to this vocabulary, a new head trained alone first, then everything
(:func:`zoo.training.from_vectors.plan`)."""

import keras

from zoo.backend import require_tensorflow

require_tensorflow("zoo.training.from_classifier (the text pipeline)")

from zoo.config import DEFAULT_MODEL, init_kind
from zoo.data.text import make_vectorizer
from zoo.data.tokenize import standardizer, standardizer_name
from zoo.errors import ConfigError
from zoo.log import logger
from zoo.training.from_vectors import build_model, plan, train_model
from zoo.transfer.classifier import (
    ARCHITECTURE,
    remapped_embedding,
    transfer_classifier,
)


def train(steps, source):
    """The source's architecture and weights (embedding remapped, new head), then the staged fine-tuning: a
    :class:`~zoo.training.fit_steps.Trained`.

    ``source``: the classifier ``init="model:RUN_DIR"`` names, loaded (``TextClassifier.load(RUN_DIR)``).
    """
    model = build_from(steps, source)
    steps.cudnn(model)
    train_model(steps, model)
    return steps.trained()


def start(steps, source):
    """The model :func:`train` starts from, with its first stage (the new head alone) and optimizer options."""
    model = build_from(steps, source)
    return model, plan(steps, model)[0], steps.run_options(None, None)["optimizer_options"]


def build_from(steps, source):
    """The model on this task's vocabulary with the source's architecture and weights, a new head."""
    s = steps.s
    steps.record.procedure = "from_classifier"
    run_dir = s.init[len("model:"):]
    if init_kind(source.settings_.init) not in ("vectors", "none"):
        raise ConfigError("init", f"`init` {s.init!r}: that classifier was trained with init="
                                  f"{source.settings_.init!r}; init model: takes one trained with word vectors "
                                  "or init none")
    # A source that itself started from a classifier keeps that one's architecture in its fit record.
    arch = (source.fit_record_.transfer or {}).get("architecture") or {
        name: getattr(source.settings_, name) for name in ARCHITECTURE}
    steps.architecture = arch
    standardize = standardizer_name(source.vectorizer_.get_config()["standardize"])
    steps.vectorize(make_vectorizer(steps.texts, max_tokens=s.max_tokens, standardize=standardizer(standardize)))
    vocabulary = steps.vectorizer.get_vocabulary()
    # The embedding starts remapped to this vocabulary (the model is built on it); then the other layers.
    steps.embeddings, _ = remapped_embedding(
        keras.ops.convert_to_numpy(source.model_.get_layer("embedding").embeddings),
        source.vectorizer_.get_vocabulary(), vocabulary)
    model = build_model(steps)
    copied, hits = transfer_classifier(source.model_, source.vectorizer_.get_vocabulary(), model, vocabulary)
    words = len(vocabulary) - 2
    steps.record.transfer = {"source": run_dir, "source_classes": len(source.classes_), "copied_layers": copied,
                             "vocabulary_known": round(hits / max(words, 1), 4), "standardize": standardize,
                             "architecture": arch}
    logger.info(f"init {s.init}: {len(copied)} layers from a {len(source.classes_)}-class "
                f"{arch['model'] or DEFAULT_MODEL} ({', '.join(copied)}); {hits} of the {words} words known to it; "
                "a new head")
    return model
