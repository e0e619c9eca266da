"""The real `chatops` binary as the function behind the ServiceToken topic: stacks and a StackSet end in it and back.

The binary is `target/debug/chatops` (built by `cargo test` / `cargo build`),
or $CHATOPS_BINARY; without it these tests are skipped. Its environment is
what the Rust suite gives it (tests/support/localcloud.rs, provider_env).
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud.tests.helpers import REPO
from localcloud.tests.test_cloudformation import wait
from localcloud.tests.test_stacksets import wait_operation

BINARY = os.environ.get("CHATOPS_BINARY") or os.path.join(REPO, "target", "debug", "chatops")

SLACK_CHANNEL = """
Parameters:
  ServiceToken: {Type: String}
  Name: {Type: String}
  Channel: {Type: String}
  Level: {Type: String, AllowedValues: [ERROR, INFO, NONE]}
Resources:
  AlertsChannel:
    Type: Custom::ChatbotSlackChannel
    Properties:
      ServiceToken: !Ref ServiceToken
      ConfigurationName: !Ref Name
      SlackWorkspaceId: T0CHATOPS1
      SlackChannelId: !Ref Channel
      IamRoleArn: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/chatops-chatbot-channel"
      SnsTopicArns: [!Sub "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:chatops-alerts"]
      LoggingLevel: !Ref Level
      UserRoleRequired: false
Outputs:
  Arn: {Value: !GetAtt AlertsChannel.Arn}
  Id: {Value: !Ref AlertsChannel}
"""

ACCOUNT_ALIAS = """
Parameters:
  ServiceToken: {Type: String}
  Prefix: {Type: String, Default: "aws-"}
Resources:
  AccountAlias:
    Type: Custom::SupportAppAccountAlias
    Properties:
      ServiceToken: !Ref ServiceToken
      AccountAlias: !Sub "${Prefix}${AWS::AccountId}"
