"""Loaded models for inference: an LRU by (model id, runtime); a deleted or re-exported model is evicted."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


def load_and_warm(path: Path, task: str, threads: int | None = None) -> Any:
    """Load weights and run one tiny prediction: the first call pays setup costs, not the first user."""
    import numpy as np
    import torch
    from ultralytics import YOLO

    model = YOLO(str(path), task=task)
    model.predict(np.zeros((64, 64, 3), dtype=np.uint8), imgsz=64, verbose=False)
    if path.suffix == ".onnx":  # serve at the export's size, as torch serves at the training size
        exported = getattr(model.predictor.model, "imgsz", None)
        if exported:
            model.overrides["imgsz"] = max(exported) if isinstance(exported, (list, tuple)) else int(exported)
        if threads:
            _onnx_cpu_threads(model, path, threads)
    side = model.overrides.get("imgsz")
    if isinstance(side, int) and side != 64:  # the first call at the serving size pays its own set-up (ONNX Runtime)
        model.predict(np.zeros((side, side, 3), dtype=np.uint8), verbose=False)
    if threads:  # after the first predict: its select_device() resets torch to cpu_count - 1 threads (1 of 2 cores)
        torch.set_num_threads(threads)
    return model


def _onnx_cpu_threads(model: Any, path: Path, threads: int) -> None:
    """ONNX Runtime's default thread count left one of two vCPUs idle here (98 ms vs 65 ms a 640 px image with
    both); Ultralytics takes no session options, so its CPU session is made again with ours."""
    import onnxruntime

    backend = getattr(model.predictor.model, "backend", None)
    session = getattr(backend, "session", None)
    if session is None or session.get_providers()[0] != "CPUExecutionProvider":
        return
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    backend.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class ModelCache:
    def __init__(self, capacity: int, executor: ThreadPoolExecutor,
                 loader: Callable[[Path, str], Any] = load_and_warm) -> None:
        self._capacity = capacity
        self._executor = executor
        self._loader = loader
        self._models: OrderedDict[Any, Any] = OrderedDict()  # (model id, runtime) -> loaded model
        self._loading: dict[Hashable, asyncio.Future[Any]] = {}
        self._lock = threading.Lock()

    async def get(self, model_id: Hashable, path: Path, task: str) -> Any:
        with self._lock:
            if model_id in self._models:
                self._models.move_to_end(model_id)
                return self._models[model_id]
        pending = self._loading.get(model_id)
        if pending is None:  # one load per model even when many requests ask at once
            loop = asyncio.get_running_loop()
            pending = asyncio.ensure_future(loop.run_in_executor(self._executor, self._loader, path, task))
            self._loading[model_id] = pending
            try:
                model = await pending
            finally:
                self._loading.pop(model_id, None)
            self._put(model_id, model)
            return model
        return await asyncio.shield(pending)

    def _put(self, model_id: Hashable, model: Any) -> None:
        with self._lock:
            self._models[model_id] = model
            self._models.move_to_end(model_id)
            while len(self._models) > self._capacity:
                evicted, _ = self._models.popitem(last=False)
                logger.info("model %d evicted from the inference cache", evicted)

    def evict(self, model_id: int) -> None:
        """Every runtime of the model: keys are (model id, runtime)."""
        with self._lock:
            for key in [key for key in self._models if key[0] == model_id]:
                self._models.pop(key, None)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._models
