"""zoo's models on Keras' JAX and PyTorch backends, and ``.keras`` files that cross backends.

Keras fixes its backend when it is first imported, so the other backends run
in subprocesses: each runs the shared model checks (the factory helper on
every factory; on PyTorch also the language model, the layers, freezing and
weight transfer) with ``KERAS_BACKEND`` set, and :func:`test_exchange_with_the_parent`, which
loads the models this (TensorFlow) process saved and saves its own. Both
backends run at once, one per core. Back here, every model the other backends
saved loads under TensorFlow with the same predictions.

The runs use ``.venv-backends`` (:func:`backends_python`), which ``.ci/run``
makes; they are skipped, with the reason, where there is neither it nor JAX
and PyTorch here. They start as soon as the suite is collected
(``tests/conftest.py``) and run beside it.
"""

import importlib.util
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import zoo
from tests.helpers import TINY, VOCAB_SIZE, random_ids

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OTHER_BACKENDS = ("jax", "torch")
# The shared checks the other backends run (the TensorFlow suite runs them too): the factory helper on every
# factory, cudnn_report, the lengths path against the masked loop (zoo.layers.right_padded) and the .keras
# exchange on both; the language model, the layers, freezing and weight
# transfer on PyTorch too (on JAX every new shape compiles, and they would double its run; they are keras.ops).
CHECKS = ["tests/models/test_factories.py::test_factory", "tests/models/test_factories.py::test_cudnn_report_"
          "defaults_eligible_and_explains_why_not", "tests/models/test_backends.py", "tests/models/test_right_padded.py"]
MORE_CHECKS = {"torch": ["tests/models/test_language_model.py", "tests/layers", "tests/training/test_freezing.py",
                         "tests/transfer/test_encoder.py"], "jax": []}
EXCHANGE = "ZOO_TEST_BACKEND_EXCHANGE"  # the folder where the backends leave their models for each other
NUM_CLASSES = 3


def exchanged_models():
    """name -> a tiny model of each kind: every factory, the language model, ULMFiT's classifier."""
    from zoo.models.language_model import build_lstm_lm
    from zoo.models.ulmfit_classifier import build_ulmfit_classifier

    models = {name: zoo.get_model(name, VOCAB_SIZE, NUM_CLASSES, **TINY) for name in zoo.list_models()}
    lm = build_lstm_lm(VOCAB_SIZE, embedding_dim=8, num_layers=2, num_sampled=10, seed=1)
    models["language_model"] = lm
    models["ulmfit_classifier"] = build_ulmfit_classifier(lm.lm_config, VOCAB_SIZE, NUM_CLASSES)
    return models


def probe_ids():
    ids = random_ids(4, 11, seed=7)
    ids[1, 6:] = 0  # a right-padded row
    return ids


def save_models(folder):
    """Saves every exchanged model and its predictions on the probe ids into ``folder``."""
    os.makedirs(folder, exist_ok=True)
    for name, model in exchanged_models().items():
        model.save(os.path.join(folder, f"{name}.keras"))
        np.save(os.path.join(folder, f"{name}.npy"), keras.ops.convert_to_numpy(model.predict(probe_ids(), verbose=0)))


def check_models(folder):
    """Loads every model in ``folder`` here; their predictions match those saved beside them."""
    names = sorted(f[:-len(".keras")] for f in os.listdir(folder) if f.endswith(".keras"))
    assert names == sorted(exchanged_models()), names
    for name in names:
        restored = zoo.load_model(os.path.join(folder, f"{name}.keras"))
        got = keras.ops.convert_to_numpy(restored.predict(probe_ids(), verbose=0))
        np.testing.assert_allclose(got, np.load(os.path.join(folder, f"{name}.npy")), atol=1e-5, rtol=1e-5,
                                   err_msg=f"{name} saved under another backend")


def backends_python():
    """The interpreter of the backend runs, or why there is none.

    ``.venv-backends`` (what ``.ci/run`` makes: Keras, JAX and PyTorch, and no
    TensorFlow, so the runs also show that the models never need it; beside
    TensorFlow, JAX would be imported by every ``import tensorflow``), else
    this interpreter when JAX and PyTorch are installed here.
    """
    venv = os.path.join(REPO_ROOT, ".venv-backends", "bin", "python")
    if os.path.exists(venv):
        return venv, None
    missing = [b for b in OTHER_BACKENDS if importlib.util.find_spec(b) is None]
    if missing:
        return None, (f"{' and '.join(missing)} not installed: make .venv-backends as .ci/run does, or "
                      "pip install -e '.[backends]'")
    return sys.executable, None


_STARTED = {}  # the folder of the backend runs this process started or found, set by start_backend_runs()


def _runs_folder():
    """Where the backend runs of this test session leave their logs, exit codes and models.

    Under pytest-xdist every worker collects the whole suite and calls
    :func:`start_backend_runs`; the first to create the folder named after
    xdist's test-run id starts the runs, and the worker that runs the test
    waits on their exit-code files. Without xdist, a new temporary folder.
    """
    import tempfile

    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if run_id is None:
        return tempfile.mkdtemp(prefix="zoo-backends-"), True
    folder = os.path.join(tempfile.gettempdir(), f"zoo-backends-{run_id}")
    try:
        os.makedirs(folder)
    except FileExistsError:
        return folder, False
    return folder, True


