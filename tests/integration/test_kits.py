"""Kits through a real server with a real (tiny) trained model: the CRUD and its rules, a kit checked by id,
the kit_id filter, the summary per user, model and kit against the stored recognitions, and sorting."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import ADMIN_KEY, LiveServer, make_settings

CONF = "0.05"  # the tiny test model is unsure of itself: below this it finds nothing on some val photos


class Setup:
    def __init__(self, server: LiveServer, model: dict[str, Any], operators: list[str]) -> None:
        self.server, self.model, self.operators = server, model, operators
        self.photo_index = 0

    def photo(self, n: int | None = None) -> bytes:
        n = self.photo_index if n is None else n
        return (self.server.settings.data_dir / "datasets/1/images/val" / f"{n:05d}.jpg").read_bytes()


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory, trained_weights: Path) -> Iterator[Setup]:
    """One server, one uploaded model and two operator keys for the whole module."""
    with LiveServer(make_settings(tmp_path_factory.mktemp("kits") / "data")) as server:
        with httpx.Client(base_url=server.url + "/api/v1", headers={"X-API-Key": ADMIN_KEY}, timeout=60) as admin:
            response = admin.post("/models", files={"file": ("tray.pt", trained_weights.read_bytes())})
            assert response.status_code == 201, response.text
            operators = [admin.post("/keys", json={"name": f"op{i}", "role": "operator"}).json()["key"] for i in (1, 2)]
        yield Setup(server, response.json(), operators)


def assert_error(response: httpx.Response, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    if field is not None:
        assert [f["field"] for f in error["details"]["fields"]] == [field]
    return error


async def recognize(http: httpx.AsyncClient, images: list[bytes], **form: str) -> httpx.Response:
    files = [("images", (f"p{i}.jpg", data, "image/jpeg")) for i, data in enumerate(images)]
    return await http.post("/recognitions", files=files, data=form, timeout=60)


async def test_kit_round_trip_and_its_rules(setup: Setup) -> None:
    model = setup.model["id"]
    async with setup.server.client(setup.operators[0]) as owner, setup.server.client(setup.operators[1]) as other, \
            setup.server.client() as admin:
        response = await owner.post("/kits", json={"name": " tray-a ", "items": {"square": 1, "circle": 2},
                                                   "model": model})
        assert response.status_code == 201, response.text
        kit = response.json()
        me = (await owner.get("/auth/me")).json()["key"]["id"]
        assert kit["name"] == "tray-a" and kit["items"] == {"square": 1, "circle": 2}
        assert (kit["model_id"], kit["created_by"], kit["updated_at"]) == (model, me, None)
        assert (await other.get(f"/kits/{kit['id']}")).json() == kit
        listed = (await other.get("/kits", params={"model": model})).json()
        assert kit in listed["items"] and listed["total"] == len(listed["items"])
        assert (await other.get("/kits", params={"model": 999999})).json() == {"items": [], "total": 0}

        assert_error(await other.post("/kits", json={"name": "tray-a", "items": {"square": 1}}), 409, "duplicate_kit")
        error = assert_error(await owner.post("/kits", json={"name": "tools", "items": {"wrench": 1, "square": 1,
                                                                                           "spanner": 2},
                                                             "model": model}), 422, "validation_error", "body.items")
        assert "spanner" in error["message"] and "wrench" in error["message"]
        assert error["details"]["unknown_classes"] == ["spanner", "wrench"]
        assert_error(await owner.post("/kits", json={"name": "x", "items": {"square": 1}, "model": 999999}), 422,
                     "validation_error", "body.model")
        for bad in ({"name": "x", "items": {}}, {"name": "x", "items": {"square": -1}},
                    {"name": "x", "items": {"square": 10001}}, {"name": "x", "items": {"square": True}},
                    {"name": "x", "items": {"square": "2"}}, {"name": "x", "items": {"": 1}},
                    {"name": "x", "items": {"a" * 101: 1}}, {"name": "", "items": {"square": 1}},
                    {"name": "x" * 101, "items": {"square": 1}}, {"items": {"square": 1}}, {"name": "x"}):
            assert_error(await owner.post("/kits", json=bad), 422, "validation_error")
        assert (await owner.get("/kits", params={"model": model})).json()["total"] == listed["total"]

        assert_error(await other.patch(f"/kits/{kit['id']}", json={"items": {"square": 3}}), 403, "not_owner")
        assert_error(await other.delete(f"/kits/{kit['id']}"), 403, "not_owner")
        patched = await owner.patch(f"/kits/{kit['id']}", json={"items": {"square": 3}})
        assert patched.status_code == 200, patched.text
        assert patched.json()["items"] == {"square": 3} and patched.json()["updated_at"] >= kit["created_at"]
        assert_error(await owner.patch(f"/kits/{kit['id']}", json={"items": {"spanner": 1}}), 422,
                     "validation_error", "body.items")
        assert_error(await owner.patch(f"/kits/{kit['id']}", json={"name": None}), 422, "validation_error", "body.name")
        assert_error(await owner.patch(f"/kits/{kit['id']}", json={}), 422, "validation_error")
        second = (await other.post("/kits", json={"name": "tray-b", "items": {"circle": 1}})).json()
        assert_error(await owner.patch(f"/kits/{kit['id']}", json={"name": "tray-b"}), 409, "duplicate_kit")
        unbound = (await admin.patch(f"/kits/{kit['id']}", json={"model": None, "items": {"spanner": 1}})).json()
        assert (unbound["model_id"], unbound["items"], unbound["name"]) == (None, {"spanner": 1}, "tray-a")

        assert (await owner.delete(f"/kits/{kit['id']}")).status_code == 204
        assert_error(await owner.get(f"/kits/{kit['id']}"), 404, "kit_not_found")
        assert (await admin.delete(f"/kits/{second['id']}")).status_code == 204


async def test_a_kit_checked_by_id_drives_the_verdict_filter_summary_and_sort(setup: Setup) -> None:
    model, classes = str(setup.model["id"]), setup.model["classes"]
    async with setup.server.client(**{"X-On-Behalf-Of": "tg:1"}) as tg1, \
            setup.server.client(**{"X-On-Behalf-Of": "tg:2"}) as tg2, setup.server.client() as admin:
        scan = await recognize(tg1, [setup.photo(n) for n in range(4)], model=model, conf=CONF)
        assert scan.status_code == 201, scan.text
        best = max(scan.json()["images"], key=lambda image: image["found"])  # a kit of what the model finds
        setup.photo_index, counts = best["index"], best["counts"]
        exact = {name: counts.get(name, 0) for name in classes}
        short = {**exact, "square": exact["square"] + 1, "circle": exact["circle"] + 2}
        kit_exact = (await admin.post("/kits", json={"name": "exact", "items": exact, "model": int(model)})).json()
        kit_short = (await admin.post("/kits", json={"name": "short", "items": short})).json()

        complete = (await recognize(tg1, [setup.photo()], model=model, conf=CONF, kit_id=str(kit_exact["id"]))).json()
        assert (complete["verdict"], complete["kit_id"], complete["params"]["kit"]) == ("complete", kit_exact["id"], exact)
        response = await recognize(tg2, [setup.photo()] * 2, model=model, conf=CONF, kit_id=str(kit_short["id"]))
        incomplete = response.json()
        assert (incomplete["verdict"], incomplete["kit_id"]) == ("incomplete", kit_short["id"]), response.text
        assert [image["missing"] for image in incomplete["images"]] == [{"square": 1, "circle": 2}] * 2
        anonymous = (await recognize(admin, [setup.photo()], model=model, conf=CONF, kit='{"triangle": 99}')).json()
        assert anonymous["kit_id"] is None and anonymous["verdict"] == "incomplete"

        assert_error(await recognize(admin, [setup.photo()], model=model, kit_id=str(kit_exact["id"]),
                                     kit='{"square": 1}'), 422, "validation_error", "body.kit_id")
        assert_error(await recognize(admin, [setup.photo()], model=model, kit_id=str(kit_exact["id"]),
                                     expected_count="1"), 422, "validation_error", "body.kit_id")
        assert_error(await recognize(admin, [setup.photo()], model=model, kit_id="999999"), 404, "kit_not_found")
        foreign = (await admin.post("/kits", json={"name": "foreign", "items": {"spanner": 1, "square": 1}})).json()
        error = assert_error(await recognize(admin, [setup.photo()], model=model, kit_id=str(foreign["id"])), 422,
                             "validation_error", "body.kit_id")
        assert "spanner" in error["message"] and "square" not in error["message"].split(":")[-1]

        by_kit = (await admin.get("/recognitions", params={"kit_id": kit_short["id"]})).json()
        assert [item["id"] for item in by_kit["items"]] == [incomplete["id"]]
        stored = (await admin.get("/recognitions", params={"limit": 1000})).json()["items"]
        admin_id = (await admin.get("/auth/me")).json()["key"]["id"]
        assert {item["on_behalf_of"] or f"key:{item['key_id']}" for item in stored} >= {"tg:1", "tg:2", f"key:{admin_id}"}
        for by, key_of in (("user", lambda item: item["on_behalf_of"] or f"key:{item['key_id']}"),
                           ("model", lambda item: item["model_id"]), ("kit", lambda item: item["kit_id"])):
            summary = (await admin.get("/recognitions/summary", params={"by": by})).json()
            assert summary["by"] == by
            assert {group["key"]: group for group in summary["groups"]} == expected_summary(stored, key_of)
        groups = {group["key"]: group for group in (await admin.get("/recognitions/summary?by=kit")).json()["groups"]}
        assert groups[kit_short["id"]]["most_missing"] == [{"name": "circle", "count": 4, "images": 2},
                                                           {"name": "square", "count": 2, "images": 2}]
        assert groups[None]["most_missing"][0] == {"name": "triangle", "count": anonymous["images"][0]["missing"]
                                                   ["triangle"], "images": 1}
        before = (await admin.get("/recognitions/summary", params={"by": "model", "to": stored[-1]["created_at"] - 1}))
        assert before.json()["groups"] == []
        window = {"by": "user", "from": complete["created_at"], "to": incomplete["created_at"]}
        windowed = (await admin.get("/recognitions/summary", params=window)).json()
        assert (windowed["from"], windowed["to"]) == (window["from"], window["to"])
        assert {group["key"]: group["count"] for group in windowed["groups"]} == {"tg:1": 1, "tg:2": 1}
        assert_error(await admin.get("/recognitions/summary", params={"by": "colour"}), 422, "validation_error")
        assert_error(await admin.get("/recognitions/summary", params={"from": 10, "to": 5}), 422, "validation_error")

        ids = [item["id"] for item in stored]
        assert ids == sorted(ids, reverse=True)
        oldest = (await admin.get("/recognitions", params={"sort": "created_at", "limit": 1000})).json()["items"]
        assert [item["id"] for item in oldest] == sorted(ids)
        by_verdict = (await admin.get("/recognitions", params={"sort": "verdict", "limit": 1000})).json()["items"]
        assert [(item["verdict"], -item["id"]) for item in by_verdict] == sorted((i["verdict"], -i["id"]) for i in stored)
        snapshot = (await admin.get("/recognitions", params={"sort": "created_at", "as_of": ids[1]})).json()
        assert [item["id"] for item in snapshot["items"]] == sorted(ids[1:]) and snapshot["total"] == len(ids) - 1
        assert_error(await admin.get("/recognitions", params={"sort": "name"}), 422, "validation_error")

        assert (await admin.delete(f"/kits/{kit_short['id']}")).status_code == 204
        assert (await admin.get(f"/recognitions/{incomplete['id']}")).json()["kit_id"] is None


def expected_summary(stored: list[dict[str, Any]], key_of: Any) -> dict[Any, dict[str, Any]]:
    """The summary computed by hand from the stored recognitions."""
    groups: dict[Any, dict[str, Any]] = {}
    missing: dict[Any, Counter[str]] = {}
    images: dict[Any, Counter[str]] = {}
    for item in stored:
        key = key_of(item)
        group = groups.setdefault(key, {"key": key, "count": 0, "complete": 0, "incomplete": 0, "unchecked": 0})
        group["count"] += 1
        group[item["verdict"]] += 1
        for image in item["images"] if item["params"]["kit"] is not None else []:
            missing.setdefault(key, Counter()).update(image["missing"])
            images.setdefault(key, Counter()).update(image["missing"].keys())
    for key, group in groups.items():
        ranked = sorted(missing.get(key, Counter()).items(), key=lambda kv: (-kv[1], -images[key][kv[0]], kv[0]))
        group["most_missing"] = [{"name": name, "count": n, "images": images[key][name]} for name, n in ranked[:5]]
    return groups
