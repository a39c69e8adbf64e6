"""``init="auto"``: which transfer to train, chosen on a validation split within a time budget.

Which transfer helps depends on the data (a held-out review set gained 8
points from the language model, a sentence set lost 4), so ``auto`` tries them
and keeps the best, on validation accuracy only, never on test:

1. the word vectors (``auto_vectors``): always, first, as the reference;
2. a linear probe on the language model (``auto_lm``) with mean-pooled states:
   the best transfer with a few hundred labels in ``docs/ulmfit.md``. Its
   language model is fine-tuned on the task's texts first when the estimated
   fine-tuning fits the budget left, else used as it is;
3. ULMFiT's full fine-tuning of that classifier, when its estimated time fits
   what is left.

For texts in a script written without spaces (Chinese, Japanese) whose
``auto_lm`` has a vocabulary in another script, 2 and 3 use a committed
language model of their script (``zh-pd1998-char-lm``), or are skipped without
one (:func:`language_model`).

Every candidate is a hybrid (``hybrid=True``) whose blend weight may come out
1.0 (the recurrent model alone), so "with or without the n-gram path" is part
of each comparison. With ``auto_pair`` (the default) one more entry is
scored: the two best candidates together (:func:`pair`), their recurrent
paths' probabilities averaged and blended once with the n-gram path, the
weight chosen on the same validation split as each candidate's own. It costs
no training to score (both are trained already); it wins only if its
validation accuracy is higher than each candidate's alone, ties going to the
single candidate. Why: a word-vector BiLSTM and a language model's probe
err on different texts, and averaging two different models is the classic
remedy for the variance of either on few labels (Mesnil et al. 2014 ensemble
an RNN language model with NBSVM for the same reason). Without a validation
split (``--labels N``), a seeded, stratified 20% of the labelled texts is held
out for the comparison, and the winner (a pair: both) is then trained again on
all of them, keeping the blend weight and temperature the comparison chose
(the budget covers the comparison, not this refit).

The budget is spent in estimates, never in wall-clock time, so the same data
and settings make the same choice on any machine (and whether a fine-tuned
language model was cached or not): words divided by throughputs measured on
a 2-core CPU (below). A faster machine only makes them pessimistic.
"""

import numpy as np

# 0.2's fine-tuning of the committed language model on 20 Newsgroups: 14 epochs of 1,966,231 tokens in
# 1,406 s (docs/results/ulmfit-0.3/probe-mean-200/metrics.json, "language_model").
LM_TOKENS_PER_SECOND = 19_000
# 0.2's ensemble-1000: five ULMFiT classifiers, 10 epochs each of 1,000 documents cut at 256 tokens, in
# 2,158 s (docs/results/ulmfit-0.2/ensemble-1000): about 4,700 tokens/s with backpropagation through the encoder.
CLASSIFIER_TOKENS_PER_SECOND = 4_700
# The BiLSTM from word vectors, 0.3's runs: 42,000 words/s on 20 Newsgroups, 40,000 on the KJV verses,
# 24,000 on the Shakespeare scenes, 17,000 on SMS spam (epochs x words up to the p90 length / train seconds).
VECTOR_WORDS_PER_SECOND = 25_000
# The linear probe: the encoder's forward pass over the training texts (0.3's probe-mean-200: 200 documents
# cut at 256 tokens, features and fit in 5.9 s).
PROBE_WORDS_PER_SECOND = 9_000
HOLD_OUT = 0.2
# Settings that belong to the word-vector model; the language model brings its own.
_VECTOR_ONLY = ("model", "units", "num_layers", "embedding_dim", "vectors_format", "frozen_epochs")


def candidates(settings):
    """The candidates' settings changes, in the order they are tried, with a name each.

    Example:

    >>> from zoo.config import ClassifierConfig
    >>> [name for name, _ in candidates(ClassifierConfig(init="auto"))]
    ['vectors', 'lm_probe', 'ulmfit']
    """
    lm = {name: None for name in _VECTOR_ONLY if name != "frozen_epochs"}
    return [
        ("vectors", {"init": settings.auto_vectors}),
        ("lm_probe", {**lm, "init": settings.auto_lm, "probe": True, "pooling": "mean"}),
        ("ulmfit", {**lm, "init": settings.auto_lm}),
    ]


