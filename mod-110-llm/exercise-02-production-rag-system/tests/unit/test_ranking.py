"""Fusion, MMR and BM25 math on hand-made inputs with hand-computed expectations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ragkit.adapters.chroma import Hit
from ragkit.retrieval import (
    BM25Index,
    collapse_by_source,
    matches,
    mmr_select,
    rrf_fuse,
    tokenize,
)


@pytest.mark.points(4)
def test_rrf_matches_hand_computed_scores() -> None:
    vector = ["a", "b", "c"]
    bm25 = ["c", "a", "d"]
    fused = dict(rrf_fuse([vector, bm25], k=60))
    assert fused["a"] == pytest.approx(1 / 61 + 1 / 62)
    assert fused["c"] == pytest.approx(1 / 63 + 1 / 61)
    assert fused["b"] == pytest.approx(1 / 62)
    assert fused["d"] == pytest.approx(1 / 63)
    order = [doc for doc, _ in rrf_fuse([vector, bm25], k=60)]
    assert order == ["a", "c", "b", "d"]  # a: 1/61+1/62 > c: 1/61+1/63


@pytest.mark.points(3)
@pytest.mark.hidden
def test_rrf_weights_and_small_k_change_the_winner() -> None:
    vector, bm25 = ["x", "y"], ["y", "x"]
    assert rrf_fuse([vector, bm25], k=1, weights=[2.0, 1.0])[0][0] == "x"
    assert rrf_fuse([vector, bm25], k=1, weights=[1.0, 2.0])[0][0] == "y"
    top = rrf_fuse([vector, bm25], k=1, weights=[2.0, 1.0])[0][1]
    assert top == pytest.approx(2 / 2 + 1 / 3)
    with pytest.raises(ValueError):
        rrf_fuse([vector, bm25], weights=[1.0])


@pytest.mark.points(4)
def test_mmr_skips_near_duplicates() -> None:
    query = np.array([1.0, 0.0], dtype=np.float32)
    a = np.array([1.0, 0.0])
    dup = np.array([0.999, 0.0447])
    other = np.array([0.6, 0.8])
    cands = np.stack([a, dup, other]).astype(np.float32)
    cands /= np.linalg.norm(cands, axis=1, keepdims=True)
    assert mmr_select(query, cands, 2, lambda_=1.0) == [0, 1]  # relevance only
    # lambda 0.3, after picking a: dup 0.3*0.999 - 0.7*0.999 = -0.40 < other 0.3*0.6 - 0.7*0.6
    picked = mmr_select(query, cands, 2, lambda_=0.3)
    assert picked == [0, 2]


@pytest.mark.points(4)
def test_bm25_idf_and_ranking_by_hand() -> None:
    recs = [Hit("d1", "kafka consumer lag", {"s": 1}, 0.0),
            Hit("d2", "postgres replication lag", {"s": 2}, 0.0),
            Hit("d3", "kafka broker disk kafka", {"s": 1}, 0.0)]
    index = BM25Index(recs, k1=1.2, b=0.0)  # b=0: no length normalisation, easy by hand
    scores = index.scores("postgres")
    idf = math.log(1 + (3 - 1 + 0.5) / (1 + 0.5))
    assert scores[1] == pytest.approx(idf * 1 * 2.2 / (1 + 1.2))
    assert scores[0] == 0 and scores[2] == 0
    kafka = index.scores("kafka")
    assert kafka[2] > kafka[0] > 0  # tf 2 beats tf 1
    assert [h.id for h in index.search("kafka", 5, filters={"s": 1})] == ["d3", "d1"]
    assert [h.id for h in index.search("kafka", 5, filters={"s": 2})] == []


@pytest.mark.points(2)
def test_tokenize_keeps_identifiers_and_their_parts() -> None:
    toks = tokenize("Run etcd-defrag on orders.v2 and the 169.254.20.10 cache")
    assert "etcd-defrag" in toks and "etcd" in toks and "defrag" in toks
    assert "orders.v2" in toks and "169.254.20.10" in toks
    assert "the" not in toks


@pytest.mark.points(2)
@pytest.mark.hidden
def test_metadata_filter_language() -> None:
    meta = {"kind": "pdf", "page": 2}
    assert matches(meta, {"kind": "pdf"})
    assert matches(meta, {"kind": {"$in": ["pdf", "html"]}, "page": 2})
    assert not matches(meta, {"kind": {"$ne": "pdf"}})
    assert not matches(meta, {"page": 3})


@pytest.mark.points(3)
def test_convex_fusion_keeps_score_margins() -> None:
    from ragkit.retrieval import convex_fuse

    cosine = {"a": 0.80, "b": 0.30, "c": 0.20}
    coverage = {"a": 0.10, "b": 0.40, "c": 0.00}
    fused = dict(convex_fuse(cosine, coverage, 1.0, 0.5))
    assert fused["a"] == pytest.approx((0.80 + 0.5 * 0.10) / 1.5)
    assert fused["b"] == pytest.approx((0.30 + 0.5 * 0.40) / 1.5)
    # RRF would put b (rank 2 and 1) ahead of a (ranks 1 and 2) with bm25 weighted 1; the
    # convex mean keeps a's large cosine lead
    assert [i for i, _ in convex_fuse(cosine, coverage, 1.0, 0.5)] == ["a", "b", "c"]
    assert next(i for i, _ in convex_fuse(cosine, coverage, 0.0, 1.0)) == "b"
    with pytest.raises(ValueError, match="must not both be 0"):
        convex_fuse(cosine, coverage, 0.0, 0.0)


@pytest.mark.points(2)
def test_bm25_ceiling_and_heading_field() -> None:
    records = [Hit("1", "restart the pod", {"section": "Deploy > Rollback"}, 0.0),
               Hit("2", "rollback steps for the deploy", {"section": "Other"}, 0.0),
               Hit("3", "nothing related here", {"section": ""}, 0.0)]
    index = BM25Index(records)
    ceiling = index.ceiling("rollback")
    idf = math.log(1 + (3 - 1 + 0.5) / (1 + 0.5))
    assert ceiling == pytest.approx(idf * 2.2)  # idf * (k1 + 1)
    assert 0 < index.scores("rollback").max() / ceiling < 1
    # a term the index never saw counts with df = 0: coverage of the query drops
    assert index.ceiling("rollback zzzunknown") > ceiling + math.log(1 + 3.5 / 0.5) * 2.2 - 1e-9
    assert index.scores("rollback")[0] == 0.0  # heading ignored by default
    weighted = BM25Index(records, heading_weight=2.0)
    assert weighted.scores("rollback")[0] > 0.0  # the section heading now counts


@pytest.mark.points(3)
def test_collapse_by_source_holds_back_a_documents_extra_chunks() -> None:
    def hit(chunk: str) -> Hit:
        return Hit(chunk, chunk, {"source": chunk[0]}, 0.0)

    ranked = [hit(c) for c in ("a1", "a2", "b1", "a3", "c1", "b2")]
    ids = [h.id for h in collapse_by_source(ranked, 1)]
    assert ids == ["a1", "b1", "c1", "a2", "a3", "b2"]  # best chunk of each, then the rest
    assert [h.id for h in collapse_by_source(ranked, 2)] == ["a1", "a2", "b1", "c1", "b2", "a3"]
    assert collapse_by_source(ranked, 0) == ranked  # off
    assert collapse_by_source([], 1) == []
