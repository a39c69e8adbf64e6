"""Did the analyses that came with "Understand and trust a classifier" slow ``fit`` down? ``fit``'s wall time here
against an earlier commit's, on the same machine, in turns.

The earlier commit is checked out into a temporary git worktree; each round
runs one fresh interpreter per tree that loads the data, then times
``TextClassifier(...).fit`` alone (SMS spam at its recipe's settings: GloVe
6B 50d, BiLSTM, the hybrid, seed 0). Turns alternate, so the machine's load
falls on both alike; the table gives each round and the median ratio. The
two versions need not train alike (epochs differ where early stopping does),
so the script also times, in this tree, the one step ``fit`` gained after
training (calibration on the validation split: ``calibrate`` on it again) as
a share of ``fit``; the report's analyses (error analysis, explanations) run
in ``evaluate``, not in ``fit``.

    python bench/fit_overhead.py --ref e8bfbc5 --rounds 5 --output docs/results/fit-overhead/results.json
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# What each tree runs: public API that both versions have (the estimator's constructor and fit).
CHILD = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
import zoo
assert zoo.__file__.startswith(sys.argv[1]), zoo.__file__  # this tree's zoo, not the installed one
from zoo import TextClassifier
from zoo.data import load_dataset
data = load_dataset("sms_spam")
names = lambda ids: [data.class_names[i] for i in ids]
clf = TextClassifier(init="glove-6b-50d", sequence_length="p99", seed=0, verbose=0)
start = time.perf_counter()
clf.fit(data.train_texts, names(data.train_labels), validation_data=(data.valid_texts, names(data.valid_labels)))
result = {"fit_seconds": time.perf_counter() - start, "epochs": len(clf.history_)}
if hasattr(clf, "calibrate"):  # what fit does after training since #37, timed alone: the same work again
    start = time.perf_counter()
    clf.calibrate(data.valid_texts, names(data.valid_labels))
    result["calibration_seconds"] = time.perf_counter() - start
print(json.dumps(result))
"""


def timed_fit(tree):
    done = subprocess.run([sys.executable, "-c", CHILD, tree], capture_output=True, text=True, check=True,
                          cwd=tree, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ref", required=True, help="the earlier commit to compare with")
    parser.add_argument("--rounds", type=int, default=3)
    _common.add_output_args(parser)
    args = parser.parse_args(argv)
    head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
                          cwd=ROOT).stdout.strip()
    ref = subprocess.run(["git", "rev-parse", args.ref], capture_output=True, text=True, check=True,
                         cwd=ROOT).stdout.strip()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        tree = os.path.join(scratch, "ref")
        subprocess.run(["git", "worktree", "add", "--detach", tree, ref], check=True, cwd=ROOT, capture_output=True)
        try:
            for k in range(1, args.rounds + 1):
                order = [("ref", tree), ("head", ROOT)] if k % 2 else [("head", ROOT), ("ref", tree)]
                runs = {name: timed_fit(path) for name, path in order}
                row = {"round": k, **{name: round(run["fit_seconds"], 2) for name, run in runs.items()},
                       **{f"{name}_epochs": run["epochs"] for name, run in runs.items()},
                       "calibration": round(runs["head"]["calibration_seconds"], 2)}
                row["ratio"] = round(row["head"] / row["ref"], 4)
                row["calibration_share"] = round(row["calibration"] / row["head"], 4)
                rows.append(row)
                print(row, flush=True)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", tree], cwd=ROOT, capture_output=True, check=False)
    median = statistics.median(r["ratio"] for r in rows)
    share = statistics.median(r["calibration_share"] for r in rows)
    payload = {"head": head, "ref": ref, "task": "sms_spam at its recipe's settings, fit() alone", "rounds": rows,
               "median_ratio": median, "median_calibration_share": share, "machine": _common.machine_info()}
    _common.write_json(_common.output_path(args, "fit_overhead"), payload)
    print(_common.markdown_table(rows, [("round", "round", None), ("ref", f"{ref[:7]} s", "{:.1f}"),
                                        ("ref_epochs", "epochs", None), ("head", f"{head[:7]} s", "{:.1f}"),
                                        ("head_epochs", "epochs", None), ("ratio", "ratio", "{:.3f}"),
                                        ("calibration", "calibration s", "{:.2f}"),
                                        ("calibration_share", "share of fit", "{:.3f}")]))
    print(f"median ratio {median:.3f}; calibration's median share of fit {share:.3f}")


if __name__ == "__main__":
    main()
