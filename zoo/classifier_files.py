"""The saved classifier's folder: writing it crash-safely, and reading it back only after checking every field.

A saved :class:`zoo.TextClassifier` is a folder (``zoo train`` writes one as
its run directory):

* ``classifier.json``: the settings, the classes, the sequence length, the
  tokenizer's options, the hybrid's blend, the companions, the thresholds, the
  calibration, the history and what the training did (written last);
* ``vocabulary.json`` (the tokenizer's words), ``model.keras`` (the recurrent
  model), for a hybrid ``ngram_vocabulary.json`` and ``ngram.npz`` (the n-gram
  path), and ``companion_1/`` ... (init auto's second model, a saved
  classifier of its own);
* ``.zoo``: the marker that says zoo wrote the folder (:mod:`zoo.files`).

:func:`write_classifier` builds the new folder beside the old one and swaps
them (:func:`zoo.files.atomic_directory`), so a crash leaves the old or the
new classifier whole; files that are not the classifier's (a run's report,
export, logs) stay. :func:`read_classifier` checks ``classifier.json`` field
by field, then that the model has one output per class, and names the file
and the field of anything wrong on one line (:class:`zoo.errors.DataError`).

Loading a folder runs the model it holds: ``model.keras`` is a Keras model
(loaded with Keras' ``safe_mode``, which refuses serialized Python lambdas),
and its layers' computation is TensorFlow's. Load only folders you trust, as
with any saved model (TensorFlow's "Using TensorFlow Securely").
"""

import json
import math
import numbers
import re
import zipfile
from pathlib import Path

import keras
import numpy as np

from zoo.config import ClassifierConfig
from zoo.data.inputs import name_clash
from zoo.data.tokenize import STANDARDIZERS, standardizer, standardizer_name
from zoo.errors import ConfigError, DataError, ExportError
from zoo.files import (
    atomic_directory,
    atomic_file,
    check_replaceable,
    is_empty,
    marked_kind,
    recover,
    write_json,
    write_marker,
    write_text,
)
from zoo.models.hybrid import WEIGHTINGS, NgramLinear
from zoo.models.saving import load_model
from zoo.training.fit_record import FitRecord

FORMAT = 1
FILES = ("classifier.json", "vocabulary.json", "model.keras")  # classifier.json is written last
# Everything a saved classifier writes in its folder; a run's other files (report, export, logs) are not these.
OWN = FILES + ("ngram_vocabulary.json", "ngram.npz")
COMPANION = re.compile(r"companion_[1-9][0-9]{0,3}")
_KINDS = ("classifier", "run")  # folders a classifier may be saved over: a saved classifier or a zoo run


def owned_by_classifier(name):
    """Whether the entry ``name`` of a folder belongs to the saved classifier in it."""
    return name in OWN or COMPANION.fullmatch(name) is not None


def write_classifier(clf, path, overwrite=False):
    """Saves the fitted ``clf`` into the folder ``path`` (see the module docstring); returns ``path``.

    Raises:
        ExportError: ``path`` holds a saved classifier and ``overwrite`` is
            False; ``path`` is a folder zoo did not write (nothing is replaced);
            the disk is full (nothing is left half-written).
    """
    path = Path(path)
    if (path / "classifier.json").exists() and not overwrite:
        raise ExportError(f"{path}: a saved classifier already exists (pass `overwrite` to replace it)")
    check_replaceable(path, _KINDS)
    if path.is_dir() and is_empty(path):
        # A new folder (say, the one a run is being assembled in): nothing to lose, written in place.
        if marked_kind(path) is None:
            write_marker(path, "classifier")
        _write_files(clf, path)
        return path
    kind = marked_kind(path) if path.exists() else "classifier"
    with atomic_directory(path, overwrite=True, kind=kind, carry=lambda name: not owned_by_classifier(name)) as tmp:
        _write_files(clf, Path(tmp))
    return path


