"""Change sets: made, described, listed, deleted and executed as CloudFormation does (cfn/changesets.py)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud.tests.test_cloudformation import Requests, custom, provider, template, wait  # noqa: F401 - provider is a fixture

TOKEN_PARAMETER = {"Token": {"Type": "String"}, "Level": {"Type": "String", "Default": "INFO"},
                   "Secret": {"Type": "String", "NoEcho": True, "Default": "hidden-value"}}


def settled(cfn: Any, change_set_id: str, timeout: float = 30.0) -> dict[str, Any]:
    """The change set once CloudFormation has finished making it (CREATE_COMPLETE or FAILED)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        described = cfn.describe_change_set(ChangeSetName=change_set_id)
        if described["Status"] in ("CREATE_COMPLETE", "FAILED"):
            return described
        assert described["Status"] in ("CREATE_PENDING", "CREATE_IN_PROGRESS"), described
        time.sleep(0.05)
    raise AssertionError(f"{change_set_id} still {described['Status']}")


def deployed_stack(lc: Any, provider: dict[str, Any], unique: Any) -> tuple[Any, str, str, str]:
    cfn = lc.client("cloudformation")
    name = unique("changes")
    body = template("", {
        "Kept": {"Type": "Custom::Thing", "Properties": {"ServiceToken": {"Ref": "Token"}, "Name": "kept", "Level": {"Ref": "Level"}}},
        "Renamed": {"Type": "Custom::Thing", "Properties": {"ServiceToken": {"Ref": "Token"}, "Name": "one"}},
        "Dropped": {"Type": "Custom::Thing", "Properties": {"ServiceToken": {"Ref": "Token"}, "Name": "dropped"}},
    }, Parameters=TOKEN_PARAMETER)
    stack_id = cfn.create_stack(StackName=name, TemplateBody=body, Parameters=[{"ParameterKey": "Token", "ParameterValue": provider["topic"]}])["StackId"]
    assert wait(cfn, stack_id)["StackStatus"] == "CREATE_COMPLETE"
    return cfn, name, stack_id, body


