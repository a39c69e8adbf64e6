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
from pathlib import Path

import numpy as np

from zoo.errors import PretrainedError
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


def _read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        raise PretrainedError(f"{path}: missing file") from None
    except json.JSONDecodeError as error:
        raise PretrainedError(f"{path}: not valid JSON ({error})") from None


def read_manifest(directory=None):
    path = Path(directory or pretrained_dir()) / "manifest.json"
    if not path.exists():
        return {"format": FORMAT, "artifacts": {}}
    return _read_json(path)


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
    files = {f: {"sha256": sha256_file(path / f), "size": (path / f).stat().st_size} for f in FILES}
    config = _read_json(path / "config.json")
    meta = _read_json(path / "metadata.json")
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
    """Adds or replaces the artifact at ``path`` in ``manifest.json`` of ``directory``."""
    directory = Path(directory or pretrained_dir())
    manifest = read_manifest(directory)
    name = name or Path(path).name
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
    return _read_json(path / "vocab.json")


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
        PretrainedError: unknown name, missing file, checksum mismatch, or a
            config or weights the model cannot take.
    """
    name, path, entry = _resolve(name_or_path, directory)
    if entry is not None:
        verify(path, entry)
    for fname in FILES:
        if not (path / fname).exists():
            raise PretrainedError(f"{path / fname}: missing file of the pretrained model")
    config = _read_json(path / "config.json")
    if config.get("format") != FORMAT or config.get("model") != "lstm_lm":
        raise PretrainedError(f"{path / 'config.json'}: expected format {FORMAT} and model 'lstm_lm', "
                              f"got format {config.get('format')!r} and model {config.get('model')!r}")
    vocab = _read_json(path / "vocab.json")
    lm_cfg = dict(config["lm"])
    if lm_cfg.get("vocab_size") != len(vocab):
        raise PretrainedError(f"{path}: config says vocab_size {lm_cfg.get('vocab_size')} but vocab.json has "
                              f"{len(vocab)} tokens")
    try:
        lm = language_model.build_lstm_lm(**lm_cfg)
    except (TypeError, ValueError) as error:  # a ConfigError naming the setting
        raise PretrainedError(f"{path / 'config.json'}: incompatible config: {error}") from None
    with np.load(path / "weights.npz") as arrays:
        missing = [w.path for w in lm.weights if w.path not in arrays]
        if missing:
            raise PretrainedError(f"{path / 'weights.npz'}: no weights for {', '.join(missing)}")
        for w in lm.weights:
            value = arrays[w.path]
            if tuple(value.shape) != tuple(w.shape):
                raise PretrainedError(f"{path / 'weights.npz'}: {w.path} has shape {value.shape}, "
                                      f"the config needs {tuple(w.shape)}")
            w.assign(value.astype("float32"))
    return Artifact(name=name, path=path, lm=lm, vocab=vocab, config=config,
                    metadata=_read_json(path / "metadata.json"))


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
    with np.load(paths[0] / "weights.npz") as a, np.load(paths[1] / "weights.npz") as b:
        if sorted(a.files) != sorted(b.files):
            raise PretrainedError(f"{paths[0]} and {paths[1]} hold different weights: "
                                  f"{sorted(set(a.files) ^ set(b.files))}")
        diffs = []
        for key in a.files:
            if a[key].shape != b[key].shape:
                raise PretrainedError(f"{key}: shape {a[key].shape} in {paths[0]}, {b[key].shape} in {paths[1]}")
            diffs.append(float(np.max(np.abs(a[key].astype("float64") - b[key].astype("float64")), initial=0.0)))
    largest = max(diffs, default=0.0)
    return {
        "identical_weights": largest == 0.0,
        "max_abs_diff": largest,
        "same_vocab": _read_json(paths[0] / "vocab.json") == _read_json(paths[1] / "vocab.json"),
        "heldout_perplexity": [_read_json(p / "metadata.json").get("heldout_perplexity") for p in paths],
    }


def vectorizer(artifact):
    """A ``TextVectorization`` with the artifact's vocabulary and standardisation."""
    import keras

    # Through zoo's standardizer of that name: Keras' own, with unspaced scripts split into characters.
    return keras.layers.TextVectorization(standardize=tokenize.standardizer(artifact.config["standardize"]),
                                          vocabulary=artifact.vocab, ragged=True, name="vectorizer")
