"""CloudFormation stacks with custom resources sent through SNS to a function, as CloudFormation sends them.

The function (tests/fn_client.py) records each request with what
DescribeStackResource / DescribeStacks / DescribeStackEvents showed in the
stack's account while the request was in flight: what a provider verifies.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud.tests.test_functions import register

TERMINAL = ("_COMPLETE", "_FAILED")


@pytest.fixture(scope="module")
def provider(lc, tmp_path_factory):
    """A function behind an SNS topic of the management account: the ServiceToken."""
    fn = register(lc, "cfn-test-provider", tmp_path_factory.mktemp("provider"), env={"VERIFY": "1"}, timeout=30)
    sns = lc.client("sns")
    topic = sns.create_topic(Name="cfn-test-provider")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=fn["arn"])
    return {"topic": topic, "record": fn["record"], "fn": fn}


def wait(cfn: Any, stack_id: str, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stack = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
        if stack["StackStatus"].endswith(TERMINAL):
            return stack
        time.sleep(0.1)
    raise AssertionError(f"{stack_id} still {stack['StackStatus']}")


class Requests:
    """The requests the function received for one stack, in order."""

    def __init__(self, provider: dict[str, Any], stack_id: str):
        self.path, self.stack_id = provider["record"], stack_id

    def all(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        lines = [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]
        return [r for r in lines if r["request"].get("StackId") == self.stack_id]

    def wait(self, count: int) -> list[dict[str, Any]]:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            got = self.all()
            if len(got) >= count:
                return got
            time.sleep(0.05)
        seen = [(r["request"]["RequestType"], r["request"]["LogicalResourceId"], r["request"].get("PhysicalResourceId")) for r in self.all()]
        raise AssertionError(f"{len(seen)} requests, expected {count}: {seen}")


def template(token: str, resources: dict[str, Any], **extra: Any) -> str:
    return json.dumps({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources, **extra})


def custom(token: str, type_name: str = "Custom::Thing", **props: Any) -> dict[str, Any]:
    return {"Type": type_name, "Properties": {"ServiceToken": token, **props}}


def test_lifecycle_create_update_replace_delete_as_cloudformation_reports_it(lc, provider, unique):
    cfn = lc.client("cloudformation")
    token = provider["topic"]
    body = template(token, {
        "First": custom(token, Name="one", Enabled=True, Count=3, Data={"Arn": "arn:one"}),
        "Second": custom(token, "Custom::Other", After={"Ref": "First"}, FromData={"Fn::GetAtt": ["First", "Arn"]}),
    }, Outputs={"FirstArn": {"Value": {"Fn::GetAtt": ["First", "Arn"]}}, "SecondId": {"Value": {"Ref": "Second"}}})
    name = unique("lifecycle")
    stack_id = cfn.create_stack(StackName=name, TemplateBody=body)["StackId"]
    assert stack_id.startswith(f"arn:aws:cloudformation:us-east-1:{lc.management}:stack/{name}/")
    assert cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"] == "CREATE_IN_PROGRESS"  # asynchronous
    stack = wait(cfn, stack_id)
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack
    reqs = Requests(provider, stack_id)
    first, second = reqs.wait(2)[:2]
    req = first["request"]
    assert req["RequestType"] == "Create" and req["LogicalResourceId"] == "First" and req["ResourceType"] == "Custom::Thing"
    assert req["ResourceProperties"] == {"ServiceToken": token, "Name": "one", "Enabled": "true", "Count": "3", "Data": {"Arn": "arn:one"}}
    assert "PhysicalResourceId" not in req and "OldResourceProperties" not in req
    assert req["ResponseURL"].startswith(lc.endpoint + "/cfn-responses/") and req["ServiceToken"] == token
    # While the Create is in flight: the resource is CREATE_IN_PROGRESS with no physical id.
    assert first["view"]["resource"] == {"ResourceStatus": "CREATE_IN_PROGRESS", "PhysicalResourceId": None,
                                         "ResourceType": "Custom::Thing", "LogicalResourceId": "First"}
    assert first["view"]["stack_status"] == "CREATE_IN_PROGRESS"
    first_id = f"First-{req['RequestId'][:8]}"
    # Dependency order, Ref = physical id, GetAtt = answered Data.
    assert second["request"]["ResourceProperties"]["After"] == first_id
    assert second["request"]["ResourceProperties"]["FromData"] == "arn:one"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs["FirstArn"] == "arn:one"
    resource = cfn.describe_stack_resource(StackName=name, LogicalResourceId="First")["StackResourceDetail"]
    assert resource["PhysicalResourceId"] == first_id and resource["ResourceStatus"] == "CREATE_COMPLETE"

    # Update in place: only the changed resource gets an Update, with OldResourceProperties.
    body2 = body.replace('"Count": 3', '"Count": 4')
    cfn.update_stack(StackName=name, TemplateBody=body2)
    stack = wait(cfn, stack_id)
    assert stack["StackStatus"] == "UPDATE_COMPLETE", stack
    update = reqs.wait(3)[2]
    assert update["request"]["RequestType"] == "Update" and update["request"]["LogicalResourceId"] == "First"
    assert update["request"]["PhysicalResourceId"] == first_id
    assert update["request"]["OldResourceProperties"]["Count"] == "3" and update["request"]["ResourceProperties"]["Count"] == "4"
    assert update["view"]["resource"]["ResourceStatus"] == "UPDATE_IN_PROGRESS"
    assert update["view"]["resource"]["PhysicalResourceId"] == first_id
    assert update["view"]["stack_status"] == "UPDATE_IN_PROGRESS"
    time.sleep(0.3)
    assert len(reqs.all()) == 3  # Second did not change
    with pytest.raises(ClientError) as exc:
        cfn.update_stack(StackName=name, TemplateBody=body2)
    assert "No updates are to be performed." in str(exc.value)

    # Replacement: a new physical id; Second follows (its Ref changed); the old id is deleted in cleanup.
    body3 = body2.replace('"Name": "one"', '"Name": "two", "PhysicalResourceId": "first-v2"')
    cfn.update_stack(StackName=name, TemplateBody=body3)
    stack = wait(cfn, stack_id)
    assert stack["StackStatus"] == "UPDATE_COMPLETE", stack
    got = reqs.wait(6)
    replace, follow, cleanup = got[3], got[4], got[5]
    assert replace["request"]["RequestType"] == "Update" and replace["request"]["PhysicalResourceId"] == first_id
    assert follow["request"]["LogicalResourceId"] == "Second" and follow["request"]["ResourceProperties"]["After"] == "first-v2"
    assert cleanup["request"]["RequestType"] == "Delete" and cleanup["request"]["PhysicalResourceId"] == first_id
    assert cleanup["request"]["ResourceProperties"]["Name"] == "one"  # the old properties go with the old id
    assert cleanup["view"]["stack_status"] == "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"
    assert cleanup["view"]["resource"]["PhysicalResourceId"] == "first-v2"
    assert cleanup["view"]["resource"]["ResourceStatus"] == "UPDATE_COMPLETE"
    assert {"LogicalResourceId": "First", "PhysicalResourceId": first_id, "ResourceStatus": "DELETE_IN_PROGRESS",
            "ResourceType": "Custom::Thing"} in cleanup["view"]["events"]

    # Deletion: reverse order, each DELETE_IN_PROGRESS with its physical id.
    cfn.delete_stack(StackName=name)
    stack = wait(cfn, stack_id)
    assert stack["StackStatus"] == "DELETE_COMPLETE"
    deletes = reqs.wait(8)[6:]
    assert [d["request"]["LogicalResourceId"] for d in deletes] == ["Second", "First"]
    assert deletes[1]["request"]["PhysicalResourceId"] == "first-v2"
    assert deletes[1]["view"]["resource"]["ResourceStatus"] == "DELETE_IN_PROGRESS"
    assert deletes[1]["view"]["resource"]["PhysicalResourceId"] == "first-v2"
    assert deletes[1]["view"]["stack_status"] == "DELETE_IN_PROGRESS"
    with pytest.raises(ClientError) as exc:
        cfn.describe_stacks(StackName=name)  # by name: gone; by id: DELETE_COMPLETE
    assert "does not exist" in str(exc.value)
    statuses = [e["ResourceStatus"] for e in cfn.describe_stack_events(StackName=stack_id)["StackEvents"] if e["LogicalResourceId"] == name]
    assert statuses[0] == "DELETE_COMPLETE" and statuses[-1] == "CREATE_IN_PROGRESS"


def test_failed_create_rolls_back_and_deletes_what_was_made(lc, provider, unique):
    cfn = lc.client("cloudformation")
    token = provider["topic"]
    body = template(token, {
        "Good": custom(token),
        "Bad": {**custom(token, FailOn="Create", Reason="the channel is taken", PhysicalResourceId="bad-placeholder"), "DependsOn": "Good"},
    })
    stack_id = cfn.create_stack(StackName=unique("rollback"), TemplateBody=body)["StackId"]
    stack = wait(cfn, stack_id)
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    got = Requests(provider, stack_id).wait(4)
    assert [(g["request"]["RequestType"], g["request"]["LogicalResourceId"]) for g in got] == [
        ("Create", "Good"), ("Create", "Bad"), ("Delete", "Bad"), ("Delete", "Good")]
    assert got[2]["request"]["PhysicalResourceId"] == "bad-placeholder"
    assert got[2]["view"]["stack_status"] == "ROLLBACK_IN_PROGRESS"
    assert got[2]["view"]["resource"]["ResourceStatus"] == "DELETE_IN_PROGRESS"
    events = cfn.describe_stack_events(StackName=stack_id)["StackEvents"]
    failed = next(e for e in events if e["ResourceStatus"] == "CREATE_FAILED")
    assert failed["LogicalResourceId"] == "Bad"
    assert failed["ResourceStatusReason"].startswith("Received response status [FAILED] from custom resource. Message returned: the channel is taken")
    rollback = next(e for e in events if e["ResourceStatus"] == "ROLLBACK_IN_PROGRESS")
    assert rollback["ResourceStatusReason"] == "The following resource(s) failed to create: [Bad]. Rollback requested by user."
    with pytest.raises(ClientError):
        cfn.update_stack(StackName=stack_id, TemplateBody=body)  # ROLLBACK_COMPLETE can only be deleted


def test_failed_update_rolls_back_with_old_and_new_swapped(lc, provider, unique):
    cfn = lc.client("cloudformation")
    token = provider["topic"]
    # The function answers the PhysicalResourceId property: A's rollback Update brings back a-v1.
    resources = {"A": custom(token, V="1", PhysicalResourceId="a-v1"), "B": {**custom(token, V="1"), "DependsOn": "A"}}
    name = unique("update-rollback")
    stack_id = cfn.create_stack(StackName=name, TemplateBody=template(token, resources))["StackId"]
    assert wait(cfn, stack_id)["StackStatus"] == "CREATE_COMPLETE"
    reqs = Requests(provider, stack_id)
    a_id = cfn.describe_stack_resource(StackName=name, LogicalResourceId="A")["StackResourceDetail"]["PhysicalResourceId"]
    assert a_id == "a-v1"
    # A is replaced (new id), then B fails: A gets an Update back, B too, then A's new id is deleted in cleanup.
    resources2 = {"A": custom(token, V="2", PhysicalResourceId="a-v2"), "B": {**custom(token, V="2", FailOn="Update"), "DependsOn": "A"}}
    cfn.update_stack(StackName=name, TemplateBody=template(token, resources2))
    stack = wait(cfn, stack_id)
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE", stack
    got = reqs.wait(7)[2:]
    kinds = [(g["request"]["RequestType"], g["request"]["LogicalResourceId"], g["request"].get("PhysicalResourceId")) for g in got]
    b_id = got[1]["request"]["PhysicalResourceId"]
    assert kinds == [("Update", "A", a_id), ("Update", "B", b_id), ("Update", "B", b_id), ("Update", "A", "a-v2"), ("Delete", "A", "a-v2")]
    back_b = got[2]["request"]
    assert back_b["ResourceProperties"]["V"] == "1" and back_b["OldResourceProperties"]["V"] == "2"
    assert got[2]["view"]["stack_status"] == "UPDATE_ROLLBACK_IN_PROGRESS"
    assert got[2]["view"]["resource"]["ResourceStatus"] == "UPDATE_IN_PROGRESS"
    back_a = got[3]["request"]
    assert back_a["ResourceProperties"]["V"] == "1" and back_a["OldResourceProperties"]["V"] == "2"
    assert got[4]["view"]["stack_status"] == "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"
    assert got[4]["view"]["resource"]["PhysicalResourceId"] == a_id  # A is back on its old id
    body = cfn.get_template(StackName=name)["TemplateBody"]  # botocore decodes a JSON template
    assert body["Resources"]["A"]["Properties"]["V"] == "1"  # the old template again


def test_failed_delete_leaves_delete_failed(lc, provider, unique):
    cfn = lc.client("cloudformation")
    token = provider["topic"]
    name = unique("delete-failed")
    stack_id = cfn.create_stack(StackName=name, TemplateBody=template(token, {"Stuck": custom(token, FailOn="Delete", Reason="still in use")}))["StackId"]
    assert wait(cfn, stack_id)["StackStatus"] == "CREATE_COMPLETE"
    cfn.delete_stack(StackName=name)
    stack = wait(cfn, stack_id)
    assert stack["StackStatus"] == "DELETE_FAILED"
    assert stack["StackStatusReason"] == "The following resource(s) failed to delete: [Stuck]. "
    detail = cfn.describe_stack_resource(StackName=name, LogicalResourceId="Stuck")["StackResourceDetail"]
    assert detail["ResourceStatus"] == "DELETE_FAILED" and "still in use" in detail["ResourceStatusReason"]
    cfn.delete_stack(StackName=name, RetainResources=["Stuck"])
    assert wait(cfn, stack_id)["StackStatus"] == "DELETE_COMPLETE"


def test_no_answer_times_out_after_service_timeout(lc, provider, unique):
    cfn = lc.client("cloudformation")
    token = provider["topic"]
    started = time.monotonic()
    stack_id = cfn.create_stack(StackName=unique("timeout"), TemplateBody=template(token, {"Silent": custom(token, NoAnswer="true", ServiceTimeout=2)}),
                                OnFailure="DO_NOTHING")["StackId"]
    stack = wait(cfn, stack_id)
    assert stack["StackStatus"] == "CREATE_FAILED" and time.monotonic() - started < 15
    detail = cfn.describe_stack_resources(StackName=stack_id)["StackResources"][0]
    assert detail["ResourceStatus"] == "CREATE_FAILED"
    assert detail["ResourceStatusReason"].startswith("CloudFormation did not receive a response from your Custom Resource")


def test_stack_in_a_member_account_through_assumed_role_keys(lc, provider, unique):
    member = lc.members[0]
    cfn = lc.client("cloudformation", member)
    token = provider["topic"]  # the provider's topic in the management account
    yaml_body = f"""
