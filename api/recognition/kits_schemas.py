"""Schemas of kits: named expected sets of objects, class name -> count."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from api.core.schemas import MAX_ID

ClassName = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Count = Annotated[int, Field(strict=True, ge=0, le=10000)]  # strict: true or "2" is not a count
KitItems = Annotated[dict[ClassName, Count], Field(min_length=1, max_length=1000,
                                                   examples=[{"wrench": 2, "pliers": 1}])]
KitName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class KitCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: KitName = Field(examples=["tray-a"])
    items: KitItems = Field(description="Class name -> expected count per image (0..10000).")
    model: int | None = Field(None, ge=1, le=MAX_ID, description="A model id: every item must be one of its classes.")


class KitUpdate(BaseModel):
    """Only the fields sent change; `"model": null` unbinds the kit from its model."""

    model_config = ConfigDict(extra="forbid")

    name: KitName | None = None
    items: KitItems | None = None
    model: int | None = Field(None, ge=1, le=MAX_ID)


class KitRead(BaseModel):
    id: int
    name: str
    items: dict[str, int]
    model_id: int | None = Field(description="The model the items were checked against (null once it is deleted).")
    created_at: float
    created_by: int | None
    updated_at: float | None


class KitList(BaseModel):
    items: list[KitRead]
    total: int
