"""Hand-made images for unit tests: layers from {path: content} dicts, no tarballs."""

from __future__ import annotations

from imgsec.model import FileEntry, History, Image, Layer


def layer(index: int, files: dict[str, str | bytes] | None = None,
          whiteouts: set[str] | None = None, opaque: set[str] | None = None,
          modes: dict[str, int] | None = None, created_by: str = "") -> Layer:
    result = Layer(index=index, digest=f"sha256:{index:064d}", created_by=created_by,
                   whiteouts=set(whiteouts or ()), opaque_dirs=set(opaque or ()))
    for path, content in (files or {}).items():
        data = content.encode() if isinstance(content, str) else content
        mode = (modes or {}).get(path, 0o644)
        result.files[path] = FileEntry(path, "file", mode, len(data))
        result.contents[path] = data
    return result


def image(layers: list[Layer], config: dict | None = None,  # type: ignore[type-arg]
          history: list[str] | None = None, name: str = "example/app:1.0") -> Image:
    steps = [History(h) for h in (history or [lay.created_by for lay in layers])]
    return Image(name=name, image_id="sha256:" + "ab" * 32, layers=layers,
                 config=dict(config or {}), history=steps)
