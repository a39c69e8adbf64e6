"""A dataset's labels reach the estimator as class ids (LabelIds), encoded once, with the same targets as names."""

import numpy as np
import pytest

from zoo.data.inputs import encode_given, label_targets
from zoo.data.labels import LabelIds
from zoo.errors import DataError


def test_label_ids_give_the_targets_that_their_names_give():
    ids = LabelIds([2, 0, 1, 2], ["a", "b", "c"])
    classes, y, no_labels, encode = label_targets(ids, 4)
    named = label_targets(ids.names(), 4, ["a", "b", "c"])
    assert classes == named[0] and y.tolist() == named[1].tolist() and y.dtype == named[1].dtype == np.int64
    assert no_labels.shape == (0,) and encode(LabelIds([1], classes)).tolist() == encode(["b"]).tolist() == [1]
    multi = LabelIds([[1, 0], [1, 1]], ["x", "y"])
    classes, y, no_labels, _ = label_targets(multi, 2, multi_label=True)
    assert y.tolist() == label_targets(multi.names(), 2, ["x", "y"], multi_label=True)[1].tolist()
    assert no_labels.shape == (0, 2)


@pytest.mark.parametrize("make, message", [
    (lambda: LabelIds([0, 3], ["a", "b"]), "class ids in 0..1, got values from 0 to 3"),
    (lambda: LabelIds([0.5, 1.0], ["a", "b"]), "expected integer class ids"),
    (lambda: LabelIds([[0, 2]], ["a", "b"]), "0/1 values only"),
    (lambda: label_targets(LabelIds([0, 1], ["a", "b"]), 2, ["b", "a"]), "pass the same classes or none"),
    (lambda: label_targets(LabelIds([0, 1], ["a", "b"]), 3), "2 labels for 3 texts"),
    (lambda: encode_given("labels", LabelIds([0], ["a", "b"]), 1, ["a", "b"], multi_label=True),
     "expected a 0/1 matrix"),
])
def test_bad_label_ids_are_one_line_errors(make, message):
    with pytest.raises(DataError, match=message):
        make()
