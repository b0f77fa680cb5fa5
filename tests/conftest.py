from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from api.core.settings import Settings
from api.main import create_app
from tests.fakes.telegram import FakeTelegram
from tests.helpers import ADMIN_KEY, LiveServer, make_settings

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """Fast in-process client (ASGI transport) with the admin key. The transport wraps the app itself, not
    LifespanManager's wrapper: that one hands every request the same scope["state"] dict, where the key a request
    authenticated with is cached, so every later request would act with the first request's key."""
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=60):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test/api/v1", headers={"X-API-Key": ADMIN_KEY}
        ) as http:
            yield http


@pytest.fixture
def live_server(settings: Settings) -> Iterator[LiveServer]:
    with LiveServer(settings) as server:
        yield server


def run_apart(make: Any) -> Any:
    """asyncio.run on a thread of its own: a session fixture's first user may be an async test, whose event loop
    is already running in this thread (asyncio.run would refuse)."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as thread:
        return thread.submit(lambda: asyncio.run(make())).result()


def made_once(tmp_path_factory: pytest.TempPathFactory, name: str, make: Any) -> Path:
    """A file a session fixture makes, made once per test run: xdist workers are separate processes, so the first
    one to ask makes it (under a file lock) and the others wait and take the same file, where it was made (tests
    look beside it, e.g. at the run's own best.pt). Outside xdist: make()."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if not run:
        return Path(make())
    from filelock import FileLock

    shared = tmp_path_factory.getbasetemp().parent / f"made-once-{run}"  # the workers' common parent
    shared.mkdir(exist_ok=True)
    pointer = shared / f"{name}.path"
    with FileLock(str(pointer) + ".lock"):
        if not pointer.is_file():
            partial = pointer.with_suffix(".partial")
            partial.write_text(str(Path(make()).resolve()))
            partial.replace(pointer)  # whole or absent, whatever happens to this worker
    return Path(pointer.read_text())


@pytest.fixture(scope="session")
def trained_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real Ultralytics checkpoint, trained once per test run (20 epochs, 128 px, batch 4) in a child process."""
    from tests.helpers import LiveServer
    from tests.training_helpers import create_session, wait_status

    reuse = os.environ.get("TEST_TRAINED_WEIGHTS")  # a local speed-up: a checkpoint this fixture made before
    if reuse and Path(reuse).is_file():
        return Path(reuse)
    data_dir = tmp_path_factory.mktemp("weights") / "data"  # 48 images at 128 px: mAP clearly above 0

    async def train() -> Path:
        with LiveServer(make_settings(data_dir, shapes_train_images=48)) as server:
            async with server.client() as http:
                # batch 4: past Ultralytics' 100 warm-up iterations, so the model learns (mAP clearly above 0)
                session = await create_session(http, epochs=20, imgsz=128, batch=4)
                done = await wait_status(http, session["id"], "completed", "failed", timeout=300)
                assert done["status"] == "completed", done["error_tail"]
                return server.settings.data_dir / "models" / f"{done['result_model_id']}.pt"

    return made_once(tmp_path_factory, "trained.pt", lambda: run_apart(train))


@pytest.fixture(scope="session")
def tracking_weights(trained_weights: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shapes model fine-tuned, through the API, on frames drawn like the test videos, so tracking tests see
    confident detections on every frame (the 20-epoch shapes model alone finds circles at conf ~0.3 only). Even
    so its squares often score 0.3-0.5, so the tests track at conf 0.3."""
    from tests.archives import zip_folder
    from tests.helpers import LiveServer
    from tests.stream_helpers import scenes_folder
    from tests.training_helpers import create_session, wait_status

    reuse = os.environ.get("TEST_TRACKING_WEIGHTS")  # a local speed-up, as TEST_TRAINED_WEIGHTS
    if reuse and Path(reuse).is_file():
        return Path(reuse)
    root = tmp_path_factory.mktemp("tracking")
    archive = zip_folder(scenes_folder(root / "scenes"))

    async def train() -> Path:
        with LiveServer(make_settings(root / "data")) as server:
            async with server.client() as http:
                base = await http.post("/models", files={"file": ("shapes.pt", trained_weights.read_bytes())})
                assert base.status_code == 201, base.text
                dataset = await http.post("/datasets", files={"file": ("scenes.zip", archive)})
                assert dataset.status_code == 201, dataset.text
                session = await create_session(http, model=base.json()["id"], dataset=dataset.json()["id"], epochs=20,
                                               imgsz=128, batch=4)
                done = await wait_status(http, session["id"], "completed", "failed", timeout=300)
                assert done["status"] == "completed", done["error_tail"]
                return server.settings.data_dir / "models" / f"{done['result_model_id']}.pt"

    return made_once(tmp_path_factory, "tracking.pt", lambda: run_apart(train))


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    """A fake Telegram Bot API server on 127.0.0.1."""
    fake = await FakeTelegram().start()
    try:
        yield fake
    finally:
        await fake.close()
