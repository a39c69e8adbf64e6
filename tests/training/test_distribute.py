"""Tests of zoo.training.distribute: strategy choice, TF_CONFIG roles, scaling, precision,
and the Keras 3 multi-worker shim (keras-team/keras#20585).

Training under several devices or workers runs in subprocesses: logical CPU
devices must be configured before TensorFlow starts, and multi-worker
training needs one process per worker. Every subprocess has a timeout and is
killed in a ``finally``.
"""

import json
import os
import socket
import subprocess
import sys
import textwrap
import time

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from zoo.training import distribute

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SUBPROCESS_TIMEOUT = 180

# Shared by the subprocess scripts and the in-process reference run: a tiny
# LSTM, plain SGD, no dropout, fixed variable-length data padded per batch.
COMMON = textwrap.dedent('''
    import json, os, sys
    import numpy as np
    import tensorflow as tf
    import keras
    import zoo
    from zoo.data import text
    from zoo.training import distribute

    VOCAB, CLASSES, GLOBAL_BATCH, EPOCHS = 50, 3, 8, 2

    def data():
        rng = np.random.default_rng(0)
        ids = [rng.integers(1, VOCAB, size=n).astype("int32") for n in rng.integers(3, 9, size=16)]
        labels = np.arange(16) % CLASSES
        # bucket=False: every batch is full (16 = 2 x 8), so each replica's
        # share is equal and the distributed loss equals the global mean.
        return text.make_dataset(ids, labels, batch_size=GLOBAL_BATCH, bucket=False)

    def train(strategy, initial_weights):
        """Builds under the strategy's scope, starts at `initial_weights`, fits, returns the weights."""
        with strategy.scope():
            model = zoo.build_lstm(VOCAB, CLASSES, units=4, embedding_dim=4, dropout=0.0, spatial_dropout=0.0, compile=False)
            model.set_weights(initial_weights)
            zoo.compile_model(model, keras.optimizers.SGD(learning_rate=0.5))
        ds = data().with_options(distribute.distribute_dataset_options())
        model.fit(ds, epochs=EPOCHS, verbose=0)
        return model.get_weights()

    def initial_weights():
        keras.utils.set_random_seed(0)
        return zoo.build_lstm(VOCAB, CLASSES, units=4, embedding_dim=4, dropout=0.0, spatial_dropout=0.0, compile=False).get_weights()
''')

# One process, two logical CPUs: the default strategy, MirroredStrategy over
# both CPUs, and a one-worker MultiWorkerMirroredStrategy with Keras told it
# is multi-worker (Keras' own `_collective_all_reduce_multi_worker` forced to
# True), without and then with the shim.
SINGLE_PROCESS = COMMON + textwrap.dedent('''
    out = sys.argv[1]
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    results, weights = {}, {}
    init = weights["init"] = initial_weights()
    weights["default"] = train(tf.distribute.get_strategy(), init)

    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    results["mirrored_replicas"] = mirrored.num_replicas_in_sync
    weights["mirrored"] = train(mirrored, init)

    from keras.src.backend.tensorflow import trainer
    mwms = tf.distribute.MultiWorkerMirroredStrategy()
    trainer._collective_all_reduce_multi_worker = lambda s: isinstance(s, tf.distribute.MultiWorkerMirroredStrategy)
    results["needed_patch"] = distribute.keras_needs_multi_worker_patch()
    try:
        train(mwms, init)
        results["unpatched_error"] = None
    except Exception as error:
        results["unpatched_error"] = f"{type(error).__name__}: {error}"
    distribute.patch_keras_multi_worker()
    weights["mwms"] = train(mwms, init)

    np.savez(os.path.join(out, "weights.npz"),
             **{f"{k}_{i}": w for k, ws in weights.items() for i, w in enumerate(ws)})
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(results, f)
''')

