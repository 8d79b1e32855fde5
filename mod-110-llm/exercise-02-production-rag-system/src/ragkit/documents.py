"""Loading, cleaning and chunking documents (PDF, HTML, Markdown, text) into `Chunk`s.

Splitting goes through LangChain's text splitters so the strategies match what teams use in
production: recursive character, Markdown-header aware (section titles become metadata), and
token windows with overlap (counted with the embedding model's own tokenizer, so a chunk never
exceeds what the embedder sees).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragkit.config import ChunkingSettings

SUPPORTED_SUFFIXES = {".pdf", ".html", ".htm", ".md", ".markdown", ".txt", ".text"}


class DocumentError(Exception):
    """A document that cannot be ingested (unreadable, encrypted, empty, unsupported)."""


@dataclass(frozen=True)
class Page:
    """A unit of loaded text with its page number (1-based; 0 when the format has no pages)."""

    text: str
    page: int = 0


@dataclass(frozen=True)
class Document:
    """A loaded source file: `source` is its path relative to the ingested folder."""

    source: str
    kind: str
    pages: list[Page]
    content_hash: str


@dataclass(frozen=True)
class Chunk:
    """One indexed piece of a document; `id` is deterministic so re-ingestion is idempotent."""

    id: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)


def sha256(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()


# --------------------------------------------------------------------------- loading


def clean_text(text: str) -> str:
    """Normalise unicode, drop control characters, de-hyphenate line breaks, squeeze blanks."""
    # BEGIN SOLUTION: NFKC, drop control chars, join hyphenated breaks, squeeze blank space
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    text = re.sub(r"(\w)-\n(\w)", r"\1\2", text)
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()
    # END SOLUTION


def _load_pdf(path: Path) -> list[Page]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            raise DocumentError("encrypted PDF (no password support)")
        pages = [Page(page.extract_text() or "", i + 1) for i, page in enumerate(reader.pages)]
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise DocumentError(f"unreadable PDF ({type(exc).__name__}: {exc})") from exc
    return pages


def html_to_markdown(html: str) -> str:
    """Keep headings as Markdown `#` lines so the header-aware splitter still sees sections."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "nav", "footer", "head"]):
        tag.decompose()
    # generated sites (Sphinx, Asciidoctor) repeat their sidebars and TOCs on every page:
    # the same links in every document would only add noise to every chunk
    for tag in soup.select('[role="navigation"], [role="search"], .sphinxsidebar, #toc'):
        tag.decompose()
    for level in range(1, 7):
        for heading in soup.find_all(f"h{level}"):
            heading.replace_with(f"\n\n{'#' * level} {heading.get_text(' ', strip=True)}\n\n")
    for item in soup.find_all("li"):
        item.insert_before("\n- ")
    for block in soup.find_all(["p", "pre", "div", "tr", "br"]):
        block.insert_after("\n\n")
    return soup.get_text()


def load_document(path: Path, root: Path) -> Document:
    """Read and clean one file; raises `DocumentError` with a reason for anything unusable."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(f"unsupported type '{suffix or path.name}'")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"cannot read ({exc.strerror})") from exc
    if not raw.strip():
        raise DocumentError("empty file")
    if suffix == ".pdf":
        pages = _load_pdf(path)
        kind = "pdf"
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DocumentError(f"not UTF-8 text (byte {exc.start})") from exc
        if suffix in {".html", ".htm"}:
            text, kind = html_to_markdown(text), "html"
        elif suffix in {".md", ".markdown"}:
            kind = "markdown"
        else:
            kind = "text"
        pages = [Page(text, 0)]
    pages = [Page(clean_text(p.text), p.page) for p in pages]
    pages = [p for p in pages if p.text]
    if not pages:
        raise DocumentError("no extractable text")
    return Document(source=path.relative_to(root).as_posix(), kind=kind, pages=pages,
                    content_hash=sha256(raw))


def iter_files(root: Path) -> Iterator[Path]:
    """Every regular file under `root` (sorted, hidden files and folders skipped)."""
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.is_file():
            yield path


# --------------------------------------------------------------------------- chunking

TokenCounter = tuple[Callable[[str], list[int]], Callable[[list[int]], str]]


def chunking_fingerprint(settings: ChunkingSettings) -> str:
    """Short hash of the chunking parameters: stored per chunk so a change forces re-embedding."""
    key = f"{settings.strategy}:{settings.chunk_size}:{settings.chunk_overlap}"
    if settings.section_headers:
        key += ":headers"  # only then: indexes built without the option keep their fingerprint
    return sha256(key)[:12]


def _split_page(text: str, settings: ChunkingSettings,
                tokenizer: TokenCounter | None) -> list[tuple[str, str]]:
    """Split one page into (section, text) pairs with the configured LangChain splitter."""
    # BEGIN SOLUTION: token windows, recursive splits, or Markdown sections then recursive
    from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter
    from langchain_text_splitters.base import Tokenizer, split_text_on_tokens

    size = settings.chunk_size
    overlap = min(settings.chunk_overlap, size // 2)
    if settings.strategy == "token":
        if tokenizer is None:
            raise ValueError("the 'token' strategy needs the embedding tokenizer")
        encode, decode = tokenizer
        spec = Tokenizer(chunk_overlap=overlap, tokens_per_chunk=size, decode=decode,
                         encode=encode)
        return [("", piece.strip()) for piece in split_text_on_tokens(text=text, tokenizer=spec)]
    recursive = RecursiveCharacterTextSplitter(chunk_size=size, chunk_overlap=overlap)
    if settings.strategy == "recursive":
        return [("", piece) for piece in recursive.split_text(text)]
    headers = [("#", "h1"), ("##", "h2"), ("###", "h3")]
    sections = MarkdownHeaderTextSplitter(headers, strip_headers=False).split_text(text)
    out: list[tuple[str, str]] = []
    for section in sections:
        title = " > ".join(str(section.metadata[h]) for _, h in headers if h in section.metadata)
        out.extend((title, piece) for piece in recursive.split_text(section.page_content))
    return out
    # END SOLUTION


def chunk_document(doc: Document, settings: ChunkingSettings,
                   tokenizer: TokenCounter | None = None) -> list[Chunk]:
    """Chunks with metadata: source, kind, page, section, chunk/document hashes, position."""
    # BEGIN SOLUTION: a Chunk per piece: deterministic id; source, page, section, hashes
    fingerprint = chunking_fingerprint(settings)
    chunks: list[Chunk] = []
    for page in doc.pages:
        for section, text in _split_page(page.text, settings, tokenizer):
            if not text.strip():
                continue
            if settings.section_headers and section:
                text = f"{section}\n{text}"
            index = len(chunks)
            chunks.append(Chunk(
                id=sha256(f"{doc.source}\0{doc.content_hash}\0{fingerprint}\0{index}")[:32],
                text=text,
                metadata={
                    "source": doc.source, "kind": doc.kind, "page": page.page,
                    "section": section, "chunk_index": index,
                    "content_hash": sha256(text)[:16], "doc_hash": doc.content_hash,
                    "chunking": fingerprint,
                },
            ))
    for chunk in chunks:
        chunk.metadata["doc_chunks"] = len(chunks)
    return chunks
    # END SOLUTION
