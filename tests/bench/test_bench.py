"""Smoke tests of the benchmark scripts: each runs with --quick and writes its JSON.

No timing is asserted (the machine is shared); only that every script runs,
prints its markdown table and writes the expected keys, into tmp_path so the
committed results in bench/results are never overwritten. ``bench/gpu.py``
runs as its CPU ``--dry-run`` (it needs torch, not TensorFlow).
"""

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# script -> top-level JSON keys it must write, and keys every row must carry.
EXPECTED = {
    "train_throughput": (["machine", "settings", "data", "rows", "zoo_vs_reference", "peer_vs_zoo", "skipped",
                          "table"],
                         ["name", "examples_per_second", "real_tokens_per_second", "valid_accuracy",
                          "speedup_vs_reference", "speedup_vs_zoo"]),
    "flops": (["machine", "settings", "matmul_peak", "fp32_peak_gflops", "bf16_peak_gflops", "lstm", "best",
               "notes", "table"],
              ["units", "batch", "train_gflops", "fraction_of_fp32_peak"]),
    "scaling": (["machine", "settings", "memory_method", "by_length", "by_batch", "table"],
                ["batch", "seq_len", "train_ms_per_example", "infer_ms_per_example", "train_peak_growth_mb"]),
    "serving": (["machine", "settings", "model", "texts", "rows", "table"],
                ["texts", "path", "p50_ms", "p99_ms", "batch_texts_per_second", "max_abs_diff_vs_fixed"]),
    "cells": (["machine", "settings", "data", "rows", "table"],
              ["cell", "parameters", "train_examples_per_second", "train_vs_lstm", "infer_texts_per_second"]),
}
ROWS = {"train_throughput": "rows", "flops": "lstm", "scaling": "by_length", "serving": "rows", "cells": "rows"}
MACHINE_KEYS = ["cpu", "usable_cores", "tensorflow", "keras"]
PEER = "PyTorch nn.LSTM (peer)"
HAS_TORCH = importlib.util.find_spec("torch") is not None


