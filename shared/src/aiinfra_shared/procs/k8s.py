"""A Kubernetes API for tests: kmock's emulator, made stateful enough for kopf and the client.

No real API server can be installed on these machines. kmock (by kopf's author) emulates
the API over HTTP: discovery, list/watch/get/create/patch/delete on declared resources, an
in-memory object store. On its own it leaves objects without `metadata.uid`,
`resourceVersion`, `generation` and `creationTimestamp` (which breaks `kopf.adopt()`,
owner references and finalizer patches), cannot serve the `namespaces` resource itself
(`/api/v1/namespaces` answers 500), ignores PUT and returns lists without `kind`.
`StatefulEmulator` fills those gaps:

- create assigns uid, an increasing resourceVersion, generation 1, creationTimestamp, the
  URL's namespace, `generateName`, apiVersion and kind;
- patch (merge or JSON patch) and PUT bump resourceVersion on any change and generation on a
  change outside metadata/status; a stale `metadata.resourceVersion` answers 409 Conflict,
  a failed JSON-patch `test` op 422 (as the API server does);
- delete bumps resourceVersion (and generation when finalizers hold the object);
- `/api/v1/namespaces[/NAME]` works (so kopf runs without `-A` too); `default` and
  `kube-system` exist from the start;
- lists carry apiVersion, `<Kind>List` and a resourceVersion; equality `labelSelector`s
  (`a=b`, `a!=b`, `a`, `!a`) filter lists;
- creating a CustomResourceDefinition declares its resource.

Still not done (by design of an emulator): nothing runs (no pods, no controllers, no
scheduler), no garbage collection of owned objects, no admission webhooks called, no
validation against schemas, set-based label selectors and field selectors are ignored,
watches from a list's resourceVersion replay (as ADDED) only the objects changed since,
and lose no event written while that replay is sent (kmock's own replay everything), and
a no-op patch still emits a MODIFIED event (with an unchanged resourceVersion), and a write
that a kmock reaction intercepts (`emulator["patch"] << 500`) is still applied to the store.

Needs the `k8s` extra (kmock).

Runtime code (an exercise's `make run`, its benchmark) imports it from here; tests get the
same names from `aiinfra_shared.testing.k8s` and the `k8s_api` fixture. It needs kmock (the
`k8s` extra) and imports no pytest.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import datetime
import gzip
import importlib.resources
import json
import re
import secrets
import string
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp.test_utils
import aiohttp.web
import attrs
import jsonpatch
import kmock
import yaml
import yarl
from kmock._internal import dicts as kmock_dicts  # the patch logic kmock itself applies

T = TypeVar("T")

NAMESPACES = kmock.resource("", "v1", "namespaces")
CRDS = kmock.resource("apiextensions.k8s.io", "v1", "customresourcedefinitions")
DEFAULT_VERBS = frozenset({"create", "delete", "deletecollection", "get", "list", "patch",
                           "update", "watch"})
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# kmock's path parser reads `namespaces` as the namespace keyword, so namespace objects are
# routed through a placeholder plural and mapped back before anything else sees them.
_NAMESPACE_PATH = re.compile(
    r"^/api/v1/namespaces(?:/(?P<name>[^/]+)(?:/(?P<sub>status|finalize))?)?/?$")
_PLACEHOLDER = "aiinfra-namespace-objects"
_PLACEHOLDER_RESOURCE = kmock.resource("", "v1", _PLACEHOLDER)


def _now() -> str:
    return datetime.datetime.now(tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _body(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The parts whose change bumps `generation`: all but metadata and status."""
    return {k: v for k, v in obj.items() if k not in {"metadata", "status"}}


def _conflict(message: str) -> kmock.KubernetesError:
    return kmock.KubernetesError(status=409, reason="Conflict", message=message)


def _revision_of(obj: Mapping[str, Any]) -> int:
    version = str((obj.get("metadata") or {}).get("resourceVersion") or "")
    return int(version) if version.isdigit() else 0


def _labels_match(labels: Mapping[str, str], selector: str) -> bool:
    """Equality-based label selector; set-based terms (`in`, `notin`) match everything."""
    for term in filter(None, (t.strip() for t in selector.split(","))):
        if " in " in term or " notin " in term:
            continue
        if "!=" in term:
            key, value = (p.strip() for p in term.split("!=", 1))
            if labels.get(key) == value:
                return False
        elif "=" in term:
            key, value = (p.strip() for p in term.replace("==", "=").split("=", 1))
            if labels.get(key) != value:
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


