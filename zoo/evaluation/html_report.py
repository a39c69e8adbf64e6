"""``report.html``: a run's ``report.md`` as one self-contained page, with the error analysis's token
attributions highlighted.

The page is rendered from ``report.md`` (Python-Markdown with its tables
extension), so the two say the same; each plot it names is embedded as a
``data:`` URI, the style is inline, and nothing is fetched: the file can be
mailed, archived or opened offline. The report quotes the texts of highest
loss, so anything in them that a browser would act on (HTML, a link, an
image's address) is shown as text or dropped. The texts of highest loss follow, each
token shaded by what it contributed to the prediction (green for, red
against; :func:`zoo.evaluation.scoring.explain_top_losses`).

Example:

>>> page = html_page("# run", {"errors": {"top_losses": [{"text": "free prize", "label": "ham",
...     "predicted": "spam", "loss": 3.2, "attributions": [["free", 0.8], ["prize", -0.1]]}]}}, ".")
>>> '<span class="token" style="background:rgba(26,150,65,1.00);color:#fff" title="+0.800">free</span>' in page
True
"""

import base64
import html
import os
import re

import markdown
import markdown.treeprocessors

from zoo.files import write_text

_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+\.png)\)")
_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
img { max-width: 100%; }
pre { background: #f6f6f6; padding: 0.6em; overflow-x: auto; }
.loss { margin: 0.8em 0; padding: 0.5em; border: 1px solid #ddd; }
.loss p { margin: 0.2em 0; }
.token { padding: 0 2px; margin: 0 1px; border-radius: 3px; line-height: 1.8; }
"""


def write_html_report(run_dir, metrics):
    """Writes ``report.html`` beside the ``report.md`` of ``run_dir`` (and the PNGs it names); returns its path."""
    with open(os.path.join(run_dir, "report.md"), encoding="utf-8") as f:
        text = f.read()
    path = os.path.join(run_dir, "report.html")
    write_text(path, html_page(text, metrics, run_dir))
    return path


def html_page(report_md, metrics, image_dir):
    """The page: ``report_md`` rendered, its PNGs (in ``image_dir``) inlined, then the highlighted top losses."""
    title = next((line[2:] for line in report_md.splitlines() if line.startswith("# ")), "zoo run")
    body = _markdown().convert(_IMAGE.sub(lambda m: _inline_image(m, image_dir), report_md))
    return "\n".join(["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
                      f"<title>{html.escape(title)}</title>", f"<style>{_STYLE}</style>", "</head>", "<body>", body,
                      *_highlighted_losses(metrics.get("errors")), "</body>", "</html>", ""])


def _markdown():
    """Python-Markdown with tables and code blocks, and nothing of a text's own that could act: the report quotes
    users' texts, so raw HTML in them is shown as text (its block and inline parsers off: Python-Markdown's way
    since ``safe_mode`` went), and a link or image of theirs loses its address (:class:`_OnlyInlined`)."""
    md = markdown.Markdown(extensions=["tables", "fenced_code"])
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    md.treeprocessors.register(_OnlyInlined(md), "only_inlined", 0)  # (priority 0: after every other)
    return md


class _OnlyInlined(markdown.treeprocessors.Treeprocessor):
    """Drops every address but the report's own inlined PNGs (``data:image/png;base64,``) and in-page anchors."""

    def run(self, root):
        for element in root.iter():
            if element.get("src") is not None and not element.get("src").startswith("data:image/png;base64,"):
                del element.attrib["src"]
            if element.get("href") is not None and not element.get("href").startswith("#"):
                del element.attrib["href"]


def _inline_image(match, image_dir):
    """A markdown image as a ``data:`` URI (a PNG that is not there: its alt text, in brackets)."""
    alt, name = match.groups()
    try:
        with open(os.path.join(image_dir, name), "rb") as f:
            data = base64.b64encode(f.read()).decode("ascii")
    except FileNotFoundError:
        return f"[{alt}: no {name}]"
    return f"![{alt}](data:image/png;base64,{data})"


def _highlighted_losses(errors):
    """The texts of highest loss, each token shaded by its contribution (those with attributions only)."""
    shown = [e for e in (errors or {}).get("top_losses", []) if e.get("attributions")]
    if not shown:
        return []
    lines = ["<h2>Top losses, token by token</h2>",
             ("<p>Each token shaded by what it contributed to the predicted class: green for it, red against it "
              "(integrated gradients through the recurrent path plus the n-gram path's exact terms, each times its "
              "blend weight; hover for the value).</p>")]
    for e in shown:
        label, predicted = (", ".join(map(str, e[k])) if isinstance(e[k], list) else str(e[k])
                            for k in ("label", "predicted"))
        scale = max(abs(v) for _, v in e["attributions"]) or 1.0
        tokens = " ".join(_token(token, value, scale) for token, value in e["attributions"])
        lines += ['<div class="loss">', (f"<p>loss {e['loss']:.2f}; label <b>{html.escape(label)}</b>, predicted "
                                         f"<b>{html.escape(predicted)}</b></p>"), f"<p>{tokens}</p>", "</div>"]
    return lines


def _token(token, value, scale):
    """One token as a shaded span: the stronger its contribution (relative to the text's largest), the darker."""
    strength = min(abs(value) / scale, 1.0)
    rgb = "26,150,65" if value >= 0 else "215,48,39"
    ink = ";color:#fff" if strength > 0.6 else ""
    return (f'<span class="token" style="background:rgba({rgb},{strength:.2f}){ink}" title="{value:+.3f}">'
            f"{html.escape(str(token))}</span>")
