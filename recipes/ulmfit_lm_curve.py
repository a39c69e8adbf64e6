"""Language-model fine-tuning on 20 Newsgroups, with a linear probe on a dev split every second epoch.

Runs ``zoo.ulmfit.finetune_lm`` with the recipe's settings (epochs, batch size
and peak rate may be given) into ``recipes/ulmfit_study.py``'s cache, so the
study reuses the model, and after every second epoch prints the accuracy of a
linear probe (logistic regression on the encoder's pooled features) fitted on
the study's 200- and 1,000-label subsets and scored on 1,500 other train
documents. The test split is never read. This is how the default of 14
language-model epochs was chosen.

    python recipes/ulmfit_lm_curve.py --lm-epochs 14
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is imported

import keras  # noqa: E402
import numpy as np  # noqa: E402

from zoo import data, pretrained, text, ulmfit  # noqa: E402
from zoo import lm as zoo_lm  # noqa: E402


def dev_probe(lm, vectorizer, texts, labels, subsets, dev, cfg):
    """Dev accuracy of a logistic-regression probe on the pooled features, per label budget."""
    clf = ulmfit.build_classifier(lm.lm_config, len(vectorizer.get_vocabulary()), int(labels.max()) + 1, cfg)
    zoo_lm.transfer_encoder(lm, clf)
    pooled = keras.Model(clf.input, clf.get_layer("pooling").output)
    needed = sorted(set(dev.tolist()).union(*subsets.values()))
    ids = text.vectorize(vectorizer, [texts[i] for i in needed], cfg["sequence_length"]).ids
    features = dict(zip(needed, text.predict_in_order(pooled, ids)))
    x_dev = np.array([features[i] for i in dev])
    scores = {}
    for n, rows in subsets.items():  # the recipe's own --probe fit, scored on dev
        scaler, fit, _ = ulmfit.fit_linear_head([features[i] for i in rows], labels[rows], seed=cfg["seed"])
        scores[n] = round(float((fit.predict(scaler.transform(x_dev)) == labels[dev]).mean()), 3)
    return scores


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--lm-epochs", type=int, default=ulmfit.ULMFIT_DEFAULTS["lm_epochs"])
    p.add_argument("--lm-batch-size", type=int, default=ulmfit.ULMFIT_DEFAULTS["lm_batch_size"])
    p.add_argument("--lm-learning-rate", type=float, default=ulmfit.ULMFIT_DEFAULTS["lm_learning_rate"])
    p.add_argument("--lm-cache-dir", default="runs/ulmfit_study/lm")
    args = p.parse_args()
    for flag, value in (("--lm-epochs", args.lm_epochs), ("--lm-batch-size", args.lm_batch_size),
                        ("--lm-learning-rate", args.lm_learning_rate)):
        if value <= 0:  # before the minutes of data loading
            p.error(f"{flag} must be positive, got {value}")
    cfg = {**ulmfit.RUN_DEFAULTS, "lm_epochs": args.lm_epochs, "lm_batch_size": args.lm_batch_size,
           "lm_learning_rate": args.lm_learning_rate}
    full, unlabelled = ulmfit.load_task({**cfg, "labels": None, "validation_split": 0.0})
    texts, labels = full.train_texts, np.asarray(full.train_labels)
    position = {t: i for i, t in enumerate(texts)}
    # The study's labelled subsets (same seed), and dev documents outside both.
    subsets = {n: [position[t] for t in data.resplit(full, seed=cfg["seed"], max_train_examples=n).train_texts]
               for n in (200, 1000)}
    rest = np.setdiff1d(np.arange(len(texts)), subsets[200] + subsets[1000])
    dev = np.random.default_rng(0).choice(rest, 1500, replace=False)
    vectorizer = zoo_lm.lm_vectorizer(unlabelled, max_tokens=cfg["max_tokens"])  # the one finetune_lm builds

    class Probe(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if (epoch + 1) % 2 == 0 or epoch + 1 == cfg["lm_epochs"]:
                start = time.time()
                scores = dev_probe(self.model, vectorizer, texts, labels, subsets, dev, cfg)
                print(f"epoch {epoch + 1}: dev probe accuracy {scores} ({time.time() - start:.0f} s)", flush=True)

    artifact = pretrained.load(cfg["lm"])
    before, _ = zoo_lm.remap_vocabulary(artifact.lm, artifact.vocab, vectorizer.get_vocabulary())
    print(f"epoch 0: dev probe accuracy {dev_probe(before, vectorizer, texts, labels, subsets, dev, cfg)}", flush=True)
    _, _, report = ulmfit.finetune_lm(artifact, unlabelled, cfg, cache_dir=args.lm_cache_dir, callbacks=[Probe()])
    print(report)


if __name__ == "__main__":
    main()
