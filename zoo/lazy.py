"""zoo's one lazy import point: a zoo module declared at the top of a module and imported when it is first used.

Why: some paths must run before, or without, what a zoo module imports:

* the command line (:mod:`zoo.cli`): ``zoo --help``, ``zoo COMMAND --help``, ``--dry-run`` and the checks of the
  settings and the output folders run before TensorFlow is imported, and :func:`zoo.log.start_tensorflow` must run
  before it is (it filters TensorFlow's start-up lines), so the commands' TensorFlow modules
  (``zoo.text_classifier``, ``zoo.training.distribute``, ``zoo.transfer.pretraining``...) load only after it ran;
* ``zoo pretrain-lm --from-ids`` (:mod:`zoo.transfer.lm_ids`, :mod:`zoo.transfer.pretraining`) trains on JAX or
  PyTorch where neither TensorFlow nor scikit-learn is installed: their TensorFlow steps (the corpus, its
  tokenization, ``train_lm``) load only on the TensorFlow path;
* gensim (word vectors, :mod:`zoo.transfer.vectors`), scikit-learn (:mod:`zoo.data`) and matplotlib
  (:mod:`zoo.evaluation.report`) load only where a job reads vectors, data or plots.

So a module declares such a dependency at module level, below its imports::

    text_classifier = lazy_module("zoo.text_classifier")  # (TensorFlow: imported once start_tensorflow() ran)

and reads ``text_classifier.TextClassifier`` where it needs it. Any other zoo module is imported with a
top-level import statement: no zoo module imports another inside a function, and ``tests/test_layout.py`` checks
that, and counts these declarations in its import graph, so a cycle cannot hide behind them. Other packages
(``tensorflow``, ``gensim``, ``matplotlib``) may still be imported inside the functions that need them.

The stand-in holds nothing of the module: every attribute read is the module's attribute at that moment (one
``sys.modules`` look-up), so an attribute patched on the module (tests' ``monkeypatch``) is what it reads.

Example:

>>> interrupts = lazy_module("zoo.interrupts")
>>> interrupts.__name__
'zoo.interrupts'
"""

import importlib
import sys


class LazyModule:
    """A stand-in for the zoo module ``name``: the first attribute read (or written) imports it."""

    __slots__ = ("_lazy_name",)

    def __init__(self, name):
        object.__setattr__(self, "_lazy_name", name)

    def __getattr__(self, attr):
        return getattr(load(self), attr)

    def __setattr__(self, attr, value):
        setattr(load(self), attr, value)

    def __delattr__(self, attr):
        delattr(load(self), attr)

    def __dir__(self):
        return dir(load(self))

    def __repr__(self):
        state = "imported" if self._lazy_name in sys.modules else "not imported yet"
        return f"<lazy module {self._lazy_name!r} ({state})>"


def lazy_module(name):
    """A stand-in for the zoo module ``name`` (a full dotted name, ``"zoo.text_classifier"``) that imports it on
    first use; declare it at module level (see the module docstring)."""
    if not isinstance(name, str) or not name.startswith("zoo."):
        raise ValueError(f"lazy_module is for zoo's own modules (a name like 'zoo.text_classifier'), got {name!r}")
    return LazyModule(name)


def load(module):
    """The module a :class:`LazyModule` stands for, imported now if it is not yet (any other object: itself)."""
    if not isinstance(module, LazyModule):
        return module
    name = object.__getattribute__(module, "_lazy_name")
    return sys.modules.get(name) or importlib.import_module(name)
