"""Build RegistryClients from settings: which URL and which credentials for a host."""

from __future__ import annotations

from regman.adapters.registry import Credentials, RegistryClient
from regman.config import Settings
from regman.reference import host_of, registry_base_url


def credentials(username: str | None, password: str | None) -> Credentials | None:
    return Credentials(username, password or "") if username else None


def client_for(settings: Settings, registry: str | None = None) -> RegistryClient:
    """A client for `registry` (host or URL); the configured default when None."""
    default_host = host_of(settings.registry)
    target = registry or settings.registry
    if "://" in target:
        url = target.rstrip("/")
    elif host_of(target) == default_host:
        url = settings.registry.rstrip("/")
        if "://" not in url:
            url = registry_base_url(url, tuple(settings.plain_http))
    else:
        url = registry_base_url(target, tuple(settings.plain_http))
    return RegistryClient(url, credentials(settings.username, settings.password),
                          timeout=settings.timeout, retries=settings.retries,
                          backoff=settings.backoff, chunk_size=settings.chunk_size)
