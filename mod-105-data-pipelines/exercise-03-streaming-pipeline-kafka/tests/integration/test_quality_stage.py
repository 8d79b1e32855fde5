"""The quality consumer group against the real broker: DLQ with headers, counts per rule."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner

from streamml import stages
from streamml.adapters.serde import EventCodec
from streamml.cli import cli
from streamml.config import Settings
from tests.helpers import headers_of, read_topic
from tests.integration.conftest import settings_env

pytestmark = pytest.mark.integration


@pytest.mark.points(8)
def test_planted_defects_land_in_the_dlq_with_headers_and_the_rest_flow(
        make_settings: Callable[..., Settings]) -> None:
    s = make_settings("dlq")
    env = settings_env(s)
    runner = CliRunner()
    result = runner.invoke(cli, ["topics", "create"], env=env)
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["produce", "--events", "300", "--users", "6", "--poison", "3",
                                 "--unknown-schema", "2", "--invalid", "4", "--duplicates",
                                 "5"], env=env)
    assert result.exit_code == 0, result.output
    outcome = stages.run_validate(s, idle_exit=1.5, handle_signals=False)

    bootstrap = s.kafka.bootstrap_servers
    dead = read_topic(bootstrap, s.kafka.dlq_topic)
    reasons = Counter(headers_of(m)["dlq.reason"] for m in dead)
    assert reasons == {"undecodable": 3, "unknown_schema": 2, "amount_in_range": 2,
                       "user_id_present": 2, "duplicate": 5}
    assert outcome.counts["amount_in_range"] == 2 and outcome.counts["duplicate"] == 5
    # Each dead letter says where it came from, and that record holds the same bytes.
    raw = {(m.partition(), m.offset()): m.value() for m in read_topic(bootstrap,
                                                                      s.kafka.events_topic)}
    for message in dead:
        h = headers_of(message)
        assert h["source.topic"] == s.kafka.events_topic
        assert raw[(int(h["source.partition"]), int(h["source.offset"]))] == message.value()
    # Every good event passed exactly once, in spite of the poison in its partitions.
    codec = EventCodec(s.kafka.schema_registry_url)
    valid = [codec.decode(s.kafka.valid_topic, m.value())
             for m in read_topic(bootstrap, s.kafka.valid_topic)]
    ids = Counter(e["event_id"] for e in valid)
    assert len(ids) == 300 and set(ids.values()) == {1}
    assert outcome.stats.records_in == 314 == outcome.stats.records_out


@pytest.mark.points(2)
def test_missing_topic_is_a_one_line_not_found(make_settings: Callable[..., Settings]) -> None:
    s = make_settings("missing")
    result = CliRunner().invoke(cli, ["validate", "--until-idle", "1"], env=settings_env(s))
    assert result.exit_code == 4
    assert result.output.strip().splitlines() == [
        f"error: topic {s.kafka.events_topic!r} does not exist on "
        f"{s.kafka.bootstrap_servers} (create it with `streamml topics create`)"]


@pytest.mark.points(2)
@pytest.mark.hidden
def test_lag_command_counts_produced_but_unconsumed(make_settings: Callable[..., Settings],
                                                   wait_for: Any) -> None:
    s = make_settings("lagcli")
    env = settings_env(s)
    runner = CliRunner()
    assert runner.invoke(cli, ["topics", "create"], env=env).exit_code == 0
    assert runner.invoke(cli, ["produce", "--events", "40"], env=env).exit_code == 0
    result = runner.invoke(cli, ["lag", "--group", s.quality.group_id, "--topic",
                                 s.kafka.events_topic, "--json"], env=env)
    assert result.exit_code == 0, result.output
    import json

    assert json.loads(result.output)["total"] == 40
    stages.run_validate(s, idle_exit=1.0, max_records=25, handle_signals=False)
    time.sleep(0.2)
    result = runner.invoke(cli, ["lag", "--group", s.quality.group_id, "--topic",
                                 s.kafka.events_topic, "--json"], env=env)
    assert json.loads(result.output)["total"] == 15
