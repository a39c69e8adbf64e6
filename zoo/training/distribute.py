"""Distributed training: strategies, batch and learning-rate scaling, precision.

The training run builds its model inside ``strategy.scope()`` and calls
``model.fit`` as usual; this module picks the strategy and the numbers that
depend on it:

>>> strategy = get_strategy("auto")             # doctest: +SKIP
>>> batch = global_batch_size(32, strategy)     # doctest: +SKIP
>>> lr = scaled_learning_rate(4e-3, strategy)   # doctest: +SKIP
>>> with strategy.scope():                      # doctest: +SKIP
...     model = zoo.get_model("bilstm", vocab_size, num_classes)
>>> train_ds = train_ds.with_options(distribute_dataset_options())  # doctest: +SKIP

Multi-worker training (``tf.distribute.MultiWorkerMirroredStrategy``) is set
up from the ``TF_CONFIG`` environment variable, one process per task, all
running the same program. Keras 3 does not support that strategy out of the
box (keras-team/keras#20585); :func:`patch_keras_multi_worker` holds the small
fix, and :func:`get_strategy` applies it. Things to keep in mind with several
workers:

* Create the strategy first, before any other TensorFlow work: collective ops
  must be configured at program start.
* Batch the dataset by the *global* batch size; ``tf.distribute`` splits each
  batch between the replicas. With :func:`distribute_dataset_options` every
  worker runs the whole input pipeline and keeps its share of each batch, so
  every worker must build the same pipeline with the same shuffle seed.
* Only the chief (:func:`is_chief`) should write shared outputs (reports,
  exports); other workers write to private paths such as
  :func:`backup_dir_for`.
"""

import functools
import inspect
import json
import os
import threading

import keras

from zoo.backend import require_tensorflow

require_tensorflow("zoo.training.distribute (tf.distribute)")

import tensorflow as tf  # noqa: E402

from zoo.config import LR_SCALES, PRECISIONS, STRATEGIES
from zoo.errors import ConfigError
from zoo.log import logger


# Task types of a TF_CONFIG cluster that run the training steps. An
# "evaluator" task watches checkpoints and "ps" belongs to parameter-server
# training; neither is a replica of MultiWorkerMirroredStrategy.
_TRAINING_TASKS = ("chief", "worker")

# How long the TPU probe of get_strategy("auto") may take. The resolver fails
# at once off Google Cloud, but on a GCE machine with TPU_NAME set it talks to
# the metadata server, which must not stall a run that has no TPU.
_TPU_PROBE_SECONDS = 5.0


# === TF_CONFIG ===


def _tf_config():
    """The parsed TF_CONFIG environment variable; {} when unset or empty."""
    raw = os.environ.get("TF_CONFIG", "").strip()
    if not raw:
        return {}
    try:
        config = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ConfigError(None, f"TF_CONFIG is not valid JSON ({error}): {raw!r}") from None
    if not isinstance(config, dict):
        raise ConfigError(None, f"TF_CONFIG must be a JSON object, got {raw!r}")
    return config


def _training_tasks(config):
    """Number of tasks in the TF_CONFIG cluster that train (chief and workers)."""
    cluster = config.get("cluster") or {}
    return sum(len(cluster.get(task_type) or ()) for task_type in _TRAINING_TASKS)


def _task(config):
    task = config.get("task") or {}
    return task.get("type"), int(task.get("index", 0))


def worker_index():
    """This task's rank among the tasks that train, from ``TF_CONFIG``.

    The chief is 0 and the workers follow in ``TF_CONFIG`` order (``worker``
    0 is rank 1 when the cluster has a chief, rank 0 otherwise). Without a
    cluster the one process is rank 0.

    Raises:
        ValueError: for a task that does not train (``evaluator``, ``ps``).

    Example:

    >>> worker_index()  # no TF_CONFIG
    0
    >>> os.environ["TF_CONFIG"] = json.dumps({  # doctest: +SKIP
    ...     "cluster": {"chief": ["host0:2222"], "worker": ["host1:2222", "host2:2222"]},
    ...     "task": {"type": "worker", "index": 1}})
    >>> worker_index(), is_chief()  # doctest: +SKIP
    (2, False)
    """
    config = _tf_config()
    task_type, index = _task(config)
    if not config.get("cluster") or task_type is None:
        return 0
    if task_type == "chief":
        return 0
    if task_type == "worker":
        return index + len(config["cluster"].get("chief") or ())
    raise ValueError(f"TF_CONFIG task type {task_type!r} does not train; only {_TRAINING_TASKS} have a rank")


