"""Training and evaluating a language model: one stage of the stage runner, and perplexity.

Example:

>>> from zoo import build_lstm_lm
>>> from zoo.data.token_stream import lm_vectorizer, token_stream
>>> texts = [" ".join(f"w{(i * 7 + j) % 30}" for i in range(40)) for j in range(20)]
>>> vectorizer = lm_vectorizer(texts, max_tokens=50)
>>> lm = build_lstm_lm(len(vectorizer.get_vocabulary()), embedding_dim=8, num_layers=1, num_sampled=8)
>>> stream = token_stream(vectorizer, texts, seed=0)
>>> result = train_lm(lm, stream[:600], stream[600:], epochs=1, batch_size=4, bptt=8, learning_rate=1e-2,
...                   verbose=0)
>>> result["perplexity"] > 1
True
"""

import numpy as np

from zoo.data.token_stream import lm_dataset
from zoo.log import logger
from zoo.training.lm_windows import TokenThroughput
from zoo.training.stages import Stage, run_stages


def train_lm(lm, train_stream, valid_stream, *, epochs, batch_size, bptt, learning_rate, seed=0, stlr=True,
             discriminative=False, lr_factor=2.6, clipnorm=0.25, callbacks=(), verbose=None):
    """Trains a language model on a token stream, as one stage of :func:`zoo.training.stages.run_stages`.

    Adam with ``beta_2=0.99`` (as fastai), gradient clipping (AWD-LSTM clips
    at 0.25) and slanted triangular rates over the whole run (``stlr``; else
    a constant rate); with ``discriminative``, lower layer groups train at
    rates divided by ``lr_factor``.

    Returns:
        ``{"history": per-epoch dicts, "perplexity": held-out perplexity, "steps": steps}``.
    """
    ds, steps = lm_dataset(train_stream, batch_size, bptt, seed=seed)
    logger.info(f"language model: {len(train_stream):,} tokens, {epochs} epoch(s) of {steps} steps "
                f"(batch {batch_size} x bptt ~{bptt})")
    stage = Stage("language_model", epochs, learning_rate, (), "stlr" if stlr else "constant",
                  lr_factor if discriminative else 1.0)
    history = run_stages(lm, [stage], ds.repeat(), optimizer="adam", optimizer_options={"beta_2": 0.99},
                         clipnorm=clipnorm, steps_per_epoch=steps,
                         callbacks=[TokenThroughput(batch_size * bptt), *callbacks], verbose=verbose)
    ppl = perplexity(lm, valid_stream, batch_size=min(batch_size, 32), bptt=bptt)
    logger.info(f"held-out perplexity {ppl:.1f}")
    return {"history": history, "perplexity": ppl, "steps": steps * epochs}


def perplexity(lm, stream, batch_size=32, bptt=70):
    """Full-softmax perplexity of ``lm`` on a token stream (fixed windows).

    A short stream is read as fewer, narrower rows rather than refused.
    """
    if len(stream) < 2:
        raise ValueError(f"a perplexity needs at least 2 tokens, got {len(stream)}")
    bptt = min(bptt, len(stream) - 1)
    batch_size = max(1, min(batch_size, len(stream) // (bptt + 1)))  # each row reads bptt + 1 tokens
    ds, steps = lm_dataset(stream, batch_size, bptt, variable=False)
    loss = lm.evaluate(ds, steps=steps, verbose=0, return_dict=True)["loss"]
    return float(np.exp(loss))
