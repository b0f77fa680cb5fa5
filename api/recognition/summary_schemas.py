"""Schemas of the recognition summary: verdict counts and the classes most missing, per user, model or kit."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

SummaryBy = Literal["user", "model", "kit"]


class MissingClass(BaseModel):
    name: str
    count: int = Field(description="Objects of this class missing, summed over the group's images.")
    images: int = Field(description="Images it was missing from.")


class SummaryGroup(BaseModel):
    key: str | int | None = Field(description='user: X-On-Behalf-Of or "key:<id>"; model or kit: its id (null: none).')
    count: int = Field(description="Recognitions.")
    complete: int
    incomplete: int
    unchecked: int
    most_missing: list[MissingClass] = Field(description="Up to 5 classes most missing from kit checks.")


class RecognitionSummary(BaseModel):
    by: SummaryBy
    since: float | None = Field(None, serialization_alias="from")
    until: float | None = Field(None, serialization_alias="to")
    groups: list[SummaryGroup]
