"""Types shared by every app's API schemas (django-ninja).

- `ErrorOut`: the error shape every endpoint answers with (`{"code", "message", "details"}`),
  declared once so that the OpenAPI document has one component of that name.
- Bounded integers for ids, offsets and page sizes in paths, queries and bodies: a value the
  database cannot hold (1e20 against a bigint) is refused as 422 by the schema, never passed on
  to the database, where it would be a server error.
"""

from typing import Annotated

from ninja import Schema
from pydantic import Field

# Primary keys are bigint (BigAutoField) on every backend.
MAX_ID = 2**63 - 1
# No list is paged past two billion rows.
MAX_OFFSET = 2**31 - 1

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET)]
# A small count or a number stored in an integer column (a class, a number of months…).
SmallInt = Annotated[int, Field(ge=0, le=MAX_OFFSET)]


class ErrorOut(Schema):
    code: str
    message: str
    details: list = []