def start_backend_runs():
    """Saves this process's models, then starts one run of the shared checks per other backend, in the background.

    tests/conftest.py calls it once the suite is collected, so the runs overlap the rest of the suite;
    :func:`test_shared_checks_and_keras_files_on_jax_and_torch` waits for them. Each run writes its exit code
    to ``<backend>.rc`` in the runs' folder when it ends.
    """
    python, why = backends_python()
    if _STARTED or python is None or keras.backend.backend() != "tensorflow":
        return
    folder, mine = _runs_folder()
    _STARTED["folder"] = folder
    if not mine:
        return
    try:
        save_models(os.path.join(folder, "tensorflow"))
    except Exception as error:  # say so to the waiting test rather than leave it waiting
        for backend in OTHER_BACKENDS:
            with open(os.path.join(folder, f"{backend}.log"), "w") as f:
                f.write(f"E   saving TensorFlow's models failed: {error!r}\n")
            with open(os.path.join(folder, f"{backend}.rc"), "w") as f:
                f.write("1\n")
        return
    keras.utils.clear_session()
    for backend in OTHER_BACKENDS:
        env = {**os.environ, "KERAS_BACKEND": backend, EXCHANGE: folder, "TF_CPP_MIN_LOG_LEVEL": "2",
               "CUDA_VISIBLE_DEVICES": "", "JAX_PLATFORMS": "cpu", "OMP_NUM_THREADS": "1"}
        for xdist_variable in ("PYTEST_XDIST_TESTRUNUID", "PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT"):
            env.pop(xdist_variable, None)
        log = os.path.join(folder, f"{backend}.log")
        rc = os.path.join(folder, f"{backend}.rc")
        command = [python, "-m", "pytest", "-q", "-x", "-o", "addopts=", "-p", "no:cacheprovider",
                   *CHECKS, *MORE_CHECKS[backend]]
        # sh writes the exit code once pytest ends, for whichever process waits (not always this one).
        subprocess.Popen(["sh", "-c", 'log=$0 rc=$1; shift; "$@" > "$log" 2>&1; echo $? > "$rc.tmp"; mv "$rc.tmp" "$rc"',
                          log, rc, *command], cwd=REPO_ROOT, env=env, start_new_session=True)


def _wait_for(backend, folder, timeout_s=900):
    """The exit code and output of one backend run."""
    import time

    rc = os.path.join(folder, f"{backend}.rc")
    deadline = time.monotonic() + timeout_s
    while not os.path.exists(rc):
        if time.monotonic() > deadline:
            return None, f"no exit code after {timeout_s} s"
        time.sleep(1)
    with open(rc) as f:
        code = int(f.read().strip())
    with open(os.path.join(folder, f"{backend}.log")) as f:
        return code, f.read()


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")  # compiled, never-trained models
def test_shared_checks_and_keras_files_on_jax_and_torch():
    if keras.backend.backend() != "tensorflow":
        pytest.skip("the parent of the backend runs is the TensorFlow suite")
    python, why = backends_python()
    if python is None:
        pytest.skip(why)
    start_backend_runs()  # a no-op when conftest started them
    import shutil

    folder = _STARTED["folder"]
    try:
        failed = {}
        for backend in OTHER_BACKENDS:
            code, output = _wait_for(backend, folder)
            if code != 0 or " passed" not in output:  # the failures and their first error lines
                lines = [line for line in output.splitlines() if line.startswith(("FAILED", "E ", "ERROR"))]
                failed[backend] = "\n".join(lines[:40])[-3000:] or output[-3000:]
        assert not failed, "\n\n".join(f"--- KERAS_BACKEND={b}:\n{out}" for b, out in failed.items())
        for backend in OTHER_BACKENDS:
            check_models(os.path.join(folder, backend))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_exchange_with_the_parent():
    """Run by the parent above on each other backend: loads TensorFlow's models, then saves its own."""
    folder = os.environ.get(EXCHANGE)
    if not folder or keras.backend.backend() == "tensorflow":
        pytest.skip("runs only inside test_shared_checks_and_keras_files_on_jax_and_torch")
    check_models(os.path.join(folder, "tensorflow"))
    save_models(os.path.join(folder, keras.backend.backend()))
    # What needs TensorFlow says so in one line.
    with pytest.raises(zoo.ZooError, match="needs Keras' TensorFlow backend"):
        zoo.TextClassifier


def test_tensorflow_only_features_say_so_in_one_line(monkeypatch):
    from zoo import backend
    from zoo.errors import BackendError

    monkeypatch.setattr(backend, "backend", lambda: "tensorflow")
    backend.require_tensorflow("anything")
    monkeypatch.setattr(backend, "backend", lambda: "torch")
    with pytest.raises(BackendError) as error:
        backend.require_tensorflow("zoo.serving.export (the TensorFlow SavedModel)")
    message = str(error.value)
    assert "\n" not in message and "'torch'" in message and "KERAS_BACKEND=tensorflow" in message
    assert message.startswith("zoo.serving.export (the TensorFlow SavedModel) needs Keras' TensorFlow backend")
