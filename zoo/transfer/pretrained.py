"""Pretrained language-model artifacts: write, register, verify, load.

An artifact is a directory:

* ``config.json``: the language model's configuration (``build_lstm_lm``
  arguments) and the text standardisation its vocabulary was built with;
* ``weights.npz``: every weight by its Keras path, stored as float16;
* ``vocab.json``: the vocabulary, a list whose index is the token id;
* ``metadata.json``: corpus, token counts, steps, held-out perplexity, seed,
  versions and the settings that reproduce it (``recipes/pretrain_lm.py``).

``manifest.json`` lists every artifact with the sha256 and size of each
file; :func:`load` verifies them before it builds anything. The committed
artifacts live in the repository's ``pretrained/`` and install with the
package (``zoo/_pretrained`` in a wheel, see ``setup.py``);
``$ZOO_PRETRAINED_DIR`` points elsewhere.

Example:

>>> art = load("wiki-books-lstm-lm-v2")
>>> art.lm.lm_config["embedding_dim"], len(art.vocab)
(256, 20000)
"""

import dataclasses
import json
import os
import re
import zipfile
import zlib
from pathlib import Path

import numpy as np

from zoo.errors import ConfigError, PretrainedError
from zoo.files import atomic_directory, sha256_file, write_json, write_text
from zoo.lazy import lazy_module

# Keras, and TensorFlow: listing, verifying and registering artifacts needs neither; loading one builds the model.
language_model = lazy_module("zoo.models.language_model")
tokenize = lazy_module("zoo.data.tokenize")

FORMAT = 1
FILES = ("config.json", "weights.npz", "vocab.json", "metadata.json")
PACKAGE_DIR = Path(__file__).resolve().parent.parent  # zoo/


@dataclasses.dataclass
class Artifact:
    """A loaded artifact: the language model, its vocabulary, config and metadata."""

    name: str
    path: Path
    lm: object
    vocab: list
    config: dict
    metadata: dict


def pretrained_dir():
    """Where the manifest and the committed artifacts are.

    ``$ZOO_PRETRAINED_DIR`` if set; else the copy installed with the package
    (``zoo/_pretrained``, written into wheels by ``setup.py``); else, in a
    source checkout or an editable install, the repository's ``pretrained/``.
    """
    if os.environ.get("ZOO_PRETRAINED_DIR"):
        return Path(os.environ["ZOO_PRETRAINED_DIR"])
    installed = PACKAGE_DIR / "_pretrained"
    if (installed / "manifest.json").exists():
        return installed
    return PACKAGE_DIR.parent / "pretrained"


# A name in the manifest is also the artifact's folder in the pretrained directory: one plain path component.
_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}")


def check_name(name, parameter="name"):
    """``name`` if it is a plain artifact name (letters, digits, ``-``, ``_`` and ``.``, not first; at most 100
    characters), else ConfigError: the name becomes a folder of the pretrained directory, so ``..``, ``a/b`` or
    ``.`` would write outside it, or over it."""
    if isinstance(name, str) and _NAME.fullmatch(name):
        return name
    raise ConfigError(parameter, f"`{parameter}` {name!r}: not a plain artifact name; expected letters, digits, '-', "
                                 "'_' and '.' (not first), at most 100 characters: the name is the artifact's folder "
                                 "in the pretrained directory")


_JSON_TYPES = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", int: "a number",
               float: "a number", type(None): "null"}


def _read_json(path, expected=None):
    """The JSON value in ``path``; with ``expected`` (``dict`` or ``list``), one of that type. Else PretrainedError
    naming the file."""
    try:
        with open(path, encoding="utf-8") as f:
            value = json.load(f)
    except FileNotFoundError:
        raise PretrainedError(f"{path}: missing file") from None
    except json.JSONDecodeError as error:
        raise PretrainedError(f"{path}: not valid JSON ({error})") from None
    except UnicodeDecodeError as error:
        raise PretrainedError(f"{path}: not valid JSON (not UTF-8: byte 0x{error.object[error.start]:02x} at "
                              f"offset {error.start})") from None
    except OSError as error:  # a folder, an unreadable file
        raise PretrainedError(f"{path}: cannot read it ({error.strerror or error})") from None
    if expected is not None and not isinstance(value, expected):
        raise PretrainedError(f"{path}: expected {_JSON_TYPES[expected]}, got {_JSON_TYPES.get(type(value), 'JSON')};"
                              " the file is damaged or not one zoo wrote")
    return value


