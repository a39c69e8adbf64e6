"""SMS spam detection: GloVe vectors + BiLSTM, end to end.

The UCI SMS Spam Collection (or its pinned offline mirror), split 80/20
stratified with a fixed seed so the test set matches the published baseline;
then the same training, evaluation and export as the main job. Texts are
short, so the sequence cap is the 99th percentile of their lengths.

    python recipes/sms_spam_glove_bilstm.py --output-dir runs/sms_spam
"""

from zoo.cli import train

RECIPE = {"dataset": "sms_spam", "model": "bilstm", "init": "glove-6b-50d", "sequence_length": "p99",
          "output_dir": "runs/sms_spam_glove_bilstm"}

if __name__ == "__main__":
    train.main(defaults=RECIPE, prog="recipes/sms_spam_glove_bilstm.py", description=__doc__,
               recipe="sms_spam_glove_bilstm")
