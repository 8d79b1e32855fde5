"""A Schema Registry stand-in: the REST subset confluent-kafka's `SchemaRegistryClient` uses.

No Confluent Schema Registry can be installed here (it is a JVM service with its own Kafka
store), so `streamml registry` serves the same API: register (POST subjects/{s}/versions),
get by id (GET schemas/ids/{id}), latest / by version (GET subjects/{s}/versions/{v}), lookup
(POST subjects/{s}), per-subject and global compatibility (GET/PUT config[/{s}]) and the
compatibility test endpoint. Incompatible schemas get 409, invalid ones 422, unknown subjects
40401 and unknown ids 40403, with Confluent's error bodies, so the real client raises the
same `SchemaRegistryError`s. State is in memory, optionally persisted to a JSON file
(atomically) so a restart keeps the ids producers already embedded in messages.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fastavro
from aiinfra_shared.io import atomic_write_json
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from streamml.avro_schema import COMPATIBILITY_LEVELS, compatibility_problems

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"


class RegistryError(Exception):
    """An API error: HTTP status plus Confluent's numeric error code."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def canonical(schema_text: str) -> str:
    """Key for schema identity: the same schema with other whitespace gets the same id."""
    return json.dumps(json.loads(schema_text), sort_keys=True, separators=(",", ":"))


@dataclass
class SchemaStore:
    """Subjects, versions and global ids; thread-safe; persisted when `path` is set."""

    path: Path | None = None
    default_level: str = "BACKWARD"
    schemas: dict[int, str] = field(default_factory=dict)  # id -> schema text
    subjects: dict[str, list[int]] = field(default_factory=dict)  # subject -> ids by version
    levels: dict[str, str] = field(default_factory=dict)  # subject -> level
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def open(cls, path: Path | None, default_level: str = "BACKWARD") -> SchemaStore:
        store = cls(path=path, default_level=default_level)
        if path is not None and path.exists():
            data = json.loads(path.read_text())
            store.schemas = {int(k): v for k, v in data["schemas"].items()}
            store.subjects = {k: list(v) for k, v in data["subjects"].items()}
            store.levels = dict(data.get("levels", {}))
            store.default_level = data.get("default_level", default_level)
        return store

    def _save(self) -> None:
        if self.path is not None:
            atomic_write_json(self.path, {"schemas": self.schemas, "subjects": self.subjects,
                                          "levels": self.levels,
                                          "default_level": self.default_level})

    def level(self, subject: str | None) -> str:
        return self.levels.get(subject, self.default_level) if subject else self.default_level

    def set_level(self, subject: str | None, level: str) -> str:
        level = level.upper()
        if level not in COMPATIBILITY_LEVELS:
            raise RegistryError(422, 42203, f"Invalid compatibility level {level}")
        with self._lock:
            if subject:
                self.levels[subject] = level
            else:
                self.default_level = level
            self._save()
        return level

    def _parse(self, schema_text: str) -> Any:
        try:
            parsed = json.loads(schema_text)
            fastavro.parse_schema(parsed)
        except (ValueError, TypeError, KeyError, fastavro.schema.SchemaParseException) as exc:
            raise RegistryError(422, 42201, f"Invalid schema: {exc}") from exc
        return parsed

    def _find(self, subject: str, key: str) -> tuple[int, int] | None:
        for version, schema_id in enumerate(self.subjects.get(subject, []), start=1):
            if canonical(self.schemas[schema_id]) == key:
                return schema_id, version
        return None

    def check(self, subject: str, schema_text: str) -> list[str]:
        """Compatibility problems of `schema_text` against the subject's latest version."""
        parsed = self._parse(schema_text)
        existing = [json.loads(self.schemas[i]) for i in self.subjects.get(subject, [])]
        return compatibility_problems(self.level(subject), parsed, existing)

    def register(self, subject: str, schema_text: str) -> tuple[int, int]:
        """Register under `subject`; returns (id, version). Same schema again: same answer."""
        with self._lock:
            key = canonical(json.dumps(self._parse(schema_text)))
            found = self._find(subject, key)
            if found:
                return found
            problems = self.check(subject, schema_text)
            if problems:
                raise RegistryError(
                    409, 409, "Schema being registered is incompatible with an earlier "
                    f"schema for subject \"{subject}\" ({self.level(subject)}): "
                    + "; ".join(problems))
            schema_id = next((i for i, text in self.schemas.items()
                              if canonical(text) == key), None)
            if schema_id is None:
                schema_id = max(self.schemas, default=0) + 1
                self.schemas[schema_id] = schema_text
            self.subjects.setdefault(subject, []).append(schema_id)
            self._save()
            return schema_id, len(self.subjects[subject])

    def lookup(self, subject: str, schema_text: str) -> tuple[int, int]:
        if subject not in self.subjects:
            raise RegistryError(404, 40401, f"Subject '{subject}' not found.")
        found = self._find(subject, canonical(json.dumps(self._parse(schema_text))))
        if found is None:
            raise RegistryError(404, 40403, "Schema not found")
        return found

    def version(self, subject: str, version: str) -> tuple[int, int]:
        ids = self.subjects.get(subject)
        if not ids:
            raise RegistryError(404, 40401, f"Subject '{subject}' not found.")
        if version in ("latest", "-1"):
            return ids[-1], len(ids)
        try:
            number = int(version)
        except ValueError as exc:
            raise RegistryError(422, 42202, f"Invalid version {version}") from exc
        if not 1 <= number <= len(ids):
            raise RegistryError(404, 40402, f"Version {version} not found.")
        return ids[number - 1], number

    def schema(self, schema_id: int) -> str:
        if schema_id not in self.schemas:
            raise RegistryError(404, 40403, f"Schema {schema_id} not found")
        return self.schemas[schema_id]


