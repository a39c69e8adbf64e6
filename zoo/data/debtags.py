"""The ``debtags`` dataset: Debian package descriptions labelled with their debtags (multi-label).

Each example is one tagged binary package of Debian 12 (bookworm) ``main``
(amd64): the text is ``"PACKAGE: short description"`` (``"0ad: Real-time
strategy game of ancient warfare"``), the labels are its tags of the
``use::`` (what the package is for) and ``works-with::`` (what it handles)
facets, kept where at least :data:`MIN_PACKAGES` packages carry the tag
(33 labels; ``...::TODO`` placeholders dropped). A package has 1 to 7 of them
(1.6 on average); packages without any are left out.

The committed snapshot (``zoo/data/snapshots/debtags-bookworm-20260711.jsonl.gz``,
provenance in the ``.md`` beside it) was built from the apt list
``/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4``
by :func:`build_snapshot`:

    lz4cat /var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4 > /tmp/Packages
    python -m zoo.data.debtags /tmp/Packages /var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease

Its splits are fixed and grouped by source package (binaries built from one
source, which often share words, never straddle two splits): a seeded 70% of
the source packages train, 10% valid, 20% test.

Example:

>>> texts, labels = parse_packages(["Package: a", "Description: edits text", "Tag: use::editing, works-with::text",
...                                 "", "Package: b", "Description: no tags", ""])
>>> texts, labels
(['a: edits text'], [['use::editing', 'works-with::text']])
"""

import gzip
import hashlib
import json
import re
import sys
from pathlib import Path

import numpy as np

from zoo.errors import DataError

SNAPSHOT = Path(__file__).parent / "snapshots" / "debtags-bookworm-20260711.jsonl.gz"
FACETS = ("use", "works-with")
MIN_PACKAGES = 100  # a tag on fewer packages leaves a handful of test examples: its F1 would be noise
SPLITS = (("train", 0.7), ("valid", 0.1), ("test", 0.2))
SEED = 0
APT_LIST = Path("/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4")


def parse_packages(lines):
    """``(texts, labels)`` of the tagged packages in the lines of an apt ``Packages`` file (all facets' tags).

    Only packages with a ``Tag`` field are kept; ``texts`` are ``"PACKAGE: short description"``.
    """
    records = _records(lines)
    texts, labels = [], []
    for record in records:
        if "Tag" in record and "Description" in record:
            tags = sorted({t.strip() for t in record["Tag"].replace("\n", " ").split(",") if t.strip()})
            texts.append(f"{record['Package']}: {record['Description'].splitlines()[0].strip()}")
            labels.append(tags)
    return texts, labels


def _records(lines):
    records, current, last = [], {}, None
    for line in list(lines) + [""]:
        line = line.rstrip("\n")
        if not line.strip():
            if current:
                records.append(current)
            current, last = {}, None
        elif line[0] in " \t" and last:  # a continuation line
            current[last] += "\n" + line.strip()
        else:
            key, _, value = line.partition(":")
            current[key], last = value.strip(), key
    return records


def _source(record_package, source_field):
    return (source_field or record_package).split()[0]  # "Source: foo (1.2-3)" names foo


def build_snapshot(packages_path, inrelease_path, out=SNAPSHOT):
    """Writes the snapshot (gzipped JSON lines) and its provenance note (``.md`` beside it); returns the counts."""
    packages_path, inrelease_path, out = Path(packages_path), Path(inrelease_path), Path(out)
    raw = packages_path.read_bytes()
    lines = raw.decode("utf-8").splitlines()
    records = [r for r in _records(lines) if "Tag" in r and "Description" in r]
    for r in records:
        r["tags"] = sorted({t.strip() for t in r["Tag"].replace("\n", " ").split(",") if t.strip()})
    counts = {}
    for r in records:
        for tag in r["tags"]:
            if tag.split("::")[0] in FACETS and not tag.endswith("::TODO"):
                counts[tag] = counts.get(tag, 0) + 1
    kept = sorted(tag for tag, n in counts.items() if n >= MIN_PACKAGES)
    rows = []
    for r in sorted(records, key=lambda r: r["Package"]):
        labels = [tag for tag in r["tags"] if tag in kept]
        if labels:
            rows.append({"package": r["Package"], "source": _source(r["Package"], r.get("Source")),
                         "text": f"{r['Package']}: {r['Description'].splitlines()[0].strip()}", "labels": labels})
    sources = sorted({row["source"] for row in rows})
    order = np.random.RandomState(SEED).permutation(len(sources))
    split_of, start = {}, 0
    for name, share in SPLITS:
        end = len(sources) if name == SPLITS[-1][0] else start + round(share * len(sources))
        split_of.update({sources[i]: name for i in order[start:end]})
        start = end
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as raw_out, gzip.GzipFile(fileobj=raw_out, mode="wb", mtime=0, filename="") as f:
        for row in rows:
            f.write((json.dumps({**row, "split": split_of[row["source"]]}, ensure_ascii=False) + "\n").encode())
    summary = {name: sum(split_of[row["source"]] == name for row in rows) for name, _ in SPLITS}
    release = inrelease_path.read_text(encoding="utf-8", errors="replace")
    date = re.search(r"^Date: (.+)$", release, re.M)
    version = re.search(r"^Version: (.+)$", release, re.M)
    _write_note(out, packages_path, raw, inrelease_path, date and date.group(1), version and version.group(1),
                kept, counts, rows, summary)
    return {"labels": len(kept), "packages": len(rows), **summary}