# One worker of a TF_CONFIG cluster: argv = output dir, "shim"/"no-shim".
WORKER = COMMON + textwrap.dedent('''
    out, mode = sys.argv[1], sys.argv[2]
    if mode == "shim":
        strategy = distribute.get_strategy("multi_worker")
    else:
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    init = dict(np.load(os.path.join(out, "initial.npz")))
    weights = train(strategy, [init[f"w_{i}"] for i in range(len(init))])
    rank = distribute.worker_index()
    np.savez(os.path.join(out, f"worker{rank}.npz"), *weights)
    print(f"WORKER {rank} DONE replicas={strategy.num_replicas_in_sync} chief={distribute.is_chief(strategy)}")
''')


def _env(**extra):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "KERAS_BACKEND": "tensorflow", "CUDA_VISIBLE_DEVICES": "",
           "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("TF_CONFIG", None)
    env.update(extra)
    return env


def _run_processes(commands, timeout=SUBPROCESS_TIMEOUT):
    """Runs (argv, env) pairs at once; returns [(returncode, output)]. Kills them all on timeout or error."""
    procs = []
    try:
        for argv, env in commands:
            procs.append(subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                                          stderr=subprocess.STDOUT, text=True))
        deadline = time.monotonic() + timeout
        outputs = []
        for proc, (argv, _) in zip(procs, commands):
            try:
                outputs.append(proc.communicate(timeout=max(1.0, deadline - time.monotonic()))[0])
            except subprocess.TimeoutExpired:
                pytest.fail(f"subprocess did not finish in {timeout} s: {argv}")
        return [(proc.returncode, output) for proc, output in zip(procs, outputs)]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()


def _free_ports(n):
    sockets = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _load_weights(path):
    loaded = np.load(path)
    return [loaded[f"arr_{i}"] for i in range(len(loaded.files))]


def _assert_same_weights(a, b, atol=1e-5):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, atol=atol, rtol=0)


class _Replicas:
    """Stands in for a strategy where only the replica count matters."""

    def __init__(self, n):
        self.num_replicas_in_sync = n


def _tf_config(task_type, index, chief=False, workers=2, evaluator=False):
    cluster = {"worker": [f"host{i}:2222" for i in range(workers)]}
    if chief:
        cluster["chief"] = ["chief:2222"]
    if evaluator:
        cluster["evaluator"] = ["eval:2222"]
    return json.dumps({"cluster": cluster, "task": {"type": task_type, "index": index}})


@pytest.fixture
def no_tf_config(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)


@pytest.fixture
def unpatch():
    """Leaves Keras as it was, whatever the test patched."""
    yield
    distribute._unpatch_keras_multi_worker()


# === Strategy choice ===


def test_strategy_names_and_errors(no_tf_config):
    assert distribute.STRATEGIES == ("auto", "default", "mirrored", "multi_worker", "tpu")
    for name in ("default", "mirrored", "multi_worker", "tpu"):
        assert distribute.resolve_strategy_name(name) == name
    for bad in ("gpu", "", None, "Mirrored"):
        with pytest.raises(ValueError, match="must be one of 'auto', 'default', 'mirrored', 'multi_worker', 'tpu'"):
            distribute.get_strategy(bad)


def test_auto_without_cluster_is_default(no_tf_config, capsys):
    if len(tf.config.list_physical_devices("GPU")) > 1:
        pytest.skip("several GPUs: auto picks mirrored")
    assert distribute.resolve_strategy_name("auto") == "default"
    strategy = distribute.get_strategy("auto")
    assert strategy is tf.distribute.get_strategy()
    logged = capsys.readouterr().err.strip().splitlines()
    assert len(logged) == 1 and "default" in logged[0] and "1 replica" in logged[0], logged


def test_auto_picks_multi_worker_from_tf_config(monkeypatch):
    monkeypatch.setattr(distribute, "_detect_tpu", lambda *a, **k: None)
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: [])
    for config, expected in [
        (_tf_config("worker", 0), "multi_worker"),
        (_tf_config("chief", 0, chief=True, workers=1), "multi_worker"),
        (_tf_config("worker", 0, workers=1), "default"),  # one task: nothing to coordinate
        (_tf_config("chief", 0, chief=True, workers=0, evaluator=True), "default"),  # evaluators do not train
    ]:
        monkeypatch.setenv("TF_CONFIG", config)
        assert distribute.resolve_strategy_name("auto") == expected, config
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(ValueError, match="TF_CONFIG is not valid JSON"):
        distribute.resolve_strategy_name("auto")


