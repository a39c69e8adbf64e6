"""What one fit did, as a typed record: :class:`FitRecord` (``TextClassifier.fit_record_``).

Each training procedure (:mod:`zoo.training.from_vectors`, :mod:`~zoo.training.from_classifier`,
:mod:`~zoo.training.from_lm`, :mod:`~zoo.training.auto`) fills in its part; the estimator adds the distribution
and the calibration; :mod:`zoo.evaluation.run_report` renders the run's report from it; ``classifier.json``
keeps it (``"fit_info"``: :meth:`FitRecord.to_dict`, the same keys as 0.3's untyped dict).
"""

import dataclasses

PROCEDURES = ("word_vectors", "from_classifier", "ulmfit", "auto")


@dataclasses.dataclass
class FitRecord:
    """What a :meth:`zoo.TextClassifier.fit` ran and measured. A field is None where that part did not run.

    Example:

    >>> record = FitRecord(procedure="word_vectors", model="bilstm", epochs_run=3)
    >>> FitRecord.from_dict(record.to_dict()) == record
    True
    >>> sorted(record.to_dict())
    ['epochs_run', 'model', 'procedure', 'replicas', 'train_seconds', 'truncated_train_texts']
    """

    procedure: str | None = None  # how the model started: one of PROCEDURES (None: saved before 0.4)
    model: str | None = None  # the recurrent model's name: "bilstm", "ulmfit_stacked_lstm", ..._ensemble_of_3
    train_seconds: float = 0.0  # the whole fit, n-gram path and calibration aside
    epochs_planned: int | None = None  # the word-vector path's epochs (``epochs`` or the adaptive number)
    epochs_run: int = 0  # rows of the history (early stopping may end a stage sooner)
    truncated_train_texts: int = 0  # training texts longer than the sequence length
    cudnn: str | None = None  # which recurrent layers can take cuDNN's kernel (zoo.models.cudnn)
    vector_coverage: dict | None = None  # word vectors: the share of the vocabulary they cover, and their name
    transfer: dict | None = None  # init model:RUN_DIR: the source, the layers copied, the vocabulary known to it
    language_model: dict | None = None  # ULMFiT: the language model's fine-tuning (epochs, perplexity, cache)
    language_model_config: dict | None = None  # ULMFiT: the language model's architecture
    hybrid: dict | None = None  # the n-gram path: its features, temperature and the blend weight chosen
    calibration: dict | None = None  # how the final probabilities are calibrated (multi-label: per label), where
    thresholds: dict | None = None  # multi-label: how each label's threshold was chosen
    precision: str | None = None  # the Keras dtype policy the model trained under
    replicas: int = 1  # the distribution strategy's replicas in sync
    global_batch_size: int | None = None  # the batch size times the replicas
    auto: dict | None = None  # init auto: what it compared, with what scores, and why it chose
    other: dict = dataclasses.field(default_factory=dict)  # keys a newer zoo wrote: kept, saved again

    def to_dict(self):
        """The record as ``classifier.json`` keeps it: the fields that are set (None ones left out)."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "other"}
        return {**{k: v for k, v in fields.items() if v is not None}, **self.other}

    @classmethod
    def from_dict(cls, saved):
        """The record of a saved classifier (0.3's dict has the same keys, without ``procedure``)."""
        names = {f.name for f in dataclasses.fields(cls)} - {"other"}
        return cls(**{k: v for k, v in saved.items() if k in names},
                   other={k: v for k, v in saved.items() if k not in names})
