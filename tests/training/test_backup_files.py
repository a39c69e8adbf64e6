"""A damaged backup folder: every file a resumed run reads back is one DataError line that names it."""

import json

import h5py
import numpy as np
import pytest

import zoo
from tests.helpers import random_ids
from zoo.cli.flags import EXIT_INPUT, exit_code
from zoo.config import ClassifierConfig
from zoo.data.text import make_dataset
from zoo.errors import DataError
from zoo.training.backups import (
    check_weights,
    open_backup,
    read_history,
    read_state,
    resumed_epoch,
)
from zoo.training.stages import Stage, run_stages


def _one_line(error, path):
    message = str(error.value)
    assert str(path) in message and "\n" not in message and "damaged" in message and "backup_dir" in message
    assert exit_code(error.value) == EXIT_INPUT
    assert path.exists()  # the user's to delete, never zoo's


def _metadata(folder, text):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "training_metadata.json"
    path.write_text(text)
    return path


def _truncated_weights(path):
    with h5py.File(path, "w") as f:
        f["layers/dense/vars/0"] = np.zeros((40, 40), "float32")
    path.write_bytes(path.read_bytes()[:1000])
    return path


@pytest.mark.parametrize("text", ["{", '{"epoch": "x"}', '{"epoch": -5}', '{"epoch": 100000}', '{"epoch": true}',
                                  "[3]", "{}"])
def test_a_bad_epoch_record_is_one_line(tmp_path, text):
    path = _metadata(tmp_path / "train", text)
    with pytest.raises(DataError) as error:
        resumed_epoch(tmp_path / "train", 300)
    _one_line(error, path)
    assert "300" in str(error.value) or text in ("{", "[3]", "{}", '{"epoch": "x"}', '{"epoch": true}')


def test_a_good_epoch_record(tmp_path):
    assert resumed_epoch(tmp_path / "train", 300) == 0  # none yet
    _metadata(tmp_path / "train", '{"epoch": 300, "batch": 0}')
    assert resumed_epoch(tmp_path / "train", 300) == 300


def test_damaged_weights_state_and_history_are_one_line(tmp_path):
    weights = _truncated_weights(tmp_path / "latest.weights.h5")
    with pytest.raises(DataError) as error:
        check_weights(weights, tmp_path)
    _one_line(error, weights)
    state = tmp_path / "train.state.npz"
    state.write_bytes(b"garbage" * 20)
    with pytest.raises(DataError) as error:
        read_state(state, tmp_path)
    _one_line(error, state)
    np.savez(state, epoch=np.array([object()], dtype=object))  # a pickle: not zoo's
    with pytest.raises(DataError) as error:
        read_state(state, tmp_path)
    _one_line(error, state)
    np.savez(state, epoch=np.array("x"))
    with pytest.raises(DataError) as error:
        read_state(state, tmp_path)
    _one_line(error, state)
    history = tmp_path / "train.csv"
    history.write_text("epoch,accuracy\nx,0.5\n")
    with pytest.raises(DataError) as error:
        read_history(history, tmp_path)
    _one_line(error, history)


def test_opening_a_damaged_backup_is_one_line_before_training(tmp_path):
    folder = tmp_path / "bk1"
    open_backup(str(folder), ClassifierConfig(epochs=3), "data-sha")
    _metadata(folder / "train", '{"epoch": 1, "batch": 0}')
    weights = _truncated_weights(folder / "train" / "latest.weights.h5")
    with pytest.raises(DataError) as error:
        open_backup(str(folder), ClassifierConfig(epochs=3), "data-sha")
    _one_line(error, weights)
    weights.unlink()
    metadata = _metadata(folder / "train", '{"epoch": -5}')
    with pytest.raises(DataError) as error:
        open_backup(str(folder), ClassifierConfig(epochs=3), "data-sha")
    _one_line(error, metadata)
    from zoo.cli.train import check_other_dirs

    with pytest.raises(DataError) as error:  # zoo train: before TensorFlow starts and its run folder is made
        check_other_dirs(ClassifierConfig(epochs=3, backup_dir=str(folder)), str(tmp_path / "run"))
    _one_line(error, metadata)
    assert not (tmp_path / "run").exists()


