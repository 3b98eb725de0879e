"""The base of every model: unknown fields kept (``model_extra``), absent fields omitted."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class KassaModel(BaseModel):
    """A protocol object. Unknown fields are kept in ``model_extra`` and sent back as given.

    ``to_wire()`` is the JSON object sent on the wire: fields left as ``None`` are omitted,
    never sent as ``null`` (the protocol's clients break on null objects).
    """

    model_config = ConfigDict(extra="allow", validate_by_name=True, validate_by_alias=True)

    def to_wire(self) -> dict[str, Any]:
        """This object as wire JSON, ``None`` fields left out."""
        return self.model_dump(mode="json", exclude_none=True)