def test_auto_order_tpu_then_gpus(monkeypatch, no_tf_config):
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: ["gpu0", "gpu1"])
    monkeypatch.setattr(distribute, "_detect_tpu", lambda *a, **k: None)
    assert distribute.resolve_strategy_name("auto") == "mirrored"
    monkeypatch.setattr(distribute, "_detect_tpu", lambda *a, **k: object())
    assert distribute.resolve_strategy_name("auto") == "tpu"


def test_tpu_probe_is_bounded(monkeypatch):
    import threading

    release = threading.Event()

    def hanging_resolver(*args, **kwargs):
        release.wait(30)
        raise ValueError("no TPU")

    monkeypatch.setattr(tf.distribute.cluster_resolver, "TPUClusterResolver", hanging_resolver)
    try:
        start = time.monotonic()
        assert distribute._detect_tpu(timeout=0.2) is None
        assert time.monotonic() - start < 5
    finally:
        release.set()


def test_tpu_without_tpu_raises(monkeypatch):
    monkeypatch.setattr(distribute, "_detect_tpu", lambda *a, **k: None)
    with pytest.raises(ValueError, match="no TPU found"):
        distribute.get_strategy("tpu")


def test_default_and_mirrored_build(no_tf_config, capsys):
    assert distribute.get_strategy("default") is tf.distribute.get_strategy()
    mirrored = distribute.get_strategy("mirrored")
    assert isinstance(mirrored, tf.distribute.MirroredStrategy)
    assert mirrored.num_replicas_in_sync == max(1, len(tf.config.list_physical_devices("GPU")))
    logged = capsys.readouterr().err
    assert "MirroredStrategy" in logged


# === TF_CONFIG roles ===


@pytest.mark.parametrize("config, chief, rank", [
    (None, True, 0),
    (json.dumps({"task": {"type": "worker", "index": 3}}), True, 0),  # no cluster
    (_tf_config("chief", 0, chief=True), True, 0),
    (_tf_config("worker", 0, chief=True), False, 1),
    (_tf_config("worker", 1, chief=True), False, 2),
    (_tf_config("worker", 0), True, 0),
    (_tf_config("worker", 1), False, 1),
])
def test_is_chief_and_worker_index(monkeypatch, config, chief, rank):
    if config is None:
        monkeypatch.delenv("TF_CONFIG", raising=False)
    else:
        monkeypatch.setenv("TF_CONFIG", config)
    assert distribute.is_chief() is chief
    assert distribute.worker_index() == rank


def test_evaluator_is_not_chief_and_has_no_rank(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", _tf_config("evaluator", 0, chief=True, evaluator=True))
    assert distribute.is_chief() is False
    with pytest.raises(ValueError, match="does not train"):
        distribute.worker_index()


def test_backup_dir_for(monkeypatch, tmp_path):
    base = str(tmp_path / "backup")
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert distribute.backup_dir_for(base) == base
    dirs = {}
    for task_type, index in [("chief", 0), ("worker", 0), ("worker", 1)]:
        monkeypatch.setenv("TF_CONFIG", _tf_config(task_type, index, chief=True))
        dirs[task_type, index] = distribute.backup_dir_for(base + "/")
    assert dirs["chief", 0] == base + "/"
    assert len(set(dirs.values())) == 3
    # Outside the chief's directory: its BackupAndRestore deletes that tree when training ends.
    assert dirs["worker", 0] == base + "-worker-1" and dirs["worker", 1] == base + "-worker-2"
    with pytest.raises(ValueError):
        distribute.backup_dir_for("")


# === Scaling, data options, precision ===


def test_global_batch_and_learning_rate():
    assert distribute.global_batch_size(32, _Replicas(1)) == 32
    assert distribute.global_batch_size(32, _Replicas(4)) == 128
    assert distribute.scaled_learning_rate(1e-3, _Replicas(4)) == pytest.approx(4e-3)
    assert distribute.scaled_learning_rate(1e-3, _Replicas(4), scale="none") == pytest.approx(1e-3)
    assert distribute.global_batch_size(16, tf.distribute.get_strategy()) == 16
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="per_replica_batch"):
            distribute.global_batch_size(bad, _Replicas(2))
    with pytest.raises(ValueError, match="'linear', 'none'"):
        distribute.scaled_learning_rate(1e-3, _Replicas(2), scale="sqrt")
    with pytest.raises(ValueError, match="`lr`"):
        distribute.scaled_learning_rate(0, _Replicas(2))


