import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import pytest  # noqa: E402


@pytest.hookimpl(trylast=True)  # after -m and -k have deselected
def pytest_collection_modifyitems(session, config, items):
    """Starts the JAX and PyTorch runs of the shared model checks, so they run beside the rest of the suite
    (not for ``--collect-only``)."""
    wanted = "test_backends.py::test_shared_checks_and_keras_files_on_jax_and_torch"
    if not config.option.collectonly and any(item.nodeid.endswith(wanted) for item in items):
        from tests.models.test_backends import start_backend_runs

        start_backend_runs()


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    """Each test starts with a float32 policy, a cleared session and a fixed seed."""
    keras.config.set_dtype_policy("float32")
    keras.utils.clear_session()
    keras.utils.set_random_seed(0)
    yield
    keras.config.set_dtype_policy("float32")


@pytest.fixture
def artifact_dir(tmp_path, monkeypatch):
    """A tiny language model saved and registered as ``tiny`` in a temporary pretrained directory."""
    from tests.helpers import LM_VOCAB, tiny_lm
    from zoo.transfer import pretrained

    monkeypatch.setenv("ZOO_PRETRAINED_DIR", str(tmp_path / "pretrained"))
    (tmp_path / "pretrained").mkdir()
    lm = tiny_lm()
    vocab = ["", "[UNK]"] + [f"w{i}" for i in range(LM_VOCAB - 2)]
    path = pretrained.save_artifact(lm, vocab, {"heldout_perplexity": 12.3}, tmp_path / "pretrained" / "tiny")
    pretrained.register(path, "tiny")
    return path, lm
