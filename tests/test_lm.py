"""The AWD-LSTM language model, its artifacts, and ULMFiT's transfer into a classifier."""

import json
import os

import keras
import numpy as np
import pytest
from keras import ops

import zoo
from zoo import lm as zoo_lm
from zoo import pretrained, ulmfit
from zoo.pretrained import PretrainedError

VOCAB = 60
TINY = dict(embedding_dim=8, num_layers=2, num_sampled=10, seed=1)


def tiny_lm(**kwargs):
    keras.utils.set_random_seed(0)
    return zoo_lm.build_lstm_lm(VOCAB, **{**TINY, **kwargs})


def ids(rows=8, width=12, seed=0):
    return np.random.default_rng(seed).integers(2, VOCAB, (rows, width)).astype("int32")


# === Model ===


def test_lm_trains_and_evaluates_with_the_full_softmax():
    lm = tiny_lm()
    lm.compile(keras.optimizers.Adam(1e-2))
    x = ids(32, 13)
    before = lm.evaluate(x[:, :-1], x[:, 1:], verbose=0)
    lm.fit(x[:, :-1], x[:, 1:], epochs=5, batch_size=8, verbose=0)
    after = lm.evaluate(x[:, :-1], x[:, 1:], verbose=0)
    assert after < before
    # evaluate's loss is the exact full-softmax cross-entropy.
    log_probs = ops.convert_to_numpy(lm.next_token_log_probs(x[:, :-1]))
    expected = -np.take_along_axis(log_probs, x[:, 1:, None], axis=-1).mean()
    assert after == pytest.approx(expected, rel=1e-4)


def test_weight_drop_lstm_is_a_plain_lstm_at_inference_and_restores_its_kernel():
    x = np.random.default_rng(0).normal(size=(3, 6, 5)).astype("float32")
    dropped = zoo_lm.WeightDropLSTM(4, weight_dropout=0.5, return_sequences=True, seed=0)
    dropped(x)
    plain = keras.layers.LSTM(4, return_sequences=True)
    plain(x)
    plain.set_weights(dropped.get_weights())
    np.testing.assert_array_equal(ops.convert_to_numpy(dropped(x)), ops.convert_to_numpy(plain(x)))
    kernel = dropped.cell.recurrent_kernel
    training = ops.convert_to_numpy(dropped(x, training=True))
    assert np.abs(training - ops.convert_to_numpy(plain(x))).max() > 1e-4
    assert dropped.cell.recurrent_kernel is kernel  # the swap is undone


def test_embedding_dropout_drops_whole_rows():
    layer = zoo_lm.LMEmbedding(10, 4, row_dropout=0.5, seed=3)
    tokens = np.tile(np.arange(10), (6, 1))
    out = ops.convert_to_numpy(layer(tokens, training=True))
    weights = ops.convert_to_numpy(layer.embeddings)
    for token in range(10):
        rows = out[:, token]
        zero = np.all(rows == 0, axis=-1)
        assert zero.all() or not zero.any()  # a word is dropped everywhere or nowhere
        if not zero.any():
            np.testing.assert_allclose(rows, np.tile(weights[token] * 2, (6, 1)), rtol=1e-6)
    np.testing.assert_array_equal(ops.convert_to_numpy(layer(tokens)), weights[tokens])


def test_activation_regularization_adds_ar_and_tar_in_training_only():
    lm = tiny_lm(ar_alpha=2.0, tar_beta=1.0)
    lm(ids(), training=True)
    assert len(lm.losses) == 2 and all(float(v) > 0 for v in lm.losses)
    lm(ids(), training=False)
    assert len(lm.losses) == 0


def test_bad_lm_arguments_name_the_argument():
    with pytest.raises(ValueError, match="weight_dropout"):
        zoo_lm.build_lstm_lm(10, weight_dropout=1.0)
    with pytest.raises(ValueError, match="tie_weights"):
        zoo_lm.build_lstm_lm(10, embedding_dim=8, units=16)
    with pytest.raises(ValueError, match="Unknown argument"):
        zoo_lm.build_lstm_lm(10, layers=2)


