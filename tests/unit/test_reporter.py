"""The Ultralytics reporter against a SimpleNamespace trainer: what it sends, throttling, stop, never raising."""

from __future__ import annotations

import re
from dataclasses import asdict
from pathlib import Path
from types import SimpleNamespace

from api.training.child.channel import LineStream, clean_line, guess_level
from api.training.child.contract import Log, Message
from api.training.child.reporter import Reporter


class FakeChannel:
    def __init__(self) -> None:
        self.sent: list[dict] = []

    def send(self, message: Message) -> None:
        """Kept as {"type": snake_case class name, **fields but ts}: the assertions read like the contract."""
        fields = {key: value for key, value in asdict(message).items() if key != "ts"}
        self.sent.append({"type": re.sub(r"(?<!^)(?=[A-Z])", "_", type(message).__name__).lower(), **fields})

    def log(self, message: str, level: str = "INFO") -> None:
        self.send(Log(level=level, message=message))

    def of(self, type_: str) -> list[dict]:
        return [m for m in self.sent if m["type"] == type_]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def make_trainer(tmp_path: Path) -> SimpleNamespace:
    return SimpleNamespace(
        epoch=0, epochs=3, start_epoch=0, train_loader=[0] * 10, device="cpu", save_dir=tmp_path, stop=False,
        tloss={"box": 1.5}, metrics={"metrics/mAP50(B)": 0.25, "val/box_loss": 1.0}, fitness=0.3,
        lr={"lr/pg0": 0.01}, last=tmp_path / "last.pt",
        label_loss_items=lambda loss, prefix="train": {f"{prefix}/box_loss": loss["box"]},
    )


def test_batches_are_throttled_and_the_last_batch_always_reported(tmp_path: Path) -> None:
    channel, clock = FakeChannel(), Clock()
    reporter = Reporter(channel, lambda: False, resume_checkpoint=tmp_path / "resume.pt", clock=clock)
    trainer = make_trainer(tmp_path)
    reporter.on_train_epoch_start(trainer)
    for _ in range(10):
        clock.now += 0.3
        reporter.on_train_batch_end(trainer)
    batches = [m["batch"] for m in channel.of("batch")]
    assert batches[0] == 1 and batches[-1] == 10 and len(batches) < 10
    assert channel.of("batch")[0]["losses"] == {"train/box_loss": 1.5}


def test_epoch_metrics_then_final_validation_are_told_apart(tmp_path: Path) -> None:
    channel, clock = FakeChannel(), Clock()
    reporter = Reporter(channel, lambda: False, resume_checkpoint=tmp_path / "resume.pt", clock=clock)
    trainer = make_trainer(tmp_path)
    reporter.on_train_epoch_start(trainer)
    clock.now = 2.5
    reporter.on_train_epoch_end(trainer)
    reporter.on_fit_epoch_end(trainer)
    trainer.epoch += 1  # what Ultralytics' final_eval does before calling on_fit_epoch_end once more
    trainer.metrics = {"metrics/mAP50(B)": 0.5}
    reporter.on_fit_epoch_end(trainer)
    (epoch,) = channel.of("epoch")
    assert epoch["epoch"] == 1 and epoch["epochs"] == 3 and epoch["fitness"] == 0.3
    assert epoch["metrics"] == {"train/box_loss": 1.5, "metrics/mAP50(B)": 0.25, "val/box_loss": 1.0,
                                "lr/pg0": 0.01, "epoch_time": 2.5}
    assert channel.of("final_metrics") == [{"type": "final_metrics", "metrics": {"metrics/mAP50(B)": 0.5}}]


def test_stop_request_sets_trainer_stop(tmp_path: Path) -> None:
    flag = {"stop": False}
    channel = FakeChannel()
    reporter = Reporter(channel, lambda: flag["stop"], resume_checkpoint=tmp_path / "resume.pt")
    trainer = make_trainer(tmp_path)
    reporter.on_train_batch_end(trainer)
    assert trainer.stop is False
    flag["stop"] = True
    reporter.on_train_batch_end(trainer)
    assert trainer.stop is True and reporter.stop_requested


def test_model_save_keeps_a_resumable_copy(tmp_path: Path) -> None:
    channel = FakeChannel()
    reporter = Reporter(channel, lambda: False, resume_checkpoint=tmp_path / "resume.pt")
    trainer = make_trainer(tmp_path)
    trainer.last.write_bytes(b"weights-with-optimizer")
    reporter.on_model_save(trainer)
    assert (tmp_path / "resume.pt").read_bytes() == b"weights-with-optimizer"
    assert channel.of("checkpoint")[0]["epoch"] == 1


def test_a_broken_trainer_is_reported_not_raised(tmp_path: Path) -> None:
    channel = FakeChannel()
    reporter = Reporter(channel, lambda: False, resume_checkpoint=tmp_path / "resume.pt")
    reporter.on_fit_epoch_end(SimpleNamespace())  # no attributes at all
    reporter.on_train_batch_end(SimpleNamespace())
    assert len(channel.of("log")) == 2 and all(m["level"] == "WARNING" for m in channel.of("log"))


def test_line_stream_splits_lines_strips_colours_and_drops_progress_redraws() -> None:
    channel = FakeChannel()
    stream = LineStream(channel, "INFO")
    stream.write("\x1b[34mtrain:\x1b[0m hello\n  1/2 0G 1.0: 40% ━━━━╸─── 2/5\r  1/2 0G 1.0: 100% ━━━━━ 5/5\npart")
    stream.write("ial WARNING thing\n\n")
    stream.flush()
    assert [(m["level"], m["message"]) for m in channel.of("log")] == [
        ("INFO", "train: hello"), ("INFO", "  1/2 0G 1.0: 100% ━━━━━ 5/5"), ("WARNING", "partial WARNING thing"),
    ]
    assert clean_line("  3/5 0G: 0% ──────── 0/5") is None
    assert guess_level("Traceback (most recent call last):", "INFO") == "ERROR"
