"""ULMFiT's steps on tiny data: language-model fine-tuning, the linear probe, the auxiliary LM loss."""

import os

import keras
import numpy as np
import pytest

from tests.helpers import LM_VOCAB as VOCAB
from tests.helpers import lm_ids as ids
from tests.helpers import tiny_lm
from zoo import TextClassifier
from zoo.cli import train
from zoo.config import ClassifierConfig, DataConfig, RunConfig, resolve_init_defaults
from zoo.data.text import predict_in_order
from zoo.errors import ConfigError
from zoo.models.ulmfit_classifier import AuxiliaryLMClassifier, build_ulmfit_classifier
from zoo.transfer import pretrained, ulmfit
from zoo.transfer.encoder import transfer_encoder


# One run per mode (each run is a whole job): the held-out dev split rides on ULMFiT's run (the others evaluate on
# test and check that the saved classifier predicts what the run evaluated), and last-state pooling on probe_init's.
@pytest.mark.parametrize("mode, dev", [("ulmfit", 10), ("probe", None), ("probe_init_last_pooling", None),
                                       ("ensemble", None)])
def test_ulmfit_run_on_local_files(artifact_dir, tmp_path, mode, dev):
    words = [f"w{i}" for i in range(VOCAB - 2)]
    rng = np.random.default_rng(0)
    rows = []
    for split, n in (("train", 60), ("test", 20)):
        lines = ["text,label"]
        for _ in range(n):
            label = int(rng.integers(0, 2))
            pool = words[:20] if label else words[20:40]
            lines.append(" ".join(rng.choice(pool, 12)) + f",{'ab'[label]}")
        (tmp_path / f"{split}.csv").write_text("\n".join(lines) + "\n")
        rows.append(n)
    out = tmp_path / "run"
    data = DataConfig(train=str(tmp_path / "train.csv"), test=str(tmp_path / "test.csv"), dev=dev)
    settings = ClassifierConfig(
        init="lm:tiny", lm_epochs=1, lm_batch_size=4, bptt=8, epochs=1, batch_size=8, sequence_length=16,
        max_tokens=100, probe=mode == "probe", probe_init=mode == "probe_init_last_pooling",
        ensemble=2 if mode == "ensemble" else 1, pooling="last" if mode == "probe_init_last_pooling" else None)
    metrics = train.run(data, RunConfig(output_dir=str(out), baseline=False), settings)
    split, size = ("test", 20) if dev is None else ("dev", dev)  # dev: held-out train rows, test unused
    if dev is not None:  # too many to hold out: one line naming the setting, before any work
        too_many = r"`dev`: held-out size 60: the train split has only \d+ examples"
        with pytest.raises(ConfigError, match=too_many):
            train.run(data.replace(dev=60), RunConfig(output_dir=str(tmp_path / "too_many")), settings)
        assert not (tmp_path / "too_many").exists()
    assert metrics["evaluated_on"] == split and metrics["num_test_examples"] == size
    assert f"- {split} examples: {size}" in (out / "report.md").read_text()
    stages = {"ulmfit": [], "ensemble": [], "probe": ["probe"], "probe_init_last_pooling": ["probe"]}[mode]
    if mode != "probe":
        stages += ["head", "from_encoder_2", "from_encoder_1", "all"]
    if mode == "ensemble":  # two members, each trained through every stage, their probabilities averaged
        stages = [f"member {k}: {stage}" for k in (1, 2) for stage in stages]
        assert [m["seed"] for m in metrics["members"]] == [0, 1000]
        sizes = metrics["accuracy_by_ensemble_size"]
        ensemble = metrics["paths"]["recurrent"]["accuracy"]  # the hybrid's recurrent path: the members' mean
        assert sizes[0] == round(metrics["members"][0]["accuracy"], 4) and sizes[1] == round(ensemble, 4)
        assert (out / "logs" / "member_2").is_dir()
        restored = keras.saving.load_model(out / "model.keras")
        assert [layer.name for layer in restored.layers] == ["token_ids", "member_1", "member_2", "average"]
        x = ids(3, 16) % 20 + 2  # ids inside the run's vocabulary (40 words and the specials)
        members = [restored.get_layer(f"member_{k}").predict(x, verbose=0) for k in (1, 2)]
        np.testing.assert_allclose(restored.predict(x, verbose=0), np.mean(members, axis=0), atol=1e-6)
        assert not np.allclose(*members)  # the members differ (seeds), or the ensemble would be pointless
    else:
        assert "members" not in metrics
    assert [h["stage"] for h in metrics["history"]] == stages
    assert metrics["language_model"]["perplexity_after"] > 0
    for name in ("config.json", "metrics.json", "report.md", "model.keras", "classifier.json", "export"):
        assert os.path.exists(out / name), name
    assert len(list((out / "lm").glob("finetuned_lm-*"))) == 1  # cached for runs with other label budgets
    # The run directory is a saved TextClassifier that predicts what the run evaluated.
    clf = TextClassifier.load(out)
    if mode == "probe_init_last_pooling":
        assert clf.settings_.pooling == "last"
    test_texts = [line.rsplit(",", 1)[0] for line in (tmp_path / "test.csv").read_text().splitlines()[1:]]
    if dev is None:
        predicted = clf.predict(test_texts)
        accuracy = np.mean([p == t[-1] for p, t in zip(predicted, (tmp_path / "test.csv").read_text()
                                                        .splitlines()[1:])])
        assert accuracy == pytest.approx(metrics["accuracy"])
    if mode == "ensemble":  # the export is the same one model: both members, averaged, blended, calibrated
        import tensorflow as tf

        serve = tf.saved_model.load(str(out / "export")).signatures["serving_default"]
        np.testing.assert_allclose(serve(texts=tf.constant(test_texts[:6]))["probabilities"].numpy(),
                                   clf.predict_proba(test_texts[:6]), atol=1e-6)