def test_lm_keras_round_trip(tmp_path):
    lm = tiny_lm(tie_weights=False, units=12)
    x = ids()
    path = str(tmp_path / "lm.keras")
    lm.save(path)
    again = keras.saving.load_model(path)
    np.testing.assert_array_equal(ops.convert_to_numpy(lm(x)), ops.convert_to_numpy(again(x)))


# === Data ===


def test_lm_dataset_shifts_targets_and_varies_windows_per_epoch():
    stream = np.arange(2, 4002, dtype="int32")
    ds, steps = zoo_lm.lm_dataset(stream, batch_size=4, bptt=20, seed=0)
    first = [(x.numpy(), y.numpy()) for x, y in ds]
    second = [(x.numpy(), y.numpy()) for x, y in ds]
    assert len(first) == steps == len(second)
    for x, y in first:
        np.testing.assert_array_equal(x[:, 1:], y[:, :-1])
        np.testing.assert_array_equal(x + 1, y)  # the stream counts up: the target is the next token
    assert len({x.shape[1] for x, _ in first}) > 1  # variable BPTT
    assert first[0][0][0, 0] != second[0][0][0, 0] or first[0][0].shape != second[0][0].shape
    again, _ = zoo_lm.lm_dataset(stream, batch_size=4, bptt=20, seed=0)
    np.testing.assert_array_equal(next(iter(again))[0].numpy(), first[0][0])  # seeded


def test_lm_dataset_rejects_a_short_stream():
    with pytest.raises(ValueError, match="too short"):
        zoo_lm.lm_dataset(np.arange(50), batch_size=4, bptt=20)


# === Transfer ===


def test_transfer_from_lm_to_classifier_is_exact():
    lm = tiny_lm()
    lm.compile("adam")
    lm.fit(ids()[:, :-1], ids()[:, 1:], verbose=0)  # weights that are not the initial ones
    clf = ulmfit.build_classifier(lm.lm_config, VOCAB, 3, {"dropout": 0.1, "spatial_dropout": 0.1})
    assert zoo_lm.transfer_encoder(lm, clf) == ["embedding", "encoder_1", "encoder_2"]
    np.testing.assert_array_equal(ops.convert_to_numpy(clf.get_layer("embedding").embeddings),
                                  ops.convert_to_numpy(lm.get_layer("embedding").embeddings))
    for name in ("encoder_1", "encoder_2"):
        for a, b in zip(lm.get_layer(name).get_weights(), clf.get_layer(name).get_weights()):
            np.testing.assert_array_equal(a, b)
    # The classifier's encoder then computes exactly what the language model's does.
    x = ids(2, 7)
    lm_states = keras.Model(lm.input, lm.get_layer("encoder_2").output)(x)
    clf_states = keras.Model(clf.input, clf.get_layer("encoder_2").output[0])(x)
    np.testing.assert_allclose(ops.convert_to_numpy(lm_states), ops.convert_to_numpy(clf_states), atol=1e-6)


def test_transfer_names_a_mismatched_layer():
    lm = tiny_lm()
    other = zoo.build_stacked_lstm(VOCAB, 3, embedding_dim=8, units=6, num_layers=2, compile=False)
    with pytest.raises(ValueError, match="encoder_1"):
        zoo_lm.transfer_encoder(lm, other)


def test_remap_vocabulary_keeps_known_words_and_starts_new_ones_at_the_mean():
    lm = tiny_lm()
    old = ["", "[UNK]"] + [f"w{i}" for i in range(VOCAB - 2)]
    new = ["", "[UNK]", "w5", "novel", "w0"]
    remapped, hits = zoo_lm.remap_vocabulary(lm, old, new)
    assert hits == 2
    src = ops.convert_to_numpy(lm.get_layer("embedding").embeddings)
    dst = ops.convert_to_numpy(remapped.get_layer("embedding").embeddings)
    np.testing.assert_array_equal(dst[2], src[7])
    np.testing.assert_array_equal(dst[4], src[2])
    np.testing.assert_allclose(dst[3], src[2:].mean(0), rtol=1e-6)
    np.testing.assert_array_equal(remapped.get_layer("encoder_2").get_weights()[1],
                                  lm.get_layer("encoder_2").get_weights()[1])


# === Artifacts ===


