"""The appliance's only onnxruntime user. All sessions share one process-wide thread pool.

Two sessions each spinning their own pool on a 2-core board halve throughput (measured here),
so the pool size is fixed once per process and every session opts out of per-session threads.
"""
from __future__ import annotations

import threading

import numpy as np
import onnxruntime as ort

from .errors import ModelUnavailable, ThreadPoolConflict

_LOCK = threading.Lock()
_pool_threads: int | None = None


def ensure_thread_pool(threads: int) -> None:
    """Create the global pool on first use; a later call must ask for the same size."""
    global _pool_threads
    with _LOCK:
        if _pool_threads is None:
            ort.set_global_thread_pool_sizes(threads, 1)
            _pool_threads = threads
        elif _pool_threads != threads:
            raise ThreadPoolConflict(f"inference pool already has {_pool_threads} threads, asked for {threads}")


def _session_options(shared_pool: bool, threads: int) -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.log_severity_level = 3  # keep model-loading chatter out of the appliance log
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if shared_pool:
        options.use_per_session_threads = False
    else:
        options.intra_op_num_threads = threads
    return options


def open_session(model: bytes, threads: int, shared_pool: bool = True) -> ModelSession:
    """Load an ONNX model on the CPU. `shared_pool=False` exists only for benchmarks."""
    if shared_pool:
        ensure_thread_pool(threads)
    try:
        session = ort.InferenceSession(model, _session_options(shared_pool, threads),
                                       providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own untyped errors for bad models
        raise ModelUnavailable(f"onnxruntime could not load the model: {type(exc).__name__}") from None
    return ModelSession(session)


class ModelSession:
    """A loaded model with one input; run() returns the outputs by name."""

    def __init__(self, session: ort.InferenceSession):
        self._session = session
        self.input_name = session.get_inputs()[0].name
        self.input_shape = tuple(session.get_inputs()[0].shape)
        self.output_names = [output.name for output in session.get_outputs()]

    def run(self, tensor: np.ndarray) -> dict[str, np.ndarray]:
        outputs = self._session.run(self.output_names, {self.input_name: tensor})
        return dict(zip(self.output_names, outputs))
