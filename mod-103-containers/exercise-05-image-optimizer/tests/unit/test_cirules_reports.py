"""dive-compatible CI rules, recommendations and the three report formats."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest

from imgopt.cirules import CIConfigError, evaluate, load_rules, parse_bytes
from imgopt.dockerfile_model import parse
from imgopt.layers import analyse
from imgopt.model import Entry, Image, Layer
from imgopt.recommend import layer_durations, rank
from imgopt.report import to_document, to_html, to_markdown
from imgopt.rules import lint

DOCKERFILE = ("FROM scratch\nCOPY busybox /bin/busybox\nRUN dd of=/big\nRUN rm /big\n"
              "COPY t /t\nRUN chmod 755 /t\n")


def image() -> Image:
    layers = (Layer(0, "a", "COPY busybox", (Entry("bin/busybox", "file", 1000, digest="b"),)),
              Layer(1, "b", "/bin/sh -c dd of=/big", (Entry("big", "file", 5000, digest="g"),)),
              Layer(2, "c", "/bin/sh -c rm /big", (Entry("big", "whiteout"),)),
              Layer(3, "d", "COPY t", (Entry("t", "file", 2000, digest="t"),)),
              Layer(4, "e", "/bin/sh -c chmod 755 /t",
                    (Entry("t", "file", 2000, mode=0o755, digest="t"),)))
    history = [{"created": f"2026-01-01T00:00:{s:02d}Z", "created_by": "x"}
               for s in (0, 1, 9, 10, 11)]
    return Image("img", layers, {"history": history})


@pytest.mark.points(2)
@pytest.mark.parametrize(("value", "expected"), [
    ("20MB", 20_000_000), ("1.5MiB", 1_572_864), (1000, 1000), ("3 kB", 3000), ("7", 7)])
def test_parse_bytes_like_dive(value: object, expected: int) -> None:
    assert parse_bytes(value) == expected


@pytest.mark.points(3)
def test_ci_rules_pass_fail_skip() -> None:
    analysis = analyse(image())
    # efficiency = (1000 + 0 + 2000) / (1000 + 5000 + 4000) = 0.3
    results = {r.rule: r.status for r in evaluate(analysis, load_rules(
        {"rules": {"lowestEfficiency": 0.3, "highestWastedBytes": "8kB",
                   "highestUserWastedPercent": "disabled", "maxSize": "10kB",
                   "maxLayers": 4}}))}
    assert results == {"lowestEfficiency": "PASS", "highestWastedBytes": "FAIL",
                       "highestUserWastedPercent": "SKIP", "maxSize": "PASS",
                       "maxLayers": "FAIL"}
    defaults = {r.rule: r.status for r in evaluate(analysis, load_rules(None))}
    assert defaults["lowestEfficiency"] == "FAIL" and defaults["maxSize"] == "SKIP"


@pytest.mark.points(1)
def test_ci_config_errors() -> None:
    with pytest.raises(CIConfigError, match="unknown rule"):
        load_rules({"rules": {"lowestEfficency": 0.9}})
    with pytest.raises(CIConfigError, match="not a byte size"):
        evaluate(analyse(image()), load_rules({"rules": {"maxSize": "lots"}}))


@pytest.mark.points(3)
def test_recommendations_ranked_and_tied_to_findings() -> None:
    df = parse(DOCKERFILE)
    img = image()
    recs = rank(lint(df), df, analyse(img), img.config)
    # the layer of line 4 is credited once (to the first finding on it), never twice
    assert [(r.source, r.bytes_saved) for r in recs[:2]] == [("IMG003@4", 5000),
                                                             ("IMG004@6", 2000)]
    assert ("IMG007@4", 0) in [(r.source, r.bytes_saved) for r in recs]
    assert layer_durations(img.config) == [0.0, 1.0, 8.0, 1.0, 1.0]


@pytest.mark.hidden
@pytest.mark.points(2)
def test_image_only_recommendations_name_the_layer() -> None:
    recs = rank([], None, analyse(image()), None)
    assert [(r.source, r.bytes_saved) for r in recs] == [("layer 2", 5000), ("layer 4", 2000)]
    assert "rm /big" in recs[0].title


@pytest.mark.points(2)
def test_reports_json_markdown_html() -> None:
    analysis = analyse(image())
    document = json.loads(json.dumps(to_document(analysis)))
    assert document["reclaimable_bytes"] == 7000
    assert document["waste"][0] == {"path": "/big", "size": 5000, "reason": "deleted-later",
                                    "layer": 1, "created_by": "/bin/sh -c dd of=/big",
                                    "by_layer": 2, "by_created_by": "/bin/sh -c rm /big",
                                    "detail": ""}
    markdown = to_markdown(analysis)
    assert "| reclaimable (hidden copies) | 7.0 kB |" in markdown
    page = to_html(analysis)
    tables: list[str] = []

    class Tables(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "table":
                tables.append(dict(attrs).get("id") or "")

    Tables().feed(page)
    assert tables == ["layers", "dirs", "waste"]
    assert page.count("<tr><td>") >= 5 + 1 + 2
