"""The cost of each recurrent cell: LSTM, GRU, peephole LSTM and coupled-gate (CIFG) LSTM, side by side.

The same BiLSTM as ``bench/train_throughput.py`` (its zoo row: real 20 Newsgroups
texts, length-bucketed ``tf.data``, masking), built with ``cell=`` each of
``zoo.config.CELLS``, same examples, epochs and seed. Reported per cell: train
examples/s and real tokens/s (the fastest of epochs 2..N), inference texts/s
over the validation texts, parameters, validation accuracy, and each ratio to
the plain LSTM of the same run. On this CPU every cell runs Keras' generic
per-timestep loop; on a GPU the LSTM and GRU would take cuDNN and the other two
would not (``zoo.cudnn_report``).

Run from the repo root: ``python bench/cells.py [--quick]``.
"""

import time

import _common  # noqa: E402

_common.setup()

import keras  # noqa: E402

import zoo  # noqa: E402
from train_throughput import EpochTimer, parse_args as throughput_args, prepare_data, real_tokens  # noqa: E402
from zoo.config import CELLS  # noqa: E402
from zoo.data.text import make_dataset  # noqa: E402
from zoo.training.optimizers import compile_model  # noqa: E402


def measure(cell, d, args):
    keras.utils.clear_session()
    keras.utils.set_random_seed(args.seed)
    model = zoo.build_bilstm(d["vocab_size"], d["num_classes"], embedding_dim=args.embedding_dim, units=args.units,
                             cell=cell, pooling="max", dropout=0.0, spatial_dropout=0.0, compile=False)
    compile_model(model, learning_rate=args.learning_rate)
    train = make_dataset(d["train_ids"], d["train_labels"], batch_size=args.batch_size, shuffle=True, seed=args.seed)
    valid = make_dataset(d["valid_ids"], d["valid_labels"], batch_size=args.batch_size)
    timer = EpochTimer()
    model.fit(train, epochs=args.epochs, callbacks=[timer], verbose=0)
    model.predict(valid, verbose=0)  # tracing, excluded
    t0 = time.perf_counter()
    model.predict(valid, verbose=0)
    infer = len(d["valid_ids"]) / (time.perf_counter() - t0)
    best = min(timer.seconds[1:] or timer.seconds)
    return {
        "cell": cell, "parameters": model.count_params(),
        "epoch_seconds": timer.seconds,
        "train_examples_per_second": len(d["train_ids"]) / best,
        "train_real_tokens_per_second": real_tokens(d["train_ids"]) / best,
        "infer_texts_per_second": infer,
        "valid_accuracy": float(model.evaluate(valid, verbose=0, return_dict=True)["accuracy"]),
        "cudnn_eligible_on_gpu": all(r["eligible"] for r in zoo.cudnn_report(model)),
    }


def main(argv=None):
    args = throughput_args(argv)
    cells = list(CELLS)
    if args.quick:  # a smoke test: one epoch, the plain cell and one of zoo's
        args.epochs, args.train_examples, args.valid_examples, cells = 1, 100, 50, ["lstm", "cifg"]
    info = _common.machine_info()
    print(_common.format_machine(info))
    d = prepare_data(args)
    print(f"20 Newsgroups: {len(d['train_ids'])} train / {len(d['valid_ids'])} valid, L={d['sequence_length']}, "
          f"BiLSTM {args.units} units, {args.epochs} epochs")
    rows = []
    for cell in cells:
        rows.append(measure(cell, d, args))
        print(f"  {cell}: {rows[-1]['train_examples_per_second']:.1f} examples/s", flush=True)
    lstm = next(r for r in rows if r["cell"] == "lstm")
    for row in rows:
        row["train_vs_lstm"] = row["train_real_tokens_per_second"] / lstm["train_real_tokens_per_second"]
        row["infer_vs_lstm"] = row["infer_texts_per_second"] / lstm["infer_texts_per_second"]
    columns = [("cell", "cell", None), ("parameters", "parameters", "{:,}"),
               ("train_examples_per_second", "train examples/s", "{:.1f}"),
               ("train_vs_lstm", "train x lstm", "{:.2f}"), ("infer_texts_per_second", "inference texts/s", "{:.0f}"),
               ("infer_vs_lstm", "inference x lstm", "{:.2f}"), ("valid_accuracy", "valid acc", "{:.3f}"),
               ("cudnn_eligible_on_gpu", "cuDNN on GPU", None)]
    table = _common.markdown_table(rows, columns)
    print(f"\nBiLSTM by cell, fastest of epochs 2..{args.epochs}\n\n{table}")
    payload = {"script": "cells", "machine": info,
               "settings": {k: v for k, v in vars(args).items() if k not in ("output", "results_dir", "variants")},
               "data": {k: d[k] for k in ("sequence_length", "vocab_size", "num_classes", "median_length")},
               "rows": rows, "table": table}
    _common.write_json(_common.output_path(args, "cells"), payload)


if __name__ == "__main__":
    main()
