"""Language-model fine-tuning on 20 Newsgroups, with a linear probe on a dev split every second epoch.

Runs ``zoo.transfer.ulmfit.finetune_lm`` with the recipe's settings (epochs, batch size
and peak rate may be given) into ``recipes/ulmfit_study.py``'s cache, so the
study reuses the model, and after every second epoch prints the accuracy of a
linear probe (logistic regression on the encoder's pooled features) fitted on
the study's 200- and 1,000-label subsets and scored on 1,500 other train
documents. The test split is never read. This is how the default of 14
language-model epochs was chosen.

    python recipes/ulmfit_lm_curve.py --lm-epochs 14

The flags are checked as zoo's settings are, before anything loads: a bad
value is one line and exit code 2, and every other zoo error one line and its
own code (Ctrl-C: 130, SIGTERM: 143).
"""

import os
import time

from zoo.cli.flags import ArgumentParser, one_line_errors
from zoo.config import ClassifierConfig, DataConfig, resolve_init_defaults
from zoo.errors import ExportError


def dev_probe(lm, vectorizer, texts, labels, subsets, dev, settings):
    """Dev accuracy of a logistic-regression probe on the pooled features, per label budget."""
    import keras
    import numpy as np

    from zoo.data.text import predict_in_order, vectorize
    from zoo.models.ulmfit_classifier import build_ulmfit_classifier
    from zoo.transfer.encoder import transfer_encoder
    from zoo.transfer.ulmfit import fit_linear_head

    clf = build_ulmfit_classifier(lm.lm_config, len(vectorizer.get_vocabulary()), int(labels.max()) + 1,
                                  pooling=settings.pooling, dropout=settings.dropout,
                                  spatial_dropout=settings.spatial_dropout, head_units=settings.head_units)
    transfer_encoder(lm, clf)
    pooled = keras.Model(clf.input, clf.get_layer("pooling").output)
    needed = sorted(set(dev.tolist()).union(*subsets.values()))
    ids = vectorize(vectorizer, [texts[i] for i in needed], settings.sequence_length).ids
    features = dict(zip(needed, predict_in_order(pooled, ids)))
    x_dev = np.array([features[i] for i in dev])
    scores = {}
    for n, rows in subsets.items():  # the recipe's own --probe fit, scored on dev
        scaler, fit, _ = fit_linear_head([features[i] for i in rows], labels[rows], seed=settings.seed)
        scores[n] = round(float((fit.predict(scaler.transform(x_dev)) == labels[dev]).mean()), 3)
    return scores


def main(argv=None):
    defaults = ClassifierConfig()
    p = ArgumentParser(prog="recipes/ulmfit_lm_curve.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--lm-epochs", type=int, default=defaults.lm_epochs)
    p.add_argument("--lm-batch-size", type=int, default=defaults.lm_batch_size)
    p.add_argument("--lm-learning-rate", type=float, default=defaults.lm_learning_rate)
    p.add_argument("--lm-cache-dir", default="runs/ulmfit_study/lm")
    args = p.parse_args(argv)  # (a usage error: one line and exit 2, as `zoo train`'s)
    with one_line_errors():
        # ClassifierConfig checks the values as zoo's settings are (NaN and infinity refused too), before the minutes
        # of data loading: a bad one is one line naming its flag, exit 2.
        settings = resolve_init_defaults(ClassifierConfig(
            init="lm:wiki-books-lstm-lm-v2", lm_epochs=args.lm_epochs, lm_batch_size=args.lm_batch_size,
            lm_learning_rate=args.lm_learning_rate, lm_cache_dir=args.lm_cache_dir))
        if os.path.lexists(args.lm_cache_dir) and not os.path.isdir(args.lm_cache_dir):
            raise ExportError(f"`lm_cache_dir` {args.lm_cache_dir}: is a file, not a directory")
        _run(args, settings)


def _run(args, settings):
    from zoo.log import start_tensorflow

    start_tensorflow()
    import keras
    import numpy as np

    from zoo.data import resplit
    from zoo.data.datasets import load_for_training
    from zoo.data.token_stream import lm_vectorizer
    from zoo.transfer import pretrained
    from zoo.transfer.encoder import remap_vocabulary
    from zoo.transfer.ulmfit import finetune_lm

    full, unlabelled = load_for_training(DataConfig(dataset="20newsgroups"), validation_split=0.0,
                                         seed=settings.seed)
    texts, labels = full.train_texts, np.asarray(full.train_labels)
    position = {t: i for i, t in enumerate(texts)}
    # The study's labelled subsets (same seed), and dev documents outside both.
    subsets = {n: [position[t] for t in resplit(full, seed=settings.seed, max_train_examples=n).train_texts]
               for n in (200, 1000)}
    rest = np.setdiff1d(np.arange(len(texts)), subsets[200] + subsets[1000])
    dev = np.random.default_rng(0).choice(rest, 1500, replace=False)
    vectorizer = lm_vectorizer(unlabelled, max_tokens=settings.max_tokens)  # the one finetune_lm builds

    class Probe(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if (epoch + 1) % 2 == 0 or epoch + 1 == settings.lm_epochs:
                start = time.time()
                scores = dev_probe(self.model, vectorizer, texts, labels, subsets, dev, settings)
                print(f"epoch {epoch + 1}: dev probe accuracy {scores} ({time.time() - start:.0f} s)", flush=True)

    artifact = pretrained.load(settings.init[len("lm:"):])
    before, _ = remap_vocabulary(artifact.lm, artifact.vocab, vectorizer.get_vocabulary())
    print(f"epoch 0: dev probe accuracy {dev_probe(before, vectorizer, texts, labels, subsets, dev, settings)}",
          flush=True)
    _, _, report = finetune_lm(artifact, unlabelled, settings, cache_dir=args.lm_cache_dir, callbacks=[Probe()])
    print(report)


if __name__ == "__main__":
    main()