def _write_files(clf, path):
    """The classifier's files in the (new) folder ``path``, ``classifier.json`` last."""
    clf.model_.save(path / "model.keras")
    write_text(path / "vocabulary.json", json.dumps(clf.vectorizer_.get_vocabulary(), ensure_ascii=False))
    vectorizer = {k: clf.vectorizer_.get_config()[k] for k in ("max_tokens", "standardize", "split")}
    vectorizer["standardize"] = standardizer_name(vectorizer["standardize"])
    hybrid = None
    if clf.ngram_ is not None:
        weight = clf.blend_weight_  # one per label for a multi-label hybrid
        hybrid = {"blend_weight": [float(w) for w in weight] if np.ndim(weight) else float(weight),
                  "ngrams": clf.ngram_.ngrams,
                  "standardize": clf.ngram_.standardize, "bigram_weight": clf.ngram_.bigram_weight,
                  "weighting": clf.ngram_.weighting}
        write_text(path / "ngram_vocabulary.json", json.dumps(clf.ngram_.vocabulary, ensure_ascii=False))
        with atomic_file(path / "ngram.npz", binary=True) as f:
            np.savez(f, **clf.ngram_.arrays())
    companions = []
    for k, companion in enumerate(clf.companions_, 1):
        folder = path / f"companion_{k}"
        folder.mkdir()
        write_marker(folder, "classifier")
        _write_files(companion, folder)
        companions.append(folder.name)
    thresholds = getattr(clf, "thresholds_", None)
    write_json(path / "classifier.json", {
        "format": FORMAT, "params": clf.saved_params(), "settings": clf.settings_.to_dict(), "hybrid": hybrid,
        "companions": companions, "classes": [_plain(c) for c in clf.classes_],
        "sequence_length": clf.sequence_length_,
        "thresholds": None if thresholds is None else [float(t) for t in thresholds],
        "calibration": _calibration_json(clf),
        "vectorizer": vectorizer,
        "history": clf.history_, "fit_info": clf.fit_record_.to_dict()})


def _calibration_json(clf):
    """``{"temperature": T}``, or a multi-label classifier's ``{"slope": [...], "bias": [...]}`` (one per label)."""
    calibration = np.asarray(getattr(clf, "calibration_", 1.0), float)
    if calibration.ndim == 2:
        return {"slope": calibration[0].tolist(), "bias": calibration[1].tolist()}
    return {"temperature": float(calibration)}


# === Reading ===


def read_classifier(cls, path):
    """A ``cls`` (TextClassifier) from the folder ``path``, every field checked first; companions too.

    Raises:
        DataError: a file is missing, damaged or inconsistent (one line naming the file and the field).
    """
    path = Path(path)
    recover(path)
    if not path.is_dir():
        raise DataError(f"{path}: not a saved TextClassifier (" + ("no such folder)" if not path.exists() else
                                                                  "a file, not a folder)"))
    for name in FILES:
        if not (path / name).is_file():
            raise DataError(f"{path}: not a saved TextClassifier (no {name})")
    saved = _check_saved(_read_json(path / "classifier.json", dict), path / "classifier.json", path)
    vocabulary = _read_json(path / "vocabulary.json", list)
    if not vocabulary or not all(isinstance(w, str) for w in vocabulary):
        raise DataError(f"{path / 'vocabulary.json'}: expected a non-empty JSON list of strings")
    _check_vocabulary(path, vocabulary, saved["vectorizer"].get("max_tokens"))
    _check_words(path / "vocabulary.json", vocabulary)
    clf = cls(**saved["params"])
    clf.settings_ = saved["settings"]
    clf.classes_ = list(saved["classes"])
    clf.sequence_length_ = saved["sequence_length"]
    options = {**saved["vectorizer"], "standardize": standardizer(saved["vectorizer"]["standardize"])}
    clf.vectorizer_ = keras.layers.TextVectorization(vocabulary=vocabulary, ragged=True, name="vectorizer",
                                                     **options)
    clf.model_ = _load_keras(path / "model.keras")
    _check_embedding_rows(path, vocabulary, clf.model_)
    outputs = clf.model_.outputs[0].shape[-1]
    if outputs != len(clf.classes_):
        raise DataError(f"{path / 'classifier.json'}: 'classes' names {len(clf.classes_)} classes, but model.keras "
                        f"has {outputs} outputs")
    clf.ngram_, clf.blend_weight_ = _load_ngram_path(path, saved["hybrid"], len(clf.classes_))
    clf.companions_ = [read_classifier(cls, path / name) for name in saved["companions"]]
    clf.thresholds_ = (np.asarray(saved["thresholds"], np.float32) if saved["settings"].multi_label else None)
    clf.calibration_ = saved["calibration"]
    clf.history_ = saved["history"]
    clf.fit_record_ = FitRecord.from_dict(saved["fit_info"])
    return clf


