import numpy as np

from zoo.evaluation.report import errors_section
from zoo.evaluation.scoring import error_analysis


def test_top_losses_are_the_least_probable_true_labels_and_pairs_count_only_errors():
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.05, 0.9, 0.05], [0.3, 0.3, 0.4], [0.2, 0.7, 0.1]])
    y = np.array([0, 0, 0, 2, 1])
    errors = error_analysis(["ok", "long   text\nhere " * 40, "worst", "right", "fine"], y, p, ["a", "b", "c"], k=2)
    assert [e["label"] for e in errors["top_losses"]] == ["a", "a"]
    assert errors["top_losses"][0]["text"] == "worst" and errors["top_losses"][0]["probability_of_label"] == 0.05
    assert len(errors["top_losses"][1]["text"]) == 300 and "\n" not in errors["top_losses"][1]["text"]
    assert errors["most_confused"] == [{"true": "a", "predicted": "b", "count": 1},
                                       {"true": "a", "predicted": "c", "count": 1}]


def test_multi_label_top_losses_name_the_label_sets_and_the_report_escapes_table_cells():
    y = np.array([[1, 0], [0, 1]], np.float32)
    p = np.array([[0.9, 0.1], [0.8, 0.3]], np.float32)
    errors = error_analysis(["right", "a | b"], y, p, ["x", "y"], thresholds=[0.5, 0.5])
    assert errors["most_confused"] == []
    worst = errors["top_losses"][0]
    assert (worst["text"], worst["label"], worst["predicted"]) == ("a | b", ["y"], ["x"])
    assert "| x | a \\| b |" in "\n".join(errors_section(errors))
