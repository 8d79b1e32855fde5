import json

import pytest
from aiinfra_shared.procs.terraform import TerraformResult

from cloudml.adapters.terraform import error_from_output
from cloudml.errors import CloudMLError, ConflictError, InputError, UnavailableError
from cloudml.layout import Target

DEV = Target("aws", "dev")


def failed(summary: str, detail: str, stderr: str = "") -> TerraformResult:
    line = json.dumps({"@level": "error", "type": "diagnostic",
                       "diagnostic": {"severity": "error", "summary": summary,
                                      "detail": detail}})
    return TerraformResult(("plan",), 1, line + "\n", stderr, 1.0)


pytestmark = pytest.mark.points(1)


def test_held_lock_is_a_conflict_naming_the_holder() -> None:
    detail = ("Error message: operation error S3: PutObject, StatusCode: 412\nLock Info:\n"
              "  ID:        508336e5-992d\n  Path:      b/aws/dev/terraform.tfstate\n"
              "  Operation: OperationTypePlan\n  Who:       root@vm\n")
    error = error_from_output(failed("Error acquiring the state lock", detail), DEV, "plan")
    assert isinstance(error, ConflictError)
    assert "508336e5-992d" in str(error) and "root@vm" in str(error)
    assert "cloudml state unlock --cloud aws --env dev" in str(error)


def test_variable_validation_is_an_input_error_with_the_rule_message() -> None:
    detail = ('\n  on terraform.tfvars line 5:\n   5: network_cidr = "x"\n\n'
              "network_cidr must be a valid IPv4 CIDR between /16 and /22, e.g. 10.20.0.0/16."
              "\n\nThis was checked by the validation rule at variables.tf:40,3-13.")
    error = error_from_output(failed("Invalid value for variable", detail), DEV, "plan")
    assert isinstance(error, InputError)
    assert str(error) == ("aws/dev: invalid variable: network_cidr must be a valid IPv4 CIDR "
                          "between /16 and /22, e.g. 10.20.0.0/16.")


@pytest.mark.hidden
def test_missing_provider_and_other_errors() -> None:
    init = TerraformResult(("init",), 1, "", "Error: Failed to query available provider "
                           "packages\n\nCould not retrieve the list of available versions "
                           "for provider hashicorp/google", 1.0)
    assert isinstance(error_from_output(init, Target("gcp", "dev"), "init"), UnavailableError)
    other = error_from_output(failed("Unsupported argument", "An argument named x is not "
                                     "expected here."), DEV, "plan")
    assert type(other) is CloudMLError
    assert str(other) == ("terraform plan failed for aws/dev: Unsupported argument: An "
                          "argument named x is not expected here.")
    stale = TerraformResult(("apply",), 1, "", "Error: Saved plan is stale", 1.0)
    assert isinstance(error_from_output(stale, DEV, "apply"), ConflictError)