def test_finetune_lm_runs_the_callers_callbacks_once_per_epoch(artifact_dir):
    seen = []
    watch = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append((epoch, logs["loss"])))
    texts = [" ".join(f"w{(i * 7 + j) % 40}" for i in range(30)) for j in range(12)]
    settings = resolve_init_defaults(ClassifierConfig(init="lm:tiny", lm_epochs=2, lm_batch_size=2, bptt=8,
                                                      max_tokens=100))
    _, _, report = ulmfit.finetune_lm(pretrained.load("tiny"), texts, settings, callbacks=[watch])
    assert [epoch for epoch, _ in seen] == [0, 1] and all(np.isfinite(loss) for _, loss in seen)
    assert report["steps"] > 0 and report["steps"] % 2 == 0  # two epochs of equal length


@pytest.mark.parametrize("num_classes", [2, 3])
def test_linear_probe_is_scikit_learns_fit_in_keras_layers(num_classes):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    lm = tiny_lm()
    clf = build_ulmfit_classifier(lm.lm_config, VOCAB, num_classes, dropout=0.1, spatial_dropout=0.1)
    transfer_encoder(lm, clf)
    encoder = [w.copy() for w in clf.get_layer("encoder_1").get_weights()]
    rng = np.random.default_rng(0)
    labels = np.arange(30) % num_classes
    # Each class draws its tokens from its own band of the vocabulary: learnable.
    train = [rng.integers(2 + 15 * c, 17 + 15 * c, int(rng.integers(4, 12))).astype("int32") for c in labels]
    probe, history = ulmfit.fit_probe(clf, train, labels, num_classes, seed=0)
    assert history[0]["stage"] == "probe" and history[0]["cv_accuracy"] > 1 / num_classes
    features = predict_in_order(keras.Model(clf.input, clf.get_layer("pooling").output), train)
    scaler = StandardScaler().fit(features.astype("float64"))
    expected = LogisticRegression(C=history[0]["C"], max_iter=3000).fit(scaler.transform(features), labels)
    got = predict_in_order(probe, train)
    # float32 Keras layers against scikit-learn's float64 fit: a float32 tolerance (the probabilities are
    # softmaxes of logits of a few units, so ~1e-5 relative noise shows at ~1e-5 absolute).
    np.testing.assert_allclose(got, expected.predict_proba(scaler.transform(features)), atol=1e-4)
    for a, b in zip(encoder, probe.get_layer("encoder_1").get_weights()):
        np.testing.assert_array_equal(a, b)  # the encoder is the language model's, untouched