def _read_config(path):
    """An artifact's ``config.json``, checked: format, model, an ``lm`` object, a ``standardize`` name."""
    file = Path(path) / "config.json"
    config = _read_json(file, dict)
    if config.get("format") != FORMAT or config.get("model") != "lstm_lm":
        raise PretrainedError(f"{file}: expected format {FORMAT} and model 'lstm_lm', "
                              f"got format {config.get('format')!r} and model {config.get('model')!r}")
    if not isinstance(config.get("lm"), dict):
        raise PretrainedError(f"{file}: 'lm' must be an object (the language model's settings), got "
                              f"{_JSON_TYPES.get(type(config.get('lm')), 'JSON') if 'lm' in config else 'nothing'}; "
                              "the file is damaged or not one zoo wrote")
    if not isinstance(config.get("standardize"), str):  # (its value is checked where it is used: vectorizer())
        raise PretrainedError(f"{file}: 'standardize' must be the name of a standardizer, got "
                              f"{config.get('standardize')!r}; the file is damaged or not one zoo wrote")
    return config


def _read_vocab(path):
    """An artifact's ``vocab.json``: a list of strings (the index is the token id)."""
    file = Path(path) / "vocab.json"
    vocab = _read_json(file, list)
    bad = next((i for i, token in enumerate(vocab) if not isinstance(token, str)), None)
    if bad is not None:
        raise PretrainedError(f"{file}: item {bad} is {_JSON_TYPES.get(type(vocab[bad]), 'JSON')}, expected a string "
                              "token; the file is damaged or not one zoo wrote")
    return vocab


