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
(the budget covers the comparison, not this refit). With a validation split,
once the comparison, the pair's blend and the calibration are chosen there,
the winner's n-gram path is fitted again on the training and validation texts
(``ngram_refit``, as ``fit`` does).

The budget is spent in estimates, never in wall-clock time, so the same data
and settings make the same choice on any machine (and whether a fine-tuned
language model was cached or not): words divided by throughputs measured on
a 2-core CPU (below). A faster machine only makes them pessimistic.
"""

import contextlib
import os
import tempfile
import time

import numpy as np

from zoo.data.datasets import split_indices
from zoo.data.inputs import check_pair, check_texts, label_targets
from zoo.data.labels import LabelIds
from zoo.data.tokenize import is_unspaced, token_count, unspaced_letters
from zoo.errors import DataError
from zoo.log import logger
from zoo.training.backups import data_fingerprint, open_backup, remove_backup
from zoo.training.fit_steps import refit_ngram, self_training_texts
from zoo.training.ngram_path import choose_blend_weight, ngram_logits
from zoo.training.stages import adaptive_epochs
from zoo.transfer.pretrained import list_pretrained, vocabulary

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
READS_SHARE = 0.5  # language_model: a model reads texts in a script without spaces when it knows this share
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
    if not is_unspaced(texts):
        return settings.auto_lm, None
    letters = unspaced_letters(texts)

    def reads(name):  # its vocabulary holds most of the characters of the texts (Chinese ones: Thai texts no)
        vocab = set(vocabulary(name))
        return sum(char in vocab for char in letters) >= READS_SHARE * len(letters)

    name = settings.auto_lm[len("lm:"):]
    if reads(name):
        return settings.auto_lm, None
    other = next((n for n in list_pretrained() if n != name and reads(n)), None)
    why = (f"the training texts are mostly in a script written without spaces; {name}'s vocabulary holds under "
           f"{READS_SHARE:.0%} of their characters")
    return (f"lm:{other}", f"{why}: {other} instead") if other else (None, why)


def word_count(texts):
    """The tokens of ``texts`` as zoo's tokenizer makes them, about (the estimates' unit): words between
    spaces, each character of a script written without spaces one (:func:`zoo.data.tokenize.token_count`)."""
    return int(sum(token_count(t) for t in texts))


def _capped_words(texts, cap):
    lengths = np.array([token_count(t) for t in texts] or [0])
    if not isinstance(cap, (int, np.integer)):
        cap = np.percentile(lengths, 90)
    return float(np.minimum(lengths, cap).sum())


def vector_seconds(settings, texts):
    """Estimated seconds of training the word-vector model (``epochs`` over words up to the p90 length)."""
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


def fit_auto(make_classifier, settings, params, texts, labels, validation_data=None, *, classes=None,
             lm_texts=None, unlabelled_texts=None):
    """Trains each candidate that fits the budget, scores them and the pair on validation, refits the winner.

    Args:
        make_classifier: ``TextClassifier`` (called with constructor
            arguments; this module does not import the estimator, which
            imports it).
        settings: the run's :class:`~zoo.config.ClassifierConfig`
            (``init="auto"``).
        params: the estimator's constructor arguments (``get_params()``: a
            ``tf.distribute.Strategy`` object stays one), each candidate's
            starting point.
        texts, labels, validation_data, classes, lm_texts, unlabelled_texts:
            as :meth:`zoo.text_classifier.TextClassifier.fit` takes them.

    Returns:
        ``(classifier, record)``: the fitted winner (with its pair partner
        as a companion when the pair won) and what auto compared and why it
        chose (``fit_record_.auto``).
    """
    texts = check_texts("texts", texts)
    # Encoded once, here: the candidates take the class ids (LabelIds) as they are.
    classes, y, _, encode = label_targets(labels, len(texts), classes)
    labels = LabelIds(y, classes)
    if validation_data is not None:
        valid_texts, valid_labels = check_pair("validation_data", validation_data)
        valid_texts = check_texts("validation texts", valid_texts)
        valid_y = encode(valid_labels)
        if len(valid_y) != len(valid_texts):
            raise DataError(f"validation_data: {len(valid_texts)} texts and {len(valid_y)} labels; expected one "
                            "label per text")
        validation_data = (valid_texts, LabelIds(valid_y, classes))
    lm_texts = check_texts("lm_texts", lm_texts) if lm_texts is not None else texts + (
        validation_data[0] if validation_data else [])
    refit = validation_data is None or not len(validation_data[0])
    if refit:  # hold out part of the labelled texts for the comparison, then train the winner on all
        keep, held = split_indices(labels.ids, settings.seed, test_size=HOLD_OUT)
        pick_data = ([texts[i] for i in keep], labels.take(keep))
        validation = ([texts[i] for i in held], labels.take(held))
    else:
        pick_data, validation = (texts, labels), validation_data
    fit_args = {"classes": classes, "lm_texts": lm_texts, "unlabelled_texts": unlabelled_texts}
    with contextlib.ExitStack() as stack:
        # The candidates share one fine-tuned language model; without a cache directory, a temporary one.
        cache = settings.lm_cache_dir or stack.enter_context(tempfile.TemporaryDirectory(prefix="zoo-auto-lm-"))
        params = {**params, "lm_cache_dir": cache}
        if settings.backup_dir:  # each training of the comparison resumes from a backup of its own, inside this one
            open_backup(settings.backup_dir, settings, data_fingerprint(
                texts, labels.ids, *((validation_data[0], validation_data[1].ids) if validation_data else ([], []))))
        results = _candidates(make_classifier, settings, params, pick_data, validation, fit_args)
        two = pair(results) if settings.auto_pair else None
        if two:
            results.append(_pair_entry(two, validation, classes))
        winner = best(results)
        if winner.get("members"):
            first, second = two
            chosen, partner = first["classifier"], second["classifier"]
            blend_weight = winner["blend_weight"]
        else:
            first, partner, chosen = winner, None, winner["classifier"]
            blend_weight = chosen.blend_weight_
        if refit:
            logger.info(f"init auto: training {winner['name']} again on all {len(texts)} labelled texts")
            hybrid = chosen.fit_record_.hybrid
            again = make_classifier(**{**params, **first["changes"], "backup_dir": _within(settings, "refit")})
            chosen = again.fit(texts, labels, validation_data=([], []), **fit_args, fixed_blend=(
                (hybrid["temperature"], blend_weight, hybrid["bigram_weight"], hybrid.get("weighting", "tfidf"))
                if hybrid else None))
            if partner is not None:  # its recurrent path only: the blend uses the first one's n-gram path
                partner = make_classifier(**{**params, **second["changes"], "hybrid": False,
                                             "backup_dir": _within(settings, "refit_partner")}).fit(
                    texts, labels, validation_data=([], []), **fit_args)
        if partner is not None:
            partner.ngram_, partner.blend_weight_ = None, 1.0
            chosen.companions_ = [partner]
            chosen.blend_weight_ = blend_weight
            if chosen.fit_record_.hybrid and not refit:  # (a refit's blend is the comparison's, fixed)
                chosen.fit_record_.hybrid = {**chosen.fit_record_.hybrid, "blend_weight": blend_weight,
                                             "valid_accuracy": winner["blend_scores"]}
            if not refit:  # the pair is another model than the one calibrated: its temperature, on validation
                chosen.calibrate(*validation)
        if not refit and settings.ngram_refit and chosen.ngram_ is not None:
            _refit_ngram_path(chosen, settings, pick_data, validation, unlabelled_texts)
    remove_backup(settings.backup_dir)
    results = [{k: v for k, v in r.items() if k not in ("classifier", "changes", "valid_paths")} for r in results]
    ties = sum(r.get("valid_accuracy") == winner["valid_accuracy"] for r in results) > 1
    logger.info(f"init auto: chose {winner['name']} (" + ", ".join(
        f"{r['name']} {r['valid_accuracy']:.4f}" if "valid_accuracy" in r else f"{r['name']} skipped"
        for r in results) + ")")
    return chosen, {
        "chose": winner["name"], "why": "the best validation accuracy" + (" (ties: the cheaper)" if ties else ""),
        "validation": "the validation split" if not refit else (
            f"a seeded {HOLD_OUT:.0%} of the labelled texts (the winner then trained on all)"),
        "candidates": results}


def _refit_ngram_path(chosen, settings, pick_data, validation, unlabelled_texts):
    """The winner's n-gram path fitted again on the training and validation texts, as ``fit`` does with
    ``ngram_refit`` (:func:`zoo.training.fit_steps.refit_ngram`): the candidates train without it, because the
    comparison, the pair's blend and the calibration are all chosen on the validation split; now nothing is."""
    texts = pick_data[0] + validation[0]
    chosen.ngram_ = refit_ngram(chosen.settings_, len(chosen.classes_), chosen.fit_record_.hybrid, texts,
                                np.concatenate([pick_data[1].ids, validation[1].ids]),
                                self_training_texts(settings, unlabelled_texts, texts))
    chosen.settings_ = chosen.settings_.replace(ngram_refit=True)


