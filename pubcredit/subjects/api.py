"""Subject register API."""

from ninja import Router

router = Router(tags=["主体库"])
