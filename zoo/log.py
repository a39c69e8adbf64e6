"""zoo's one logger, and how long work shows its progress.

Every message of the library goes through ``logging.getLogger("zoo")``. It
prints ``[zoo] message`` lines (``[zoo] warning: message`` for a warning) to
stderr at level INFO out of the box, as TensorFlow's and Hugging Face's loggers
do, because long runs should say what they are doing; quiet it with the
standard API::

    import logging
    logging.getLogger("zoo").setLevel(logging.WARNING)

Progress: attached to a terminal, Keras' live progress bar (``verbose=1``)
for ``fit`` and the same bar for zoo's own loops; piped to a file, one line
per epoch (``verbose=2``) and no bar.

Example:

>>> fit_verbosity() in (1, 2)
True
"""

import logging
import os
import re
import sys
import tempfile

logger = logging.getLogger("zoo")


class _Formatter(logging.Formatter):
    """``[zoo] message``; a warning or an error says which (``[zoo] warning: ...``), so a line about odd input
    stands out among the progress lines.

    >>> [_Formatter().format(logging.makeLogRecord({"msg": "m", "levelno": level})) for level in (20, 30, 40)]
    ['[zoo] m', '[zoo] warning: m', '[zoo] error: m']
    """

    def formatMessage(self, record):
        kind = "error: " if record.levelno >= logging.ERROR else "warning: " if record.levelno >= logging.WARNING \
            else ""
        return f"[zoo] {kind}{record.message}"


class _StderrHandler(logging.StreamHandler):
    """Writes to the current ``sys.stderr`` (which tests and notebooks may swap), not the one at import."""

    def __init__(self):
        super().__init__()
        self.setFormatter(_Formatter())

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):  # logging.StreamHandler.__init__ assigns it
        pass


if not logger.handlers:
    logger.addHandler(_StderrHandler())
    logger.setLevel(logging.INFO)
    logger.propagate = False


def interactive():
    """Whether Keras' progress output (stdout) goes to a terminal."""
    return bool(getattr(sys.stdout, "isatty", lambda: False)())


def fit_verbosity():
    """``verbose`` for ``model.fit``: 1 (live bar) on a terminal, 2 (a line per epoch) when piped."""
    return 1 if interactive() else 2


def progress_bar(total, unit="step"):
    """A ``keras.utils.Progbar`` on a terminal, else None (piped output gets no bar)."""
    if not interactive() or not total:
        return None
    import keras

    return keras.utils.Progbar(total, unit_name=unit)


# === TensorFlow's start-up lines ===
#
# Why: TensorFlow's C++ logging (absl) writes what it logs before it is initialised straight to stderr, whatever
# TF_CPP_MIN_LOG_LEVEL says ("WARNING: All log messages before absl::InitializeLog() is called are written to
# STDERR"): on a CPU machine every command opens with oneDNN and CPU-feature notes and, where the CUDA build of
# TensorFlow finds no NVIDIA driver, "failed call to cuInit: ... UNKNOWN ERROR (303)", which reads like a failure.
# start_tensorflow() captures stderr while TensorFlow loads and finds its devices, then passes on every line but
# those TF_CPP_MIN_LOG_LEVEL asks to hide and, only where no NVIDIA driver is installed, the CUDA probe's errors.

_ABSL_LINE = re.compile(r"^([IWEF])\d{4} ")
_CUDA_PROBE = ("cuInit", "cuda_platform.cc", "cudart_stub.cc", "Could not find cuda drivers")
_ONEDNN_FALLBACK = "only on platforms with AVX-512. Falling back to the default Eigen-based implementation"
_PREAMBLE = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"


