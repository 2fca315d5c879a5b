"""What a read asks for and how its objects become records: vecbridge's own layout (``convert``)
or an adopted class's (``foreign``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vecbridge.core.driver import Target
from vecbridge.core.models import Hit, Record

from .convert import record_from_object
from .foreign import ForeignClass, foreign_record
from .schema import RETURN_PROPERTIES, class_name
from .session import Session

__all__ = ["Reading", "reading"]


@dataclass(frozen=True)
class Reading:
    """The class of a collection, the properties reads return, and (adopted classes) their layout."""

    cls: str
    properties: list[str]
    layout: ForeignClass | None = None

    @property
    def target_vector(self) -> str | None:
        """The named vector a search must name (None: the class's only vector)."""
        return self.layout.vector if self.layout is not None else None

    def include_vector(self, include: bool) -> bool | list[str]:
        if include and self.target_vector is not None:
            return [self.target_vector]  # only the adopted vector, not every named vector of the class
        return include

    def record(self, obj: Any, include_vector: bool) -> Record:
        vectors = obj.vector if include_vector else None
        if self.layout is not None:
            return foreign_record(self.layout, obj.uuid, obj.properties, vectors)
        return record_from_object(obj.uuid, obj.properties, vectors)

    def hit(self, obj: Any, score: float, include_vector: bool) -> Hit:
        rec = self.record(obj, include_vector)
        vector = list(rec.vector) if include_vector and len(rec.vector) else None
        return Hit(rec.id, score, rec.text, rec.metadata, vector)


def reading(session: Session, target: Target) -> Reading:
    layout = session.foreign(target.name)
    if layout is not None:
        return Reading(layout.cls, layout.return_properties, layout)
    return Reading(class_name(target.name), RETURN_PROPERTIES)