def _model_and_data():
    model = zoo.build_lstm(40, 3, units=4, embedding_dim=4, compile=False)
    ds = make_dataset(list(random_ids(16, 7, vocab_size=40)), np.arange(16) % 3, 8, shuffle=True)
    return model, ds


@pytest.mark.parametrize("epoch", [100000, -5])
def test_run_stages_refuses_an_epoch_outside_the_stage(tmp_path, epoch):
    model, ds = _model_and_data()
    metadata = _metadata(tmp_path / "train", json.dumps({"epoch": epoch}))
    with pytest.raises(DataError) as error:  # without the check: a stall replaying 200000 passes, or 5 extra epochs
        run_stages(model, [Stage("train", 3, 1e-3, (), "constant")], ds, backup_dir=str(tmp_path), verbose=0)
    _one_line(error, metadata)
    assert "from 0 to 3" in str(error.value)


def test_run_stages_refuses_damaged_weights_and_state(tmp_path):
    model, ds = _model_and_data()
    stages = [Stage("train", 3, 1e-3, (), "constant")]
    _metadata(tmp_path / "train", '{"epoch": 1, "batch": 0}')
    weights = _truncated_weights(tmp_path / "train" / "latest.weights.h5")
    with pytest.raises(DataError) as error:  # Keras' BackupAndRestore reads it
        run_stages(model, stages, ds, backup_dir=str(tmp_path), verbose=0)
    _one_line(error, weights)
    state = tmp_path / "train.state.npz"
    state.write_bytes(b"garbage" * 20)
    with pytest.raises(DataError) as error:
        run_stages(model, stages, ds, backup_dir=str(tmp_path), verbose=0)
    _one_line(error, state)
    done = _truncated_weights(tmp_path / "train.done.weights.h5")
    with pytest.raises(DataError) as error:
        run_stages(model, stages, ds, backup_dir=str(tmp_path), verbose=0)
    _one_line(error, done)


def test_a_sound_backup_still_runs_and_keeps_its_folder(tmp_path):
    model, ds = _model_and_data()
    history = run_stages(model, [Stage("train", 2, 1e-3, (), "constant")], ds, backup_dir=str(tmp_path), verbose=0)
    assert len(history) == 2
    # The stage's own folder is Keras' to delete at the end, the run's backup folder is not.
    assert (tmp_path / "train.done.weights.h5").exists() and not (tmp_path / "train").exists()
    history = run_stages(model, [Stage("train", 2, 1e-3, (), "constant")], ds, backup_dir=str(tmp_path), verbose=0)
    assert len(history) == 2  # finished before: restored, not trained again


def test_a_backup_outlives_the_fit_until_the_run_is_written(tmp_path):
    """zoo train removes its backup only after the run is written: Ctrl-C while it evaluates resumes, and a rerun
    from the finished backup gives the model the first fit gave."""
    from zoo import TextClassifier
    from zoo.training.backups import removed_when_written

    texts, labels = ["good fun", "great film", "dull mess", "awful plot"] * 4, ["pos", "pos", "neg", "neg"] * 4
    params = {"init": "none", "units": 4, "embedding_dim": 4, "epochs": 2, "batch_size": 4, "verbose": 0,
              "hybrid": False, "backup_dir": str(tmp_path / "backup")}
    with pytest.raises(KeyboardInterrupt), removed_when_written():
        first = TextClassifier(**params).fit(texts, labels).predict_proba(texts)
        assert (tmp_path / "backup").is_dir()
        raise KeyboardInterrupt  # (as Ctrl-C while the run is evaluated)
    assert (tmp_path / "backup").is_dir()
    with removed_when_written():
        again = TextClassifier(**params).fit(texts, labels).predict_proba(texts)
        assert (tmp_path / "backup").is_dir()
    assert not (tmp_path / "backup").exists()
    np.testing.assert_allclose(again, first, atol=1e-6)
