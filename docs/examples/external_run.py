"""Track your own PyTorch training in the server: a tiny ingest client and an LSTM trained on synthetic data.

    python docs/examples/external_run.py --url http://127.0.0.1:8000 --key tk_... --epochs 5

The run shows up in GET /sessions, the bot's progress messages and chart, like a YOLO run. The client is the
class `Run` below (httpx only); copy it into your own script."""

from __future__ import annotations

import argparse
import io
import math
import time
import uuid

import httpx


class Run:
    """A session of kind external; every report is retried with the same batch_id, so it is stored once."""

    def __init__(self, url: str, key: str, name: str, epochs: int, **config: object) -> None:
        self.http = httpx.Client(base_url=f"{url}/api/v1", headers={"X-API-Key": key}, timeout=30)
        self.id = self._post("/sessions", {"kind": "external", "name": name, "epochs": epochs, "config": config})["id"]

    def _post(self, path: str, body: dict | None = None, **kwargs: object) -> dict:
        for attempt in range(6):
            try:
                response = self.http.post(path, json=body, **kwargs)
                if response.status_code < 500:
                    response.raise_for_status()  # a 4xx is our mistake: retrying will not help
                    return response.json()
            except httpx.TransportError:
                pass
            time.sleep(min(2**attempt, 30))
        raise RuntimeError(f"the server did not take {path}")

    def metrics(self, points: list[dict]) -> dict:
        return self._post(f"/sessions/{self.id}/metrics", {"batch_id": uuid.uuid4().hex, "points": points})

    def log(self, *lines: str) -> dict:
        return self._post(f"/sessions/{self.id}/logs", {"batch_id": uuid.uuid4().hex, "lines": list(lines)})

    def progress(self, epoch: int, epochs: int, fitness: float | None = None) -> dict:
        return self._post(f"/sessions/{self.id}/progress", {"epoch": epoch, "epochs": epochs, "fitness": fitness})

    def artifact(self, name: str, data: bytes, role: str = "file") -> dict:
        return self._post(f"/sessions/{self.id}/artifacts", files={"file": (name, data)}, data={"role": role})

    def finish(self, status: str = "completed", error: str | None = None) -> dict:
        return self._post(f"/sessions/{self.id}/finish", {"status": status, "error": error})


def sine_windows(count: int, length: int, generator: object) -> tuple[object, object]:
    """Noisy sine waves: predict the next value from the previous `length`."""
    import torch

    phase = torch.rand(count, 1, generator=generator) * 2 * math.pi
    t = torch.arange(length + 1).float() * 0.3 + phase
    series = torch.sin(t) + 0.05 * torch.randn(count, length + 1, generator=generator)
    return series[:, :length].unsqueeze(-1), series[:, length:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--key", required=True)
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()

    import torch

    generator = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    x_train, y_train = sine_windows(512, 24, generator)
    x_val, y_val = sine_windows(128, 24, generator)
    lstm, head = torch.nn.LSTM(1, 16, batch_first=True), torch.nn.Linear(16, 1)
    optimizer = torch.optim.Adam([*lstm.parameters(), *head.parameters()], lr=0.01)

    def predict(x: torch.Tensor) -> torch.Tensor:
        return head(lstm(x)[0][:, -1])

    run = Run(args.url, args.key, "lstm-sine", args.epochs, hidden=16, lr=0.01)
    run.log(f"training an LSTM on {len(x_train)} sine windows")
    step = 0
    for epoch in range(1, args.epochs + 1):
        points, losses = [], []
        for batch in range(0, len(x_train), 64):
            loss = torch.nn.functional.mse_loss(predict(x_train[batch:batch + 64]), y_train[batch:batch + 64])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())  # batch/ keys: kept in the history, left out of the per-epoch chart
            points.append({"key": "batch/train/loss", "value": loss.item(), "step": step, "epoch": epoch})
            step += 1
        with torch.no_grad():
            val_loss = torch.nn.functional.mse_loss(predict(x_val), y_val).item()
        points += [{"key": "train/loss", "value": sum(losses) / len(losses), "epoch": epoch},
                   {"key": "val/loss", "value": val_loss, "epoch": epoch}]  # no step: the epoch is the step
        run.metrics(points)
        run.log(f"epoch {epoch}: val loss {val_loss:.4f}")
        if run.progress(epoch, args.epochs, fitness=-val_loss)["stop_requested"]:
            run.finish("stopped")
            return
    weights = io.BytesIO()
    torch.save({"lstm": lstm.state_dict(), "head": head.state_dict()}, weights)
    run.artifact("lstm.pt", weights.getvalue(), role="model")
    run.finish("completed")
    print(f"session {run.id} completed, val loss {val_loss:.4f}")


if __name__ == "__main__":
    main()