def test_distribute_dataset_options():
    options = distribute.distribute_dataset_options()
    assert options.experimental_distribute.auto_shard_policy == tf.data.experimental.AutoShardPolicy.DATA
    ds = tf.data.Dataset.range(4).batch(2).with_options(options)
    assert ds.options().experimental_distribute.auto_shard_policy == tf.data.experimental.AutoShardPolicy.DATA


def test_resolve_precision():
    if tf.config.list_physical_devices("GPU"):
        pytest.skip("a GPU is visible; the CPU default is what is tested here")
    assert distribute.resolve_precision(None) == "float32"
    assert keras.config.dtype_policy().name == "float32"
    assert distribute.resolve_precision("mixed_bfloat16") == "mixed_bfloat16"
    assert keras.config.dtype_policy().name == "mixed_bfloat16"
    model = zoo.build_lstm(50, 3, units=4, embedding_dim=4)
    assert model.get_layer("encoder_1").compute_dtype == "bfloat16"
    assert model.output.dtype == "float32"
    with pytest.raises(ValueError, match="'float32', 'mixed_float16', 'mixed_bfloat16'"):
        distribute.resolve_precision("float16")


def test_resolve_precision_prefers_float16_on_tensor_core_gpus(monkeypatch):
    monkeypatch.setattr(distribute, "_gpu_compute_capabilities", lambda: [(8, 0)])
    assert distribute.resolve_precision() == "mixed_float16"
    monkeypatch.setattr(distribute, "_gpu_compute_capabilities", lambda: [(6, 1)])
    assert distribute.resolve_precision() == "float32"


# === The shim ===


def test_patch_is_idempotent_and_reversible(unpatch):
    from keras.src.backend.tensorflow import trainer

    if not distribute.keras_needs_multi_worker_patch():
        pytest.skip("the installed Keras no longer has the faulty code (keras#20585 fixed?)")
    originals = (trainer.TensorFlowTrainer._maybe_symbolic_build, trainer.reduce_per_replica)
    distribute.patch_keras_multi_worker()
    patched = (trainer.TensorFlowTrainer._maybe_symbolic_build, trainer.reduce_per_replica)
    assert all(p is not o and p.__wrapped__ is o for p, o in zip(patched, originals))
    assert [p.__name__ for p in patched] == ["_maybe_symbolic_build", "reduce_per_replica"]
    assert not distribute.keras_needs_multi_worker_patch()
    distribute.patch_keras_multi_worker()
    assert (trainer.TensorFlowTrainer._maybe_symbolic_build, trainer.reduce_per_replica) == patched
    distribute._unpatch_keras_multi_worker()
    assert (trainer.TensorFlowTrainer._maybe_symbolic_build, trainer.reduce_per_replica) == originals


def test_patch_is_a_no_op_on_a_fixed_keras(monkeypatch, unpatch):
    from keras.src.backend.tensorflow import trainer

    def reduce_per_replica(values, strategy, reduction):  # an upstream fix, without the faulty line
        return values

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        return None

    monkeypatch.setattr(trainer, "reduce_per_replica", reduce_per_replica)
    monkeypatch.setattr(trainer.TensorFlowTrainer, "_maybe_symbolic_build", _maybe_symbolic_build)
    assert not distribute.keras_needs_multi_worker_patch()
    distribute.patch_keras_multi_worker()
    assert trainer.reduce_per_replica is reduce_per_replica
    assert trainer.TensorFlowTrainer._maybe_symbolic_build is _maybe_symbolic_build