def _error(exc: RegistryError) -> JSONResponse:
    return JSONResponse({"error_code": exc.code, "message": exc.message},
                        status_code=exc.status, media_type=CONTENT_TYPE)


def _ok(body: Any) -> JSONResponse:
    return JSONResponse(body, media_type=CONTENT_TYPE)


async def _body_schema(request: Request) -> str:
    try:
        body = await request.json()
        schema_type = body.get("schemaType", "AVRO") or "AVRO"
        text = body["schema"]
    except (ValueError, KeyError, AttributeError) as exc:
        raise RegistryError(422, 42201, "request body needs a 'schema' string") from exc
    if schema_type != "AVRO":
        raise RegistryError(422, 42201, f"schema type {schema_type} is not supported here")
    if not isinstance(text, str):
        raise RegistryError(422, 42201, "'schema' must be a string")
    return text


def create_app(store: SchemaStore) -> Starlette:
    """The REST app over `store` (Starlette: small, no validation layer in the way)."""

    def guarded(handler: Any) -> Any:
        async def endpoint(request: Request) -> JSONResponse:
            try:
                response: JSONResponse = await handler(request)
                return response
            except RegistryError as exc:
                return _error(exc)
        return endpoint

    async def root(_: Request) -> JSONResponse:
        return _ok({})

    async def subjects(_: Request) -> JSONResponse:
        return _ok(sorted(store.subjects))

    async def register(request: Request) -> JSONResponse:
        subject = request.path_params["subject"]
        text = await _body_schema(request)
        schema_id, version = store.register(subject, text)
        return _ok({"id": schema_id, "subject": subject, "version": version,
                    "schema": store.schema(schema_id)})

    async def versions(request: Request) -> JSONResponse:
        subject = request.path_params["subject"]
        if subject not in store.subjects:
            raise RegistryError(404, 40401, f"Subject '{subject}' not found.")
        return _ok(list(range(1, len(store.subjects[subject]) + 1)))

    async def get_version(request: Request) -> JSONResponse:
        subject = request.path_params["subject"]
        schema_id, version = store.version(subject, request.path_params["version"])
        return _ok({"subject": subject, "id": schema_id, "version": version,
                    "schema": store.schema(schema_id)})

    async def lookup(request: Request) -> JSONResponse:
        subject = request.path_params["subject"]
        schema_id, version = store.lookup(subject, await _body_schema(request))
        return _ok({"subject": subject, "id": schema_id, "version": version,
                    "schema": store.schema(schema_id)})

    async def by_id(request: Request) -> JSONResponse:
        try:
            schema_id = int(request.path_params["schema_id"])
        except ValueError as exc:
            raise RegistryError(404, 40403, "Schema not found") from exc
        return _ok({"schema": store.schema(schema_id)})

    async def config(request: Request) -> JSONResponse:
        subject = request.path_params.get("subject")
        if request.method == "PUT":
            try:
                level = (await request.json())["compatibility"]
            except (ValueError, KeyError, TypeError) as exc:
                raise RegistryError(422, 42203, "body needs 'compatibility'") from exc
            return _ok({"compatibility": store.set_level(subject, str(level))})
        return _ok({"compatibilityLevel": store.level(subject)})

    async def test_compatibility(request: Request) -> JSONResponse:
        subject = request.path_params["subject"]
        problems = store.check(subject, await _body_schema(request))
        return _ok({"is_compatible": not problems, "messages": problems})

    routes = [
        Route("/", guarded(root)),
        Route("/subjects", guarded(subjects)),
        Route("/subjects/{subject}/versions", guarded(register), methods=["POST"]),
        Route("/subjects/{subject}/versions", guarded(versions), methods=["GET"]),
        Route("/subjects/{subject}/versions/{version}", guarded(get_version)),
        Route("/subjects/{subject}", guarded(lookup), methods=["POST"]),
        Route("/schemas/ids/{schema_id}", guarded(by_id)),
        Route("/config", guarded(config), methods=["GET", "PUT"]),
        Route("/config/{subject}", guarded(config), methods=["GET", "PUT"]),
        Route("/compatibility/subjects/{subject}/versions/{version}",
              guarded(test_compatibility), methods=["POST"]),
    ]
    return Starlette(routes=routes)


class RegistryServer:
    """uvicorn serving the registry in a background thread (tests, `pipeline up`, bench)."""

    def __init__(self, store: SchemaStore, host: str = "127.0.0.1", port: int = 0) -> None:
        import uvicorn
        from aiinfra_shared.procs.ports import free_port

        self.port = port or free_port()
        self.url = f"http://{host}:{self.port}"
        self._server = uvicorn.Server(uvicorn.Config(create_app(store), host=host,
                                                     port=self.port, log_level="warning",
                                                     access_log=False))
        self._thread = threading.Thread(target=self._server.run, name="registry", daemon=True)

    def start(self, timeout: float = 15.0) -> RegistryServer:
        import time

        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"schema registry did not start on {self.url}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
