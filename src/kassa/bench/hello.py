"""The baseline: the same HTTP stack (uvicorn + FastAPI) answering a constant, no DB, no RSA."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import Response

_BODY = b'{"status":"ok"}'


def hello_app() -> FastAPI:
    """A FastAPI app whose one POST route answers a constant JSON body."""
    app = FastAPI()

    @app.post("/api/v1/session/create")
    async def create() -> Response:
        return Response(_BODY, media_type="application/json")

    return app
