"""Random sequences of create / schedule / stop / resume / finish / crash / failed start / restart / delete
against the real store, scheduler and manager (only the child is faked, at the Executor boundary).

A temporary trigger records every status change SQLite actually makes; after each step, each recorded change
must be a row of states.TRANSITIONS. Also: a stop of a queued or running session is never refused."""

from __future__ import annotations

import asyncio
import itertools
import tempfile
from pathlib import Path
from types import SimpleNamespace

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from api.auth.schemas import ApiKeyRead, Role
from api.core.database import Database
from api.core.errors import AppError, InvalidTransition, NotFound
from api.core.events import EventBus
from api.training.child.contract import Message, Result, RunSpec
from api.training.log_store import LogStore
from api.training.manager import SessionManager
from api.training.metrics_store import MetricsStore
from api.training.records import SessionConfig
from api.training.scheduler import Scheduler
from api.training.schemas import SessionStatus
from api.training.states import TRANSITIONS
from api.training.store import SessionStore

_END = object()
ADMIN = ApiKeyRead(id=1, name="admin", role=Role.admin, prefix="tk_", source="config", created_at=0.0)
_S = SessionStatus


class FakeHandle:
    """A child that does what the test tells it: finish, crash; it honours a stop with a stopped result."""

    def __init__(self, spec: RunSpec, fail_start: bool) -> None:
        self.spec, self.fail_start = spec, fail_start
        self.queue: asyncio.Queue[Message | object] = asyncio.Queue()
        self.pid = spec.session_id
        self.ended = False
        self.lost = False  # a cluster node died under it

    def end(self, *messages: Message) -> None:
        for message in messages:
            self.queue.put_nowait(message)
        self.queue.put_nowait(_END)
        self.ended = True

    async def start(self) -> None:
        await asyncio.sleep(0)  # a real start takes a while: stops and cancels may land meanwhile
        if self.fail_start:
            raise OSError("cannot spawn")

    async def messages(self):  # noqa: ANN201
        while (message := await self.queue.get()) is not _END:
            yield message

    async def stop(self, grace_s: float) -> None:
        self.end(Result(best="", stopped=True, names={}, epochs_done=0))

    def kill(self) -> None:
        self.end()

    def describe_exit(self) -> str:
        return "the fake child was killed"


class FakeExecutor:
    places_devices = False

    def capacity(self) -> int | None:
        return None

    async def close(self) -> None:
        return None

    def __init__(self) -> None:
        self.handles: dict[int, FakeHandle] = {}  # the children the test may still end
        self.latest: dict[int, FakeHandle] = {}  # the last child of each session
        self.fail_next_start = False

    def launch(self, spec: RunSpec) -> FakeHandle:
        handle = FakeHandle(spec, self.fail_next_start)
        self.handles[spec.session_id] = self.latest[spec.session_id] = handle
        return handle

    def forget(self) -> None:
        self.handles.clear()
        self.latest.clear()


class FakeSpecs:
    def __init__(self, root: Path) -> None:
        self.root = root

    def run_dir(self, session_id: int) -> Path:
        return self.root / str(session_id)

    async def build(self, record, device: str) -> RunSpec:  # noqa: ANN001
        return RunSpec(session_id=record.id, kind="train", task="detect", model="yolov8n.yaml",
                       architecture="yolov8n", data="data.yaml", run_dir=str(self.run_dir(record.id)),
                       config_dir=str(self.root), device=device, epochs=1, imgsz=64, batch=2)