def tensorflow_startup_lines_to_keep(text, min_level=2, gpu_driver=False):
    """The lines of TensorFlow's start-up output worth showing (see the comment above).

    Example:

    >>> text = "\\n".join([_PREAMBLE, "I0000 00:00 port.cc:153] oneDNN custom operations are on.",
    ...                     "E0000 00:00 cuda_platform.cc:52] failed call to cuInit: UNKNOWN ERROR (303)",
    ...                     "E0000 00:00 util.cc:131] oneDNN supports DT_BOOL " + _ONEDNN_FALLBACK + " if present.",
    ...                     "E0000 00:00 something.cc:1] a real error"])
    >>> tensorflow_startup_lines_to_keep(text)
    ['E0000 00:00 something.cc:1] a real error']
    >>> len(tensorflow_startup_lines_to_keep(text, min_level=0, gpu_driver=True))
    5
    """
    kept, hidden = [], False
    for line in text.splitlines():
        match = _ABSL_LINE.match(line)
        if match:
            severity = "IWEF".index(match.group(1))
            hidden = severity < min_level or (severity == 2 and (
                (not gpu_driver and any(p in line for p in _CUDA_PROBE))
                or (min_level > 0 and _ONEDNN_FALLBACK in line)))
        elif line.startswith("To enable the following instructions"):
            pass  # the second line of the CPU-feature note: hidden with it
        else:
            hidden = line.strip() == _PREAMBLE and min_level > 0
        if not hidden and line.strip():
            kept.append(line)
    return kept


def start_tensorflow():
    """Imports TensorFlow and finds its devices, with only the start-up lines worth showing on stderr.

    Does nothing when TensorFlow is already imported. Called by the ``zoo``
    commands before their first TensorFlow work.
    """
    if "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    def start():
        import tensorflow as tf

        tf.config.list_physical_devices()

    _filtered_stderr(start)
    import tensorflow as tf

    tf.get_logger().addFilter(_keras_retracing_notice)
    if "TF_CONFIG" not in os.environ:  # (a multi-worker run meets it once its strategy is made: see below)
        meet_onednn_note()


def meet_onednn_note():
    """Meets, with stderr filtered, the note oneDNN logs once per process at ERROR level the first time it meets a
    dtype this CPU lacks (without AVX-512: DT_BOOL, when Keras' LSTM transposes its mask to time-major): "oneDNN
    supports DT_BOOL only on platforms with AVX-512. Falling back to the default Eigen-based implementation", a note
    about speed that read as an error in every command's output (shown at TF_CPP_MIN_LOG_LEVEL 0).

    It runs an eager op, which starts TensorFlow's context: a multi-worker strategy must be made before it
    ("Collective ops must be configured at program startup"), so ``zoo train`` calls it after its strategy."""
    global _onednn_met
    if _onednn_met:
        return
    _onednn_met = True
    import tensorflow as tf

    _filtered_stderr(lambda: tf.transpose(tf.constant([[True]])))


_onednn_met = False


def _filtered_stderr(work):
    """Runs ``work()`` with file descriptor 2 captured (TensorFlow's C++ logging writes there, not to
    ``sys.stderr``), then writes the lines worth showing (:func:`tensorflow_startup_lines_to_keep`) to stderr."""
    try:
        min_level = int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0"))
    except ValueError:
        min_level = 0
    gpu_driver = os.path.exists("/proc/driver/nvidia") or sys.platform != "linux"
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            work()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            for line in tensorflow_startup_lines_to_keep(capture.read().decode("utf-8", "replace"), min_level,
                                                         gpu_driver):
                print(line, file=sys.stderr)


def _keras_retracing_notice(record):
    """False for TensorFlow's "N out of the last N calls to <function TensorFlowTrainer.make_predict_function...>
    triggered tf.function retracing": each Keras model traces its own train and predict functions once, and a
    command that builds several (``zoo tune``'s trials, init auto's candidates) reads to TensorFlow as one function
    retraced. A retracing of any other function is still shown.

    >>> keras_notice = "3 out of the last 3 calls to <function TensorFlowTrainer.make_predict_function> triggered "
    >>> ours = "3 out of the last 3 calls to <function serve> triggered "
    >>> [_keras_retracing_notice(logging.makeLogRecord({"msg": m + "tf.function retracing"})) for m in (keras_notice, ours)]
    [False, True]
    """
    message = record.getMessage()
    return not ("triggered tf.function retracing" in message and "TensorFlowTrainer.make_" in message)