def is_chief(strategy=None):
    """Whether this process should write shared outputs (reports, exports, logs).

    The chief is the ``chief`` task of the ``TF_CONFIG`` cluster, or worker 0
    when the cluster has no chief. Without a cluster (one process, any
    single-machine strategy) the process is the chief.

    Args:
        strategy: optional ``tf.distribute.Strategy``. When it carries a
            cluster resolver with a task (``MultiWorkerMirroredStrategy``
            built from a resolver rather than ``TF_CONFIG``), that task
            decides; otherwise ``TF_CONFIG`` does.

    Example:

    >>> is_chief()  # no TF_CONFIG
    True
    """
    resolver = getattr(strategy, "cluster_resolver", None) if strategy is not None else None
    if resolver is not None and getattr(resolver, "task_type", None) is not None:
        cluster = resolver.cluster_spec().as_dict()
        if not cluster:
            return True
        return _is_chief_task(resolver.task_type, int(resolver.task_id or 0), cluster)
    config = _tf_config()
    task_type, index = _task(config)
    if not config.get("cluster") or task_type is None:
        return True
    return _is_chief_task(task_type, index, config["cluster"])


def _is_chief_task(task_type, index, cluster):
    if task_type == "chief":
        return True
    return task_type == "worker" and index == 0 and not cluster.get("chief")


def backup_dir_for(backup_dir, strategy=None):
    """The ``keras.callbacks.BackupAndRestore`` directory for this task.

    Keras 3's ``BackupAndRestore`` is not multi-worker aware: every worker
    writes ``latest.weights.h5`` into ``backup_dir``, and at the end of
    training deletes the whole directory. So the chief keeps ``backup_dir``
    and every other worker gets a private *sibling* directory,
    ``<backup_dir>-worker-<rank>``: nested inside ``backup_dir`` it would be
    removed by the chief's clean-up while that worker may still be saving its
    last epoch. Each worker restores from its own copy; synchronous training
    keeps the copies equal.

    Args:
        backup_dir: the directory the chief uses (a local path or a
            ``gs://``-style URL).
        strategy: optional strategy, passed to :func:`is_chief`.

    Example:

    >>> backup_dir_for("/tmp/backup")  # no cluster: this process is the chief
    '/tmp/backup'
    """
    if not backup_dir:
        raise ValueError("`backup_dir` must be a non-empty path")
    if is_chief(strategy):
        return backup_dir
    return f"{str(backup_dir).rstrip('/')}-worker-{worker_index()}"


# === Strategies ===


def _detect_tpu(timeout=_TPU_PROBE_SECONDS):
    """A ``TPUClusterResolver`` when a TPU is reachable within ``timeout`` seconds, else None."""
    found = {}

    def probe():
        try:
            found["resolver"] = tf.distribute.cluster_resolver.TPUClusterResolver()
        except Exception:  # noqa: BLE001 - any failure means "no TPU here"
            pass

    # A daemon thread, so a probe stuck on the network never holds up the run
    # (or the exit of the process).
    thread = threading.Thread(target=probe, name="zoo-tpu-probe", daemon=True)
    thread.start()
    thread.join(timeout)
    return found.get("resolver")


def resolve_strategy_name(name="auto"):
    """The concrete strategy that :func:`get_strategy` would build for ``name``.

    ``auto`` picks, in order: ``tpu`` when a TPU answers quickly,
    ``multi_worker`` when ``TF_CONFIG`` names a cluster of more than one
    training task, ``mirrored`` when more than one GPU is visible, ``default``
    otherwise. Other names come back unchanged. Nothing is built, so this
    is safe to call before configuring devices.

    Raises:
        ValueError: ``name`` is not one of :data:`STRATEGIES`, or
            ``TF_CONFIG`` is not valid JSON.

    Example:

    >>> resolve_strategy_name("mirrored")
    'mirrored'
    """
    if name not in STRATEGIES:
        raise ConfigError("strategy", f"`strategy` must be one of {', '.join(map(repr, STRATEGIES))}; got {name!r}")
    if name != "auto":
        return name
    if _detect_tpu() is not None:
        return "tpu"
    if _training_tasks(_tf_config()) > 1:
        return "multi_worker"
    if len(tf.config.list_physical_devices("GPU")) > 1:
        return "mirrored"
    return "default"


