"""How the hybrid's n-gram path and blend were chosen: variants scored on a validation split, never on test.

Takes a finished run (its saved recurrent model) and the dataset it was trained
on, rebuilds the same validation split, and scores on it, for each variant, the
n-gram path alone and its blend with the run's recurrent probabilities (the
blend weight chosen on that same split, as zoo does):

* the linear model: LinearSVC (margins, temperature-scaled) or logistic regression;
* the n-gram tokens: ``zoo_words`` (no punctuation tokens), ``zoo``, or Keras'
  ``lower_and_strip_punctuation``;
* the blend: a product of experts (log space, zoo's) or a mean of probabilities.

    python bench/hybrid_design.py --run runs/newsgroups_glove_bilstm --dataset 20newsgroups

Writes ``bench/results/hybrid_design.json`` and prints a table.
"""

import argparse
import itertools
import time

import _common

_common.setup()

import numpy as np  # noqa: E402


def main(argv=None):
    import sys

    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", required=True, help="a finished zoo run (its saved classifier)")
    parser.add_argument("--dataset", default="20newsgroups")
    parser.add_argument("--max-tokens", type=int, default=300000)
    _common.add_output_args(parser)
    args = parser.parse_args(argv)

    import keras
    from scipy.special import softmax
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    from zoo import TextClassifier
    from zoo.data import load_dataset
    from zoo.data.tokenize import standardizer
    from zoo.models.hybrid import blend
    from zoo.training import ngram_path

    clf = TextClassifier.load(args.run)
    data = load_dataset(args.dataset, validation_split=clf.settings_.validation_split, seed=clf.settings_.seed)
    train_texts, train_y = data.train_texts, data.train_labels
    if args.quick:
        train_texts, train_y = train_texts[:300], train_y[:300]
    valid_texts, y = data.valid_texts, data.valid_labels
    recurrent = clf.predict_paths(valid_texts)["recurrent"]
    rows = []
    variants = list(itertools.product(("svm", "logistic"), ("zoo_words", "zoo", "lower_and_strip_punctuation")))
    for model, tokens in variants[:2] if args.quick else variants:
        start = time.time()
        vectorizer = keras.layers.TextVectorization(max_tokens=args.max_tokens, standardize=standardizer(tokens),
                                                    ngrams=2, output_mode="count", sparse=True)
        vectorizer.adapt(train_texts, batch_size=1024)
        train_counts = ngram_path.ngram_counts(vectorizer, train_texts)[:, 1:]
        idf = ngram_path.smooth_idf(train_counts)
        features = ngram_path.tfidf(train_counts, idf)
        valid_features = ngram_path.tfidf(ngram_path.ngram_counts(vectorizer, valid_texts)[:, 1:], idf)
        if model == "svm":
            svm = LinearSVC(C=ngram_path.SVM_C, random_state=0).fit(features, train_y)
            margins = svm.decision_function(valid_features)
            margins = margins if margins.ndim == 2 else np.stack([np.zeros_like(margins), margins], axis=1)
            logits = ngram_path.choose_temperature(margins, y) * margins
        else:
            logits = np.log(LogisticRegression(C=16.0, max_iter=300).fit(features, train_y)
                            .predict_proba(valid_features) + 1e-12)
        ngram = softmax(logits, axis=1)
        for combine in ("product", "mean"):
            def mixed(w):
                return blend(recurrent, logits, w) if combine == "product" else w * recurrent + (1 - w) * ngram
            scores = [(float(np.mean(mixed(w).argmax(-1) == y)), float(w)) for w in ngram_path.WEIGHTS]
            accuracy, weight = max(scores)
            rows.append({"linear_model": model, "tokens": tokens, "blend": combine,
                         "ngram_alone": float(np.mean(ngram.argmax(-1) == y)),
                         "recurrent_alone": float(np.mean(recurrent.argmax(-1) == y)), "hybrid": accuracy,
                         "blend_weight": weight, "seconds": round(time.time() - start, 1)})
            print(rows[-1], flush=True)
    table = ["| linear model | n-gram tokens | blend | n-gram alone | recurrent alone | hybrid | weight |",
             "|---|---|---|---|---|---|---|"]
    table += [f"| {r['linear_model']} | {r['tokens']} | {r['blend']} | {r['ngram_alone']:.4f} | "
              f"{r['recurrent_alone']:.4f} | {r['hybrid']:.4f} | {r['blend_weight']:.2f} |" for r in rows]
    print("\n".join(table))
    _common.write_json(_common.output_path(args, "hybrid_design"), {
        "what": "validation accuracy of n-gram path and blend variants (never test)", "run": args.run,
        "machine": _common.machine_info(), "command": "python bench/hybrid_design.py " + " ".join(argv or []),
        "dataset": args.dataset, "validation_examples": len(y), "rows": rows, "table": table})


if __name__ == "__main__":
    main()