def language_model(settings, texts):
    """``(init, why)``: the language model the candidates use, ``auto_lm`` or, where that one cannot read
    ``texts``, a committed one that can (``why`` says so); ``(None, why)`` when none can.

    A model cannot read texts in a script written without spaces (Chinese, Japanese) when its vocabulary is
    not in that script: the English models would see every Chinese text as unknown tokens, and fine-tuning
    on it would spend the budget for nothing (issue "zoo reads Chinese").
    """
    from zoo.data.tokenize import is_unspaced
    from zoo.transfer.pretrained import list_pretrained, vocabulary

    if not is_unspaced(texts):
        return settings.auto_lm, None

    def reads(name):
        vocab = vocabulary(name)
        return is_unspaced(vocab, limit=len(vocab))

    name = settings.auto_lm[len("lm:"):]
    if reads(name):
        return settings.auto_lm, None
    other = next((n for n in list_pretrained() if n != name and reads(n)), None)
    why = f"the training texts are mostly Han or kana characters; {name}'s vocabulary is not"
    return (f"lm:{other}", f"{why}: {other} instead") if other else (None, why)


def word_count(texts):
    """The tokens of ``texts`` as zoo's tokenizer makes them, about (the estimates' unit): words between
    spaces, each Han or kana character one (:func:`zoo.data.tokenize.token_count`)."""
    from zoo.data.tokenize import token_count

    return int(sum(token_count(t) for t in texts))


def _capped_words(texts, cap):
    from zoo.data.tokenize import token_count

    lengths = np.array([token_count(t) for t in texts] or [0])
    if not isinstance(cap, (int, np.integer)):
        cap = np.percentile(lengths, 90)
    return float(np.minimum(lengths, cap).sum())


def vector_seconds(settings, texts):
    """Estimated seconds of training the word-vector model (``epochs`` over words up to the p90 length)."""
    from zoo.training.stages import adaptive_epochs

    epochs = settings.epochs or adaptive_epochs(len(texts), settings.batch_size, settings.min_steps)
    return epochs * _capped_words(texts, None) / VECTOR_WORDS_PER_SECOND


def probe_seconds(texts):
    """Estimated seconds of the linear probe's features and fit."""
    return _capped_words(texts, 256) / PROBE_WORDS_PER_SECOND


def finetune_seconds(settings, lm_texts):
    """Estimated seconds of fine-tuning the language model on ``lm_texts``."""
    return settings.lm_epochs * word_count(lm_texts) / LM_TOKENS_PER_SECOND


def ulmfit_seconds(settings, texts, num_groups=4):
    """Estimated seconds of ULMFiT's classifier training (one epoch per unfrozen group, then ``epochs``)."""
    cap = 256 if settings.sequence_length is None else settings.sequence_length
    epochs = (settings.epochs or 10) + (num_groups - 1 if settings.gradual_unfreezing else 0)
    return epochs * _capped_words(texts, cap) / CLASSIFIER_TOKENS_PER_SECOND


def best(results):
    """The result with the highest validation accuracy; ties go to the earlier (cheaper) candidate.

    Example:

    >>> best([{"name": "a", "valid_accuracy": 0.5}, {"name": "b", "valid_accuracy": 0.5}])["name"]
    'a'
    """
    scored = [r for r in results if r.get("valid_accuracy") is not None]
    return scored[int(np.argmax([r["valid_accuracy"] for r in scored]))]


def pair(results):
    """The two best scored candidates, best first (ties: the earlier first), or None with fewer than two.

    Example:

    >>> scored = [{"name": "a", "valid_accuracy": 0.5}, {"name": "b", "skipped": "..."},
    ...           {"name": "c", "valid_accuracy": 0.6}, {"name": "d", "valid_accuracy": 0.5}]
    >>> [r["name"] for r in pair(scored)]
    ['c', 'a']
    """
    scored = [r for r in results if r.get("valid_accuracy") is not None and not r.get("members")]
    if len(scored) < 2:
        return None
    return sorted(scored, key=lambda r: -r["valid_accuracy"])[:2]  # (sorted is stable: ties keep their order)
