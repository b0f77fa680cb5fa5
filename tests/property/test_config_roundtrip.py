"""POST /sessions bodies: whatever the schema's constraints allow is accepted, every invalid field is refused
with an error naming that field (through the real app), and the stored run settings (SessionConfig) read
back unchanged through the sessions table. Strategies are built from SessionCreate's own field constraints."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import annotated_types as at
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.core.database import Database
from api.core.schemas import MAX_ID
from api.registry.datasets.schemas import Task
from api.training.records import SessionConfig, SessionRecord
from api.training.schemas import SessionCreate
from api.training.store import SessionStore
from tests.helpers import LiveServer, make_settings

FIELDS = SessionCreate.model_fields
# What the docs promise, matched whole: an architecture YAML; auto, cpu or GPU indices like 0 or 0,1 (any case,
# spaces ignored).
ARCHITECTURE_SPEC = re.compile(r"(yolov8|yolo11|yolo26)[nsmlx](-cls)?\.yaml")
DEVICE_SPEC = re.compile(r"auto|cpu|[0-9]{1,2}(,[0-9]{1,2}){0,15}")
DEVICE_LIKE = r"\A[ 0-9,a-zA-Z\u0660-\u0669]{0,8}\Z"  # near misses too: Arabic-Indic digits are \d in Python
ARCHITECTURE_LIKE = st.tuples(st.sampled_from(["", " ", "\n"]), st.from_regex(ARCHITECTURE_SPEC, fullmatch=True),
                              st.sampled_from(["", "\n", " ", "\r\n", ".pt"])).map("".join)


def bound(field: str, kind: type) -> Any:
    """The value of one constraint (Ge, Le, Gt, MultipleOf, MaxLen) declared on a SessionCreate field."""
    found = [item for item in FIELDS[field].metadata if isinstance(item, kind)]
    return dataclasses.astuple(found[0])[0] if found else None


def ints(field: str) -> st.SearchStrategy[int]:
    step = bound(field, at.MultipleOf) or 1
    low, high = -(-bound(field, at.Ge) // step), bound(field, at.Le) // step
    return st.integers(low, high).map(lambda n: n * step)


def normalised_device(value: str) -> str:
    return value.strip().lower().replace(" ", "")


devices = st.one_of(st.from_regex(DEVICE_SPEC, fullmatch=True), st.sampled_from(["AUTO", " Cpu ", "0, 1", " 3 "]))
VALID: dict[str, st.SearchStrategy[Any]] = {
    "name": st.none() | st.text(max_size=bound("name", at.MaxLen)),
    "task": st.sampled_from(get_args(Task)),
    "model": st.from_regex(ARCHITECTURE_SPEC, fullmatch=True) | st.integers(1, MAX_ID),
    "lr0": st.none() | st.floats(bound("lr0", at.Gt), bound("lr0", at.Le), exclude_min=True),
    "device": devices,
    **{field: ints(field) for field in ("dataset", "epochs", "priority")},
    **{field: st.none() | ints(field) for field in ("batch", "imgsz", "patience", "seed")},
}


def out_of_range(field: str) -> st.SearchStrategy[Any]:
    low, high = bound(field, at.Ge), bound(field, at.Le)
    return st.integers(max_value=low - 1) | st.integers(min_value=high + 1) | st.just("many")


INVALID: dict[str, st.SearchStrategy[Any]] = {
    "name": st.text(min_size=bound("name", at.MaxLen) + 1, max_size=300) | st.integers(),
    "task": st.text(max_size=10).filter(lambda value: value not in get_args(Task)),
    "model": st.integers(max_value=0) | st.integers(min_value=MAX_ID + 1)
    | (ARCHITECTURE_LIKE | st.text(max_size=20))
    .filter(lambda value: not ARCHITECTURE_SPEC.fullmatch(value) and not value.isdigit()),
    "imgsz": out_of_range("imgsz") | st.integers(32, 2048).filter(lambda value: value % 32),
    "lr0": st.floats(max_value=0) | st.floats(min_value=1, exclude_min=True) | st.just(float("nan")),
    "device": st.from_regex(DEVICE_LIKE).filter(lambda value: not DEVICE_SPEC.fullmatch(normalised_device(value))),
    **{field: out_of_range(field) for field in ("dataset", "epochs", "batch", "priority", "patience", "seed")},
}


@settings(max_examples=150)
@given(body=st.fixed_dictionaries(VALID))
def test_every_body_within_the_constraints_is_accepted_as_given(body: dict[str, Any]) -> None:
    created = SessionCreate.model_validate(body)
    expected = {**body, "device": normalised_device(body["device"]), "kind": "train"}  # the default kind
    assert created.model_dump() == expected
    assert SessionCreate.model_validate_json(created.model_dump_json()) == created


@settings(max_examples=150)
@given(device=st.from_regex(DEVICE_LIKE) | devices)
def test_device_is_accepted_iff_the_docs_allow_it(device: str) -> None:
    allowed = DEVICE_SPEC.fullmatch(normalised_device(device)) is not None
    try:
        SessionCreate(task="detect", model="yolov8n.yaml", dataset=1, epochs=1, device=device)
    except ValueError:
        assert not allowed, f"{device!r} was refused"
    else:
        assert allowed, f"{device!r} was accepted"


def is_model_id(value: object) -> bool:
    digits = isinstance(value, str) and value.isdecimal()
    return (isinstance(value, int) or digits) and 1 <= int(value) <= MAX_ID  # type: ignore[call-overload]


@settings(max_examples=150)
@given(model=ARCHITECTURE_LIKE | st.text(max_size=20) | st.integers(-5, MAX_ID + 5).map(str)
       | st.integers(-5, MAX_ID + 5))
def test_model_is_accepted_iff_it_is_an_architecture_yaml_or_a_model_id(model: str | int) -> None:
    allowed = is_model_id(model) or (isinstance(model, str) and ARCHITECTURE_SPEC.fullmatch(model) is not None)
    try:
        SessionCreate(task="detect", model=model, dataset=1, epochs=1)
    except ValueError:
        assert not allowed, f"{model!r} was refused"
    else:
        assert allowed, f"{model!r} was accepted"


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    with LiveServer(make_settings(tmp_path_factory.mktemp("config") / "data")) as server:
        with httpx.Client(base_url=server.url + "/api/v1", headers={"X-API-Key": server.settings.api_keys[0]},
                          timeout=30) as client:
            yield client


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.fixed_dictionaries(VALID), data=st.data())
def test_an_invalid_field_is_refused_naming_that_field(http: httpx.Client, body: dict[str, Any],
                                                       data: st.DataObject) -> None:
    field = data.draw(st.sampled_from(sorted(INVALID)))
    # no such dataset: an invalid value that slipped through the schema is named wrong instead of starting a run
    bad = {**body, "dataset": MAX_ID, field: data.draw(INVALID[field])}
    response = http.post("/sessions", content=json.dumps(bad), headers={"Content-Type": "application/json"})  # NaN too
    assert response.status_code == 422, response.text
    named = {entry["field"] for entry in response.json()["error"]["details"]["fields"]}
    assert named and all(name == f"body.{field}" or name.startswith(f"body.{field}.") for name in named), named


train_configs = st.builds(
    SessionConfig, model=st.from_regex(ARCHITECTURE_SPEC, fullmatch=True) | st.text(min_size=1),
    architecture=st.text(min_size=1, max_size=20), epochs=ints("epochs"), batch=ints("batch"), imgsz=ints("imgsz"),
    device=st.from_regex(DEVICE_SPEC, fullmatch=True), lr0=VALID["lr0"], patience=VALID["patience"],
    seed=VALID["seed"])
evaluate_configs = st.builds(
    SessionConfig, model=st.text(min_size=1), architecture=st.text(min_size=1, max_size=20), epochs=st.just(1),
    batch=ints("batch"), imgsz=ints("imgsz"), device=st.from_regex(DEVICE_SPEC, fullmatch=True),
    split=st.sampled_from(["train", "val", "test"]), conf=st.floats(0, 1), iou=st.floats(0, 1))


@settings(max_examples=60, deadline=None)
@given(kind_and_config=st.tuples(st.just("train"), train_configs) | st.tuples(st.just("evaluate"), evaluate_configs))
def test_stored_config_reads_back_unchanged(kind_and_config: tuple[str, SessionConfig]) -> None:
    kind, config = kind_and_config

    async def stored() -> SessionConfig:
        with tempfile.TemporaryDirectory() as tmp:
            db = await Database.open(Path(tmp) / "test.db")
            try:
                store = SessionStore(db)
                session_id = await store.insert(name="s", task="detect", kind=kind, model="m", status="queued",
                                                config=config.to_json(kind), priority=0, created_at=1.0, epochs=1)
                assert session_id is not None
                return SessionRecord.from_row(await store.row(session_id)).config
            finally:
                await db.close()

    assert asyncio.run(stored()) == config
