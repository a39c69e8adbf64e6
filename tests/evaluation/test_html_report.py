"""report.html (zoo.evaluation.html_report): self-contained, and nothing in a quoted text acts in a browser."""

from pathlib import Path

from zoo.evaluation.html_report import write_html_report
from zoo.evaluation.report import errors_section

HOSTILE = "<script>alert(1)</script> <img src='http://example.com/x.gif'> ![x](http://example.com/y.gif) [a](http://e)"


def test_a_hostile_text_is_shown_not_run_and_the_page_fetches_nothing(tmp_path):
    from tests.helpers import parse_html_report

    errors = {"most_confused": [], "top_losses": [{"text": HOSTILE, "label": "a", "predicted": "b", "loss": 2.0,
                                                   "attributions": [["<b>", 0.5], ["x", -0.2]]}]}
    (tmp_path / "plot.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    report = ["# run <i>1</i>", "", *errors_section(errors), "![plot](plot.png)", "![gone](missing.png)"]
    (tmp_path / "report.md").write_text("\n".join(report))
    page = parse_html_report(Path(write_html_report(str(tmp_path), {"errors": errors})))
    assert not page.outside and "script" not in page.names and "i" not in page.names
    assert "<script>alert(1)</script>" in page.text and "[gone: no missing.png]" in page.text
    assert [attrs["src"][:21] for tag, attrs in page.tags if tag == "img" and "src" in attrs] == ["data:image/png;base64"]
    tokens = [attrs for tag, attrs in page.tags if tag == "span" and attrs.get("class") == "token"]
    assert [t["title"] for t in tokens] == ["+0.500", "-0.200"] and "<b>" in page.text and page.names.count("b") == 2  # (the label, the prediction)