@pytest.fixture
def artifact_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_PRETRAINED_DIR", str(tmp_path / "pretrained"))
    (tmp_path / "pretrained").mkdir()
    lm = tiny_lm()
    vocab = ["", "[UNK]"] + [f"w{i}" for i in range(VOCAB - 2)]
    path = pretrained.save_artifact(lm, vocab, {"heldout_perplexity": 12.3}, tmp_path / "pretrained" / "tiny")
    pretrained.register(path, "tiny")
    return path, lm


def test_artifact_round_trip_through_the_manifest(artifact_dir):
    path, lm = artifact_dir
    assert pretrained.list_pretrained() == ["tiny"]
    art = pretrained.load("tiny")
    assert art.vocab[2] == "w0" and art.metadata["heldout_perplexity"] == 12.3
    for a, b in zip(lm.weights, art.lm.weights):
        np.testing.assert_array_equal(ops.convert_to_numpy(a).astype("float16"), ops.convert_to_numpy(b))
    entry = pretrained.read_manifest()["artifacts"]["tiny"]
    assert entry["vocab_size"] == VOCAB and set(entry["files"]) == set(pretrained.FILES)


def test_artifact_checksum_fails_on_a_flipped_byte(artifact_dir):
    path, _ = artifact_dir
    weights = path / "weights.npz"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0x01
    weights.write_bytes(bytes(data))
    with pytest.raises(PretrainedError, match="weights.npz: sha256 mismatch"):
        pretrained.load("tiny")


def test_artifact_errors_are_clear(artifact_dir, tmp_path):
    path, lm = artifact_dir
    with pytest.raises(PretrainedError, match="unknown pretrained model 'nope'.*known: tiny"):
        pretrained.load("nope")
    with pytest.raises(PretrainedError, match="already exists"):
        pretrained.save_artifact(lm, ["x"] * VOCAB, {}, path)
    (path / "vocab.json").unlink()
    with pytest.raises(PretrainedError, match="vocab.json: missing file"):
        pretrained.load("tiny")
    # Outside the manifest (unverified), an incompatible config is named.
    copy = tmp_path / "copy"
    pretrained.save_artifact(lm, ["x"] * VOCAB, {}, copy)
    config = json.loads((copy / "config.json").read_text())
    config["lm"]["embedding_dim"] = 16
    config["lm"]["units"] = 16
    (copy / "config.json").write_text(json.dumps(config))
    with pytest.raises(PretrainedError, match=r"embedding/embeddings has shape \(60, 8\), the config needs \(60, 16\)"):
        pretrained.load(str(copy))
    config["lm"]["layers"] = 3
    (copy / "config.json").write_text(json.dumps(config))
    with pytest.raises(PretrainedError, match="incompatible config.*layers"):
        pretrained.load(str(copy))


def test_committed_manifest_matches_its_files():
    """Every artifact committed under pretrained/ is listed with the right checksums."""
    directory = pretrained.pretrained_dir()
    manifest = pretrained.read_manifest(directory)
    for name, entry in manifest.get("artifacts", {}).items():
        pretrained.verify(directory / entry["path"], entry)
        assert entry["size_bytes"] <= 20 * 2**20, f"{name} is over 20 MB"
        assert entry["heldout_perplexity"] > 1


# Runs recipes/pretrain_lm.py in its own process (it turns on TensorFlow op determinism, which is
# process-wide) on a tiny synthetic corpus in place of the five real sources.
_PRETRAIN = """
import runpy
import sys
import numpy as np
sys.path.insert(0, {root!r})
from zoo import corpus
rng = np.random.default_rng(0)
words = [f"w{{i}}" for i in range(40)]
docs = [" ".join(rng.choice(words, 120)) for _ in range(12)]
corpus.load_documents = lambda source: docs
sys.argv = ["pretrain_lm.py", *sys.argv[1:]]
runpy.run_path({recipe!r}, run_name="__main__")
"""


