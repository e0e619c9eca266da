"""StackSets: instances are stacks in the target accounts, deployed through the same custom resource path."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud.tests.test_cloudformation import Requests, provider  # noqa: F401 - the shared function fixture

TEMPLATE = """
Parameters:
  ServiceToken: {Type: String}
  Level: {Type: String, Default: INFO, AllowedValues: [INFO, ERROR]}
  FailOn: {Type: String, Default: none}
Resources:
  Channel:
    Type: Custom::Channel
    Properties:
      ServiceToken: !Ref ServiceToken
      Name: !Sub "chan-${AWS::AccountId}"
      Level: !Ref Level
      FailOn: !Ref FailOn
"""


def wait_operation(cfn: Any, name: str, operation_id: str, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        op = cfn.describe_stack_set_operation(StackSetName=name, OperationId=operation_id)["StackSetOperation"]
        if op["Status"] not in ("RUNNING", "QUEUED"):
            return op
        time.sleep(0.1)
    raise AssertionError(f"operation {operation_id} still running")


def param(key: str, value: str) -> dict[str, str]:
    return {"ParameterKey": key, "ParameterValue": value}


def test_self_managed_stack_set_lifecycle_with_overrides(lc, provider, unique):  # noqa: F811
    cfn = lc.client("cloudformation")
    a, b = lc.members[1], lc.members[2]
    name = unique("set")
    set_id = cfn.create_stack_set(StackSetName=name, TemplateBody=TEMPLATE, Parameters=[param("ServiceToken", provider["topic"])])["StackSetId"]
    assert set_id.startswith(f"{name}:")
    op_id = cfn.create_stack_instances(StackSetName=name, Accounts=[a, b], Regions=["us-east-1"],
                                       ParameterOverrides=[param("Level", "ERROR")])["OperationId"]
    with pytest.raises(ClientError) as exc:  # one operation at a time
        cfn.create_stack_instances(StackSetName=name, Accounts=[a], Regions=["us-east-1"])
    assert exc.value.response["Error"]["Code"] == "OperationInProgressException"
    op = wait_operation(cfn, name, op_id)
    assert op["Status"] == "SUCCEEDED" and op["Action"] == "CREATE"
    summaries = cfn.list_stack_instances(StackSetName=name)["Summaries"]
    again = cfn.list_stack_instances(StackSetName=name)["Summaries"]
    assert {s["StackId"] for s in summaries} == {s["StackId"] for s in again}  # stable across calls
    assert {(s["Account"], s["Status"], s["StackInstanceStatus"]["DetailedStatus"]) for s in summaries} == {(a, "CURRENT", "SUCCEEDED"), (b, "CURRENT", "SUCCEEDED")}
    by_account = {s["Account"]: s["StackId"] for s in summaries}
    for account, stack_id in by_account.items():
        assert stack_id.split(":")[4] == account and f":stack/StackSet-{name}-" in stack_id
        stack = lc.client("cloudformation", account).describe_stacks(StackName=stack_id)["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE"
        got = Requests(provider, stack_id).wait(1)
        assert got[0]["request"]["ResourceProperties"]["Level"] == "ERROR"
        assert got[0]["request"]["ResourceProperties"]["Name"] == f"chan-{account}"
        assert got[0]["view"]["resource"]["ResourceStatus"] == "CREATE_IN_PROGRESS"
    instance = cfn.describe_stack_instance(StackSetName=name, StackInstanceAccount=a, StackInstanceRegion="us-east-1")["StackInstance"]
    assert instance["ParameterOverrides"] == [param("Level", "ERROR")] and instance["StackId"] == by_account[a]
    described = cfn.describe_stack_set(StackSetName=name)["StackSet"]
    assert described["PermissionModel"] == "SELF_MANAGED" and described["Regions"] == ["us-east-1"] and "Channel" in described["TemplateBody"]

    # Override one instance back to INFO: only its stack gets an Update.
    op_id = cfn.update_stack_instances(StackSetName=name, Accounts=[b], Regions=["us-east-1"], ParameterOverrides=[param("Level", "INFO")])["OperationId"]
    assert wait_operation(cfn, name, op_id)["Status"] == "SUCCEEDED"
    got_b = Requests(provider, by_account[b]).wait(2)
    assert got_b[1]["request"]["RequestType"] == "Update" and got_b[1]["request"]["ResourceProperties"]["Level"] == "INFO"
    assert got_b[1]["request"]["OldResourceProperties"]["Level"] == "ERROR"
    assert len(Requests(provider, by_account[a]).all()) == 1

    # b's function fails every Update from now on (FailOn=Update): the operation fails, b's instance is OUTDATED.
    op_id = cfn.update_stack_instances(StackSetName=name, Accounts=[b], Regions=["us-east-1"],
                                       ParameterOverrides=[param("FailOn", "Update")])["OperationId"]
    op = wait_operation(cfn, name, op_id)
    assert op["Status"] == "FAILED" and op["StatusDetails"]["FailedStackInstancesCount"] == 1
    # A new template for every instance: one failure is tolerated.
    op_id = cfn.update_stack_set(StackSetName=name, TemplateBody=TEMPLATE.replace("chan-", "channel-"),
                                 Parameters=[param("ServiceToken", provider["topic"])],
                                 OperationPreferences={"FailureToleranceCount": 1})["OperationId"]
    op = wait_operation(cfn, name, op_id)
    assert op["Status"] == "SUCCEEDED", op
    assert Requests(provider, by_account[a]).all()[-1]["request"]["ResourceProperties"]["Name"] == f"channel-{a}"
    statuses = {s["Account"]: (s["Status"], s["StackInstanceStatus"]["DetailedStatus"], s.get("StatusReason", ""))
                for s in cfn.list_stack_instances(StackSetName=name)["Summaries"]}
    assert statuses[a][:2] == ("CURRENT", "SUCCEEDED")
    assert statuses[b][:2] == ("OUTDATED", "FAILED") and "ResourceLogicalId:Channel" in statuses[b][2]
    assert lc.client("cloudformation", b).describe_stacks(StackName=by_account[b])["Stacks"][0]["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    results = cfn.list_stack_set_operation_results(StackSetName=name, OperationId=op_id)["Summaries"]
    assert {r["Account"]: r["Status"] for r in results} == {a: "SUCCEEDED", b: "FAILED"}
    assert [o["OperationId"] for o in cfn.list_stack_set_operations(StackSetName=name)["Summaries"]][0] == op_id

    with pytest.raises(ClientError) as exc:
        cfn.delete_stack_set(StackSetName=name)
    assert exc.value.response["Error"]["Code"] == "StackSetNotEmptyException"
    op_id = cfn.delete_stack_instances(StackSetName=name, Accounts=[a, b], Regions=["us-east-1"], RetainStacks=False)["OperationId"]
    assert wait_operation(cfn, name, op_id)["Status"] == "SUCCEEDED"
    assert cfn.list_stack_instances(StackSetName=name)["Summaries"] == []
    for account, stack_id in by_account.items():
        assert lc.client("cloudformation", account).describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"] == "DELETE_COMPLETE"
        assert Requests(provider, stack_id).all()[-1]["request"]["RequestType"] == "Delete"
    cfn.delete_stack_set(StackSetName=name)
    with pytest.raises(ClientError) as exc:
        cfn.describe_stack_set(StackSetName=name)
    assert exc.value.response["Error"]["Code"] == "StackSetNotFoundException"


def test_service_managed_targets_organizational_units_but_not_the_management_account(lc, provider, unique):  # noqa: F811
    cfn = lc.client("cloudformation")
    root = lc.client("organizations").list_roots()["Roots"][0]["Id"]
    name = unique("org-set")
    cfn.create_stack_set(StackSetName=name, TemplateBody=TEMPLATE, Parameters=[param("ServiceToken", provider["topic"])],
                         PermissionModel="SERVICE_MANAGED", AutoDeployment={"Enabled": False})
    with pytest.raises(ClientError):
        cfn.create_stack_instances(StackSetName=name, Accounts=[lc.members[0]], Regions=["us-east-1"])
    targets = lc.members[:2]
    op_id = cfn.create_stack_instances(StackSetName=name, Regions=["us-east-1"], CallAs="SELF",
                                       DeploymentTargets={"OrganizationalUnitIds": [root], "Accounts": targets, "AccountFilterType": "INTERSECTION"})["OperationId"]
    assert wait_operation(cfn, name, op_id)["Status"] == "SUCCEEDED"
    summaries = cfn.list_stack_instances(StackSetName=name, CallAs="SELF")["Summaries"]
    assert sorted(s["Account"] for s in summaries) == sorted(targets)
    assert all(s["OrganizationalUnitId"] == root for s in summaries)
    described = cfn.describe_stack_set(StackSetName=name, CallAs="SELF")["StackSet"]
    assert described["PermissionModel"] == "SERVICE_MANAGED" and described["OrganizationalUnitIds"] == [root]

    # Every account of the root: the management account is never a target.
    op_id = cfn.create_stack_instances(StackSetName=name, Regions=["us-east-1"], DeploymentTargets={"OrganizationalUnitIds": [root]})["OperationId"]
    assert wait_operation(cfn, name, op_id)["Status"] == "SUCCEEDED"
    accounts = {s["Account"] for s in cfn.list_stack_instances(StackSetName=name)["Summaries"]}
    assert accounts == set(lc.members) and lc.management not in accounts
    op_id = cfn.delete_stack_instances(StackSetName=name, Regions=["us-east-1"], RetainStacks=False,
                                       DeploymentTargets={"OrganizationalUnitIds": [root]})["OperationId"]
    assert wait_operation(cfn, name, op_id, timeout=90)["Status"] == "SUCCEEDED"
    assert cfn.list_stack_instances(StackSetName=name)["Summaries"] == []