def _check_vocabulary(path, vocabulary, max_tokens):
    """``vocabulary.json`` as the vectorizer wrote it: padding and the unknown word first, within ``max_tokens``
    (Keras would refuse it with its own traceback)."""
    if vocabulary[:2] != ["", "[UNK]"]:
        raise DataError(f"{path / 'vocabulary.json'}: starts {vocabulary[:2]!r}, expected ['', '[UNK]'] (padding "
                        "and the unknown word) then the words")
    if max_tokens is not None and len(vocabulary) > max_tokens:
        raise DataError(f"{path / 'vocabulary.json'}: {len(vocabulary)} words, more than the vectorizer's max_tokens "
                        f"({max_tokens}) in classifier.json")


def _check_embedding_rows(path, vocabulary, model):
    """One id of ``vocabulary.json`` per row of each embedding in ``model`` (an ensemble's members each have
    one). Why: another vocabulary loaded silently gives a wrong model (ids that name other words), or fails at
    the first prediction with TensorFlow's own traceback."""
    rows = sorted({int(layer.input_dim) for layer in _embeddings(model)})
    if rows and rows != [len(vocabulary)]:
        raise DataError(f"{path / 'vocabulary.json'}: {len(vocabulary)} words, but the embedding in model.keras has "
                        f"{' and '.join(map(str, rows))} rows; expected the vocabulary the model was saved with")