def _pretrain(*args):
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = _PRETRAIN.format(root=root, recipe=os.path.join(root, "recipes", "pretrain_lm.py"))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_pretrain_lm_from_metadata_reproduces_the_artifact(tmp_path):
    first, again = tmp_path / "first", tmp_path / "again"
    _pretrain("--output-dir", str(first), "--sources", "wikipedia", "--vocab-size", "30", "--embedding-dim", "8",
              "--num-layers", "1", "--num-sampled", "4", "--epochs", "2", "--batch-size", "4", "--bptt", "8",
              "--heldout-fraction", "0.2")
    out = _pretrain("--from-metadata", str(first / "metadata.json"), "--output-dir", str(again))
    assert f"reproduction of {first}: weights identical, vocabulary identical" in out
    check = pretrained.compare(first, again)
    assert check["identical_weights"] and check["same_vocab"]
    assert check["heldout_perplexity"][0] == check["heldout_perplexity"][1] > 1
    with np.load(again / "weights.npz") as arrays:  # one weight nudged: no longer identical
        changed = {key: arrays[key] for key in arrays.files}
    key = sorted(changed)[0]
    changed[key] = changed[key] + np.float16(0.5)
    np.savez_compressed(again / "weights.npz", **changed)
    check = pretrained.compare(first, again)
    assert not check["identical_weights"] and check["max_abs_diff"] == pytest.approx(0.5, abs=1e-3)


# === ULMFiT end to end ===


