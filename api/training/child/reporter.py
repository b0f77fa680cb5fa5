"""Ultralytics callbacks -> small events on the channel. Methods take only `trainer` and never raise."""

from __future__ import annotations

import functools
import logging
import math
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from api.training.child.contract import Batch, Checkpoint, Epoch, FinalMetrics, Started

logger = logging.getLogger(__name__)


def _numbers(values: dict[str, Any]) -> dict[str, float]:
    out = {}
    for key, value in values.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(number):
            out[str(key)] = round(number, 6)
    return out


def _never_raise(method: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(method)
    def wrapper(self: Reporter, trainer: Any) -> None:
        try:
            method(self, trainer)
        except Exception as exc:  # a reporting bug must not kill a training run
            self.channel.log(f"reporter {method.__name__} failed: {exc!r}", "WARNING")

    return wrapper


class Reporter:
    """Per-batch losses (throttled), per-epoch metrics, checkpoints, and the cooperative stop."""

    def __init__(
        self,
        channel: Any,
        should_stop: Callable[[], bool],
        *,
        resume_checkpoint: Path,
        batch_interval_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.channel = channel
        self.should_stop = should_stop
        self.resume_checkpoint = resume_checkpoint
        self.batch_interval_s = batch_interval_s
        self.clock = clock
        self._batch = 0
        self._last_batch_report = -math.inf
        self._epoch_open = False
        self._epoch_started = 0.0
        self.stop_requested = False

    def callbacks(self) -> dict[str, Callable[[Any], None]]:
        return {
            "on_pretrain_routine_end": self.on_pretrain_routine_end,
            "on_train_epoch_start": self.on_train_epoch_start,
            "on_train_batch_end": self.on_train_batch_end,
            "on_train_epoch_end": self.on_train_epoch_end,
            "on_fit_epoch_end": self.on_fit_epoch_end,
            "on_model_save": self.on_model_save,
        }

    @_never_raise
    def on_pretrain_routine_end(self, trainer: Any) -> None:
        self.channel.send(Started(
            epochs=int(trainer.epochs), start_epoch=int(getattr(trainer, "start_epoch", 0)),
            batches=len(trainer.train_loader), device=str(trainer.device), save_dir=str(trainer.save_dir),
        ))

    @_never_raise
    def on_train_epoch_start(self, trainer: Any) -> None:
        self._batch = 0
        self._epoch_open = True
        self._epoch_started = self.clock()

    @_never_raise
    def on_train_batch_end(self, trainer: Any) -> None:
        self._batch += 1
        now = self.clock()
        batches = len(trainer.train_loader)
        if now - self._last_batch_report >= self.batch_interval_s or self._batch == batches:
            self._last_batch_report = now
            losses = trainer.label_loss_items(trainer.tloss, prefix="train") if trainer.tloss is not None else {}
            self.channel.send(Batch(
                epoch=int(trainer.epoch) + 1, batch=self._batch, batches=batches, losses=_numbers(losses)
            ))
        self._check_stop(trainer)

    @_never_raise
    def on_train_epoch_end(self, trainer: Any) -> None:
        self._epoch_open = True

    @_never_raise
    def on_fit_epoch_end(self, trainer: Any) -> None:
        metrics = dict(trainer.metrics or {})
        if not self._epoch_open:
            # Ultralytics fires this once more after the last epoch, for the final validation of best.pt.
            self.channel.send(FinalMetrics(metrics=_numbers(metrics)))
            return
        self._epoch_open = False
        losses = trainer.label_loss_items(trainer.tloss, prefix="train") if trainer.tloss is not None else {}
        values = {**_numbers(losses), **_numbers(metrics), **_numbers(getattr(trainer, "lr", {}) or {})}
        values["epoch_time"] = round(self.clock() - self._epoch_started, 3)
        self.channel.send(Epoch(epoch=int(trainer.epoch) + 1, epochs=int(trainer.epochs), metrics=values,
                                fitness=_numbers({"fitness": trainer.fitness}).get("fitness")))
        self._check_stop(trainer)

    @_never_raise
    def on_model_save(self, trainer: Any) -> None:
        """Keep a resumable copy: Ultralytics strips the optimizer from last.pt when training ends."""
        last = Path(trainer.last)
        if last.is_file():
            partial = self.resume_checkpoint.with_suffix(".partial")
            shutil.copyfile(last, partial)
            partial.replace(self.resume_checkpoint)
            self.channel.send(Checkpoint(path=str(self.resume_checkpoint), epoch=int(trainer.epoch) + 1))

    def _check_stop(self, trainer: Any) -> None:
        if not self.stop_requested and self.should_stop():
            self.stop_requested = True
            self.channel.log("stop requested: finishing this step and saving a checkpoint", "WARNING")
        if self.stop_requested:
            trainer.stop = True
