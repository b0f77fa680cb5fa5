"""The tools the model may call: each maps to the bot's ApiClient. Reads run at once and answer trimmed JSON; a
change (start or stop a run) is only proposed: it becomes an Action that runs when the user presses Confirm."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from telegram_bot.ai.llm import Message, ToolCall
from telegram_bot.api_client import ApiClient, ApiError
from telegram_bot.schemas import SessionRead

STATUSES = ["queued", "running", "completed", "failed", "stopped", "cancelled", "interrupted"]
_ARCHITECTURE = re.compile(r"^yolo[\w.]*?(-cls)?$", re.IGNORECASE)  # yolo11n, yolov8n-cls: the .yaml is implied


class _Args(BaseModel):
    model_config = ConfigDict(extra="ignore")


class NoArgs(_Args):
    pass


class SessionArgs(_Args):
    session_id: int = Field(ge=1)


class ListSessionsArgs(_Args):
    status: list[Literal["queued", "running", "completed", "failed", "stopped", "cancelled", "interrupted"]] = []
    limit: int = Field(10, ge=1, le=20)


class LogsArgs(SessionArgs):
    lines: int = Field(20, ge=1, le=50)


class TaskArgs(_Args):
    task: Literal["detect", "classify"] | None = None


class StartArgs(_Args):
    dataset: int = Field(ge=1)
    model: str | int
    epochs: int = Field(ge=1, le=10_000)
    name: str | None = Field(None, max_length=100)


def _function(name: str, description: str, args: type[_Args]) -> Message:
    schema = args.model_json_schema()
    parameters = {"type": "object", "properties": schema.get("properties", {}), "required": schema.get("required", [])}
    return {"type": "function", "function": {"name": name, "description": description, "parameters": parameters}}


READS: dict[str, tuple[str, type[_Args]]] = {
    "list_sessions": ("Training runs, newest first; filter by status (e.g. running).", ListSessionsArgs),
    "get_session": ("One run: status, progress (epoch/epochs, ETA), latest and best metrics, error and its last "
                    "log lines when it failed.", SessionArgs),
    "get_metrics": ("A run's progress with its latest and best metrics (mAP50, mAP50-95, losses).", SessionArgs),
    "get_logs": ("The last lines of a run's log.", LogsArgs),
    "get_queue": ("What is training now and what waits in the queue, in start order.", NoArgs),
    "system_status": ("The server's CPU, RAM, disk and GPU load.", NoArgs),
    "list_models": ("Registered models with their metrics (compare mAP50-95 to find the best).", TaskArgs),
    "list_datasets": ("Datasets: id, name, task, classes, image counts.", TaskArgs),
}
CHANGES: dict[str, tuple[str, type[_Args]]] = {
    "start_session": ("Propose to start training: dataset id, model (an architecture such as yolo11n.yaml, "
                      "yolov8n.yaml, yolo11n-cls.yaml, or a registered model id to fine-tune), epochs. "
                      "The user confirms with a button before anything starts.", StartArgs),
    "stop_session": ("Propose to stop (or cancel, if queued) a run. The user confirms with a button first.", SessionArgs),
}
TOOLS: list[Message] = [_function(name, text, args) for name, (text, args) in {**READS, **CHANGES}.items()]


@dataclass(frozen=True)
class StartSession:
    fields: dict[str, Any]  # the body of POST /sessions
    dataset_name: str
    model_label: str


@dataclass(frozen=True)
class StopSession:
    session_id: int
    name: str
    status: str


Action = StartSession | StopSession


def to_json(value: Any, limit: int) -> str:
    """Compact JSON, cut to `limit` characters with a note of how much was left out."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if len(text) <= limit:
        return text
    note = f"…[trimmed {len(text) - limit} more characters]"
    return text[: max(limit - len(note), 0)] + note


def _error(message: str) -> dict[str, Any]:
    return {"error": message}


def _architecture(model: str | int) -> str | int:
    """A registered model's id, or an architecture YAML ("yolo11n" as the model may say it -> "yolo11n.yaml")."""
    if isinstance(model, int) or model.strip().isdigit():
        return int(model)
    model = model.strip()
    if _ARCHITECTURE.match(model) and not model.lower().endswith((".yaml", ".yml", ".pt")):
        return f"{model.lower()}.yaml"
    return model


