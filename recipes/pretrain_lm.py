"""Pretrain an AWD-LSTM language model on general English that installs offline.

The corpus combines Wikipedia articles (bundled with gensim), Shakespeare's
plays, the King James Bible, the Python documentation and the GCIDE
dictionary (``zoo.corpus``), each capped at ``--max-words-per-source``. The
vocabulary is built on the training documents; a seeded 2% of each source's
documents is held out for perplexity. The run writes an artifact directory
(``config.json``, ``weights.npz``, ``vocab.json``, ``metadata.json``) and, with
``--register``, adds it to ``pretrained/manifest.json``.

The defaults are ``wiki-books-lstm-lm-v2``'s settings (67 minutes on 2 CPU
cores); ``pretrained/wiki-books-lstm-lm/metadata.json`` holds the first,
smaller model's (1M words per source, one epoch of batch 64: 8 minutes).

    python recipes/pretrain_lm.py --output-dir runs/lm/wiki-books-lstm-lm-v2
    python recipes/pretrain_lm.py --from-metadata pretrained/wiki-books-lstm-lm-v2/metadata.json \
        --output-dir runs/lm/reproduce        # the same settings again
"""

import argparse
import json
import os
import shutil
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

DEFAULTS = {
    "name": "wiki-books-lstm-lm-v2",
    "sources": "wikipedia,shakespeare,bible,python_docs,gcide",
    "max_words_per_source": 3_000_000,
    "heldout_fraction": 0.02,
    "vocab_size": 20000,
    "embedding_dim": 256,
    "num_layers": 2,
    "embedding_row_dropout": 0.01,
    "input_dropout": 0.1,
    "hidden_dropout": 0.05,
    "output_dropout": 0.05,
    "weight_dropout": 0.1,
    "num_sampled": 512,
    "epochs": 10,
    "batch_size": 256,
    "bptt": 70,
    "learning_rate": 5e-3,
    "seed": 0,
}


def parse(argv=None):
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--from-metadata")
    known, _ = pre.parse_known_args(argv)
    defaults = dict(DEFAULTS)
    if known.from_metadata:
        try:
            with open(known.from_metadata) as f:
                settings = json.load(f)["settings"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise SystemExit(f"error: {known.from_metadata}: cannot read the settings of a metadata.json "
                             f"({type(error).__name__}: {error})")
        unknown = sorted(set(settings) - set(DEFAULTS))
        if unknown:
            raise SystemExit(f"error: {known.from_metadata}: unknown setting(s) {', '.join(unknown)}")
        defaults.update(settings)
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--from-metadata", help="reuse the settings recorded in an artifact's metadata.json")
    p.add_argument("--output-dir", required=True, help="the artifact directory to write (must not exist)")
    p.add_argument("--register", action="store_true",
                   help="copy the artifact into pretrained/ and add it to pretrained/manifest.json")
    for key, value in defaults.items():
        p.add_argument("--" + key.replace("_", "-"), type=type(DEFAULTS[key]), default=value)
    return p.parse_args(argv)


def main(argv=None):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = parse(argv)
    if os.path.exists(args.output_dir):
        raise SystemExit(f"error: {args.output_dir}: already exists; choose another --output-dir")
    from zoo.errors import ZooError

    try:
        pretrain(args, argv)
    except (ZooError, ValueError) as error:  # a bad setting, an unreachable corpus source
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2)


def pretrain(args, argv=None):
    settings = {k: getattr(args, k) for k in DEFAULTS}
    import keras
    import tensorflow as tf

    import zoo
    from zoo import corpus, lm, pretrained, ulmfit

    keras.utils.set_random_seed(args.seed)
    tf.config.experimental.enable_op_determinism()  # same settings, same perplexity
    start = time.time()
    data = corpus.load_corpus(args.sources.split(","), max_words_per_source=args.max_words_per_source,
                              seed=args.seed, heldout_fraction=args.heldout_fraction)
    vectorizer = lm.lm_vectorizer(data.train, max_tokens=args.vocab_size)
    vocab = vectorizer.get_vocabulary()
    train_stream = lm.token_stream(vectorizer, data.train, seed=args.seed)
    heldout_stream = lm.token_stream(vectorizer, data.heldout)
    print(f"[zoo] vocabulary {len(vocab)}; {len(train_stream):,} training and {len(heldout_stream):,} held-out "
          f"tokens", file=sys.stderr)

    model = lm.build_lstm_lm(len(vocab), seed=args.seed, **{k: settings[k] for k in (
        "embedding_dim", "num_layers", "embedding_row_dropout", "input_dropout", "hidden_dropout",
        "output_dropout", "weight_dropout", "num_sampled")})
    result = ulmfit.train_lm(model, train_stream, heldout_stream, epochs=args.epochs,
                                   batch_size=args.batch_size, bptt=args.bptt, learning_rate=args.learning_rate,
                                   seed=args.seed)
    ppl = result["perplexity"]
    oov = float(np.mean(heldout_stream == 1))
    metadata = {
        "name": args.name,
        "corpus": {"sources": data.sources, "heldout_fraction": args.heldout_fraction},
        "train_tokens": int(len(train_stream)),
        "heldout_tokens": int(len(heldout_stream)),
        "heldout_oov_rate": round(oov, 4),
        "heldout_perplexity": round(ppl, 2),
        "steps": result["steps"],
        "final_train_loss": round(float(result["history"]["loss"][-1]), 4),
        "seed": args.seed,
        "settings": settings,
        "train_seconds": round(time.time() - start, 1),
        "versions": {"zoo": zoo.__version__, "tensorflow": tf.__version__, "keras": keras.__version__,
                     "python": sys.version.split()[0]},
        "command": "python recipes/pretrain_lm.py " + " ".join(sys.argv[1:] if argv is None else argv),
    }
    path = pretrained.save_artifact(model, vocab, metadata, args.output_dir)
    print(f"held-out perplexity {ppl:.1f} on {len(heldout_stream):,} tokens (OOV rate {oov:.3f})")
    print(f"wrote {path}/")
    original = os.path.dirname(os.path.abspath(args.from_metadata)) if args.from_metadata else None
    if original and os.path.exists(os.path.join(original, "weights.npz")):
        check = pretrained.compare(original, path)
        print(f"reproduction of {original}: weights "
              + ("identical" if check["identical_weights"] else f"differ (max |diff| {check['max_abs_diff']:.3g})")
              + f", vocabulary {'identical' if check['same_vocab'] else 'differs'}, held-out perplexity "
              f"{check['heldout_perplexity'][1]} (recorded {check['heldout_perplexity'][0]})")
    if args.register:
        target = pretrained.pretrained_dir() / args.name
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(path, target)
        entry = pretrained.register(target, args.name)
        print(f"registered {args.name} in {pretrained.pretrained_dir() / 'manifest.json'} "
              f"({entry['size_bytes'] / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