class FakeModels:
    """Registers a row like the real registry, without weights to copy."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def register_trained(self, *, session_id: int, **_: object) -> SimpleNamespace:
        model_id = await self.db.execute(
            "INSERT INTO models (name, task, architecture, classes, source, session_id, path, size_bytes, sha256, "
            "created_at) VALUES ('m', 'detect', 'yolov8n', '[]', 'training', ?, 'm.pt', 0, '', 0)", (session_id,))
        return SimpleNamespace(id=model_id)


CONFIG = SessionConfig(model="yolov8n.yaml", architecture="yolov8n", epochs=1, batch=2, imgsz=64, device="cpu")


@settings(max_examples=40, stateful_step_count=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
class SessionStates(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory()
        self.loop = asyncio.new_event_loop()
        self.ids: list[int] = []
        self.db: Database = self.run(Database.open(Path(self.tmp.name) / "test.db"))
        self.run(self.db.execute("CREATE TEMP TABLE changes (old TEXT, new TEXT)"))
        self.run(self.db.execute(
            "CREATE TEMP TRIGGER record_change AFTER UPDATE OF status ON sessions WHEN OLD.status != NEW.status "
            "BEGIN INSERT INTO changes VALUES (OLD.status, NEW.status); END"))
        self.store = SessionStore(self.db)
        self.executor = FakeExecutor()
        self.build_server(auto_resume=True)

    def build_server(self, *, auto_resume: bool) -> None:
        self.scheduler = Scheduler(
            store=self.store, metrics=MetricsStore(self.db), logs=LogStore(self.db), bus=EventBus(),
            models=FakeModels(self.db), evaluations=None, specs=FakeSpecs(Path(self.tmp.name)),  # type: ignore[arg-type]
            executor=self.executor, max_concurrent=2, stop_grace_s=0.0, auto_resume=auto_resume, gpu_count=lambda: 0)
        self.manager = SessionManager(store=self.store, scheduler=self.scheduler, datasets=None,  # type: ignore[arg-type]
                                      models=None, evaluations=None)  # type: ignore[arg-type]

    def run(self, coroutine):  # noqa: ANN001, ANN201
        return self.loop.run_until_complete(coroutine)

    def settle(self) -> None:
        """Wait (bounded) until every child that ended has been settled: its row left `running`."""

        async def quiet() -> None:
            for _ in range(1000):
                await asyncio.sleep(0.001)
                ended = [sid for sid, handle in self.executor.latest.items() if handle.ended]
                if all([await self._status(sid) != _S.running for sid in ended]):
                    return

        self.run(quiet())

    async def _status(self, session_id: int) -> SessionStatus | None:
        row = await self.db.fetch_one("SELECT status FROM sessions WHERE id = ?", (session_id,))
        return SessionStatus(row["status"]) if row else None

    def status(self, session_id: int) -> SessionStatus | None:
        return self.run(self._status(session_id))

    @rule(priority=st.integers(-2, 2))
    def create(self, priority: int) -> None:
        session_id = self.run(self.store.insert(
            name="s", task="detect", model="yolov8n.yaml", config=CONFIG.to_json("train"), priority=priority,
            status="queued", created_at=next(_clock), epochs=1))
        self.ids.append(session_id)

    @rule(fail=st.booleans())
    def schedule(self, fail: bool) -> None:
        self.executor.fail_next_start = fail
        self.run(self.scheduler._start_ready())
        self.settle()

    @precondition(lambda self: self.ids)
    @rule(data=st.data(), while_starting=st.booleans())
    def stop(self, data: st.DataObject, while_starting: bool) -> None:
        session_id = data.draw(st.sampled_from(self.ids))
        before = self.status(session_id)

        async def go() -> None:
            starting = asyncio.create_task(self.scheduler._start_ready()) if while_starting else None
            await asyncio.sleep(0)
            try:
                await self.manager.stop(session_id, key=ADMIN)
            except InvalidTransition:
                assert before not in (_S.queued, _S.running), f"a stop of a {before} session was refused"
            except NotFound:
                assert before is None
            if starting:
                await starting

        self.run(go())
        self.settle()

    @precondition(lambda self: self.ids)
    @rule(data=st.data())
    def resume(self, data: st.DataObject) -> None:
        self.call(self.manager.resume(data.draw(st.sampled_from(self.ids)), key=ADMIN))

    @precondition(lambda self: self.executor.handles)
    @rule(data=st.data(), crash=st.booleans())
    def child_ends(self, data: st.DataObject, crash: bool) -> None:
        handle = self.executor.handles.pop(data.draw(st.sampled_from(sorted(self.executor.handles))))
        handle.end() if crash else handle.end(Result(best="best.pt", stopped=False, names={0: "a"}, epochs_done=1))
        self.settle()

    @precondition(lambda self: set(self.executor.handles) & set(self.scheduler._runs))
    @rule(data=st.data())
    def node_dies(self, data: st.DataObject) -> None:
        """A cluster node dies under its run: interrupted, and queued again to resume (AUTO_RESUME) elsewhere."""
        session_id = data.draw(st.sampled_from(sorted(set(self.executor.handles) & set(self.scheduler._runs))))
        handle = self.executor.handles.pop(session_id)
        stopping = self.scheduler._runs[session_id].stop_requested
        handle.lost = True
        handle.end()
        self.settle()
        if not stopping:
            assert self.status(session_id) == (_S.queued if self.scheduler.auto_resume else _S.interrupted)

    @rule(auto_resume=st.booleans())
    def restart_server(self, auto_resume: bool) -> None:
        self.run(self.scheduler.shutdown())
        self.executor.forget()
        self.build_server(auto_resume=auto_resume)
        self.run(self.scheduler.recover())

    @precondition(lambda self: self.ids)
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        session_id = data.draw(st.sampled_from(self.ids))
        before = self.status(session_id)
        self.call(self.manager.delete(session_id))
        if before is not None and before != _S.running:
            assert self.status(session_id) is None

    def call(self, coroutine) -> None:  # noqa: ANN001
        try:
            self.run(coroutine)
        except AppError:
            pass  # a refused request is fine; what matters is what landed in the table
        self.settle()

    @invariant()
    def nothing_runs_without_a_child(self) -> None:
        running = self.run(self.store.ids_in(_S.running))
        assert sorted(running) == sorted(self.scheduler._runs), "a running row must have a supervised child"

    @invariant()
    def every_change_is_in_the_table(self) -> None:
        rows = self.run(self.db.fetch_all("SELECT old, new FROM changes"))
        illegal = [(row["old"], row["new"]) for row in rows if _S(row["new"]) not in TRANSITIONS[_S(row["old"])]]
        assert illegal == []

    def teardown(self) -> None:
        self.run(self.scheduler.shutdown())
        self.run(self.db.close())
        self.loop.close()
        self.tmp.cleanup()


_clock = itertools.count(1)
TestSessionStates = SessionStates.TestCase