def make_strategy(name):
    """:func:`get_strategy`, its refusals one ConfigError line naming ``strategy``."""
    try:
        return get_strategy(name)
    except ConfigError:
        raise
    except ValueError as error:  # e.g. a TF_CONFIG task that does not train
        raise ConfigError("strategy", f"`strategy` {name!r}: {error}") from None


def get_strategy(name="auto"):
    """Builds a ``tf.distribute.Strategy`` by name.

    Args:
        name: one of :data:`STRATEGIES`:

            - ``auto``: see :func:`resolve_strategy_name`.
            - ``default``: ``tf.distribute.get_strategy()`` (one device, or
              the strategy whose scope is open).
            - ``mirrored``: ``MirroredStrategy`` over all visible GPUs (the
              CPU when there is none).
            - ``multi_worker``: ``MultiWorkerMirroredStrategy`` from
              ``TF_CONFIG`` (one local worker when it is unset), with
              :func:`patch_keras_multi_worker` applied first.
            - ``tpu``: ``TPUStrategy`` on the TPU that
              ``TPUClusterResolver()`` finds.

    Returns:
        The strategy. One line on stderr says which and how many replicas.

    Raises:
        ValueError: unknown ``name`` (the message lists the allowed ones),
            or ``tpu`` without a reachable TPU.

    Example:

    >>> strategy = get_strategy("default")
    >>> strategy.num_replicas_in_sync
    1
    """
    resolved = resolve_strategy_name(name)
    if resolved == "default":
        strategy = tf.distribute.get_strategy()
    elif resolved == "mirrored":
        strategy = tf.distribute.MirroredStrategy()
    elif resolved == "multi_worker":
        patch_keras_multi_worker()
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    else:  # tpu
        resolver = _detect_tpu()
        if resolver is None:
            raise ConfigError("strategy", "`strategy` 'tpu': no TPU found (TPUClusterResolver() failed or timed out)")
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        strategy = tf.distribute.TPUStrategy(resolver)
    detail = ""
    workers = _training_tasks(_tf_config()) if resolved == "multi_worker" else 0
    if workers > 1:
        detail += f", {workers} workers, this is rank {worker_index()}"
    if name == "auto":
        detail += " (picked by 'auto')"
    logger.info(f"distribution: {resolved} ({type(strategy).__name__}), {strategy.num_replicas_in_sync} replica(s){detail}")
    return strategy


def global_batch_size(per_replica_batch, strategy):
    """The batch size to give the dataset: ``per_replica_batch`` times the replicas.

    ``tf.distribute`` splits every batch of the dataset between the replicas,
    so batching by this keeps each replica's batch at ``per_replica_batch``.

    Example:

    >>> global_batch_size(32, tf.distribute.get_strategy())
    32
    """
    if isinstance(per_replica_batch, bool) or not isinstance(per_replica_batch, int) or per_replica_batch < 1:
        raise ValueError(f"`per_replica_batch` must be an integer >= 1, got {per_replica_batch!r}")
    return per_replica_batch * strategy.num_replicas_in_sync


def scaled_learning_rate(lr, strategy, scale="linear"):
    """The learning rate for the global batch of ``strategy``.

    Args:
        lr: the learning rate tuned for one replica's batch.
        strategy: a ``tf.distribute.Strategy``.
        scale: ``"linear"`` multiplies by the number of replicas (the
            linear scaling rule of Goyal et al., 2017, for a global batch that
            grows with the replicas); ``"none"`` keeps ``lr``.

    Example:

    >>> scaled_learning_rate(0.01, tf.distribute.get_strategy())
    0.01
    """
    if scale not in LR_SCALES:
        raise ConfigError("lr_scaling", f"`lr_scaling` must be one of {', '.join(map(repr, LR_SCALES))}; got {scale!r}")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or lr <= 0:
        raise ValueError(f"`lr` must be a number > 0, got {lr!r}")
    if scale == "none":
        return float(lr)
    return float(lr) * strategy.num_replicas_in_sync


