"""Recipes under tf.distribute through their CLI: two workers on 127.0.0.1, and resume after SIGKILL."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.cli.test_train import RECIPE, _rows, _write_csv

DEADLINE_S = 240


def _env(**extra):
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "ZOO_OFFLINE": "1", **extra}


def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _kill(processes):
    for p in processes:
        if p.poll() is None:
            p.kill()
        p.wait(timeout=30)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    return [_write_csv(d / "train.csv", _rows(8)), _write_csv(d / "test.csv", _rows(2))]


def _args(data, out, *extra):
    train, test = data
    return [sys.executable, RECIPE, "--train", train, "--test", test, "--init", "none", "--units", "8",
            "--embedding-dim", "8", "--batch-size", "8", "--no-baseline", "--output-dir", str(out), *extra]


def _model_row(stdout):
    return next(line for line in stdout.splitlines() if line.startswith(("| zoo model |", "| zoo hybrid |")))


@pytest.mark.slow
def test_two_workers_train_a_recipe_and_agree(data, tmp_path):
    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    out = tmp_path / "run"
    processes = []
    try:
        for index in range(2):
            tf_config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
            processes.append(subprocess.Popen(
                _args(data, out, "--epochs", "2", "--strategy", "auto", "--backup-dir", str(tmp_path / "backup")),
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(TF_CONFIG=tf_config)))
        results = [p.communicate(timeout=DEADLINE_S) for p in processes]
    finally:
        _kill(processes)
    for p, (stdout, stderr) in zip(processes, results):
        assert p.returncode == 0, stderr[-3000:]
        assert "multi_worker" in stderr and "2 workers" in stderr
    assert _model_row(results[0][0]) == _model_row(results[1][0])
    assert (out / "export" / "saved_model.pb").exists() and (out / "metrics.json").exists()
    assert "wrote" in results[0][0] and "wrote" not in results[1][0]  # only the chief writes
    assert not (tmp_path / "backup").exists() and not list(tmp_path.glob("backup-worker-*"))


def _kill_after_first_backup(command, metadata):
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=_env())
    try:
        deadline = time.time() + DEADLINE_S
        while not metadata.exists() and first.poll() is None and time.time() < deadline:
            time.sleep(0.02)
        assert metadata.exists(), "no backup was written after the first epoch"
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        _kill([first])
    assert first.returncode == -signal.SIGKILL
    return json.loads(metadata.read_text())["epoch"]


@pytest.mark.slow
@pytest.mark.parametrize("extra", [
    # one stage, dropout, a reshuffle every epoch, and early stopping: its patience count and best weights survive
    ["--epochs", "12", "--patience", "1"],
    ["--epochs", "6", "--init", "{vectors}", "--frozen-epochs", "3"],  # two stages, killed in the first
])
def test_a_killed_and_resumed_run_ends_like_an_uninterrupted_one(data, tmp_path, extra):
    """Weights, per-epoch losses and test metrics of a run killed after its first epoch and resumed equal an
    uninterrupted run's: the backup keeps the dropout RNG and early stopping's state, and the shuffle order is
    replayed (float32 results, compared at float32 noise). The killed run wrote no results; the rerun resumes at the
    epoch after the backup's, writes them and removes its backup."""
    from tests.cli.test_train import _glove
    from zoo import load_model

    extra = [x.format(vectors=_glove(tmp_path / "vectors.txt")) for x in extra]
    init = [] if "--init" in extra else ["--init", "none", "--embedding-dim", "8"]
    args = ["--train", data[0], "--test", data[1], "--units", "8", "--batch-size", "4", "--validation-split", "0.25",
            "--seed", "3", "--no-baseline", *init, *extra]
    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    straight = subprocess.run([sys.executable, RECIPE, *args, "--output-dir", str(whole), "--backup-dir",
                               str(tmp_path / "backup_whole")], capture_output=True, text=True, env=_env(),
                              timeout=DEADLINE_S)
    assert straight.returncode == 0, straight.stderr[-3000:]
    command = [sys.executable, RECIPE, *args, "--output-dir", str(resumed), "--backup-dir", str(tmp_path / "backup")]
    first_stage = "frozen_embedding" if "--frozen-epochs" in extra else "train"
    epoch = _kill_after_first_backup(command, tmp_path / "backup" / first_stage / "training_metadata.json")
    assert epoch >= 1
    assert not (resumed / "export").exists() and not (resumed / "metrics.json").exists()
    again = subprocess.run(command, capture_output=True, text=True, env=_env(), timeout=DEADLINE_S)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "resuming at epoch" in again.stderr and "start afresh" not in again.stderr
    at = re.search(rf"stage {first_stage}: resuming at epoch (\d+) of (\d+)", again.stderr)
    assert at, again.stderr[-3000:]
    assert int(at.group(1)) == epoch + 1 and epoch < int(at.group(2))  # killed mid-stage, resumed after the backup
    assert (resumed / "export" / "saved_model.pb").exists() and (resumed / "report.md").exists()
    assert not (tmp_path / "backup").exists()  # a completed run removes its backup

    a, b = (json.loads((d / "metrics.json").read_text()) for d in (whole, resumed))
    assert [h["stage"] for h in a["history"]] == [h["stage"] for h in b["history"]]
    assert a["epochs_run"] == b["epochs_run"]  # the history spans the run before and after the kill
    for ha, hb in zip(a["history"], b["history"]):
        assert ha["loss"] == pytest.approx(hb["loss"], rel=1e-6)
    assert a["accuracy"] == b["accuracy"] and a["confusion_matrix"] == b["confusion_matrix"]
    for wa, wb in zip(load_model(whole / "model.keras", compile=False).get_weights(),
                      load_model(resumed / "model.keras", compile=False).get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-6, atol=1e-7)
