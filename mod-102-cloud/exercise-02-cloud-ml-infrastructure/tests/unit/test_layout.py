from pathlib import Path

import pytest

from cloudml.errors import UsageError
from cloudml.layout import (
    StateStore,
    Target,
    backend_config,
    lock_key,
    module_dir,
    parse_target,
    root_dir,
    state_key,
)

pytestmark = pytest.mark.points(1)


def test_parse_target_normalises_case() -> None:
    assert parse_target(" AWS", "Prod ") == Target("aws", "prod")


@pytest.mark.parametrize(("cloud", "env", "word"), [("aws2", "dev", "cloud"),
                                                    ("gcp", "qa", "env")])
def test_unknown_names_are_usage_errors(cloud: str, env: str, word: str) -> None:
    with pytest.raises(UsageError, match=f"unknown {word}"):
        parse_target(cloud, env)


def test_paths_and_keys() -> None:
    target = Target("azure", "staging")
    assert root_dir(Path("tf"), target) == Path("tf/envs/azure/staging")
    assert module_dir(Path("tf"), "gcp") == Path("tf/modules/gcp/ml-platform")
    assert state_key(target) == "azure/staging/terraform.tfstate"
    assert lock_key(target) == "azure/staging/terraform.tfstate.tflock"


@pytest.mark.points(2)
def test_s3_backend_has_one_key_per_target_and_native_locking() -> None:
    store = StateStore(s3_bucket="states", s3_region="eu-west-1")
    dev = backend_config(Target("aws", "dev"), store)
    prod = backend_config(Target("aws", "prod"), store)
    assert dev == {"bucket": "states", "key": "aws/dev/terraform.tfstate",
                   "region": "eu-west-1", "encrypt": "true", "use_lockfile": "true"}
    assert prod["key"] == "aws/prod/terraform.tfstate"
    assert "dynamodb_table" not in dev


@pytest.mark.hidden
@pytest.mark.points(2)
def test_gcs_and_azurerm_backends() -> None:
    store = StateStore(s3_bucket="states", gcs_bucket="gstates",
                       azure_resource_group="rg", azure_storage_account="acct")
    assert backend_config(Target("gcp", "prod"), store) == {"bucket": "gstates",
                                                            "prefix": "gcp/prod"}
    azure = backend_config(Target("azure", "dev"), store)
    assert azure["key"] == "azure/dev/terraform.tfstate"
    assert (azure["resource_group_name"], azure["storage_account_name"]) == ("rg", "acct")
    assert azure["container_name"] == "tfstate"