class Toolbox:
    """Runs one question's tool calls with the user's ApiClient (the model never sees the API key)."""

    def __init__(self, api: ApiClient, *, limit: int) -> None:
        self._api, self._limit = api, limit

    async def run(self, call: ToolCall) -> str:
        """A read tool's result as (trimmed) JSON; errors are results too, so the model can explain them."""
        if call.name not in READS:
            return to_json(_error(f"unknown tool {call.name!r}"), self._limit)
        try:
            args = READS[call.name][1].model_validate(json.loads(call.arguments or "{}"))
            result = await getattr(self, f"_{call.name}")(args)
        except (ValueError, ValidationError) as exc:
            result = _error(f"invalid arguments: {str(exc)[:300]}")
        except ApiError as exc:
            result = _error(f"the server said {exc.status} {exc.code}: {exc.readable()}")
        return to_json(result, self._limit)

    async def propose(self, call: ToolCall) -> tuple[str, Action | None]:
        """(the tool result, the Action to confirm); an Action only if the arguments make sense to the server."""
        try:
            args = CHANGES[call.name][1].model_validate(json.loads(call.arguments or "{}"))
            action: Action = await self._start(args) if isinstance(args, StartArgs) else await self._stop(args)
        except (ValueError, ValidationError) as exc:
            return to_json(_error(f"invalid arguments: {str(exc)[:300]}"), self._limit), None
        except ApiError as exc:
            return to_json(_error(f"the server said {exc.status} {exc.code}: {exc.readable()}"), self._limit), None
        note = {"status": "awaiting_confirmation",
                "note": "The user sees Confirm and Cancel buttons; nothing happens until they press Confirm."}
        return to_json(note, self._limit), action

    async def _start(self, args: StartArgs) -> StartSession:
        dataset = await self._api.dataset(args.dataset)
        model = _architecture(args.model)
        label = str(model) if isinstance(model, str) else f"#{model} {(await self._api.model(model)).name}"
        fields: dict[str, Any] = {"task": dataset.task, "model": model, "dataset": dataset.id, "epochs": args.epochs}
        if args.name:
            fields["name"] = args.name
        return StartSession(fields, dataset.name, label)

    async def _stop(self, args: _Args) -> StopSession:
        assert isinstance(args, SessionArgs)
        session = await self._api.session(args.session_id)
        return StopSession(session.id, session.name, session.status)

    async def _list_sessions(self, args: ListSessionsArgs) -> Any:
        return await self._api.sessions(limit=args.limit, statuses=tuple(args.status))

    async def _get_session(self, args: SessionArgs) -> Any:
        return await self._api.session(args.session_id)

    async def _get_metrics(self, args: SessionArgs) -> Any:
        session = await self._api.session(args.session_id)
        return session.model_dump(mode="json", include={"id", "name", "status", "progress", "latest_metrics",
                                                        "best_metrics"})

    async def _get_logs(self, args: LogsArgs) -> Any:
        total = (await self._api.logs(args.session_id, limit=1, offset=0)).total
        page = await self._api.logs(args.session_id, limit=args.lines, offset=max(total - args.lines, 0))
        return {"session_id": args.session_id, "total_lines": total,
                "lines": [f"{line.level}: {line.message}" for line in page.items]}

    async def _get_queue(self, args: NoArgs) -> Any:
        return await self._api.queue()

    async def _system_status(self, args: NoArgs) -> Any:
        return await self._api.system()

    async def _list_models(self, args: TaskArgs) -> Any:
        return await self._api.models(limit=20, task=args.task)

    async def _list_datasets(self, args: TaskArgs) -> Any:
        return await self._api.datasets(limit=20, task=args.task)


async def perform(action: Action, api: ApiClient) -> SessionRead:
    """What Confirm does: the one API call the action stands for."""
    match action:
        case StartSession(fields=fields):
            return await api.create_session(**fields)
        case StopSession(session_id=session_id):
            return await api.stop_session(session_id)
    raise TypeError(f"not an action: {action!r}")
