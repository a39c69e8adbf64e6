"""20 Newsgroups topic classification: GloVe vectors + BiLSTM, end to end (the main job).

Loads 20 Newsgroups (bydate split; headers, footers and quotes removed) from
scikit-learn's fetcher or its pinned offline mirror, holds out a seeded 10% of
train for early stopping, starts a bidirectional LSTM from GloVe 6B 50d
vectors, trains it, evaluates it on the official test split beside a TF-IDF +
LinearSVC baseline trained on the same texts, and exports a SavedModel that
classifies raw text.

    python recipes/newsgroups_glove_bilstm.py --output-dir runs/newsgroups

The same in Python:

    from zoo import TextClassifier
    from zoo.data import load_dataset

    news = load_dataset("20newsgroups")
    labels = lambda ids: [news.class_names[i] for i in ids]
    clf = TextClassifier(model="bilstm", init="glove-6b-50d")
    clf.fit(news.train_texts, labels(news.train_labels),
            validation_data=(news.valid_texts, labels(news.valid_labels)))
    print(clf.evaluate(news.test_texts, labels(news.test_labels), baseline=True)["accuracy"])
    clf.export("runs/newsgroups/export")

Every setting is a flag (``--help``); this recipe only picks the data and
the output directory.
"""

from zoo.cli import train

RECIPE = {"dataset": "20newsgroups", "model": "bilstm", "init": "glove-6b-50d",
          "output_dir": "runs/newsgroups_glove_bilstm"}

if __name__ == "__main__":
    train.main(defaults=RECIPE, prog="recipes/newsgroups_glove_bilstm.py", description=__doc__,
               recipe="newsgroups_glove_bilstm")