def _read_weights(file):
    """Every array of a ``weights.npz``, read whole (no pickle), as a dict; PretrainedError naming the file where
    it is not a readable npz file of float arrays (truncated, damaged, another format)."""
    try:
        loaded = np.load(file, allow_pickle=False)
    except FileNotFoundError:
        raise PretrainedError(f"{file}: missing file of the pretrained model") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise _unreadable(file, error) from None
    if not isinstance(loaded, np.lib.npyio.NpzFile):  # a lone .npy array
        raise PretrainedError(f"{file}: not an npz archive of weights (one {type(loaded).__name__}); the file is "
                              "damaged or not one zoo wrote")
    try:
        with loaded:  # each array is decompressed (and its CRC checked) as it is read
            arrays = {key: loaded[key] for key in loaded.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as error:
        raise _unreadable(file, error) from None
    for key, value in arrays.items():
        if not np.issubdtype(value.dtype, np.floating):
            raise PretrainedError(f"{file}: {key} holds {value.dtype} values, expected floats; the file is damaged "
                                  "or not one zoo wrote")
        if not np.all(np.isfinite(value)):
            raise PretrainedError(f"{file}: {key} holds NaN or infinite values; the file is damaged or not one zoo "
                                  "wrote")
    return arrays


def _unreadable(file, error):
    reason = (str(error).strip().splitlines() or [""])[0][:160]
    kind = "zlib.error" if isinstance(error, zlib.error) else type(error).__name__
    return PretrainedError(f"{file}: cannot read the weights ({kind}: {reason}); the file is "
                           "damaged or not one zoo wrote")


def read_manifest(directory=None):
    path = Path(directory or pretrained_dir()) / "manifest.json"
    if not path.exists():
        return {"format": FORMAT, "artifacts": {}}
    manifest = _read_json(path, dict)
    if not isinstance(manifest.get("artifacts", {}), dict):
        raise PretrainedError(f"{path}: 'artifacts' must be an object (name -> entry); the file is damaged or not "
                              "one zoo wrote")
    return manifest


# === Writing ===


def save_artifact(lm, vocab, metadata, path, standardize="lower_and_strip_punctuation", overwrite=False):
    """Writes an artifact directory atomically (a temp dir renamed into place; with ``overwrite``, swapped with
    an artifact zoo wrote there before, :func:`zoo.files.atomic_directory`).

    Raises:
        PretrainedError: ``path`` already exists (and ``overwrite`` is False).
        ExportError: ``overwrite`` over a folder that is not an artifact zoo wrote.
    """
    from keras import ops

    path = Path(path)
    if path.exists() and not overwrite:
        raise PretrainedError(f"{path}: already exists; remove it or write the artifact elsewhere")
    if len(vocab) != lm.lm_config["vocab_size"]:
        raise PretrainedError(f"vocabulary has {len(vocab)} tokens but the model expects {lm.lm_config['vocab_size']}")
    with atomic_directory(path, overwrite=overwrite, kind="artifact") as tmp:
        tmp = Path(tmp)
        config = {"format": FORMAT, "model": "lstm_lm", "lm": lm.lm_config, "standardize": standardize}
        write_json(tmp / "config.json", config)
        arrays = {w.path: ops.convert_to_numpy(w).astype("float16") for w in lm.weights}
        np.savez_compressed(tmp / "weights.npz", **arrays)
        write_text(tmp / "vocab.json", json.dumps(list(vocab), ensure_ascii=False) + "\n")
        write_json(tmp / "metadata.json", metadata)
    return path


def manifest_entry(path):
    """The manifest record of the artifact at ``path``: checksums, sizes and a summary."""
    path = Path(path)
    for f in FILES:
        if not (path / f).is_file():
            raise PretrainedError(f"{path / f}: missing file of the pretrained model")
    files = {f: {"sha256": sha256_file(path / f), "size": (path / f).stat().st_size} for f in FILES}
    config = _read_config(path)
    meta = _read_json(path / "metadata.json", dict)
    return {
        "path": path.name,
        "files": files,
        "size_bytes": sum(f["size"] for f in files.values()),
        "vocab_size": config["lm"]["vocab_size"],
        "architecture": {k: config["lm"][k] for k in ("embedding_dim", "units", "num_layers", "tie_weights")},
        "corpus": meta.get("corpus", {}).get("sources"),
        "train_tokens": meta.get("train_tokens"),
        "heldout_tokens": meta.get("heldout_tokens"),
        "heldout_perplexity": meta.get("heldout_perplexity"),
        "seed": meta.get("seed"),
    }


def register(path, name=None, directory=None):
    """Adds or replaces the artifact at ``path`` in ``manifest.json`` of ``directory``.

    Raises:
        ConfigError: ``name`` (default: the folder's name) is not a plain artifact name (:func:`check_name`).
    """
    name = check_name(name or Path(path).name)  # before anything is read or written
    directory = Path(directory or pretrained_dir())
    manifest = read_manifest(directory)
    manifest.setdefault("artifacts", {})[name] = manifest_entry(path)
    manifest["format"] = FORMAT
    write_json(directory / "manifest.json", manifest)
    return manifest["artifacts"][name]


# === Loading ===


def list_pretrained(directory=None):
    """Names of the artifacts in the manifest."""
    return sorted(read_manifest(directory).get("artifacts", {}))


def _resolve(name_or_path, directory):
    directory = Path(directory or pretrained_dir())
    manifest = read_manifest(directory).get("artifacts", {})
    if name_or_path in manifest:
        return name_or_path, directory / manifest[name_or_path]["path"], manifest[name_or_path]
    path = Path(name_or_path)
    if path.is_dir():
        # A directory outside the manifest: verify against the manifest entry
        # of the same name when there is one, otherwise load unverified.
        entry = next((e for n, e in manifest.items() if (directory / e["path"]).resolve() == path.resolve()), None)
        return path.name, path, entry
    known = ", ".join(sorted(manifest)) or "none"
    raise PretrainedError(f"unknown pretrained model {name_or_path!r}: not in {directory / 'manifest.json'} "
                          f"(known: {known}) and not an artifact directory")


def vocabulary(name_or_path, directory=None):
    """A pretrained language model's vocabulary (``vocab.json``, checked against the manifest), without building
    the model: what :mod:`zoo.training.auto` needs to tell whether the model can read a task's texts."""
    _, path, entry = _resolve(name_or_path, directory)
    if entry is not None and "vocab.json" in entry.get("files", {}):
        verify(path, {**entry, "files": {"vocab.json": entry["files"]["vocab.json"]}})
    return _read_vocab(path)


def verify(path, entry):
    """Checks every file of the artifact against its manifest entry."""
    for fname, expected in entry["files"].items():
        file = Path(path) / fname
        if not file.exists():
            raise PretrainedError(f"{file}: missing file of the pretrained model")
        actual = sha256_file(file)
        if actual != expected["sha256"]:
            raise PretrainedError(f"{file}: sha256 mismatch (expected {expected['sha256']}, got {actual}); "
                                  "the file is corrupted or was changed")


def load(name_or_path, directory=None):
    """Loads a pretrained language model by manifest name or artifact path.

    Verifies the sha256 of every file listed in the manifest, then builds the
    model from ``config.json`` and loads the weights.

    Raises:
        PretrainedError: unknown name, missing file, checksum mismatch, a file
            that is damaged (not JSON of the right type, not a readable npz of
            float weights), or a config or weights the model cannot take; every
            file is checked before the model is built.
    """
    name, path, entry = _resolve(name_or_path, directory)
    if entry is not None:
        verify(path, entry)
    for fname in FILES:
        if not (path / fname).is_file():
            raise PretrainedError(f"{path / fname}: missing file of the pretrained model")
    config = _read_config(path)
    vocab = _read_vocab(path)
    metadata = _read_json(path / "metadata.json", dict)
    lm_cfg = dict(config["lm"])
    if lm_cfg.get("vocab_size") != len(vocab):
        raise PretrainedError(f"{path}: config says vocab_size {lm_cfg.get('vocab_size')} but vocab.json has "
                              f"{len(vocab)} tokens")
    arrays = _read_weights(path / "weights.npz")
    try:
        lm = language_model.build_lstm_lm(**lm_cfg)
    except (TypeError, ValueError) as error:  # a ConfigError naming the setting
        raise PretrainedError(f"{path / 'config.json'}: incompatible config: {error}") from None
    missing = [w.path for w in lm.weights if w.path not in arrays]
    if missing:
        raise PretrainedError(f"{path / 'weights.npz'}: no weights for {', '.join(missing)}")
    for w in lm.weights:
        value = arrays[w.path]
        if tuple(value.shape) != tuple(w.shape):
            raise PretrainedError(f"{path / 'weights.npz'}: {w.path} has shape {value.shape}, "
                                  f"the config needs {tuple(w.shape)}")
        w.assign(value.astype("float32"))
    return Artifact(name=name, path=path, lm=lm, vocab=vocab, config=config, metadata=metadata)


def compare(path_a, path_b):
    """How far apart two artifact directories are: stored weights, vocabulary, perplexity.

    Reads the files directly (no model is built), so it compares exactly what
    was written, float16 and all. Used to check that ``pretrain_lm.py
    --from-metadata`` reproduces an artifact.

    Example:

    >>> check = compare("pretrained/wiki-books-lstm-lm-v2", "pretrained/wiki-books-lstm-lm-v2")
    >>> check["identical_weights"], check["heldout_perplexity"]
    (True, [114.01, 114.01])

    Returns:
        A dict: ``identical_weights``, ``max_abs_diff`` over all weights,
        ``same_vocab``, and both ``heldout_perplexity`` values.
    """
    paths = [Path(path_a), Path(path_b)]
    for path in paths:
        for fname in ("weights.npz", "vocab.json", "metadata.json"):
            if not (path / fname).exists():
                raise PretrainedError(f"{path / fname}: missing file of the pretrained model")
    a, b = (_read_weights(p / "weights.npz") for p in paths)
    if sorted(a) != sorted(b):
        raise PretrainedError(f"{paths[0]} and {paths[1]} hold different weights: {sorted(set(a) ^ set(b))}")
    diffs = []
    for key in a:
        if a[key].shape != b[key].shape:
            raise PretrainedError(f"{key}: shape {a[key].shape} in {paths[0]}, {b[key].shape} in {paths[1]}")
        diffs.append(float(np.max(np.abs(a[key].astype("float64") - b[key].astype("float64")), initial=0.0)))
    largest = max(diffs, default=0.0)
    return {
        "identical_weights": largest == 0.0,
        "max_abs_diff": largest,
        "same_vocab": _read_vocab(paths[0]) == _read_vocab(paths[1]),
        "heldout_perplexity": [_read_json(p / "metadata.json", dict).get("heldout_perplexity") for p in paths],
    }


def vectorizer(artifact):
    """A ``TextVectorization`` with the artifact's vocabulary and standardisation."""
    import keras

    # Through zoo's standardizer of that name: Keras' own, with unspaced scripts split into characters.
    try:
        standardize = tokenize.standardizer(artifact.config["standardize"])
    except ConfigError as error:  # the artifact's file, not a setting of the user's
        raise PretrainedError(f"{Path(artifact.path) / 'config.json'}: {str(error).replace('`', chr(39))}; the "
                              "file is damaged or not one zoo wrote") from None  # (no `name`: no --flag)
    return keras.layers.TextVectorization(standardize=standardize, vocabulary=artifact.vocab, ragged=True,
                                          name="vectorizer")