def distribute_dataset_options():
    """``tf.data.Options`` that shard a dataset between workers element by element.

    zoo datasets are built in memory (``from_tensor_slices``), so there are no
    files to share out: the default ``AUTO`` policy tries ``FILE``, fails and
    falls back with a warning. ``DATA`` says it directly: every worker runs
    the pipeline and keeps its share of each global batch, which needs the
    same pipeline and shuffle seed on every worker.

    Example:

    >>> ds = tf.data.Dataset.range(8).batch(4).with_options(distribute_dataset_options())
    >>> ds.options().experimental_distribute.auto_shard_policy.name
    'DATA'
    """
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return options


# === Precision ===


def _gpu_compute_capabilities():
    capabilities = []
    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu)
        if details.get("compute_capability"):
            capabilities.append(tuple(details["compute_capability"]))
    return capabilities


def resolve_precision(name=None):
    """Sets the Keras dtype policy and returns its name.

    Args:
        name: ``"float32"``, ``"mixed_float16"`` or ``"mixed_bfloat16"``; None
            picks ``mixed_float16`` when a GPU with compute capability 7.0 or
            more (tensor cores) is visible, ``float32`` otherwise (on CPU,
            ``mixed_bfloat16`` measured slower than float32). zoo heads stay
            float32 whatever the policy.

    Returns:
        The policy name, now set with ``keras.config.set_dtype_policy``.
        Models built afterwards use it.

    Example:

    >>> resolve_precision("float32")
    'float32'
    """
    if name is None:
        capabilities = _gpu_compute_capabilities()
        name = "mixed_float16" if capabilities and min(capabilities) >= (7, 0) else "float32"
    if name not in PRECISIONS:
        raise ConfigError("precision", f"`precision` must be one of {', '.join(map(repr, PRECISIONS))} or None; got {name!r}")
    keras.config.set_dtype_policy(name)
    return name


# === Keras 3 multi-worker shim ===
#
# keras-team/keras#20585: ``model.fit`` fails under MultiWorkerMirroredStrategy
# with more than one worker (since Keras 3.0 / TF 2.16, still in 3.15). One
# worker alone trains fine, which is why the tests need two processes. Two bugs in
# keras/src/backend/tensorflow/trainer.py, each fixed by wrapping one function:
#
# 1. ``TensorFlowTrainer._maybe_symbolic_build`` takes the first distributed
#    batch and calls ``strategy.reduce("MEAN", batch, axis=None)`` on it, only
#    to learn shapes for building the model. With several workers that is a
#    cross-worker collective on a nested structure, which TF rejects
#    ("ValueError: Attempt to convert a value (PerReplica:{...}) with an
#    unsupported type"); it would also need every worker's batch to have the
#    same shape. Fix: build from this worker's first local replica batch.
# 2. ``reduce_per_replica`` reduces the step outputs (scalar loss and metric
#    values) with ``strategy.reduce("MEAN", v, axis=0)`` in multi-worker mode;
#    ``axis=0`` on a rank-0 tensor fails while tracing the train step
#    ("ValueError: Invalid reduction dimension 0 for input with 0
#    dimensions"). Fix: scalars are averaged across replicas with
#    ``axis=None``, which is what the single-worker path computes.
#
# Both wrappers act only when Keras' own ``_collective_all_reduce_multi_worker``
# says the strategy is multi-worker, and each is installed only when the
# installed Keras still has the faulty code (a look at its source). To remove
# the shim once a Keras release fixes #20585: delete this section and the call
# in get_strategy, then check that tests/test_distribute.py's two-worker test
# still passes.

_ORIGINALS = {}  # (owner, attribute) -> the Keras function the shim replaced


def _keras_trainer_module():
    """Keras 3's TF trainer module, or None (another backend or Keras major version)."""
    if keras.backend.backend() != "tensorflow" or not keras.version().startswith("3."):
        return None
    try:
        from keras.src.backend.tensorflow import trainer
    except ImportError:
        return None
    return trainer