def _write_note(out, packages_path, raw, inrelease_path, date, version, kept, counts, rows, summary):
    per_split = {name: {tag: 0 for tag in kept} for name in summary}
    split_of = {}
    with gzip.open(out, "rt", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            split_of[row["package"]] = row["split"]
            for tag in row["labels"]:
                per_split[row["split"]][tag] += 1
    lines = [
        f"# {out.name}", "",
        "Debian package short descriptions labelled with their debtags, for multi-label classification "
        "(`load_dataset(\"debtags\")`; built by `python -m zoo.data.debtags`, see `zoo/data/debtags.py`).", "",
        f"- source: `{packages_path.name}`, the apt list of Debian 12 (bookworm) main, binary-amd64, "
        "uncompressed from `/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4`",
        f"- its sha256 (uncompressed, as listed in the signed InRelease): `{hashlib.sha256(raw).hexdigest()}`",
        *([f"- the `.lz4` file's sha256: `{hashlib.sha256(APT_LIST.read_bytes()).hexdigest()}`"]
          if APT_LIST.exists() else []),
        f"- `{inrelease_path.name}`: Version {version}, Date: {date}",
        "- licence: the debtags and descriptions are Debian archive metadata (package maintainers, the debtags "
        "project)",
        f"- labels: the `{'::`, `'.join(FACETS)}::` facets' tags on at least {MIN_PACKAGES} tagged packages "
        f"({len(kept)} labels, `::TODO` dropped); packages with none of them left out",
        f"- {len(rows)} packages: " + ", ".join(f"{name} {n}" for name, n in summary.items())
        + f" (grouped by source package, a seeded split of the sources, seed {SEED})",
        "- fields per line: `package`, `source`, `text` (`PACKAGE: short description`), `labels`, `split`", "",
        "| label | packages (whole archive) | train | valid | test |", "|---|---|---|---|---|",
    ]
    lines += [f"| {tag} | {counts[tag]} | " + " | ".join(str(per_split[s][tag]) for s in summary) + " |"
              for tag in kept]
    out.with_suffix("").with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def load_snapshot(path=SNAPSHOT):
    """``{split: (texts, label lists)}`` of the committed snapshot.

    Raises:
        DataError: the file is missing (a build without the package data) or a line is malformed.
    """
    path = Path(path)
    splits = {name: ([], []) for name, _ in SPLITS}
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                try:
                    row = json.loads(line)
                    texts, labels = splits[row["split"]]
                    if not row["labels"] or not all(isinstance(t, str) for t in row["labels"]):
                        raise ValueError("expected a non-empty list of string labels")
                    texts.append(str(row["text"]))
                    labels.append(list(row["labels"]))
                except (ValueError, KeyError, TypeError) as error:
                    raise DataError(f"{path}:{number}: not a debtags snapshot line ({error})") from None
    except OSError as error:
        raise DataError(f"debtags: cannot read the snapshot {path} ({error.strerror or error}); it ships with "
                        "zoo as package data (zoo/data/snapshots)") from None
    return splits


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: python -m zoo.data.debtags PACKAGES INRELEASE [OUT.jsonl.gz]")
    print(build_snapshot(*sys.argv[1:]))