def _embeddings(model):
    """The embedding layers of ``model`` and of the models inside it (an ensemble's members)."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.Embedding):
            yield layer
        elif isinstance(layer, keras.Model):
            yield from _embeddings(layer)


def _read_json(path, expected_type):
    try:
        with open(path, encoding="utf-8") as f:
            value = json.load(f)
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not valid UTF-8 (byte {error.start}); expected a JSON file zoo wrote") from None
    except json.JSONDecodeError as error:
        raise DataError(f"{path}:{error.lineno}: not valid JSON ({error.msg} at column {error.colno})") from None
    except RecursionError:
        raise DataError(f"{path}: JSON nested too deeply; expected the file zoo wrote") from None
    except ValueError as error:  # e.g. an integer of more digits than Python converts (sys.get_int_max_str_digits)
        raise DataError(f"{path}: cannot read it: {str(error).splitlines()[0][:120]}") from None
    except OSError as error:
        raise DataError(f"{path}: cannot read it ({error.strerror})") from None
    if not isinstance(value, expected_type):
        raise DataError(f"{path}: expected a JSON {_json_type(expected_type)}, got {_json_name(value)}")
    return value


def _check_saved(saved, file, folder):
    """``classifier.json``'s fields checked; ``settings`` made a ClassifierConfig. One line per problem."""
    def bad(field, expected, got):
        return DataError(f"{file}: {field!r}: expected {expected}, got {_shown(got)}")

    if saved.get("format") != FORMAT:
        raise DataError(f"{file}: format {_shown(saved.get('format'))}, expected {FORMAT}")
    for field in ("params", "settings", "vectorizer"):
        if not isinstance(saved.get(field), dict):
            raise bad(field, "a JSON object", saved.get(field))
    configs = {}
    for field in ("settings", "params"):
        try:  # (params: the constructor's arguments, strategy by its name as saved_params() writes it)
            configs[field] = ClassifierConfig.from_dict(saved[field])  # (an unknown name: "unknown setting(s) ...")
        except (ConfigError, TypeError) as error:
            raise DataError(f"{file}: {field!r}: {str(error).splitlines()[0]}") from None
    settings = configs["settings"]
    classes = saved.get("classes")
    if not isinstance(classes, list) or not all(_label_value(c) for c in classes):
        raise bad("classes", "a list of class names (strings, integers, finite numbers or booleans)", classes)
    if len(set(map(repr, classes))) != len(classes) or len(classes) < (1 if settings.multi_label else 2):
        raise bad("classes", "distinct names, at least " + ("one" if settings.multi_label else "two"), classes)
    clash = name_clash(classes)  # (fit refuses such classes: loaded, two outputs would print as one label)
    if clash:
        raise DataError(f"{file}: 'classes': {clash}")
    if len({isinstance(c, bool) for c in classes if not isinstance(c, str)}) > 1:  # (True == 1: fit refuses them)
        raise bad("classes", "booleans or numbers, not both", classes)
    length = saved.get("sequence_length")
    if isinstance(length, bool) or not isinstance(length, int) or length < 1:
        raise bad("sequence_length", "an integer >= 1", length)
    vectorizer = saved["vectorizer"]
    other = sorted(set(vectorizer) - {"max_tokens", "standardize", "split"})  # (Keras would take them as arguments)
    if other:
        raise bad("vectorizer", "max_tokens, standardize and split only", f"also {other[0]!r}")
    tokens = vectorizer.get("max_tokens")
    if tokens is not None and (isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 3):
        raise bad("vectorizer.max_tokens", "an integer >= 3 or null", tokens)
    try:
        standardizer(vectorizer.get("standardize"))
    except (ValueError, KeyError, TypeError):
        raise bad("vectorizer.standardize", "a standardizer zoo knows", vectorizer.get("standardize")) from None
    if vectorizer.get("split") != "whitespace":
        raise bad("vectorizer.split", "'whitespace'", vectorizer.get("split"))
    hybrid = saved.get("hybrid")
    if hybrid is not None:
        if not isinstance(hybrid, dict):
            raise bad("hybrid", "a JSON object or null", hybrid)
        weight = hybrid.get("blend_weight")
        if settings.multi_label and not (isinstance(weight, list) and len(weight) == len(classes)
                                         and all(_number(w, 0.0, 1.0) for w in weight)):
            raise bad("hybrid.blend_weight", f"one number in [0, 1] per label ({len(classes)})", weight)
        if not settings.multi_label and not _number(weight, 0.0, 1.0):
            raise bad("hybrid.blend_weight", "a number in [0, 1]", weight)
        ngrams = hybrid.get("ngrams")
        if isinstance(ngrams, bool) or not isinstance(ngrams, int) or not 1 <= ngrams <= 3:
            raise bad("hybrid.ngrams", "1, 2 or 3", ngrams)
        if hybrid.get("bigram_weight") is not None and not _number(hybrid["bigram_weight"], 0.0, 1.0):
            raise bad("hybrid.bigram_weight", "a number in [0, 1] or null", hybrid["bigram_weight"])
        if hybrid.get("standardize") not in STANDARDIZERS:  # (the n-gram layer would refuse it naming no file)
            raise bad("hybrid.standardize", " or ".join(map(repr, STANDARDIZERS)), hybrid.get("standardize"))
        if hybrid.get("weighting", "tfidf") not in WEIGHTINGS:  # (absent before NBSVM was a candidate: TF-IDF)
            raise bad("hybrid.weighting", " or ".join(map(repr, WEIGHTINGS)), hybrid["weighting"])
        if hybrid.get("weighting") == "nb" and hybrid.get("bigram_weight") is not None:
            raise bad("hybrid.bigram_weight", "null with weighting 'nb'", hybrid["bigram_weight"])
    companions = saved.get("companions", [])  # (absent before 0.3's)
    if not isinstance(companions, list) or not all(isinstance(c, str) and COMPANION.fullmatch(c) for c in companions):
        raise bad("companions", "a list of folder names companion_1, companion_2, ... inside this folder", companions)
    missing = [c for c in companions if not (folder / c).is_dir() or (folder / c).is_symlink()]
    if missing:
        raise bad("companions", f"folders inside {folder}", missing)
    thresholds = saved.get("thresholds")
    if settings.multi_label and (not isinstance(thresholds, list) or len(thresholds) != len(classes)
                                 or not all(_number(t, 0.0, 1.0) for t in thresholds)):
        raise DataError(f"{file}: 'thresholds': expected one per label ({len(classes)}), each in [0, 1], got "
                        f"{_shown(thresholds)}")
    calibration = _read_calibration(saved.get("calibration", {"temperature": 1.0}), settings.multi_label,
                                    len(classes), bad)  # (absent before 0.4's: none)
    history, info = saved.get("history", []), saved.get("fit_info", {})
    if not isinstance(history, list):
        raise bad("history", "a list", history)
    if not isinstance(info, dict):
        raise bad("fit_info", "a JSON object", info)
    return {**saved, "settings": settings, "companions": companions, "history": history, "fit_info": info,
            "hybrid": hybrid, "calibration": calibration}


def _read_calibration(calibration, multi_label, labels, bad):
    """The saved calibration as ``calibration_``: a temperature, or a multi-label classifier's ``(2, labels)`` slopes
    and biases (one saved as a temperature, before 0.4's Platt scaling: slope ``1 / T``, bias 0)."""
    if isinstance(calibration, dict) and _number(calibration.get("temperature"), 1e-3, 1e3):
        temperature = float(calibration["temperature"])
        return np.array([[1 / temperature] * labels, [0.0] * labels], np.float32) if multi_label else temperature
    per_label = (multi_label and isinstance(calibration, dict) and set(calibration) == {"slope", "bias"}
                 and all(isinstance(v, list) and len(v) == labels for v in calibration.values())
                 and all(_number(a, 1e-3, 1e3) for a in calibration["slope"])
                 and all(_number(b, -1e3, 1e3) for b in calibration["bias"]))
    if not per_label:
        raise bad("calibration", 'an object {"temperature": a number in [0.001, 1000]}' + (
            f', or {{"slope": [...], "bias": [...]}}, one of each per label ({labels})' if multi_label else ""),
            calibration)
    return np.array([calibration["slope"], calibration["bias"]], np.float32)