def test_an_update_change_set_lists_each_change_and_executes_as_an_update(lc, provider, unique):
    cfn, name, stack_id, body = deployed_stack(lc, provider, unique)
    reqs = Requests(provider, stack_id)
    made = len(reqs.wait(3))
    new_body = template("", {
        "Kept": {"Type": "Custom::Thing", "Properties": {"ServiceToken": {"Ref": "Token"}, "Name": "kept", "Level": {"Ref": "Level"}}},
        "Renamed": {"Type": "Custom::Thing", "Properties": {"ServiceToken": {"Ref": "Token"}, "Name": "two"}},
        "Added": {"Type": "Custom::Thing", "Properties": {"ServiceToken": {"Ref": "Token"}, "After": {"Ref": "Renamed"}}},
    }, Parameters=TOKEN_PARAMETER)
    answer = cfn.create_change_set(StackName=name, ChangeSetName="review-1", TemplateBody=new_body, Description="rename one",
                                   Parameters=[{"ParameterKey": "Token", "UsePreviousValue": True},
                                               {"ParameterKey": "Level", "ParameterValue": "ERROR"}])
    assert answer["StackId"] == stack_id
    assert answer["Id"].startswith(f"arn:aws:cloudformation:us-east-1:{lc.management}:changeSet/review-1/")
    described = settled(cfn, answer["Id"])
    assert described["Status"] == "CREATE_COMPLETE" and described["ExecutionStatus"] == "AVAILABLE", described
    assert (described["ChangeSetName"], described["StackName"], described["Description"]) == ("review-1", name, "rename one")
    assert {p["ParameterKey"]: p["ParameterValue"] for p in described["Parameters"]} == {
        "Token": provider["topic"], "Level": "ERROR", "Secret": "****"}
    changes = {c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"] for c in described["Changes"]}
    assert all(c["Type"] == "Resource" for c in described["Changes"])
    assert changes["Added"]["Action"] == "Add" and "PhysicalResourceId" not in changes["Added"]
    assert changes["Dropped"]["Action"] == "Remove" and changes["Dropped"]["PolicyAction"] == "Delete"
    assert changes["Dropped"]["PhysicalResourceId"].startswith("Dropped-")
    renamed = changes["Renamed"]
    assert (renamed["Action"], renamed["Replacement"], renamed["Scope"]) == ("Modify", "False", ["Properties"])
    assert renamed["Details"] == [{"Target": {"Attribute": "Properties", "Name": "Name", "RequiresRecreation": "Never"},
                                   "Evaluation": "Static", "ChangeSource": "DirectModification"}]
    kept = changes["Kept"]["Details"]
    assert kept == [{"Target": {"Attribute": "Properties", "Name": "Level", "RequiresRecreation": "Never"},
                     "Evaluation": "Static", "ChangeSource": "ParameterReference", "CausingEntity": "Level"}]
    # The change set's template, in both stages; the stack's own template is unchanged until it runs.
    for stage in ("Original", "Processed"):
        got = cfn.get_template(StackName=name, ChangeSetName="review-1", TemplateStage=stage)
        assert got["TemplateBody"] == json.loads(new_body) and got["StagesAvailable"] == ["Original", "Processed"]
    assert cfn.get_template(ChangeSetName=answer["Id"])["TemplateBody"] == json.loads(new_body)
    assert cfn.get_template(StackName=name)["TemplateBody"] == json.loads(body)
    summaries = cfn.list_change_sets(StackName=name)["Summaries"]
    assert [(s["ChangeSetName"], s["Status"], s["ExecutionStatus"]) for s in summaries] == [("review-1", "CREATE_COMPLETE", "AVAILABLE")]
    time.sleep(0.2)
    assert len(reqs.all()) == made  # making a change set sends nothing

    other = cfn.create_change_set(StackName=name, ChangeSetName="review-2", UsePreviousTemplate=True,
                                  Parameters=[{"ParameterKey": "Token", "UsePreviousValue": True}, {"ParameterKey": "Level", "ParameterValue": "NONE"}])
    assert settled(cfn, other["Id"])["Status"] == "CREATE_COMPLETE"
    cfn.execute_change_set(ChangeSetName="review-1", StackName=name)
    assert wait(cfn, stack_id)["StackStatus"] == "UPDATE_COMPLETE"
    assert cfn.describe_change_set(ChangeSetName=answer["Id"])["ExecutionStatus"] == "EXECUTE_COMPLETE"
    got = reqs.wait(made + 4)[made:]
    assert sorted((r["request"]["RequestType"], r["request"]["LogicalResourceId"]) for r in got) == [
        ("Create", "Added"), ("Delete", "Dropped"), ("Update", "Kept"), ("Update", "Renamed")]
    assert cfn.get_template(StackName=name)["TemplateBody"] == json.loads(new_body)
    # Executing one change set deletes the stack's others.
    with pytest.raises(ClientError) as exc:
        cfn.describe_change_set(ChangeSetName=other["Id"])
    assert exc.value.response["Error"]["Code"] == "ChangeSetNotFound"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as exc:
        cfn.execute_change_set(ChangeSetName=answer["Id"])
    assert exc.value.response["Error"]["Code"] == "InvalidChangeSetStatus"
    assert "EXECUTE_COMPLETE" in exc.value.response["Error"]["Message"]


def test_a_change_set_with_no_changes_fails_and_cannot_run(lc, provider, unique):
    cfn, name, _, _ = deployed_stack(lc, provider, unique)
    answer = cfn.create_change_set(StackName=name, ChangeSetName="same", UsePreviousTemplate=True,
                                   Parameters=[{"ParameterKey": "Token", "UsePreviousValue": True}])
    described = settled(cfn, answer["Id"])
    assert (described["Status"], described["ExecutionStatus"]) == ("FAILED", "UNAVAILABLE")
    assert described["StatusReason"] == "The submitted information didn't contain changes. Submit different information to create a change set."
    assert not described.get("Changes")
    with pytest.raises(ClientError) as exc:
        cfn.execute_change_set(ChangeSetName=answer["Id"])
    assert exc.value.response["Error"]["Code"] == "InvalidChangeSetStatus"
    cfn.delete_change_set(ChangeSetName="same", StackName=name)
    assert cfn.list_change_sets(StackName=name)["Summaries"] == []


def test_a_stack_updated_since_makes_its_change_set_obsolete(lc, provider, unique):
    cfn, name, stack_id, body = deployed_stack(lc, provider, unique)
    answer = cfn.create_change_set(StackName=name, ChangeSetName="stale", TemplateBody=body.replace('"dropped"', '"gone"'),
                                   Parameters=[{"ParameterKey": "Token", "UsePreviousValue": True}])
    assert settled(cfn, answer["Id"])["ExecutionStatus"] == "AVAILABLE"
    cfn.update_stack(StackName=name, UsePreviousTemplate=True, Parameters=[
        {"ParameterKey": "Token", "UsePreviousValue": True}, {"ParameterKey": "Level", "ParameterValue": "ERROR"}])
    assert wait(cfn, stack_id)["StackStatus"] == "UPDATE_COMPLETE"
    assert cfn.describe_change_set(ChangeSetName=answer["Id"])["ExecutionStatus"] == "OBSOLETE"
    with pytest.raises(ClientError) as exc:
        cfn.execute_change_set(ChangeSetName=answer["Id"])
    assert exc.value.response["Error"]["Code"] == "InvalidChangeSetStatus"


def test_a_create_change_set_makes_a_stack_in_review_then_creates_it(lc, provider, unique):
    cfn = lc.client("cloudformation")
    name = unique("review")
    body = template("", {"Only": custom(provider["topic"], Name="only")})
    answer = cfn.create_change_set(StackName=name, ChangeSetName="first", ChangeSetType="CREATE", TemplateBody=body)
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackId"] == answer["StackId"] and stack["StackStatus"] == "REVIEW_IN_PROGRESS"
    described = settled(cfn, answer["Id"])
    assert [(c["ResourceChange"]["Action"], c["ResourceChange"]["LogicalResourceId"], c["ResourceChange"]["ResourceType"])
            for c in described["Changes"]] == [("Add", "Only", "Custom::Thing")]
    with pytest.raises(ClientError) as exc:  # the stack exists only for its change sets
        cfn.create_change_set(StackName=name, ChangeSetName="update", ChangeSetType="UPDATE", TemplateBody=body)
    assert f"Stack [{name}] does not exist" in str(exc.value)
    cfn.execute_change_set(ChangeSetName="first", StackName=name)
    assert wait(cfn, answer["StackId"])["StackStatus"] == "CREATE_COMPLETE"
    assert cfn.describe_change_set(ChangeSetName=answer["Id"])["ExecutionStatus"] == "EXECUTE_COMPLETE"
    assert Requests(provider, answer["StackId"]).wait(1)[0]["request"]["RequestType"] == "Create"
    with pytest.raises(ClientError) as exc:
        cfn.create_change_set(StackName=name, ChangeSetName="again", ChangeSetType="CREATE", TemplateBody=body)
    assert "already exists and cannot be created again with the changeSet [again]" in str(exc.value)


@pytest.mark.parametrize("call,kwargs,code,says", [
    ("describe_change_set", {"ChangeSetName": "nope"}, "ValidationError", "StackName must be specified if ChangeSetName is not specified as an ARN."),
    ("describe_change_set", {"ChangeSetName": "nope", "StackName": "STACK"}, "ChangeSetNotFound", "ChangeSet [nope] does not exist"),
    ("delete_change_set", {"ChangeSetName": "nope", "StackName": "STACK"}, "ChangeSetNotFound", "ChangeSet [nope] does not exist"),
    ("get_template", {"ChangeSetName": "nope", "StackName": "STACK"}, "ChangeSetNotFound", "ChangeSet [nope] does not exist"),
    ("execute_change_set", {"ChangeSetName": "arn:aws:cloudformation:us-east-1:123456789012:changeSet/x/y"}, "ChangeSetNotFound", "does not exist"),
    ("create_change_set", {"ChangeSetName": "c", "StackName": "never-made", "TemplateBody": "Resources: {A: {Type: Custom::X, Properties: {ServiceToken: x}}}"},
     "ValidationError", "Stack [never-made] does not exist"),
    ("create_change_set", {"ChangeSetName": "c", "StackName": "STACK", "TemplateBody": "Resources: {R: {Type: AWS::IAM::Role, Properties: {RoleName: r, AssumeRolePolicyDocument: {}}}}"},
     "InsufficientCapabilitiesException", "CAPABILITY_NAMED_IAM"),
    ("create_change_set", {"ChangeSetName": "c", "StackName": "STACK", "TemplateBody": "{}"}, "ValidationError", "At least one Resources member"),
])
def test_change_set_calls_refuse_as_the_api_reference_says(lc, provider, unique, call, kwargs, code, says):
    cfn, name, _, _ = deployed_stack(lc, provider, unique)
    kwargs = {k: (name if v == "STACK" else v) for k, v in kwargs.items()}
    with pytest.raises(ClientError) as exc:
        getattr(cfn, call)(**kwargs)
    assert exc.value.response["Error"]["Code"] == code
    assert says in exc.value.response["Error"]["Message"]


def test_a_change_set_name_is_unique_per_stack(lc, provider, unique):
    cfn, name, _, body = deployed_stack(lc, provider, unique)
    changed = body.replace('"kept"', '"kept-2"')
    cfn.create_change_set(StackName=name, ChangeSetName="twice", TemplateBody=changed, Parameters=[{"ParameterKey": "Token", "UsePreviousValue": True}])
    with pytest.raises(ClientError) as exc:
        cfn.create_change_set(StackName=name, ChangeSetName="twice", TemplateBody=changed, Parameters=[{"ParameterKey": "Token", "UsePreviousValue": True}])
    assert exc.value.response["Error"]["Code"] == "AlreadyExistsException"


def test_a_member_account_sees_only_its_own_change_sets(lc, provider, unique):
    cfn, name, _, body = deployed_stack(lc, provider, unique)
    answer = cfn.create_change_set(StackName=name, ChangeSetName="mine", TemplateBody=body.replace('"kept"', '"kept-3"'),
                                   Parameters=[{"ParameterKey": "Token", "UsePreviousValue": True}])
    member = lc.client("cloudformation", account=lc.members[0])
    with pytest.raises(ClientError) as exc:
        member.describe_change_set(ChangeSetName=answer["Id"])
    assert exc.value.response["Error"]["Code"] == "ChangeSetNotFound"