def _has_code(function, *markers):
    """Whether ``function``'s source contains every marker (the faulty code is still there)."""
    try:
        source = inspect.getsource(function)
    except (OSError, TypeError):
        return False
    return all(marker in source for marker in markers)


def _faulty_functions(trainer):
    """The (owner, attribute) pairs of Keras functions that still need the shim."""
    needed = []
    if not hasattr(trainer, "_collective_all_reduce_multi_worker"):
        return needed  # Keras changed shape: leave it alone.
    checks = (
        (trainer.TensorFlowTrainer, "_maybe_symbolic_build",
         ("for _, _, it in iterator", "distribute_strategy.reduce(")),
        (trainer, "reduce_per_replica", ('strategy.reduce("MEAN", v, axis=0)',)),
    )
    for owner, attribute, markers in checks:
        function = getattr(owner, attribute, None)
        # getsource follows functools.wraps to the original, so look for our
        # mark first.
        if function is not None and not getattr(function, "_zoo_patch", False) and _has_code(function, *markers):
            needed.append((owner, attribute))
    return needed


def _local_value(strategy, value):
    # This worker's first replica's value; plain tensors (and None) as they are.
    if isinstance(value, tf.distribute.DistributedValues):
        return strategy.experimental_local_results(value)[0]
    return value


def _wrap_maybe_symbolic_build(original, trainer):
    @functools.wraps(original)
    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        strategy = self._distribute_strategy
        if iterator is not None and strategy is not None and trainer._collective_all_reduce_multi_worker(strategy):
            # Same batch Keras would take (the first one of the epoch
            # iterator), but local: building needs shapes, not a collective.
            for _, _, it in iterator:
                data_batch = keras.tree.map_structure(lambda v: _local_value(strategy, v), next(it))
                break
            iterator = None
        return original(self, iterator=iterator, data_batch=data_batch)

    return _maybe_symbolic_build


def _wrap_reduce_per_replica(original, trainer):
    @functools.wraps(original)
    def reduce_per_replica(values, strategy, reduction):
        if reduction not in ("auto", "mean") or not trainer._collective_all_reduce_multi_worker(strategy):
            return original(values, strategy, reduction)

        def reduce(value):
            shape = getattr(_local_value(strategy, value), "shape", None)
            if shape is not None and shape.rank == 0:
                # Mean over all replicas of all workers, no batch axis to
                # reduce: the multi-worker twin of the single-worker path.
                return strategy.reduce("MEAN", value, axis=None)
            return original(value, strategy, reduction)

        return keras.tree.map_structure(reduce, values)

    return reduce_per_replica


_WRAPPERS = {"_maybe_symbolic_build": _wrap_maybe_symbolic_build, "reduce_per_replica": _wrap_reduce_per_replica}


def keras_needs_multi_worker_patch():
    """Whether the installed Keras still has the code that breaks multi-worker ``fit``.

    False once :func:`patch_keras_multi_worker` has run, on a Keras that no
    longer has the faulty code, or on a non-TensorFlow backend.
    """
    trainer = _keras_trainer_module()
    return bool(trainer and _faulty_functions(trainer))


def patch_keras_multi_worker():
    """Makes ``model.fit``/``evaluate`` work under ``MultiWorkerMirroredStrategy``.

    Wraps two functions of Keras' TensorFlow trainer (see the comment above
    this function in the source, and keras-team/keras#20585). Idempotent;
    does nothing on a Keras without the faulty code or on another backend.
    Behaviour changes only for multi-worker strategies. :func:`get_strategy`
    calls it for ``multi_worker``; call it yourself when you build the strategy.

    Example:

    >>> patch_keras_multi_worker()
    >>> keras_needs_multi_worker_patch()
    False
    """
    trainer = _keras_trainer_module()
    if trainer is None:
        return
    for owner, attribute in _faulty_functions(trainer):
        original = getattr(owner, attribute)
        patched = _WRAPPERS[attribute](original, trainer)
        patched._zoo_patch = True
        _ORIGINALS[(owner, attribute)] = original
        setattr(owner, attribute, patched)


def _unpatch_keras_multi_worker():
    """Restores the Keras functions :func:`patch_keras_multi_worker` replaced (for tests)."""
    while _ORIGINALS:
        (owner, attribute), original = _ORIGINALS.popitem()
        setattr(owner, attribute, original)