def _run(args, env=None, timeout=240):
    env = {**os.environ, "ZOO_OFFLINE": "1", "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}
    proc = subprocess.run([sys.executable, *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    return proc


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_script_quick(script, tmp_path):
    output = tmp_path / f"{script}.json"
    env = {**os.environ, "ZOO_OFFLINE": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.run(
        [sys.executable, os.path.join("bench", f"{script}.py"), "--quick", "--output", str(output)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=240,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    assert "machine:" in proc.stdout
    assert "|---|" in proc.stdout, proc.stdout  # the markdown table

    result = json.loads(output.read_text())
    top, row_keys = EXPECTED[script]
    assert set(top) <= set(result), sorted(set(top) - set(result))
    assert set(MACHINE_KEYS) <= set(result["machine"])
    rows = result[ROWS[script]]
    assert rows
    for row in rows:
        assert set(row_keys) <= set(row), sorted(set(row_keys) - set(row))
    if script == "train_throughput":  # the PyTorch peer row when torch is here, a reason when it is not
        names = [row["name"] for row in rows]
        assert (PEER in names) == HAS_TORCH, (names, result["skipped"])
        assert (PEER in result["skipped"]) == (not HAS_TORCH), result["skipped"]


def test_train_throughput_without_torch_skips_the_peer_row_with_its_reason(monkeypatch):
    """With torch unimportable the peer row is skipped, with one line saying why (the rest runs as in the
    quick test above)."""
    import importlib.util as util

    sys.path.insert(0, os.path.join(REPO_ROOT, "bench"))
    try:
        import train_throughput
    finally:
        sys.path.pop(0)
    monkeypatch.setattr(train_throughput, "_PEER_SKIP", [])
    real = util.find_spec
    monkeypatch.setattr(util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    reason = train_throughput.peer_skip_reason()
    assert reason.startswith("torch is not installed") and "requirements-peer.txt" in reason and "\n" not in reason


GPU_MACHINE_KEYS = ["gpu", "cuda", "cudnn", "torch", "keras", "keras_backend", "tensorflow"]
GPU_ROW_KEYS = ["model", "impl", "precision", "batch", "train_tokens_per_second", "infer_tokens_per_second",
                "train_vs_peer", "infer_vs_peer", "cudnn_rnn", "rnn_kernels", "train_peak_gib", "infer_peak_gib",
                "padding_fraction"]


@pytest.mark.slow
@pytest.mark.skipif(not HAS_TORCH, reason="bench/gpu.py needs torch (pip install -r bench/requirements-peer.txt)")
def test_gpu_dry_run(tmp_path):
    """bench/gpu.py --dry-run: every model, implementation and precision on the CPU at tiny sizes, no TensorFlow."""
    output = tmp_path / "gpu.json"
    proc = _run([os.path.join("bench", "gpu.py"), "--dry-run", "--output", str(output)])
    assert "machine:" in proc.stdout and "|---|" in proc.stdout, proc.stdout

    result = json.loads(output.read_text())
    assert {"script", "machine", "settings", "data", "rows", "skipped", "table"} <= set(result)
    assert set(GPU_MACHINE_KEYS) <= set(result["machine"])
    assert result["machine"]["tensorflow"] is None and result["machine"]["keras_backend"] == "torch"
    assert result["settings"]["dry_run"] is True and result["settings"]["device"] == "cpu"
    assert result["skipped"] == [], result["skipped"]  # every configuration ran
    rows = [r for r in result["rows"] if "JAX" not in r["impl"]]  # JAX rows where JAX is installed
    combos = {(r["model"], r["impl"], r["precision"], r["batch"], r["batching"]) for r in rows}
    # models x (float32: 6 rows, mixed: 5): zoo and the peer on random and bucketed batches, mask_zero=False, and
    # 0.3's masked loop in float32 only
    assert len(combos) == len(rows) == 2 * (6 + 5)
    assert {r["impl"] for r in rows} == {"zoo Keras (torch backend)", "zoo Keras, masked loop (0.3)",
                                         "zoo Keras, mask_zero=False", PEER}
    assert {r["precision"] for r in rows} == {"float32", "mixed_bfloat16"}
    assert {r["batching"] for r in rows} == {"random", "bucketed"}
    bucketed = [r["padding_fraction"] for r in rows if r["batching"] == "bucketed"]
    random = [r["padding_fraction"] for r in rows if r["batching"] == "random"]
    assert min(bucketed) >= 0 and np.mean(bucketed) <= np.mean(random)  # zoo's batching pads no more (the dry run
    # caps texts at 16 tokens, so most batches have no padding at all)
    for row in rows:
        assert set(GPU_ROW_KEYS) <= set(row), sorted(set(GPU_ROW_KEYS) - set(row))
        assert row["train_tokens_per_second"] > 0 and row["infer_tokens_per_second"] > 0
        assert row["cudnn_rnn"] == "no CUDA"
    keras_rows = [r for r in rows if r["impl"] == "zoo Keras (torch backend)"]
    # the default is the lengths path on a GPU (here, the CPU default of zoo.layers.right_padded), 0.3's the loop
    assert all(r["keras_path"] == ["cuDNN on lengths (unmasked kernel, exact: zoo.layers.right_padded)"]
               for r in keras_rows)
    assert all(r["train_peak_vs_peer"] is None for r in rows)  # no CUDA, no peak memory to compare
    lm = [r for r in result["lm_rows"] if r["backend"] == "torch"]
    assert [r["model"] for r in lm] == ["AWD-LSTM 3x1150 (ULMFiT size)", "AWD-LSTM 2x256 (committed)"]
    assert all(r["tokens_per_second"] > 0 for r in lm) and result["lm_skipped"] == []
    # zoo's defaults, read back from the built models
    assert all(r["mask_zero"] and r["pooling"] == "MaskedGlobalMaxPooling1D" for r in keras_rows)
    assert {r["dropout"] for r in keras_rows} == {0.35, 0.2}  # build_bilstm's default, build_stacked_lstm's


def test_gpu_without_cuda_exits_with_one_line():
    """Without --dry-run and without CUDA, one clear line and a non-zero exit (no traceback)."""
    if not HAS_TORCH:
        pytest.skip("bench/gpu.py needs torch (pip install -r bench/requirements-peer.txt)")
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run([sys.executable, os.path.join("bench", "gpu.py"), "--output", os.devnull],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines()[-1].startswith("bench/gpu.py needs a CUDA GPU"), proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.fixture(scope="module")
def sms_run(tmp_path_factory):
    """A tiny finished hybrid run on 200 SMS spam texts (the full validation split), for the scripts that read
    finished runs (its n-gram path not fitted again on the validation split, which they score on)."""
    run = tmp_path_factory.mktemp("sms") / "run"
    _run(["-m", "zoo", "train", "--dataset", "sms_spam", "--max-train-examples", "200", "--init", "none",
          "--units", "4", "--embedding-dim", "4", "--epochs", "1", "--no-baseline", "--no-ngram-refit",
          "--output-dir", str(run)])
    return run


@pytest.mark.slow
def test_blend_rule_reads_a_finished_run(sms_run, tmp_path):
    """bench/blend_rule.py: both rules' weights on the run's own validation split."""
    output = tmp_path / "blend_rule.json"
    proc = _run([os.path.join("bench", "blend_rule.py"), "--run-dir", str(sms_run), "--output", str(output)])
    row = json.loads(output.read_text())["rows"][0]
    assert row["valid_texts"] == 446 and row["new_weight"] in [w / 20 for w in range(21)]
    assert 0 <= row["new_valid_accuracy"] <= row["best_valid_accuracy"] <= 1
    assert f"{sms_run}: 446 validation texts" in proc.stdout


@pytest.mark.slow
def test_hybrid_design_reads_a_finished_run(sms_run, tmp_path):
    """bench/hybrid_design.py: every variant scored on the run's validation split, a table and the JSON."""
    output = tmp_path / "hybrid_design.json"
    proc = _run([os.path.join("bench", "hybrid_design.py"), "--run", str(sms_run), "--dataset", "sms_spam",
                 "--max-tokens", "5000", "--output", str(output)])
    assert "|---|" in proc.stdout
    result = json.loads(output.read_text())
    assert result["validation_examples"] == 446
    variants = {(r["linear_model"], r["tokens"], r["blend"]) for r in result["rows"]}
    assert ("svm", "zoo_words", "product") in variants and len(variants) == len(result["rows"]) > 1
    assert all(0 <= r[key] <= 1 for r in result["rows"] for key in ("ngram_alone", "recurrent_alone", "hybrid"))


@pytest.mark.slow
def test_bigram_weight_reads_a_finished_run(sms_run, tmp_path):
    """bench/bigram_weight.py: the n-gram path refitted per normalisation, scored on the run's validation split."""
    output = tmp_path / "bigram_weight.json"
    proc = _run([os.path.join("bench", "bigram_weight.py"), "--run-dir", str(sms_run), "--max-tokens", "5000",
                 "--quick", "--output", str(output)])
    row = json.loads(output.read_text())["rows"][0]
    assert row["train_texts"] == 200 and row["valid_texts"] == 446
    assert set(row["variants"]) == {"one norm", "bigrams 0.5"}
    assert all(0 <= v[key] <= 1 for v in row["variants"].values() for key in ("ngram_alone", "hybrid"))
    assert "| hybrid, one norm | hybrid, bigrams 0.5 |" in proc.stdout


@pytest.mark.slow
def test_self_training_scores_each_share_on_the_held_out_labelled_texts(tmp_path):
    """bench/self_training.py: the n-gram path without and with self-training, on init auto's held-out 20%."""
    output = tmp_path / "self_training.json"
    proc = _run([os.path.join("bench", "self_training.py"), "--dataset", "sms_spam", "--labels", "100",
                 "--max-tokens", "5000", "--quick", "--output", str(output)])
    row = json.loads(output.read_text())["rows"][0]
    assert (row["train_texts"], row["valid_texts"]) == (80, 20) and row["unlabelled_texts"] > 4000
    assert set(row["shares"]) == {"without", "share 0.5"} and row["shares"]["without"]["added"] == 0
    assert row["shares"]["share 0.5"]["added"] == row["unlabelled_texts"] // 2
    assert all(0 <= v["ngram_alone"] <= 1 for v in row["shares"].values())
    assert "| without | share 0.5 |" in proc.stdout


def test_self_training_names_an_unknown_dataset_in_one_line(tmp_path):
    output = tmp_path / "self_training.json"
    proc = subprocess.run([sys.executable, os.path.join("bench", "self_training.py"), "--dataset", "nope",
                           "--output", str(output)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr and not output.exists()
    assert proc.stderr.strip().splitlines()[-1].startswith("bench/self_training.py: unknown dataset 'nope'")


def test_blend_rule_names_a_folder_that_is_not_a_run(tmp_path):
    proc = subprocess.run([sys.executable, os.path.join("bench", "blend_rule.py"), "--run-dir", str(tmp_path)],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (f"bench/blend_rule.py: {tmp_path}: not a saved TextClassifier "
                                                    "(no classifier.json)")
