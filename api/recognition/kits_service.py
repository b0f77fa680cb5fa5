"""Kits: named expected sets (class name -> count) that a recognition checks by id instead of sending a kit."""

from __future__ import annotations

from api.auth.schemas import ApiKeyRead
from api.auth.service import require_owner
from api.core.errors import NotFound, ValidationFailed
from api.recognition.kits_schemas import KitCreate, KitRead, KitUpdate
from api.recognition.kits_store import KitStore
from api.registry.models.service import ModelRegistry


def unknown_classes_error(field: str, unknown: list[str], model_id: int, known: list[str]) -> ValidationFailed:
    """A 422 naming the field and the classes the model does not know (in the message and in details)."""
    error = ValidationFailed.for_field(field, f"classes not known to model {model_id}: {', '.join(unknown)}")
    error.details.update(unknown_classes=unknown, model_classes=known)
    return error


class KitService:
    def __init__(self, store: KitStore, models: ModelRegistry) -> None:
        self._store, self._models = store, models

    async def _check_items(self, items: dict[str, int], model_id: int | None) -> None:
        if model_id is None:
            return
        try:
            model = await self._models.get(model_id)
        except NotFound:
            raise ValidationFailed.for_field("body.model", f"model {model_id} does not exist") from None
        unknown = sorted(set(items) - set(model.classes))
        if unknown:
            raise unknown_classes_error("body.items", unknown, model_id, model.classes)

    async def create(self, body: KitCreate, *, key: ApiKeyRead) -> KitRead:
        await self._check_items(body.items, body.model)
        kit_id = await self._store.insert(name=body.name, items=body.items, model_id=body.model, created_by=key.id)
        return await self._store.get(kit_id)

    async def get(self, kit_id: int) -> KitRead:
        return await self._store.get(kit_id)

    async def list(self, *, model_id: int | None, limit: int, offset: int,
                   as_of: int | None = None) -> tuple[list[KitRead], int]:
        return await self._store.list(model_id=model_id, limit=limit, offset=offset, as_of=as_of)

    async def update(self, kit: KitRead, body: KitUpdate, *, key: ApiKeyRead) -> KitRead:
        require_owner(key, kit.created_by, "kit", "change")
        sent = body.model_fields_set
        if not sent:
            raise ValidationFailed.for_field("body", "send at least one of name, items, model")
        for field in ("name", "items"):
            if field in sent and getattr(body, field) is None:
                raise ValidationFailed.for_field(f"body.{field}", "may not be null")
        name, items = body.name or kit.name, body.items or kit.items
        model_id = body.model if "model" in sent else kit.model_id
        if "items" in sent or "model" in sent:
            await self._check_items(items, model_id)
        await self._store.update(kit.id, name=name, items=items, model_id=model_id)
        return await self._store.get(kit.id)

    async def delete(self, kit: KitRead, *, key: ApiKeyRead) -> None:
        require_owner(key, kit.created_by, "kit")
        await self._store.delete(kit.id)

    async def kit_to_check(self, *, kit_id: int | None, kit: dict[str, int] | None) -> dict[str, int] | None:
        """The items a recognition checks: the sent `kit`, or those of kit `kit_id` (404 when there is none)."""
        if kit_id is None:
            return kit
        if kit is not None:
            raise ValidationFailed.for_field("body.kit_id", "give either kit or kit_id, not both")
        return (await self._store.get(kit_id)).items