Parameters:
  Env: {{Type: String, AllowedValues: [dev, prod]}}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Resources:
  Thing:
    Type: Custom::Thing
    Properties:
      ServiceToken: {token}
      Name: !Sub "thing-${{AWS::AccountId}}-${{Env}}"
      Level: !If [IsProd, ERROR, INFO]
      Optional: !If [IsProd, !Ref AWS::NoValue, present]
      Region: !Ref AWS::Region
  ProdOnly:
    Type: Custom::Thing
    Condition: IsProd
    Properties:
      ServiceToken: {token}
"""
    name = unique("member")
    stack_id = cfn.create_stack(StackName=name, TemplateBody=yaml_body, Parameters=[{"ParameterKey": "Env", "ParameterValue": "dev"}])["StackId"]
    assert stack_id.split(":")[4] == member
    assert wait(cfn, stack_id)["StackStatus"] == "CREATE_COMPLETE"
    got = Requests(provider, stack_id).wait(1)
    assert len(got) == 1  # ProdOnly's condition is false
    props = got[0]["request"]["ResourceProperties"]
    assert props == {"ServiceToken": token, "Name": f"thing-{member}-dev", "Level": "INFO", "Optional": "present", "Region": "us-east-1"}
    assert got[0]["view"]["resource"]["ResourceStatus"] == "CREATE_IN_PROGRESS"  # read in the member account
    with pytest.raises(ClientError):
        lc.client("cloudformation").describe_stacks(StackName=name)  # not in the management account
    assert [s["StackName"] for s in cfn.describe_stacks()["Stacks"]].count(name) == 1
    cfn.update_stack(StackName=name, UsePreviousTemplate=True, Parameters=[{"ParameterKey": "Env", "ParameterValue": "prod"}])
    assert wait(cfn, stack_id)["StackStatus"] == "UPDATE_COMPLETE"
    got = Requests(provider, stack_id).wait(3)
    assert got[1]["request"]["RequestType"] == "Update" and "Optional" not in got[1]["request"]["ResourceProperties"]
    assert got[2]["request"]["RequestType"] == "Create" and got[2]["request"]["LogicalResourceId"] == "ProdOnly"
    resources = {r["LogicalResourceId"]: r["ResourceStatus"] for r in cfn.list_stack_resources(StackName=name)["StackResourceSummaries"]}
    assert resources == {"Thing": "UPDATE_COMPLETE", "ProdOnly": "CREATE_COMPLETE"}
    cfn.delete_stack(StackName=name)
    assert wait(cfn, stack_id)["StackStatus"] == "DELETE_COMPLETE"


@pytest.mark.parametrize(
    "body,params,says",
    [
        ("{}", [], "At least one Resources member must be defined"),
        ("Resources: {A: {Type: Custom::X, Properties: {ServiceToken: !Ref Missing}}}", [], "Unresolved resource dependencies [Missing]"),
        ("Parameters: {P: {Type: String}}\nResources: {A: {Type: Custom::X, Properties: {ServiceToken: !Ref P}}}", [], "Parameters: [P] must have values"),
        ("Parameters: {P: {Type: String, AllowedValues: [a]}}\nResources: {A: {Type: Custom::X, Properties: {ServiceToken: !Ref P}}}",
         [{"ParameterKey": "P", "ParameterValue": "b"}], "Parameter 'P' must be one of AllowedValues"),
        ("Resources: {A: {Type: Custom::X, Properties: {ServiceToken: x}, DependsOn: B}, B: {Type: Custom::X, Properties: {ServiceToken: x}, DependsOn: A}}",
         [], "Circular dependency"),
        ("Resources: {R: {Type: AWS::IAM::Role, Properties: {RoleName: r, AssumeRolePolicyDocument: {}}}}", [], "CAPABILITY_NAMED_IAM"),
    ],
)
def test_templates_cloudformation_refuses(lc, unique, body, params, says):
    cfn = lc.client("cloudformation")
    with pytest.raises(ClientError) as exc:
        stack_id = cfn.create_stack(StackName=unique("bad"), TemplateBody=body, Parameters=params)["StackId"]
        stack = wait(cfn, stack_id)  # circular dependencies fail the stack rather than the call
        raise ClientError({"Error": {"Code": "ValidationError", "Message": stack.get("StackStatusReason", "")}}, "CreateStack")
    assert says in str(exc.value)


def test_native_resources_and_unsupported_ones(lc, unique):
    cfn = lc.client("cloudformation")
    body = """