@attrs.define(kw_only=True)
class StatefulEmulator(kmock.KubernetesEmulator):
    """kmock's KubernetesEmulator plus the metadata bookkeeping a real API server does."""

    _revision: int = attrs.field(default=0, init=False)

    # ---------------------------------------------------------------- bookkeeping

    def next_revision(self) -> str:
        self._revision += 1
        return str(self._revision)

    @property
    def revision(self) -> int:
        return self._revision

    def _info(self, resource: kmock.resource) -> kmock.ResourceInfo | None:
        # not .get(): kmock's ResourcesArray creates missing entries on lookup
        return self.resources[resource] if resource in self.resources else None  # noqa: SIM401

    def kind_of(self, resource: kmock.resource) -> str:
        info = self._info(resource)
        if info is not None and info.kind:
            return info.kind
        plural = resource.plural or ""
        return plural[:-1].capitalize() if plural.endswith("s") else plural.capitalize()

    @staticmethod
    def api_version_of(resource: kmock.resource) -> str:
        return f"{resource.group}/{resource.version}" if resource.group else str(resource.version)

    def declare(self, group: str, version: str, plural: str, kind: str, *,
                namespaced: bool = True, singular: str | None = None,
                shortnames: Iterable[str] = (), subresources: Iterable[str] = ("status",),
                verbs: Iterable[str] = DEFAULT_VERBS) -> kmock.resource:
        """Make a resource discoverable (kopf watches only resources discovery lists)."""
        resource = kmock.resource(group, version, plural)
        self.resources[resource] = kmock.ResourceInfo(
            kind=kind, namespaced=namespaced, singular=singular or kind.lower(),
            shortnames=set(shortnames), subresources=set(subresources), verbs=set(verbs))
        return resource

    def declare_crd(self, crd: Mapping[str, Any]) -> list[kmock.resource]:
        """Declare every served version of a CustomResourceDefinition manifest."""
        spec = crd.get("spec", {})
        names = spec.get("names", {})
        declared = []
        for version in spec.get("versions", []):
            if version.get("served", True):
                declared.append(self.declare(
                    spec["group"], version["name"], names["plural"], names["kind"],
                    namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                    singular=names.get("singular"), shortnames=names.get("shortNames", ()),
                    subresources=version.get("subresources", {}).keys()))
        return declared

    def stamp_new(self, resource: kmock.resource, namespace: str | None,
                  obj: dict[str, Any]) -> dict[str, Any]:
        """Fill in what the API server sets on create (in place; returns `obj`)."""
        meta = obj.get("metadata")
        if not isinstance(meta, dict):
            meta = obj["metadata"] = {}
        if not meta.get("name") and meta.get("generateName"):
            suffix = "".join(secrets.choice(string.ascii_lowercase + string.digits)
                             for _ in range(5))
            meta["name"] = f"{meta['generateName']}{suffix}"
        info = self._info(resource)
        if namespace and (info is None or info.namespaced is not False):
            meta.setdefault("namespace", namespace)
        meta["uid"] = str(uuid.uuid4())
        meta["resourceVersion"] = self.next_revision()
        meta["generation"] = 1
        meta["creationTimestamp"] = _now()
        obj.setdefault("apiVersion", self.api_version_of(resource))
        obj.setdefault("kind", self.kind_of(resource))
        return obj

    async def seed(self, resource: kmock.resource, namespace: str | None, name: str,
                   body: Mapping[str, Any]) -> dict[str, Any]:
        """Store an object as if created through the API (no request is logged)."""
        obj = copy.deepcopy(dict(body))
        obj.setdefault("metadata", {})["name"] = name
        self.stamp_new(resource, namespace, obj)
        async with self._lock:
            self.objects[resource, namespace, name] = obj
            await self._buses[resource].put({"type": "ADDED", "object": obj})
        return obj

    # ---------------------------------------------------------------- request routing

    async def __call__(self, raw_request: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        match = _NAMESPACE_PATH.match(raw_request.path)
        if match:
            path = f"/api/v1/{_PLACEHOLDER}"
            if match["name"]:
                path += f"/{match['name']}" + (f"/{match['sub']}" if match["sub"] else "")
            raw_request = raw_request.clone(
                rel_url=yarl.URL.build(path=path, query=raw_request.rel_url.query))
        return await super().__call__(raw_request)

    def _unplaceholder(self, request: kmock.Request) -> kmock.Request:
        if request.resource != _PLACEHOLDER_RESOURCE:
            return request
        url = yarl.URL(str(request.url).replace(f"/{_PLACEHOLDER}", "/namespaces", 1))
        fixed = attrs.evolve(request, resource=NAMESPACES, url=url)
        for index in range(len(self._requests) - 1, -1, -1):
            if self._requests[index] is request:
                self._requests[index] = fixed
                break
        return fixed

    async def _handle(self, request: kmock.Request) -> aiohttp.web.StreamResponse:
        request = self._unplaceholder(request)
        resource = request.resource
        if resource is None:
            return await super()._handle(request)
        if request.method == kmock.method.PUT and request.name:
            return await self._replace(request, resource)
        if request.action == kmock.action.CREATE and isinstance(request.data, dict):
            self.stamp_new(resource, request.namespace, request.data)
            if resource == CRDS:
                self.declare_crd(request.data)
        elif request.action == kmock.action.UPDATE and request.name:
            self._stamp_patch(request, resource)
        elif request.action == kmock.action.DELETE and request.name:
            self._stamp_delete(request, resource)
        response = await super()._handle(request)
        if request.action == kmock.action.CREATE and response.status == 200 \
                and not response.prepared:
            # the API answers 201 Created; the client's CustomObjectsApi drops other codes
            response.set_status(201)
        return response

    def _current(self, resource: kmock.resource, namespace: str | None,
                 name: str) -> kmock.Object | None:
        key = (resource, namespace, name)
        if key not in self.objects or self.objects[key].deleted:
            return None
        return self.objects[key]

    def _stamp_patch(self, request: kmock.Request, resource: kmock.resource) -> None:
        """Predict the patched object (with kmock's own patch logic) and add the bookkeeping
        fields to the patch itself, so the stored version, the response and the watch event
        all carry them."""
        assert request.name is not None
        obj = self._current(resource, request.namespace, request.name)
        if obj is None:
            return  # kmock answers 404
        current = copy.deepcopy(obj.raw)
        meta = current.get("metadata", {})
        patch = request.data
        if isinstance(patch, dict):
            wanted = (patch.get("metadata") or {}).get("resourceVersion")
            if wanted and str(wanted) != str(meta.get("resourceVersion")):
                raise _conflict(f"resourceVersion {wanted} is stale "
                                f"(now {meta.get('resourceVersion')})")
        try:
            predicted = dict(kmock_dicts.patch_dict(copy.deepcopy(current), patch))
        except jsonpatch.JsonPatchTestFailed as exc:
            # the API server answers 422 to a failed `test` op (kopf's optimistic concurrency
            # on finalizers relies on it: kmock's 500 makes kopf retry the stale patch)
            raise kmock.KubernetesError(status=422, reason="Invalid", message=str(exc)) from exc
        except Exception:  # kmock reports the malformed patch itself
            return
        predicted_meta = dict(predicted.get("metadata") or {})
        predicted_meta.pop("resourceVersion", None)
        current_meta = {k: v for k, v in meta.items() if k != "resourceVersion"}
        if predicted_meta == current_meta and predicted.get("status") == current.get("status") \
                and _body(predicted) == _body(current):
            return  # a no-op patch keeps its resourceVersion
        generation = int(meta.get("generation") or 1)
        if _body(predicted) != _body(current):
            generation += 1
        stamps = {"resourceVersion": self.next_revision(), "generation": generation}
        if isinstance(patch, dict):
            if not isinstance(patch.get("metadata"), dict):
                patch["metadata"] = {}
            patch["metadata"].update(stamps)
        elif isinstance(patch, list):
            patch.extend({"op": "add", "path": f"/metadata/{k}", "value": v}
                         for k, v in stamps.items())

    def _stamp_delete(self, request: kmock.Request, resource: kmock.resource) -> None:
        assert request.name is not None
        obj = self._current(resource, request.namespace, request.name)
        if obj is None:
            return
        meta = dict(obj.raw.get("metadata") or {})  # .raw: plain dicts, not kmock views
        if meta.get("deletionTimestamp"):
            return  # already terminating: kmock changes nothing
        meta["resourceVersion"] = self.next_revision()
        if meta.get("finalizers"):
            meta["generation"] = int(meta.get("generation") or 1) + 1
        obj.last["metadata"] = meta  # a new dict: earlier versions keep theirs

    async def _replace(self, request: kmock.Request,
                       resource: kmock.resource) -> aiohttp.web.StreamResponse:
        """PUT: replace the object (or its status), with the usual optimistic concurrency."""
        assert request.name is not None
        if not isinstance(request.data, dict):
            raise kmock.KubernetesError(status=400, reason="BadRequest",
                                        message="PUT needs a JSON object")
        async with self._lock:
            obj = self._current(resource, request.namespace, request.name)
            if obj is None:
                raise kmock.KubernetesObjectNotFoundError()
            current = copy.deepcopy(obj.raw)
            meta = dict(current.get("metadata") or {})
            new = copy.deepcopy(request.data)
            wanted = (new.get("metadata") or {}).get("resourceVersion")
            if wanted and str(wanted) != str(meta.get("resourceVersion")):
                raise _conflict(f"resourceVersion {wanted} is stale "
                                f"(now {meta.get('resourceVersion')})")
            if request.subresource == "status":
                new = {**current, "status": new.get("status")}
            else:
                immutable = {k: meta[k] for k in ("uid", "creationTimestamp", "name",
                                                  "namespace", "deletionTimestamp") if k in meta}
                new["metadata"] = {**(new.get("metadata") or {}), **immutable}
            generation = int(meta.get("generation") or 1)
            if _body(new) != _body(current):
                generation += 1
            new["metadata"].update(resourceVersion=self.next_revision(), generation=generation)
            obj.create(new)
            await self._buses[resource].put({"type": "MODIFIED", "object": new})
            if new["metadata"].get("deletionTimestamp") and not new["metadata"].get("finalizers"):
                obj.delete()
                await self._buses[resource].put({"type": "DELETED", "object": new})
        return aiohttp.web.json_response(new)

    async def _serve_watch(self, request: kmock.Request) -> AsyncIterator[kmock.Payload]:
        """kmock's watch, without its two gaps. kmock replays every object as ADDED and only
        then joins the event bus: a write made while the replay is sent is lost, and a client
        that listed first (kopf) gets stale copies after its own newer writes, so it retries
        a finalizer patch against an old resourceVersion and waits forever. Here the bus is
        joined under the same lock as the snapshot, and a watch from a list's
        `resourceVersion` replays only the objects changed since (as the API server does)."""
        yield b""  # send the headers: the client sees a stream even if nothing happens
        assert request.resource is not None
        bus = self._buses[request.resource]
        since = request.params.get("resourceVersion", "")
        since_revision = int(since) if since.isdigit() else -1
        async with self._lock:
            marker = await bus.mark()
            events = [{"type": "ADDED", "object": copy.deepcopy(obj.raw)}
                      for (res, ns, name), obj in self.objects.items()
                      if not obj.deleted and self._watched(request, res, ns, name)
                      and _revision_of(obj.raw) > since_revision]
        try:
            for event in events:
                yield event
            async for event in bus.stream(since=marker):
                meta = event.get("object", {}).get("metadata", {})
                if self._watched(request, request.resource, meta.get("namespace"),
                                 meta.get("name")):
                    yield event
        finally:
            await bus.unmark(marker)

    @staticmethod
    def _watched(request: kmock.Request, resource: kmock.resource, namespace: str | None,
                 name: str | None) -> bool:
        return (resource == request.resource
                and request.namespace in (None, namespace)
                and request.name in (None, name))

    async def _serve_list(self, request: kmock.Request) -> kmock.Payload:
        payload = await super()._serve_list(request)
        if not isinstance(payload, dict) or request.resource is None:
            return payload
        items = list(payload.get("items", []))
        selector = request.params.get("labelSelector")
        if selector:
            items = [item for item in items
                     if _labels_match((item.get("metadata") or {}).get("labels") or {},
                                      selector)]
        return {
            "apiVersion": self.api_version_of(request.resource),
            "kind": f"{self.kind_of(request.resource)}List",
            "metadata": {"resourceVersion": str(self._revision)},
            "items": items,
        }


# --------------------------------------------------------------------------- the server


class _QuickStopServer(aiohttp.test_utils.RawTestServer):
    """aiohttp waits 60 s for open requests at shutdown; a watch stream never finishes, so a
    test whose client still watches would stall its teardown for a minute."""

    async def _make_runner(self, debug: bool = True, **kwargs: Any) -> aiohttp.web.ServerRunner:
        server = aiohttp.web.Server(self._handler, loop=self._loop, debug=debug, **kwargs)
        return aiohttp.web.ServerRunner(server, debug=debug, shutdown_timeout=0.2, **kwargs)


@dataclass(frozen=True)
class ApiRequest:
    """One request the emulator received, as the client sent it."""

    method: str
    path: str
    query: dict[str, str]
    action: str | None  # list, watch, fetch, create, update, delete; replace for PUT
    resource: str | None  # "v1/configmaps", "example.com/v1/widgets"
    namespace: str | None
    name: str | None
    subresource: str | None
    body: Any = None

    @property
    def is_write(self) -> bool:
        return self.method in WRITE_METHODS

    @classmethod
    def from_kmock(cls, request: kmock.Request) -> ApiRequest:
        resource = request.resource
        res_name = None
        if resource is not None:
            prefix = f"{resource.group}/" if resource.group else ""
            res_name = f"{prefix}{resource.version}/{resource.plural}"
        action = request.action.value.lower() if request.action else None
        if request.method == kmock.method.PUT and request.name:
            action = "replace"
        body: Any = None
        if request.text:
            try:
                body = json.loads(request.text)  # what was sent, before any stamping
            except ValueError:
                body = request.text
        return cls(method=str(request.method.value).upper(), path=request.url.path,
                   query=dict(request.params), action=action, resource=res_name,
                   namespace=request.namespace, name=request.name,
                   subresource=request.subresource, body=body)


@dataclass
class K8sApi:
    """A running emulator in a background thread: URL, kubeconfig, request log, objects."""

    work_dir: Path
    url: str = ""
    kubeconfig: Path = field(default_factory=Path)
    emulator: StatefulEmulator | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _stop: asyncio.Event | None = None
    _thread: threading.Thread | None = None
    _ready: threading.Event = field(default_factory=threading.Event)
    _error: BaseException | None = None

    # ---------------------------------------------------------------- lifecycle

    def start(self, timeout: float = 30.0) -> K8sApi:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()),
                                        name="kmock-k8s-api", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout) or self._error is not None:
            raise RuntimeError(f"the Kubernetes API emulator did not start: {self._error!r}")
        self.kubeconfig = self.work_dir / "kubeconfig"
        self.kubeconfig.write_text(yaml.safe_dump(kubeconfig_dict(self.url)))
        return self

    async def _serve(self) -> None:
        try:
            async with StatefulEmulator() as emulator, \
                    kmock.Server(emulator, host="127.0.0.1",
                                 server_cls=_QuickStopServer) as server:
                emulator.resources.load_data(_bundled_resources())
                for name in ("default", "kube-system"):
                    await emulator.seed(NAMESPACES, None, name, {
                        "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
                self.emulator = emulator
                self.url = f"http://127.0.0.1:{server.port}"
                self._loop = asyncio.get_running_loop()
                self._stop = asyncio.Event()
                self._ready.set()
                await self._stop.wait()
        except BaseException as exc:  # reported by start()
            self._error = exc
            self._ready.set()

    def stop(self, timeout: float = 15.0) -> None:
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout)
        self._loop = self._stop = self._thread = None

    def _call(self, fn: Callable[[StatefulEmulator], T]) -> T:
        """Run `fn(emulator)` on the server's loop, so it never races a request (after
        `stop()`, directly: the log and the objects stay readable for assertions)."""
        if self.emulator is None:
            raise RuntimeError("the Kubernetes API emulator was never started")
        emulator = self.emulator
        if self._loop is None or self._loop.is_closed():
            return fn(emulator)

        async def run() -> T:
            return fn(emulator)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=10)

    # ---------------------------------------------------------------- resources

    def declare(self, group: str, version: str, plural: str, kind: str, *,
                namespaced: bool = True, **kwargs: Any) -> str:
        """Declare a custom resource; returns its key, e.g. "example.com/v1/widgets"."""
        self._call(lambda e: e.declare(group, version, plural, kind, namespaced=namespaced,
                                       **kwargs))
        return f"{group}/{version}/{plural}" if group else f"{version}/{plural}"

    def declare_crd(self, crd: Mapping[str, Any] | str | Path) -> list[str]:
        """Declare the resources of a CRD manifest (a dict, YAML text or a YAML file)."""
        if isinstance(crd, Path):
            crd = crd.read_text()
        manifest = yaml.safe_load(crd) if isinstance(crd, str) else dict(crd)
        declared = self._call(lambda e: e.declare_crd(manifest))
        return [f"{r.group}/{r.version}/{r.plural}" for r in declared]

    def seed(self, resource: str, namespace: str | None, name: str,
             body: Mapping[str, Any]) -> dict[str, Any]:
        """Store an object directly (uid and friends assigned; no request logged)."""
        if self._loop is None or self.emulator is None:
            raise RuntimeError("the Kubernetes API emulator is not running")
        future = asyncio.run_coroutine_threadsafe(
            self.emulator.seed(kmock.resource(resource), namespace, name, body), self._loop)
        return future.result(timeout=10)

    # ---------------------------------------------------------------- inspection

    @property
    def requests(self) -> list[ApiRequest]:
        """Every request so far, oldest first."""
        return self._call(lambda e: [ApiRequest.from_kmock(r) for r in e._requests])

    def writes(self) -> list[ApiRequest]:
        """The POST/PUT/PATCH/DELETE requests (assert `== []` for "did not touch anything")."""
        return [r for r in self.requests if r.is_write]

    def clear_requests(self) -> None:
        self._call(lambda e: e._requests.clear())

    def take_requests(self) -> list[ApiRequest]:
        """The requests so far, and clear the log, atomically (none is lost in between).
        kmock matches each request against its whole log, so a long-running benchmark
        keeps the log short this way."""
        def take(emulator: StatefulEmulator) -> list[ApiRequest]:
            taken = [ApiRequest.from_kmock(r) for r in emulator._requests]
            emulator._requests.clear()
            return taken

        return self._call(take)

    def get(self, resource: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        """The stored object (a deep copy), or None when absent or deleted."""
        def read(emulator: StatefulEmulator) -> dict[str, Any] | None:
            key = (kmock.resource(resource), namespace, name)
            if key not in emulator.objects or emulator.objects[key].deleted:
                return None
            return copy.deepcopy(emulator.objects[key].raw)

        return self._call(read)

    def list(self, resource: str, namespace: str | None = None) -> list[dict[str, Any]]:
        """Stored objects of `resource` (in `namespace`, or all)."""
        wanted = kmock.resource(resource)

        def read(emulator: StatefulEmulator) -> list[dict[str, Any]]:
            return [copy.deepcopy(obj.raw) for (res, ns, _), obj in emulator.objects.items()
                    if res == wanted and not obj.deleted and namespace in (None, ns)]

        return self._call(read)

    def client(self) -> Any:
        """A `kubernetes.client.ApiClient` for this emulator (independent of $KUBECONFIG)."""
        from kubernetes import config  # optional dependency (the k8s extra)

        return config.new_client_from_config(config_file=str(self.kubeconfig))  # type: ignore[no-untyped-call]


def _bundled_resources() -> bytes:
    """kmock's bundled discovery data (built-in K3s resources), as `load_bundled()` reads
    it but without its deprecated `importlib.resources.read_binary` call."""
    blob = importlib.resources.files("kmock._internal").joinpath("resources.json.gz")
    return gzip.decompress(blob.read_bytes())


def kubeconfig_dict(server: str, namespace: str = "default") -> dict[str, Any]:
    """A kubeconfig with one cluster/user/context pointing at `server` (plain HTTP)."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "kmock", "cluster": {"server": server}}],
        "users": [{"name": "kmock", "user": {"token": "test-token"}}],
        "contexts": [{"name": "kmock",
                      "context": {"cluster": "kmock", "user": "kmock", "namespace": namespace}}],
        "current-context": "kmock",
    }


def start_k8s_api(work_dir: Path) -> K8sApi:
    """Start an emulator (for a fixture of your own scope); `.stop()` it afterwards."""
    return K8sApi(work_dir=Path(work_dir)).start()


__all__ = [
    "CRDS",
    "NAMESPACES",
    "ApiRequest",
    "K8sApi",
    "StatefulEmulator",
    "kubeconfig_dict",
    "start_k8s_api",
]
