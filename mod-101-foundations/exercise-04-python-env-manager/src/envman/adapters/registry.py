"""Backend name -> implementation."""

from __future__ import annotations

from envman.adapters.base import Backend
from envman.adapters.conda import CondaBackend
from envman.adapters.pip import VenvPipBackend
from envman.adapters.poetry import PoetryBackend
from envman.adapters.uv import UvBackend
from envman.errors import UsageError
from envman.spec import BACKENDS

_BACKENDS: dict[str, type[Backend]] = {
    "venv": VenvPipBackend, "uv": UvBackend, "poetry": PoetryBackend, "conda": CondaBackend,
}


def get_backend(name: str) -> Backend:
    try:
        return _BACKENDS[name]()
    except KeyError:
        raise UsageError(f"unknown backend {name!r} (choose one of: {', '.join(BACKENDS)})") \
            from None