Resources:
  Topic: {Type: AWS::SNS::Topic, Properties: {TopicName: %s}}
  Handle: {Type: AWS::CloudFormation::WaitConditionHandle}
Outputs:
  TopicArn: {Value: !Ref Topic}
  Name: {Value: !GetAtt Topic.TopicName}
""" % unique("native-topic")
    name = unique("native")
    stack_id = cfn.create_stack(StackName=name, TemplateBody=body)["StackId"]
    stack = wait(cfn, stack_id)
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack
    arn = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}["TopicArn"]
    assert arn in [t["TopicArn"] for t in lc.client("sns").list_topics()["Topics"]]
    cfn.delete_stack(StackName=name)
    assert wait(cfn, stack_id)["StackStatus"] == "DELETE_COMPLETE"
    assert arn not in [t["TopicArn"] for t in lc.client("sns").list_topics()["Topics"]]

    bad = cfn.create_stack(StackName=unique("unsupported"), TemplateBody="Resources: {Q: {Type: AWS::Made::Up}}")["StackId"]
    assert wait(cfn, bad)["StackStatus"] == "ROLLBACK_COMPLETE"
    failed = [e for e in cfn.describe_stack_events(StackName=bad)["StackEvents"] if e["ResourceStatus"] == "CREATE_FAILED"]
    assert "AWS::Made::Up is not implemented by the local cloud" in failed[0]["ResourceStatusReason"]


def test_stage_makes_cloudformation_show_an_in_flight_request(lc, unique):
    member = lc.members[3]
    stack_id = f"arn:aws:cloudformation:eu-west-1:{member}:stack/{unique('staged')}/6f1c2b3a-0000-4000-8000-000000000001"
    base = {"StackId": stack_id, "LogicalResourceId": "Channel", "ResourceType": "Custom::ChatbotSlackChannel",
            "RequestId": "r-1", "ResponseURL": "https://example.invalid/", "ResourceProperties": {"ServiceToken": "t", "Name": "x"}}
    cfn = lc.client("cloudformation", member, region="eu-west-1")

    status, out = lc.control("POST", "cloudformation/stage", {"request": {**base, "RequestType": "Create"}})
    assert status == 200 and out["stack"]["StackStatus"] == "CREATE_IN_PROGRESS" and out["stack"]["StackId"] == stack_id
    detail = cfn.describe_stack_resource(StackName=stack_id, LogicalResourceId="Channel")["StackResourceDetail"]
    assert detail["ResourceStatus"] == "CREATE_IN_PROGRESS" and "PhysicalResourceId" not in detail
    assert detail["ResourceType"] == "Custom::ChatbotSlackChannel"
    with pytest.raises(ClientError):  # the stack is in its own account and region only
        lc.client("cloudformation", member).describe_stacks(StackName=stack_id)

    update = {**base, "RequestType": "Update", "PhysicalResourceId": "arn:chan:1", "OldResourceProperties": {}}
    assert lc.control("POST", "cloudformation/stage", {"request": update})[1]["resource"]["ResourceStatus"] == "UPDATE_IN_PROGRESS"
    detail = cfn.describe_stack_resource(StackName=stack_id, LogicalResourceId="Channel")["StackResourceDetail"]
    assert (detail["ResourceStatus"], detail["PhysicalResourceId"]) == ("UPDATE_IN_PROGRESS", "arn:chan:1")

    delete = {**base, "RequestType": "Delete", "PhysicalResourceId": "arn:chan:1"}
    out = lc.control("POST", "cloudformation/stage", {"request": delete, "phase": "cleanup", "current_physical_id": "arn:chan:2"})[1]
    assert out["stack"]["StackStatus"] == "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"
    detail = cfn.describe_stack_resource(StackName=stack_id, LogicalResourceId="Channel")["StackResourceDetail"]
    assert (detail["ResourceStatus"], detail["PhysicalResourceId"]) == ("UPDATE_COMPLETE", "arn:chan:2")
    latest = cfn.describe_stack_events(StackName=stack_id)["StackEvents"][0]
    assert (latest["LogicalResourceId"], latest["PhysicalResourceId"], latest["ResourceStatus"]) == ("Channel", "arn:chan:1", "DELETE_IN_PROGRESS")

    out = lc.control("POST", "cloudformation/stage", {"request": delete, "phase": "stack-delete"})[1]
    assert out["stack"]["StackStatus"] == "DELETE_IN_PROGRESS" and out["resource"]["ResourceStatus"] == "DELETE_IN_PROGRESS"
    assert lc.control("POST", "cloudformation/stage", {"request": {**base, "RequestType": "Update"}})[0] == 400  # no physical id
    assert lc.control("POST", "cloudformation/stage", {"request": {**base, "RequestType": "Create", "StackId": "nope"}})[0] == 400
    assert lc.control("POST", "cloudformation/stage", {"request": delete, "phase": "sideways"})[0] == 400


def test_the_moto_internals_cloudformation_and_functions_build_on_are_there():
    """A moto upgrade that moves one of these fails here, by name, rather than somewhere in a stack."""
    import inspect

    from moto.cloudformation import parsing
    from moto.core.common_models import CloudFormationModel
    from moto.sns.exceptions import SNSNotFoundError
    from moto.sns.models import SNSBackend, Subscription

    def params(fn: Any) -> list[str]:
        return list(inspect.signature(fn).parameters)

    assert params(Subscription.publish)[:8] == ["self", "message", "message_id", "subject", "message_attributes", "group_id",
                                                "deduplication_id", "message_structure"]
    assert "_filter_policy_matcher" in inspect.getsource(Subscription.__init__)
    assert params(Subscription._parse_message_structure) == ["self", "message", "protocol"]
    assert {"message", "arn", "subject"} <= set(params(SNSBackend.publish)) and issubclass(SNSNotFoundError, Exception)
    assert "AWS::SNS::Topic" in parsing.get_model_map() and "AWS::CloudFormation::WaitConditionHandle" in parsing.NULL_MODELS
    assert params(parsing.generate_resource_name) == ["resource_type", "stack_name", "logical_id"]
    assert params(CloudFormationModel.create_from_cloudformation_json)[:4] == ["resource_name", "cloudformation_json", "account_id", "region_name"]
    assert params(CloudFormationModel.update_from_cloudformation_json)[:5] == [
        "original_resource", "new_resource_name", "cloudformation_json", "account_id", "region_name"]
    assert params(CloudFormationModel.delete_from_cloudformation_json)[:4] == ["resource_name", "cloudformation_json", "account_id", "region_name"]
    assert callable(CloudFormationModel.cloudformation_name_type)


def test_the_org_chatops_template_deploys_with_its_native_resources(lc, provider, unique):
    """cfn-templates/org-chatops.yaml: SNS topic and policy, IAM managed policy and roles, four custom resources."""
    import os

    from localcloud.tests.helpers import REPO

    member = lc.members[5]
    cfn = lc.client("cloudformation", member)
    with open(os.path.join(REPO, "cfn-templates", "org-chatops.yaml")) as f:
        body = f.read()
    params = {"ServiceToken": provider["topic"], "SlackWorkspaceId": "T0CHATOPS1", "SlackChannelId": "C0ALERTS1",
              "SupportSlackChannelId": "C0SUPPORT1", "AlertTopicName": unique("org-alerts")}
    name = unique("org-chatops")
    stack_id = cfn.create_stack(StackName=name, TemplateBody=body, Capabilities=["CAPABILITY_NAMED_IAM"],
                                Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()])["StackId"]
    stack = wait(cfn, stack_id)
    assert stack["StackStatus"] == "CREATE_COMPLETE", [
        (e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason")) for e in cfn.describe_stack_events(StackName=stack_id)["StackEvents"]]
    got = {r["request"]["LogicalResourceId"]: r["request"] for r in Requests(provider, stack_id).wait(4)}
    assert set(got) == {"SlackChannel", "SupportWorkspace", "SupportChannel", "AccountAlias"}
    channel = got["SlackChannel"]["ResourceProperties"]
    role = lc.client("iam", member).get_role(RoleName="chatops-chatbot-notifications")["Role"]
    assert channel["IamRoleArn"] == role["Arn"] and channel["ConfigurationName"] == f"chatops-{member}"
    assert channel["SnsTopicArns"] == [f"arn:aws:sns:us-east-1:{member}:{params['AlertTopicName']}"]
    assert channel["GuardrailPolicies"][0].startswith(f"arn:aws:iam::{member}:policy/")
    assert channel["AllowElevatedPermissions"] == "false" and channel["UserRoleRequired"] == "false"
    assert got["SupportChannel"]["ResourceProperties"]["NotifyOnResolveCase"] == "true"
    assert "ChannelName" not in got["SupportChannel"]["ResourceProperties"]  # AWS::NoValue
    policy = lc.client("sns", member).get_topic_attributes(TopicArn=channel["SnsTopicArns"][0])["Attributes"]["Policy"]
    assert "AllowAccountServicesToPublish" in policy  # AWS::SNS::TopicPolicy
    cfn.delete_stack(StackName=name)
    assert wait(cfn, stack_id)["StackStatus"] == "DELETE_COMPLETE"
    with pytest.raises(ClientError):
        lc.client("iam", member).get_role(RoleName="chatops-chatbot-notifications")


def test_a_function_arn_as_service_token_gets_the_request_itself(lc, provider, unique):
    cfn = lc.client("cloudformation")
    arn = provider["fn"]["arn"]
    stack_id = cfn.create_stack(StackName=unique("lambda-token"), TemplateBody=template(arn, {"Direct": custom(arn, Size=1)}))["StackId"]
    assert wait(cfn, stack_id)["StackStatus"] == "CREATE_COMPLETE"
    got = Requests(provider, stack_id).wait(1)[0]
    assert got["sns"] is None and got["request"]["ServiceToken"] == arn and got["request"]["ResourceProperties"]["Size"] == "1"
    elsewhere = arn.replace(":us-east-1:", ":eu-west-1:")
    failed = cfn.create_stack(StackName=unique("other-region"), TemplateBody=template(elsewhere, {"Far": custom(elsewhere)}))["StackId"]
    assert wait(cfn, failed)["StackStatus"] == "ROLLBACK_COMPLETE"
    reason = next(e["ResourceStatusReason"] for e in cfn.describe_stack_events(StackName=failed)["StackEvents"] if e["ResourceStatus"] == "CREATE_FAILED")
    assert "must be in the stack's region (us-east-1)" in reason