def test_patched_keras_is_unchanged_without_multi_worker(unpatch):
    # The wrappers defer to Keras for every other strategy: default-strategy fit is as before.
    x = np.random.default_rng(0).integers(1, 50, size=(8, 5)).astype("int32")
    y = np.arange(8) % 3
    weights = []
    for patch in (False, True):
        if patch:
            distribute.patch_keras_multi_worker()
        keras.utils.set_random_seed(0)
        model = zoo.build_lstm(50, 3, units=4, embedding_dim=4, compile=False)
        zoo.compile_model(model, keras.optimizers.SGD(learning_rate=0.5))
        model.fit(x, y, batch_size=4, epochs=1, verbose=0)
        weights.append(model.get_weights())
    _assert_same_weights(*weights, atol=0)


# === Training under strategies (subprocesses) ===


@pytest.fixture(scope="module")
def single_process_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("single_process")
    script = out / "single_process.py"
    script.write_text(SINGLE_PROCESS)
    [(code, output)] = _run_processes([([sys.executable, str(script), str(out)], _env())])
    assert code == 0, output[-5000:]
    with open(out / "results.json") as f:
        results = json.load(f)
    loaded = np.load(out / "weights.npz")
    weights = {}
    for key in sorted(loaded.files, key=lambda k: (k.rsplit("_", 1)[0], int(k.rsplit("_", 1)[1]))):
        weights.setdefault(key.rsplit("_", 1)[0], []).append(loaded[key])
    return results, weights


def test_mirrored_two_cpus_matches_default(single_process_run):
    results, weights = single_process_run
    assert results["mirrored_replicas"] == 2
    _assert_same_weights(weights["mirrored"], weights["default"])
    # Training moved the weights, so the match is not vacuous.
    assert any(not np.allclose(a, b) for a, b in zip(weights["default"], weights["init"]))


def test_single_process_multi_worker_fails_without_shim_and_matches_with_it(single_process_run):
    results, weights = single_process_run
    if results["needed_patch"]:
        # Keras' scalar step outputs reduced with axis=0 (keras#20585, second bug).
        assert results["unpatched_error"] is not None
        assert "Invalid reduction dimension 0" in results["unpatched_error"], results["unpatched_error"]
    _assert_same_weights(weights["mwms"], weights["default"])


def _two_workers(tmp_path, mode):
    """Runs WORKER in two processes of one TF_CONFIG cluster on 127.0.0.1; returns their (code, output)."""
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    commands = []
    for index in range(2):
        config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        commands.append(([sys.executable, str(script), str(tmp_path), mode], _env(TF_CONFIG=config)))
    return _run_processes(commands)


def _reference(tmp_path):
    """Writes the initial weights for the workers and returns the default strategy's trained weights."""
    namespace = {}
    exec(COMMON, namespace)  # noqa: S102 - the same code the workers run
    init = namespace["initial_weights"]()
    np.savez(tmp_path / "initial.npz", **{f"w_{i}": w for i, w in enumerate(init)})
    return init, namespace["train"](tf.distribute.get_strategy(), init)


def test_two_workers_train_to_the_same_weights(tmp_path):
    init, reference = _reference(tmp_path)
    runs = _two_workers(tmp_path, "shim")
    for code, output in runs:
        assert code == 0, output[-5000:]
    assert "WORKER 0 DONE replicas=2 chief=True" in runs[0][1]
    assert "WORKER 1 DONE replicas=2 chief=False" in runs[1][1]
    assert "multi_worker (CollectiveAllReduceStrategy), 2 replica(s), 2 workers" in runs[0][1]
    first, second = _load_weights(tmp_path / "worker0.npz"), _load_weights(tmp_path / "worker1.npz")
    _assert_same_weights(first, second, atol=0)
    _assert_same_weights(first, reference)
    assert any(not np.allclose(a, b) for a, b in zip(first, init))


def test_two_workers_fail_without_shim(tmp_path):
    if not distribute.keras_needs_multi_worker_patch():
        pytest.skip("the installed Keras no longer has the faulty code (keras#20585 fixed?)")
    _reference(tmp_path)
    runs = _two_workers(tmp_path, "no-shim")
    for code, output in runs:
        assert code != 0
        # keras#20585, first bug: the symbolic build all-reduces the input batch.
        assert "PerReplica" in output and "unsupported type" in output, output[-3000:]