def test_linear_probe_needs_two_examples_per_class():
    lm = tiny_lm()
    clf = build_ulmfit_classifier(lm.lm_config, VOCAB, 2, dropout=0.0, spatial_dropout=0.0)
    with pytest.raises(ConfigError, match=r"`probe` needs at least 2 .*class counts \[1, 3\]"):
        ulmfit.fit_probe(clf, [np.array([2, 3], "int32")] * 4, [0, 1, 1, 1], 2)


@pytest.mark.parametrize("settings, message", [
    ({"probe": True, "probe_init": True}, "`probe` fits the probe only.*pass one"),
    ({"lm_batch_size": 0}, "`lm_batch_size` must be an integer >= 1, got 0"),
    ({"epochs": -1}, "`epochs` must be an integer >= 1 or None, got -1"),
    ({"pooling": "avg"}, "`pooling` must be one of 'last', 'max', 'mean', 'attention', 'concat' or None; got 'avg'"),
    ({"ensemble": 0}, "`ensemble` must be an integer >= 1, got 0"),
    ({"probe": True, "ensemble": 3}, "`probe` is one deterministic linear fit.*use `probe_init`"),
    ({"frozen_epochs": 2}, "`frozen_epochs` is for word vectors"),
    ({"units": 64}, "`units` with init='lm:tiny' comes from the language model"),
])
def test_bad_settings_fail_before_any_work(settings, message):
    with pytest.raises(ConfigError, match=message):
        ClassifierConfig(init="lm:tiny", **settings)


def test_lm_only_settings_need_a_language_model():
    with pytest.raises(ConfigError, match="`probe` needs init='lm:ARTIFACT'"):
        ClassifierConfig(init="glove-6b-50d", probe=True)


def test_every_pooling_works_on_the_language_models_encoder():
    """The layer-name contract: every pooling makes a `pooling` layer, which the probe and ULMFiT's head read."""
    lm = tiny_lm()
    rng = np.random.default_rng(0)
    labels = np.arange(12) % 2
    train_ids = [rng.integers(2 + 20 * c, 22 + 20 * c, 6).astype("int32") for c in labels]
    for pooling in ("last", "max", "mean", "attention", "concat"):
        clf = build_ulmfit_classifier(lm.lm_config, VOCAB, 2, pooling=pooling)
        transfer_encoder(lm, clf)
        probe, _ = ulmfit.fit_probe(clf, train_ids, labels, 2, seed=0)
        assert probe.get_layer("pooling") is not None and predict_in_order(probe, train_ids).shape == (12, 2)


def test_auxiliary_lm_loss_trains_the_shared_classifier():
    lm = tiny_lm()
    clf = build_ulmfit_classifier(lm.lm_config, VOCAB, 3, dropout=0.0, spatial_dropout=0.0)
    transfer_encoder(lm, clf)
    bias = keras.ops.convert_to_numpy(lm.get_layer("embedding").output_bias)
    trainer = AuxiliaryLMClassifier(clf, bias, aux_weight=1.0, num_sampled=10)
    trainer.compile(keras.optimizers.Adam(1e-2))
    x, y = ids(16, 10), np.arange(16) % 3
    y_pred = trainer(x, training=True)
    with_lm = float(trainer.compute_loss(x, y, y_pred, training=True))
    without = float(trainer.compute_loss(x, y, y_pred, training=False))
    assert with_lm > without + 0.5  # the sampled LM loss is added in training only
    before = clf.get_layer("encoder_1").get_weights()[0].copy()
    history = trainer.fit(x, y, epochs=2, verbose=0).history
    assert set(history) == {"loss", "accuracy"}
    assert np.abs(clf.get_layer("encoder_1").get_weights()[0] - before).max() > 0