"""


@pytest.fixture(scope="module")
def chatops(lc):
    if not os.access(BINARY, os.X_OK):
        message = f"no chatops binary at {BINARY} (cargo build, or set CHATOPS_BINARY)"
        if os.environ.get("CI"):  # make test builds it first: in CI its absence is a failure
            pytest.fail(message)
        pytest.skip(message)
    env = {
        "AWS_ENDPOINT_URL": lc.endpoint, "AWS_REGION": "us-east-1", **lc.provider_env(),
        "AWS_EC2_METADATA_DISABLED": "true", "CHATOPS_EXTERNAL_ID": lc.info["external_id"],
        "CHATOPS_EXECUTION_ROLE_NAME": lc.info["execution_role_name"], "RUST_LOG": "info",
        "CHATOPS_LOCAL_RESPONSE_ORIGIN": lc.endpoint,
    }
    status, fn = lc.control("POST", "functions", {"name": "chatops-provider", "command": [BINARY], "env": env, "timeout": 60})
    assert status == 200, fn
    sns = lc.client("sns")
    topic = sns.create_topic(Name="chatops-provider")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=fn["arn"])
    yield {"topic": topic, "fn": fn}
    lc.control("DELETE", "functions/chatops-provider")


def settled(lc: Any, cfn: Any, stack_id: str, chatops: dict[str, Any]) -> dict[str, Any]:
    stack = wait(cfn, stack_id, timeout=120)
    if not stack["StackStatus"].endswith("_COMPLETE") or "ROLLBACK" in stack["StackStatus"]:
        events = [(e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason", "")) for e in cfn.describe_stack_events(StackName=stack_id)["StackEvents"]]
        with open(chatops["fn"]["log_path"]) as f:
            tail = f.read()[-3000:]
        raise AssertionError(f"{stack['StackStatus']}: {events}\nfunction log:\n{tail}")
    return stack


def outputs(stack: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def test_slack_channel_stack_lifecycle_through_the_binary(lc, chatops, unique):
    member = lc.members[4]
    cfn = lc.client("cloudformation", member)
    chatbot = lc.client("chatbot", member)
    name = unique("bin-stack")
    first = unique("bin-chan")
    params = [{"ParameterKey": "ServiceToken", "ParameterValue": chatops["topic"]}, {"ParameterKey": "Name", "ParameterValue": first},
              {"ParameterKey": "Level", "ParameterValue": "ERROR"}, {"ParameterKey": "Channel", "ParameterValue": "C0BINARY1"}]
    stack_id = cfn.create_stack(StackName=name, TemplateBody=SLACK_CHANNEL, Parameters=params)["StackId"]
    stack = settled(lc, cfn, stack_id, chatops)
    arn = outputs(stack)["Arn"]
    assert outputs(stack)["Id"] == arn and f":{member}:" in arn
    configs = {c["ChatConfigurationArn"]: c for c in chatbot.describe_slack_channel_configurations()["SlackChannelConfigurations"]}
    assert configs[arn]["ConfigurationName"] == first and configs[arn]["LoggingLevel"] == "ERROR"

    params[2]["ParameterValue"] = "INFO"  # in place
    cfn.update_stack(StackName=name, UsePreviousTemplate=True, Parameters=params)
    stack = settled(lc, cfn, stack_id, chatops)
    assert stack["StackStatus"] == "UPDATE_COMPLETE" and outputs(stack)["Arn"] == arn
    described = chatbot.describe_slack_channel_configurations(ChatConfigurationArn=arn)["SlackChannelConfigurations"][0]
    assert described["LoggingLevel"] == "INFO"

    # ConfigurationName is create-only: a replacement, then the old one is deleted in cleanup (in another Slack
    # channel: Chatbot allows one configuration per channel, and the new one is made before the old one goes).
    second = unique("bin-chan")
    params[1]["ParameterValue"], params[3]["ParameterValue"] = second, "C0BINARY2"
    cfn.update_stack(StackName=name, UsePreviousTemplate=True, Parameters=params)
    stack = settled(lc, cfn, stack_id, chatops)
    new_arn = outputs(stack)["Arn"]
    assert new_arn != arn
    names = {c["ConfigurationName"] for c in chatbot.describe_slack_channel_configurations()["SlackChannelConfigurations"]}
    assert second in names and first not in names
    events = cfn.describe_stack_events(StackName=stack_id)["StackEvents"]
    assert any(e["PhysicalResourceId"] == arn and e["ResourceStatus"] == "DELETE_COMPLETE" for e in events)

    cfn.delete_stack(StackName=name)
    assert wait(cfn, stack_id, timeout=120)["StackStatus"] == "DELETE_COMPLETE"
    names = {c["ConfigurationName"] for c in chatbot.describe_slack_channel_configurations()["SlackChannelConfigurations"]}
    assert second not in names


def test_a_failed_create_through_the_binary_rolls_back(lc, chatops, unique):
    member = lc.members[4]
    cfn = lc.client("cloudformation", member)
    params = [{"ParameterKey": "ServiceToken", "ParameterValue": chatops["topic"]}, {"ParameterKey": "Name", "ParameterValue": "bad name with spaces"},
              {"ParameterKey": "Level", "ParameterValue": "ERROR"}, {"ParameterKey": "Channel", "ParameterValue": "C0BINARY3"}]
    stack_id = cfn.create_stack(StackName=unique("bin-bad"), TemplateBody=SLACK_CHANNEL, Parameters=params)["StackId"]
    stack = wait(cfn, stack_id, timeout=120)
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE", stack
    failed = [e for e in cfn.describe_stack_events(StackName=stack_id)["StackEvents"] if e["ResourceStatus"] == "CREATE_FAILED"]
    assert "ConfigurationName" in failed[0]["ResourceStatusReason"]


def test_stack_set_of_account_aliases_through_the_binary(lc, chatops, unique):
    cfn = lc.client("cloudformation")
    support = {a: lc.client("support-app", a) for a in lc.members[3:5]}
    root = lc.client("organizations").list_roots()["Roots"][0]["Id"]
    name = unique("bin-set")
    cfn.create_stack_set(StackSetName=name, TemplateBody=ACCOUNT_ALIAS, PermissionModel="SERVICE_MANAGED",
                         AutoDeployment={"Enabled": False}, Parameters=[{"ParameterKey": "ServiceToken", "ParameterValue": chatops["topic"]}])
    targets = {"OrganizationalUnitIds": [root], "Accounts": list(support), "AccountFilterType": "INTERSECTION"}
    op_id = cfn.create_stack_instances(StackSetName=name, Regions=["us-east-1"], DeploymentTargets=targets)["OperationId"]
    op = wait_operation(cfn, name, op_id, timeout=120)
    assert op["Status"] == "SUCCEEDED", cfn.list_stack_instances(StackSetName=name)["Summaries"]
    for account, client in support.items():
        assert client.get_account_alias()["accountAlias"] == f"aws-{account}"
    op_id = cfn.update_stack_set(StackSetName=name, UsePreviousTemplate=True,
                                 Parameters=[{"ParameterKey": "ServiceToken", "UsePreviousValue": True},
                                             {"ParameterKey": "Prefix", "ParameterValue": "org-"}])["OperationId"]
    assert wait_operation(cfn, name, op_id, timeout=120)["Status"] == "SUCCEEDED"
    for account, client in support.items():
        assert client.get_account_alias()["accountAlias"] == f"org-{account}"
    op_id = cfn.delete_stack_instances(StackSetName=name, Regions=["us-east-1"], RetainStacks=False, DeploymentTargets=targets)["OperationId"]
    assert wait_operation(cfn, name, op_id, timeout=120)["Status"] == "SUCCEEDED"
    for client in support.values():
        try:
            alias = client.get_account_alias().get("accountAlias")
        except ClientError:
            alias = None
        assert alias is None
    cfn.delete_stack_set(StackSetName=name)
