"""Smoke tests of the benchmark scripts: each runs with --quick and writes its JSON.

No timing is asserted (the machine is shared); only that every script runs,
prints its markdown table and writes the expected keys, into tmp_path so the
committed results in bench/results are never overwritten.
"""

import json
import os
import subprocess
import sys

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# script -> top-level JSON keys it must write, and keys every row must carry.
EXPECTED = {
    "train_throughput": (["machine", "settings", "data", "rows", "zoo_vs_reference", "table"],
                         ["name", "examples_per_second", "real_tokens_per_second", "valid_accuracy",
                          "speedup_vs_reference"]),
    "flops": (["machine", "settings", "matmul_peak", "fp32_peak_gflops", "bf16_peak_gflops", "lstm", "best",
               "notes", "table"],
              ["units", "batch", "train_gflops", "fraction_of_fp32_peak"]),
    "scaling": (["machine", "settings", "memory_method", "by_length", "by_batch", "table"],
                ["batch", "seq_len", "train_ms_per_example", "infer_ms_per_example", "train_peak_growth_mb"]),
    "serving": (["machine", "settings", "rows", "table"],
                ["path", "p50_ms", "p99_ms", "batch_texts_per_second"]),
}
ROWS = {"train_throughput": "rows", "flops": "lstm", "scaling": "by_length", "serving": "rows"}
MACHINE_KEYS = ["cpu", "usable_cores", "tensorflow", "keras"]


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
