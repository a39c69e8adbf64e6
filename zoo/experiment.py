"""One fine-tuning run, end to end: what every classification recipe does.

1. Load the dataset (registry name or local files) with a seeded validation split.
2. Adapt a ``TextVectorization`` on train; pick the sequence length.
3. Load pretrained word vectors and align them to the vocabulary.
4. Build a zoo model by name with the embedding at the vectors.
5. Train in stages: embedding frozen, then everything at a lower rate,
   with early stopping on the validation split.
6. Evaluate on the test split beside a TF-IDF + LinearSVC baseline.
7. Write config.json, metrics.json, report.md, plots, the .keras model and a
   raw-text SavedModel export.
"""

import os
import platform
import sys
import time

import numpy as np

from zoo import data as zoo_data
from zoo import evaluate, report, text
from zoo.errors import DataError
from zoo.export import check_export_target, export_text_classifier

DEFAULTS = {
    "recipe": None,
    "dataset": "20newsgroups",
    "train": None,
    "test": None,
    "valid": None,
    "text_column": "text",
    "label_column": "label",
    "output_dir": "runs/zoo",
    "overwrite": False,
    "model": "bilstm",
    "vectors": "glove-6b-50d",
    "epochs": 10,
    "frozen_epochs": 2,
    "batch_size": 32,
    "max_train_examples": None,
    "validation_split": 0.1,
    "seed": 0,
    "max_tokens": 30000,
    "sequence_length": "p90",
    "embedding_dim": None,
    "units": 96,
    "num_layers": 1,
    "pooling": "max",
    "dropout": 0.2,
    "spatial_dropout": 0.05,
    "recurrent_dropout": 0.0,
    "l1": 0.0,
    "l2": 0.0,
    "optimizer": "adam",
    "learning_rate": 4e-3,
    "finetune_lr_factor": 0.5,
    "clipnorm": 1.0,
    "lr_schedule": "cosine",
    "patience": 3,
    "baseline": True,
}


def _log(message):
    print(f"[zoo] {message}", file=sys.stderr, flush=True)


# === Steps ===


def load_data(cfg):
    common = dict(validation_split=cfg["validation_split"], seed=cfg["seed"],
                  max_train_examples=cfg["max_train_examples"])
    if cfg["train"] or cfg["test"]:
        if not (cfg["train"] and cfg["test"]):
            raise DataError("--train and --test go together (and --valid is optional)")
        return zoo_data.load_files(cfg["train"], cfg["test"], cfg["valid"], text_column=cfg["text_column"],
                                   label_column=cfg["label_column"], **common)
    return zoo_data.load_dataset(cfg["dataset"], **common)


def prepare_text(dataset, cfg):
    """Vectorizer adapted on train, the resolved sequence length, and id lists per split."""
    vectorizer = text.make_vectorizer(dataset.train_texts, max_tokens=cfg["max_tokens"])
    full = text.vectorize(vectorizer, dataset.train_texts)
    length = text.resolve_sequence_length(cfg["sequence_length"], full.lengths)
    splits = {name: text.vectorize(vectorizer, getattr(dataset, f"{name}_texts"), length)
              for name in ("train", "valid", "test")}
    return vectorizer, length, splits


def pretrained_embeddings(vectorizer, cfg):
    """The embedding matrix (or None for random init) and its coverage report."""
    if cfg["vectors"] in (None, "", "none", "random"):
        return None, None
    from zoo import vectors

    kv = vectors.load_vectors(cfg["vectors"])
    matrix, coverage = vectors.embedding_matrix(kv, vectorizer.get_vocabulary(), seed=cfg["seed"])
    return matrix, coverage


def build_model(cfg, vocab_size, num_classes, embeddings):
    import zoo

    kwargs = {k: cfg[k] for k in ("units", "num_layers", "pooling", "dropout", "spatial_dropout",
                                  "recurrent_dropout", "l1", "l2")}
    if embeddings is not None:
        kwargs["embeddings"] = embeddings
    elif cfg["embedding_dim"]:
        kwargs["embedding_dim"] = cfg["embedding_dim"]
    return zoo.get_model(cfg["model"], vocab_size, num_classes, compile=False, **kwargs)


def stages(cfg, pretrained):
    """Training stages: (name, epochs, learning-rate factor, groups to freeze)."""
    if not pretrained or cfg["frozen_epochs"] <= 0:
        return [("train", cfg["epochs"], 1.0, ())]
    frozen = min(cfg["frozen_epochs"], cfg["epochs"])
    plan = [("frozen_embedding", frozen, 1.0, ("embedding",))]
    if cfg["epochs"] > frozen:
        plan.append(("finetune", cfg["epochs"] - frozen, cfg["finetune_lr_factor"], ()))
    return plan


