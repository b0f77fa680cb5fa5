"""Entry of a stream's worker process (spawned): set up offline Ultralytics, run the pipeline until told to stop.

The server sends new WorkerSpecs (live settings) or None (stop) on `inbox`; the worker reports on `outbox`. It
exits on its own when the server process is gone, so no orphan keeps a camera open."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

from api.streams.worker.contract import StatusChanged, WorkerSpec

logger = logging.getLogger(__name__)


def _exit_with_parent(parent_pid: int, interval_s: float = 0.5) -> None:
    while True:
        time.sleep(interval_s)
        if os.getppid() != parent_pid:
            os._exit(0)


def main(spec: WorkerSpec, inbox: Any, outbox_connection: Any, parent_pid: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C on the server: the server stops us, in order
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True, name="parent-watch").start()
    logging.basicConfig(level=logging.WARNING, format="stream %(process)d %(levelname)s %(name)s: %(message)s")
    from api.core.offline import apply_offline_environment

    apply_offline_environment(Path(spec.config_dir))
    from api.streams.worker.outbox import Outbox
    from api.streams.worker.pipeline import Pipeline
    from api.streams.worker.tracker import ModelNotUsable

    outbox = Outbox(outbox_connection)
    outbox.send(StatusChanged("starting"))
    try:
        pipeline = Pipeline(spec, outbox)
    except ModelNotUsable as exc:
        outbox.send(StatusChanged("failed", str(exc)))
        outbox.close()
        raise SystemExit(3) from None
    try:
        while True:
            if inbox.poll():
                message = inbox.recv()
                if message is None:
                    break
                pipeline.configure(message)
            pipeline.step()
    except (EOFError, OSError):  # the server closed our inbox: it is gone or stopping us
        pass
    finally:
        pipeline.close()
        outbox.close()