def _candidates(make_classifier, s, params, pick_data, validation, fit_args):
    """Each candidate trained and scored on ``validation``, or skipped when its estimate exceeds the budget."""
    budget, results, finetune = 60.0 * s.auto_budget, [], None
    lm_texts = fit_args["lm_texts"]
    spent = vector_seconds(s, pick_data[0])  # the vectors always run: the reference
    lm, why = language_model(s, pick_data[0])
    if why:
        logger.info(f"init auto: {why}")
    valid_y = validation[1].ids
    for name, changes in candidates(s):
        estimate = spent
        if name != "vectors" and lm is None:
            results.append({"name": name, "skipped": why})
            logger.info(f"init auto: skipping {name} ({why})")
            continue
        if name != "vectors":
            changes = {**changes, "init": lm}
            if finetune is None:  # decided once: the probe and ULMFiT share the fine-tuned language model
                finetune_cost = finetune_seconds(s, lm_texts)
                finetune = s.lm_finetune and spent + finetune_cost + probe_seconds(pick_data[0]) <= budget
                spent += finetune_cost if finetune else 0.0
            changes = {**changes, "lm_finetune": finetune}
            estimate = probe_seconds(pick_data[0]) if name == "lm_probe" else ulmfit_seconds(s, pick_data[0])
            if spent + estimate > budget:
                left = max(budget - spent, 0) / 60
                skipped = f"estimated {estimate / 60:.1f} min, {left:.1f} min of the budget left"
                results.append({"name": name, "estimated_minutes": round(estimate / 60, 1), "skipped": skipped})
                logger.info(f"init auto: skipping {name} ({skipped})")
                continue
            spent += estimate
        shown = ", ".join(f"{k}={v}" for k, v in changes.items() if v is not None)
        logger.info(f"init auto: candidate {name} ({shown})")
        began = time.time()
        # ngram_refit off: the comparison scores (and the pair blends and calibrates) on the validation split
        candidate = make_classifier(**{**params, **changes, "ngram_refit": False, "backup_dir": _within(s, name)})
        candidate.fit(*pick_data, validation_data=validation, **fit_args)
        paths = candidate.predict_paths(validation[0])  # (kept: the pair's entry averages them)
        accuracy = float(np.mean(paths["model"].argmax(-1) == valid_y))
        results.append({"name": name, "settings": {k: v for k, v in changes.items() if v is not None},
                        "estimated_minutes": round(estimate / 60, 1), "valid_accuracy": accuracy,
                        "seconds": round(time.time() - began, 1), "classifier": candidate, "changes": changes,
                        "valid_paths": paths})
        logger.info(f"init auto: {name} scored {accuracy:.4f} on the validation split")
    return results