def _load_keras(path):
    if not zipfile.is_zipfile(path):  # (Keras would say "File not found ... accessible .keras zip file")
        raise DataError(f"{path}: not a whole .keras archive (truncated or damaged?); expected the model file zoo "
                        "wrote")
    try:
        return load_model(path)
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, TypeError, EOFError) as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0][:160]
        raise DataError(f"{path}: cannot load the Keras model ({type(error).__name__}: {first}); the file is "
                        "damaged or not one zoo wrote") from None


def _load_ngram_path(path, hybrid, num_classes):
    """The n-gram path saved beside the model, or ``(None, 1.0)`` for a classifier without one."""
    if not hybrid:
        return None, 1.0
    vocabulary = _read_json(path / "ngram_vocabulary.json", list)
    _check_words(path / "ngram_vocabulary.json", vocabulary)
    weighting = hybrid.get("weighting", "tfidf")
    try:
        with np.load(path / "ngram.npz", allow_pickle=False) as arrays:
            idf, kernel, bias = (np.asarray(arrays[k]) for k in ("idf", "kernel", "bias"))
            norms = np.asarray(arrays["norms"]) if weighting == "nb" else None
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        raise DataError(f"{path / 'ngram.npz'}: cannot read the hybrid's n-gram path "
                        f"({type(error).__name__}: {str(error)[:120]})") from None
    if kernel.shape != (len(vocabulary), num_classes) or idf.shape != (len(vocabulary),) or \
            bias.shape != (num_classes,) or (norms is not None and norms.shape != kernel.shape):
        raise DataError(f"{path / 'ngram.npz'}: expected idf ({len(vocabulary)},), kernel ({len(vocabulary)}, "
                        f"{num_classes}){', norms of the same shape' if norms is not None else ''} and bias "
                        f"({num_classes},) for {len(vocabulary)} n-grams and {num_classes} classes, got "
                        f"{idf.shape}, {kernel.shape}{f', {norms.shape}' if norms is not None else ''} and "
                        f"{bias.shape}")
    for name, array in (("idf", idf), ("kernel", kernel), ("bias", bias), ("norms", norms)):
        # Why: NaN or text weights load without an error and every prediction is NaN.
        if array is not None and (array.dtype.kind not in "fiu" or not np.isfinite(array).all()):
            raise DataError(f"{path / 'ngram.npz'}: {name!r} holds " + (
                f"{array.dtype} values" if array.dtype.kind not in "fiu" else "NaN or infinite values")
                + "; expected the finite float weights zoo wrote")
    layer = NgramLinear.from_arrays(vocabulary, idf, kernel, bias, norms=norms, ngrams=hybrid["ngrams"],
                                    standardize=hybrid.get("standardize"),
                                    bigram_weight=hybrid.get("bigram_weight"),  # (absent before 0.3's)
                                    weighting=weighting, name="ngram_path")
    weight = hybrid["blend_weight"]
    return layer, np.asarray(weight, np.float32) if isinstance(weight, list) else float(weight)


# === Small checks ===


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _label_value(value):
    """A class name as fit takes it (:data:`zoo.data.inputs.LABEL_TYPES`): a str, an int, a finite float or a bool
    (JSON keeps each as it was)."""
    return isinstance(value, (str, int)) or (isinstance(value, float) and math.isfinite(value))


def _check_words(file, words):
    """A vocabulary file: a non-empty JSON list of distinct strings (Keras would refuse a repeated word with its
    own traceback, naming no file)."""
    if not words or not all(isinstance(w, str) for w in words):
        raise DataError(f"{file}: expected a non-empty JSON list of strings")
    if len(set(words)) != len(words):
        seen = set()
        twice = next(w for w in words if w in seen or seen.add(w))
        raise DataError(f"{file}: the word {_shown(twice)} appears more than once; expected distinct words")


def _number(value, low, high):
    return (isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
            and low <= value <= high)


def _json_type(expected_type):
    return {dict: "object", list: "list"}[expected_type]


def _json_name(value):
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number")


def _shown(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