def train(model, train_ds, valid_ds, cfg, plan, log_dir):
    """Runs the stages; returns per-epoch history dicts (with their stage)."""
    import keras

    import zoo

    steps = sum(1 for _ in train_ds)
    history = []
    for name, epochs, factor, frozen in plan:
        zoo.unfreeze(model)
        if frozen:
            zoo.freeze(model, *frozen)
        lr = cfg["learning_rate"] * factor
        if cfg["lr_schedule"] == "cosine":
            lr = keras.optimizers.schedules.CosineDecay(lr, decay_steps=max(1, epochs * steps), alpha=0.05)
        zoo.compile_model(model, cfg["optimizer"], lr, cfg["clipnorm"])
        _log(f"stage {name}: {epochs} epochs, learning rate x{factor}, frozen: {', '.join(frozen) or 'nothing'}")
        callbacks = [keras.callbacks.TensorBoard(os.path.join(log_dir, name))]
        if valid_ds is not None:
            callbacks.append(keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=cfg["patience"], restore_best_weights=True))
        fit = model.fit(train_ds, validation_data=valid_ds, epochs=epochs, callbacks=callbacks, verbose=2)
        keys = list(fit.history)
        for i in range(len(fit.history[keys[0]])):
            history.append({"stage": name, **{k: float(fit.history[k][i]) for k in keys}})
    return history


def versions():
    import keras
    import sklearn
    import tensorflow as tf

    return {"python": platform.python_version(), "tensorflow": tf.__version__, "keras": keras.__version__,
            "scikit-learn": sklearn.__version__, "numpy": np.__version__}


# === Run ===


def run(cfg):
    """Runs one experiment from a config dict (see ``DEFAULTS``); returns metrics."""
    import keras

    import zoo

    cfg = {**DEFAULTS, **cfg}
    out = cfg["output_dir"]
    check_export_target(os.path.join(out, "export"), cfg["overwrite"])
    keras.utils.set_random_seed(cfg["seed"])

    _log("loading data")
    dataset = load_data(cfg)
    _log(f"{dataset.name}: {dataset.summary()}")
    vectorizer, length, ids = prepare_text(dataset, cfg)
    vocab = vectorizer.get_vocabulary()
    _log(f"vocabulary {len(vocab)} tokens; sequence length {length} ({ids['train'].truncated} training texts cut)")
    embeddings, coverage = pretrained_embeddings(vectorizer, cfg)
    if coverage is not None:
        _log(str(coverage))

    os.makedirs(out, exist_ok=True)
    config = {**cfg, "resolved_sequence_length": length, "vocab_size": len(vocab), "class_names": dataset.class_names,
              "data": dataset.summary(), "versions": versions(), "command": sys.argv}
    report.write_json(os.path.join(out, "config.json"), config)

    model = build_model(cfg, len(vocab), len(dataset.class_names), embeddings)
    _log("cuDNN check:\n" + zoo.format_cudnn_report(zoo.cudnn_report(model)))
    train_ds = text.make_dataset(ids["train"].ids, dataset.train_labels, cfg["batch_size"], shuffle=True,
                                 seed=cfg["seed"])
    valid_ds = (text.make_dataset(ids["valid"].ids, dataset.valid_labels, cfg["batch_size"])
                if len(dataset.valid_labels) else None)

    start = time.time()
    history = train(model, train_ds, valid_ds, cfg, stages(cfg, embeddings is not None), os.path.join(out, "logs"))
    train_seconds = time.time() - start

    _log("evaluating on the test split")
    probs = text.predict_in_order(model, ids["test"].ids)
    metrics = evaluate.classification_metrics(dataset.test_labels, probs.argmax(-1), dataset.class_names)
    metrics.update(train_seconds=round(train_seconds, 1), epochs_run=len(history),
                   truncated_train_texts=ids["train"].truncated, history=history)
    if coverage is not None:
        metrics["vector_coverage"] = coverage.to_dict()
    if cfg["baseline"]:
        _log("TF-IDF + LinearSVC baseline on the same split")
        metrics["baseline"] = evaluate.tfidf_svm_baseline(
            dataset.train_texts, dataset.train_labels, dataset.test_texts, dataset.test_labels, dataset.class_names)

    model.save(os.path.join(out, "model.keras"))
    export_text_classifier(model, vectorizer, length, dataset.class_names, os.path.join(out, "export"),
                           overwrite=cfg["overwrite"])
    report.write_json(os.path.join(out, "metrics.json"), metrics)
    report.plot_confusion_matrix(metrics["confusion_matrix"], dataset.class_names,
                                 os.path.join(out, "confusion_matrix.png"))
    report.plot_history(history, os.path.join(out, "curves"))
    report.write_report(os.path.join(out, "report.md"), config, metrics, coverage,
                        zoo.format_cudnn_report(zoo.cudnn_report(model)))
    print(report.metrics_table(metrics))
    print(f"\nwrote {out}/ (report.md, metrics.json, export/)")
    return metrics

