"""GET/PUT /streams/config: all stream definitions as one YAML file, the shape users keep by hand."""

from __future__ import annotations

import asyncio

from api.auth.schemas import ApiKeyRead
from api.core.errors import AppError, ValidationFailed
from api.streams.config_yaml import dump_config, parse_config
from api.streams.records import StreamRow
from api.streams.schemas import StreamCreate, settings_of
from api.streams.service import StreamService
from api.streams.store import StreamStore


class StreamConfig:
    def __init__(self, store: StreamStore, streams: StreamService) -> None:
        self._store, self._streams = store, streams

    async def export(self) -> str:
        rows = await self._store.all()
        return dump_config([StreamCreate(name=row.name, source=row.source, model=row.model_id, enabled=row.enabled,
                                         **row.settings) for row in rows])

    async def replace(self, text: str, *, key: ApiKeyRead) -> dict[str, list[str]]:
        """Checks every camera before anything changes, then writes all of it in one transaction."""
        wanted = await asyncio.to_thread(parse_config, text)  # a 1 MiB file takes a second to parse
        for index, stream in enumerate(wanted):
            try:
                await self._streams.check(source=stream.source, model_id=stream.model, settings=settings_of(stream),
                                          key=key, prefix=f"cameras[{index}]")
            except AppError as exc:
                if isinstance(exc, ValidationFailed):
                    exc.details["camera"] = stream.name
                raise
        existing = {row.name: row for row in await self._store.all()}
        creates, updates = [], []
        for stream in wanted:
            row = existing.get(stream.name)
            values = {"name": stream.name, "source": stream.source, "model_id": stream.model,
                      "settings": settings_of(stream), "enabled": stream.enabled}
            if row is None:
                creates.append(values)
            elif (row.source, row.model_id, row.settings, row.enabled) != (
                    stream.source, stream.model, values["settings"], stream.enabled):
                updates.append(StreamRow(id=row.id, name=row.name, source=stream.source, model_id=stream.model,
                                         settings=values["settings"], enabled=stream.enabled,
                                         created_at=row.created_at, created_by=row.created_by,
                                         updated_at=row.updated_at))
        names = {stream.name for stream in wanted}
        deletes = [row for name, row in existing.items() if name not in names]
        await self._store.replace_all(creates=creates, updates=updates, deletes=[row.id for row in deletes],
                                      created_by=key.id)
        for row in deletes:
            await self._streams.supervisor.stop(row.id)
            self._streams.supervisor.forget(row.id)
        for name in [values["name"] for values in creates] + [row.name for row in updates]:
            row = await self._store.get_by_name(name)
            if row is not None:
                await self._streams.apply(row)
        return {"created": sorted(v["name"] for v in creates), "updated": sorted(r.name for r in updates),
                "deleted": sorted(r.name for r in deletes),
                "unchanged": sorted(names - {v["name"] for v in creates} - {r.name for r in updates})}
