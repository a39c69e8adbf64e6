"""Which Keras backend zoo runs on, and the features that need TensorFlow's.

zoo's models, layers, language model and freezing/transfer helpers use
``keras.ops`` only: they build, train, save and load on the TensorFlow, JAX
and PyTorch backends, and importing them does not import TensorFlow. The
text pipeline (``TextVectorization``, ``tf.data``), the n-gram path, the
estimator and its recipes, ``tf.distribute`` and the SavedModel export are
TensorFlow programs; their modules call :func:`require_tensorflow` before
importing TensorFlow, so another backend gets one clear line instead of an
error from deep inside Keras.

Example:

>>> backend() in ("tensorflow", "jax", "torch", "numpy", "openvino")
True
"""

import keras

from zoo.errors import BackendError


def backend():
    """The Keras backend of this process (``KERAS_BACKEND``, fixed when Keras is first imported)."""
    return keras.backend.backend()


def require_tensorflow(feature):
    """Raises :class:`zoo.errors.BackendError` unless Keras runs on TensorFlow.

    Args:
        feature: what needs it, for the message (``"zoo.data.text (TextVectorization, tf.data)"``).
    """
    if backend() != "tensorflow":
        raise BackendError(
            f"{feature} needs Keras' TensorFlow backend, and this process runs {backend()!r}: set "
            f"KERAS_BACKEND=tensorflow (zoo's models, layers and language model run on any backend)")


def gpu_visible(name=None):
    """Whether Keras' backend (or the backend ``name``) sees a GPU that its cuDNN path can use."""
    name = name or backend()
    if name == "tensorflow":
        import tensorflow as tf  # only where Keras runs on it, so TensorFlow is imported already

        return bool(tf.config.list_logical_devices("GPU"))
    if name == "torch":
        import torch

        return torch.cuda.is_available() and torch.backends.cudnn.is_available()
    if name == "jax":
        import jax

        return jax.default_backend() == "gpu"
    return False