def _pair_entry(two, validation, classes):
    """The pair's entry: the two candidates' recurrent probabilities averaged, then blended with the first
    one's n-gram path at the weight :func:`zoo.training.ngram_path.choose_blend_weight` picks on ``validation``."""
    first = two[0]["classifier"]
    y = validation[1].ids
    recurrent = np.mean([r["valid_paths"]["recurrent"] for r in two], axis=0)
    if first.ngram_ is None:  # hybrid=False: the average alone
        weight, scores = 1.0, {}
        accuracy = float(np.mean(recurrent.argmax(-1) == y))
    else:
        weight, scores = choose_blend_weight(recurrent, ngram_logits(first.ngram_, validation[0]), y)
        accuracy = scores["hybrid"]
    name = "+".join(r["name"] for r in two)
    logger.info(f"init auto: {name} (their recurrent paths averaged, weighing {weight:.2f} in the blend) scored "
                f"{accuracy:.4f} on the validation split")
    return {"name": name, "members": [r["name"] for r in two], "valid_accuracy": accuracy,
            "blend_weight": weight, "blend_scores": scores}


def _within(settings, name):
    """The backup folder of one of auto's trainings, inside the run's (None without one)."""
    return os.path.join(settings.backup_dir, f"auto_{name}") if settings.backup_dir else None
