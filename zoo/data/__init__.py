"""Data: labelled datasets and files, text to token ids, unlabelled corpora, pinned downloads.

* :mod:`zoo.data.datasets`: ``load_dataset`` (built-in benchmarks, ``tfds:NAME``),
  ``load_files``, ``TextDataset`` and its seeded splits;
* :mod:`zoo.data.builtin`: the built-in datasets' loaders and their pinned sources;
* :mod:`zoo.data.inputs`: the estimator's in-memory inputs checked, labels encoded;
* :mod:`zoo.data.files`: reading CSV, TSV, JSON lines and class folders;
* :mod:`zoo.data.text`: ``TextVectorization``, sequence lengths, length-bucketed ``tf.data``;
* :mod:`zoo.data.token_stream`: a language model's token stream and TBPTT windows;
* :mod:`zoo.data.corpus`: offline English text for language-model pretraining;
* :mod:`zoo.data.debtags`: the multi-label ``debtags`` snapshot (Debian package descriptions), and how it was built;
* :mod:`zoo.data.cache`: pinned, checksum-verified files from PyPI and Debian.
"""

from zoo.data.datasets import TextDataset, hold_out_as_test, list_datasets, load_dataset, load_files, resplit
from zoo.data.files import read_labelled_file

__all__ = ["TextDataset", "hold_out_as_test", "list_datasets", "load_dataset", "load_files", "read_labelled_file",
           "resplit"]
