"""Training procedure: start from word vectors (``init="glove-6b-50d"``, a file, ``gensim:NAME``) or a random
embedding (``init="none"``); then the staged training (:func:`zoo.training.stages.word_vector_stages`: the
embedding frozen for ``frozen_epochs``, then everything at ``finetune_lr_factor``).

:func:`train` is the whole procedure (:func:`start` its starting point); ``zoo tune`` runs its parts (:func:`prepare` once, then
:func:`build_model` and :func:`train_model` per trial) and :mod:`zoo.training.from_classifier` its last two.
"""

import time

from zoo.backend import require_tensorflow

require_tensorflow("zoo.training.from_vectors (the text pipeline)")

from zoo.config import DEFAULT_MODEL, init_kind
from zoo.data.text import make_vectorizer
from zoo.data.tokenize import is_unspaced, standardizer, unspaced_share
from zoo.lazy import lazy_module
from zoo.log import logger
from zoo.models.registry import get_model
from zoo.training.backups import remove_backup
from zoo.training.freezing import layer_groups
from zoo.training.stages import class_weights, run_stages, word_vector_stages

vectors = lazy_module("zoo.transfer.vectors")  # (gensim: imported when word vectors are loaded)


def train(steps):
    """Word vectors (or a random embedding), the model built on them and trained: a
    :class:`~zoo.training.fit_steps.Trained`."""
    steps.record.procedure = "word_vectors"
    prepare(steps)
    model = build_model(steps)
    steps.cudnn(model)
    train_model(steps, model)
    return steps.trained()


def start(steps):
    """The model :func:`train` starts from, untrained, with its first stage and optimizer options (the
    learning-rate range test's starting point, :mod:`zoo.training.lr_find`)."""
    prepare(steps)
    model = build_model(steps)
    return model, plan(steps, model)[0], steps.run_options(None, None)["optimizer_options"]


def prepare(steps):
    """The vocabulary, sequence length, ids and the embedding matrix (done once per search in tuning)."""
    s = steps.s
    steps.vectorize(make_vectorizer(steps.texts, max_tokens=s.max_tokens, standardize=standardizer(s.standardize)))
    steps.embeddings = None
    if init_kind(s.init) == "vectors":
        name = vectors_for(s.init, steps.texts)
        loaded = vectors.load_vectors(name, format=s.vectors_format, allow_pickle=s.allow_pickle)
        steps.embeddings, coverage = vectors.embedding_matrix(loaded, steps.vectorizer.get_vocabulary(), seed=s.seed)
        steps.record.vector_coverage = {**coverage.to_dict(), "vectors": name}
        logger.info(str(coverage))


def build_model(steps):
    """The model for ``steps``' settings, vocabulary and embedding start, in its strategy's scope."""
    with steps.strategy.scope():
        return build_classifier(steps.s, len(steps.vectorizer.get_vocabulary()), len(steps.classes),
                                steps.embeddings, steps.architecture)


def plan(steps, model=None):
    """The stages: with pretrained vectors the embedding frozen first; ``init model:`` the new head alone first."""
    s = steps.s
    if init_kind(s.init) == "model":  # the new head alone first, then everything
        below = tuple(name for name, _ in layer_groups(model) if name != "head")
        return word_vector_stages(steps.adaptive_epochs(), s.learning_rate, s.lr_schedule, s.frozen_epochs,
                                  s.finetune_lr_factor, frozen_groups=below, frozen_name="new_head")
    return word_vector_stages(steps.adaptive_epochs(), s.learning_rate, s.lr_schedule, s.frozen_epochs,
                              s.finetune_lr_factor, pretrained=steps.embeddings is not None)


def train_model(steps, model, stages=None, log_dir=None):
    """Runs ``stages`` (default :func:`plan`) on ``model``; sets ``steps.model`` (a plain copy) and ``history``."""
    s = steps.s
    weights = class_weights(steps.y, s.class_weight)
    if weights:
        logger.info(f"class weights: {weights}")
    train_ds, valid_ds = steps.datasets(s.seed)
    backup = steps.backup_dir()
    start = time.time()
    steps.history = run_stages(model, stages or plan(steps, model), train_ds, valid_ds, class_weight=weights,
                               **steps.run_options(backup, log_dir or s.log_dir))
    steps.record.train_seconds = round(time.time() - start, 1)
    steps.record.epochs_run = len(steps.history)
    steps.record.model = (steps.architecture or {}).get("model") or s.model or DEFAULT_MODEL
    steps.model = steps.local_copy(model)
    remove_backup(backup)  # the training is complete: a rerun starts afresh


def build_classifier(settings, vocab_size, num_classes, embeddings=None, architecture=None):
    """The word-vector path's model: ``settings.model`` with the knobs that are set, the embedding at ``embeddings``.

    ``architecture`` (init model:) overrides the model and its shape settings with the source classifier's.
    """
    settings = settings.replace(init="none", **architecture) if architecture else settings
    kwargs = {k: getattr(settings, k) for k in ("units", "num_layers", "cell", "pooling", "dropout",
                                                "spatial_dropout", "recurrent_dropout", "l1", "l2")
              if getattr(settings, k) is not None}
    if embeddings is not None:
        kwargs["embeddings"] = embeddings
    elif settings.embedding_dim is not None:
        kwargs["embedding_dim"] = settings.embedding_dim
    if settings.multi_label:
        kwargs["multi_label"] = True  # one sigmoid per label
    return get_model(settings.model or DEFAULT_MODEL, vocab_size, num_classes, compile=False, **kwargs)


def vectors_for(init, texts):
    """The word vectors ``init`` names, or, when it names zoo's English default (GloVe 6B 50d) and the training
    texts are mostly Chinese or Japanese (Han or kana characters), zoo's Chinese character vectors.

    Why: GloVe 6B is English; on Chinese reviews it covered 0.7% of the vocabulary (issue "zoo reads Chinese"),
    so the default start would be a random one. Any other vectors (a file, gensim:NAME) are used as given.
    """
    if init != vectors.DEFAULT_VECTORS or not is_unspaced(texts, han_or_kana=True):
        return init
    share = unspaced_share(texts, han_or_kana=True)
    logger.info(f"{share:.0%} of the training texts' letters are Han or kana characters: init "
                f"{vectors.CHINESE_CHAR_VECTORS} (zoo's Chinese character vectors) instead of "
                f"{vectors.DEFAULT_VECTORS} (English)")
    return vectors.CHINESE_CHAR_VECTORS
