import json
import zipfile
from pathlib import Path

import pytest

from imgsec.adapters.safetydb import load_safety_db, spec_to_affected
from imgsec.adapters.vulndb import VulnDB, import_records, info, read_osv_sources
from imgsec.errors import InvalidInputError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "osv"


@pytest.mark.points(2)
def test_import_fixture_directory_and_zip(tmp_path: Path) -> None:
    records = read_osv_sources([FIXTURES])
    db_path = tmp_path / "v.db"
    first = import_records(db_path, records, "fixtures", replace=True)
    assert first.records == len(records) == 13
    archive = tmp_path / "extra.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("EXTRA-1.json", json.dumps({"id": "EXTRA-1", "affected": [
            {"package": {"ecosystem": "npm", "name": "left-pad"}, "versions": ["1.0.0"]}]}))
    second = import_records(db_path, read_osv_sources([archive]), str(archive))
    assert second.records == 14 and second.sources == ["fixtures", str(archive)]
    with VulnDB(db_path) as db:
        assert [r["id"] for r in db.candidates("npm", "left-pad")] == ["EXTRA-1"]
        assert {r["id"] for r in db.candidates("PyPI", "pyyaml")} == {"PYSEC-2021-142"}
        assert db.candidates("PyPI", "pyyaml", indexed=False) == db.candidates("PyPI", "PyYAML")


@pytest.mark.points(3)
@pytest.mark.hidden
def test_malformed_record_names_file_and_id_and_leaves_db_unchanged(tmp_path: Path) -> None:
    db_path = tmp_path / "v.db"
    import_records(db_path, read_osv_sources([FIXTURES]), "fixtures", replace=True)
    before = db_path.read_bytes()
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"id": "GOOD-1", "affected": []},
                               {"id": "BAD-7", "affected": [{"package": {"name": "x"}}]}]))
    with pytest.raises(InvalidInputError, match=r"bad\.json: record BAD-7: .*ecosystem"):
        import_records(db_path, read_osv_sources([FIXTURES, bad]), "x")
    assert db_path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json", "v.db"]  # no temp left


@pytest.mark.points(1)
def test_not_json_is_named(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"id": ')
    with pytest.raises(InvalidInputError, match=r"broken\.json: not valid JSON"):
        read_osv_sources([broken])


@pytest.mark.points(2)
def test_safety_db_conversion() -> None:
    assert spec_to_affected("django", ">=2.0,<2.2.5") == {
        "package": {"ecosystem": "PyPI", "name": "django"},
        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.0"}, {"fixed": "2.2.5"}]}]}
    assert spec_to_affected("x", "==1.3")["versions"] == ["1.3"]  # type: ignore[index]
    assert spec_to_affected("x", ">1.0") is None
    records, skipped = load_safety_db()
    assert len(records) > 2000 and skipped >= 0
    assert all(r["affected"] for r in records)


@pytest.mark.points(1)
def test_info_reports_age(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    db_path = tmp_path / "v.db"
    import_records(db_path, [], "empty", now=datetime(2020, 1, 1, tzinfo=UTC))
    assert info(db_path).age_days() > 365