@pytest.mark.parametrize("mode, dev", [("ulmfit", None), ("probe", None), ("probe_init", None), ("probe", 10),
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
    metrics = ulmfit.run({
        "train": str(tmp_path / "train.csv"), "test": str(tmp_path / "test.csv"), "lm": "tiny",
        "output_dir": str(out), "lm_epochs": 1, "lm_batch_size": 4, "bptt": 8, "epochs": 1, "batch_size": 8,
        "sequence_length": 16, "max_tokens": 100, "baseline": False,
        "probe": mode == "probe", "probe_init": mode == "probe_init", "dev": dev,
        "ensemble": 2 if mode == "ensemble" else 1,
    })
    split, size = ("test", 20) if dev is None else ("dev", dev)  # --dev: held-out train rows, test unused
    if dev is not None:  # too many to hold out: one line naming the flag, before any work
        too_many = r"--dev: held-out size 60: the train split has only \d+ examples"
        with pytest.raises(zoo.errors.ConfigError, match=too_many):
            ulmfit.run({"train": str(tmp_path / "train.csv"), "test": str(tmp_path / "test.csv"), "dev": 60,
                        "output_dir": str(tmp_path / "too_many")})
        assert not (tmp_path / "too_many").exists()
    assert metrics["evaluated_on"] == split and metrics["num_test_examples"] == size
    assert f"- {split} examples: {size}" in (out / "report.md").read_text()
    stages = {"ulmfit": [], "ensemble": [], "probe": ["probe"], "probe_init": ["probe"]}[mode]
    if mode != "probe":
        stages += ["head", "from_encoder_2", "from_encoder_1", "all"]
    if mode == "ensemble":  # two members, each trained through every stage, their probabilities averaged
        stages = [f"member {k}: {stage}" for k in (1, 2) for stage in stages]
        assert [m["seed"] for m in metrics["members"]] == [0, 1000]
        sizes = metrics["accuracy_by_ensemble_size"]
        assert sizes[0] == round(metrics["members"][0]["accuracy"], 4) and sizes[1] == round(metrics["accuracy"], 4)
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
    for name in ("config.json", "metrics.json", "report.md", "model.keras", "export"):
        assert os.path.exists(out / name), name
    assert len(list((out / "lm").glob("finetuned_lm-*"))) == 1  # cached for runs with other label budgets


def test_finetune_lm_runs_the_callers_callbacks_once_per_epoch(artifact_dir):
    seen = []
    watch = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append((epoch, logs["loss"])))
    texts = [" ".join(f"w{(i * 7 + j) % 40}" for i in range(30)) for j in range(12)]
    cfg = {**ulmfit.ULMFIT_DEFAULTS, "lm_epochs": 2, "lm_batch_size": 2, "bptt": 8, "max_tokens": 100}
    _, _, report = ulmfit.finetune_lm(pretrained.load("tiny"), texts, cfg, callbacks=[watch])
    assert [epoch for epoch, _ in seen] == [0, 1] and all(np.isfinite(loss) for _, loss in seen)
    assert report["steps"] > 0 and report["steps"] % 2 == 0  # two epochs of equal length


@pytest.mark.parametrize("num_classes", [2, 3])
def test_linear_probe_is_scikit_learns_fit_in_keras_layers(num_classes):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    lm = tiny_lm()
    clf = ulmfit.build_classifier(lm.lm_config, VOCAB, num_classes, {"dropout": 0.1, "spatial_dropout": 0.1})
    zoo_lm.transfer_encoder(lm, clf)
    encoder = [w.copy() for w in clf.get_layer("encoder_1").get_weights()]
    rng = np.random.default_rng(0)
    labels = np.arange(30) % num_classes
    # Each class draws its tokens from its own band of the vocabulary: learnable.
    train = [rng.integers(2 + 15 * c, 17 + 15 * c, int(rng.integers(4, 12))).astype("int32") for c in labels]
    probe, history = ulmfit.fit_probe(clf, train, labels, num_classes, seed=0)
    assert history[0]["stage"] == "probe" and history[0]["cv_accuracy"] > 1 / num_classes
    features = zoo.text.predict_in_order(keras.Model(clf.input, clf.get_layer("pooling").output), train)
    scaler = StandardScaler().fit(features.astype("float64"))
    expected = LogisticRegression(C=history[0]["C"], max_iter=3000).fit(scaler.transform(features), labels)
    got = zoo.text.predict_in_order(probe, train)
    np.testing.assert_allclose(got, expected.predict_proba(scaler.transform(features)), atol=1e-5)
    for a, b in zip(encoder, probe.get_layer("encoder_1").get_weights()):
        np.testing.assert_array_equal(a, b)  # the encoder is the language model's, untouched


def test_linear_probe_needs_two_examples_per_class():
    lm = tiny_lm()
    clf = ulmfit.build_classifier(lm.lm_config, VOCAB, 2, {"dropout": 0.0, "spatial_dropout": 0.0})
    with pytest.raises(zoo.errors.ConfigError, match=r"--probe needs at least 2 .*class counts \[1, 3\]"):
        ulmfit.fit_probe(clf, [np.array([2, 3], "int32")] * 4, [0, 1, 1, 1], 2)


@pytest.mark.parametrize("cfg, message", [
    ({"probe": True, "probe_init": True}, "--probe fits the probe only.*pass one of them"),
    ({"lm_batch_size": 0}, "--lm-batch-size must be a positive integer, got 0"),
    ({"epochs": -1}, "--epochs must be a positive integer, got -1"),
    ({"dev": 0}, "--dev must be a positive integer, got 0"),
    ({"pooling": "avg"}, "--pooling must be one of last, max, mean, attention, concat, got 'avg'"),
    ({"ensemble": 0}, "--ensemble must be a positive integer, got 0"),
    ({"probe": True, "ensemble": 3}, "--probe is one deterministic linear fit.*use --probe-init"),
])
def test_bad_settings_fail_before_any_work(tmp_path, cfg, message):
    with pytest.raises(zoo.errors.ConfigError, match=message):
        ulmfit.run({**cfg, "output_dir": str(tmp_path / "run")})
    assert not (tmp_path / "run").exists()


def test_auxiliary_lm_loss_trains_the_shared_classifier():
    lm = tiny_lm()
    clf = ulmfit.build_classifier(lm.lm_config, VOCAB, 3, {"dropout": 0.0, "spatial_dropout": 0.0})
    zoo_lm.transfer_encoder(lm, clf)
    bias = ops.convert_to_numpy(lm.get_layer("embedding").output_bias)
    trainer = ulmfit.AuxiliaryLMClassifier(clf, bias, aux_weight=1.0, num_sampled=10)
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


@pytest.mark.parametrize("length", [4 * 62, 4 * 75, 4 * 500 + 3])
def test_lm_dataset_windows_stay_inside_the_stream(length):
    for variable in (True, False):
        try:
            ds, steps = zoo_lm.lm_dataset(np.arange(length), batch_size=4, bptt=20, seed=0, variable=variable)
        except ValueError:
            assert variable  # only variable windows need the extra room
            continue
        for _ in range(3):  # three epochs, three random offsets
            batches = list(ds)
            assert len(batches) == steps
            for x, y in batches:
                assert x.shape == y.shape and x.shape[1] >= 5
