"""Pretrain an AWD-LSTM language model on text that installs offline (general English; Chinese with
``--sources people_daily``, ``docs/chinese.md``).

The corpus combines Wikipedia articles (bundled with gensim), Shakespeare's
plays, the King James Bible, the Python documentation and the GCIDE
dictionary (``zoo.data.corpus``), each capped at ``--max-words-per-source``;
2% of each source's documents is held out for perplexity. The defaults are
``wiki-books-lstm-lm-v2``'s settings (67 minutes on 2 CPU cores);
``pretrained/wiki-books-lstm-lm/metadata.json`` holds the first, smaller
model's.

    python recipes/pretrain_lm.py --output-dir runs/lm/wiki-books-lstm-lm-v2
    python recipes/pretrain_lm.py --from-metadata pretrained/wiki-books-lstm-lm-v2/metadata.json \\
        --output-dir runs/lm/reproduce        # the same settings again, compared at the end

This is ``zoo pretrain-lm``.
"""

from zoo.cli import pretrain_lm

if __name__ == "__main__":
    pretrain_lm.main()
