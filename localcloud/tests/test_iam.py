"""IAM enforcement: the evaluator's rules one by one, then the wire (who is checked, for what, and the error)."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from localcloud.iam_policy import Decision, conditions_met, evaluate, resource_policy_decision
from localcloud.tests.helpers import error_code, http_status


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


ALLOW_TOPICS = {"Effect": "Allow", "Action": "sns:GetTopicAttributes", "Resource": "arn:aws:sns:*:111111111111:*"}


# -- evaluation logic ("Policy evaluation logic", IAM User Guide) ------------------------------------


def test_without_an_allow_the_request_is_implicitly_denied():
    assert evaluate([], "sns:GetTopicAttributes", "arn:aws:sns:us-east-1:111111111111:t", {}) is Decision.IMPLICIT_DENY


def test_an_explicit_deny_wins_over_an_allow_in_another_policy():
    deny = {"Effect": "Deny", "Action": "sns:*", "Resource": "*"}
    decision = evaluate([policy(ALLOW_TOPICS), policy(deny)], "sns:GetTopicAttributes", "arn:aws:sns:us-east-1:111111111111:t", {})
    assert decision is Decision.EXPLICIT_DENY


def test_actions_match_without_case_and_with_both_wildcards():
    statement = {"Effect": "Allow", "Action": "SNS:Get?opicAttr*", "Resource": "*"}
    assert evaluate([policy(statement)], "sns:GetTopicAttributes", "*", {}) is Decision.ALLOW
    assert evaluate([policy(statement)], "sns:GetSubscriptionAttributes", "*", {}) is Decision.IMPLICIT_DENY


def test_resources_match_with_case():
    assert evaluate([policy(ALLOW_TOPICS)], "sns:GetTopicAttributes", "arn:aws:sns:eu-west-1:111111111111:t", {}) is Decision.ALLOW
    assert evaluate([policy(ALLOW_TOPICS)], "sns:GetTopicAttributes", "arn:aws:SNS:eu-west-1:111111111111:t", {}) is Decision.IMPLICIT_DENY
    assert evaluate([policy(ALLOW_TOPICS)], "sns:GetTopicAttributes", "arn:aws:sns:eu-west-1:222222222222:t", {}) is Decision.IMPLICIT_DENY


def test_a_scoped_resource_does_not_grant_an_action_that_only_star_grants():
    """GetSubscriptionAttributes has no resource type: the request's resource is "*", which a topic pattern does not match."""
    statement = {"Effect": "Allow", "Action": "sns:GetSubscriptionAttributes", "Resource": "arn:aws:sns:*:111111111111:*"}
    assert evaluate([policy(statement)], "sns:GetSubscriptionAttributes", "*", {}) is Decision.IMPLICIT_DENY


def test_not_action_and_not_resource():
    statement = {"Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:aws:sns:*:*:secret"}
    assert evaluate([policy(statement)], "sns:Publish", "arn:aws:sns:us-east-1:1:open", {}) is Decision.ALLOW
    assert evaluate([policy(statement)], "sns:Publish", "arn:aws:sns:us-east-1:1:secret", {}) is Decision.IMPLICIT_DENY
    assert evaluate([policy(statement)], "iam:GetRole", "arn:aws:sns:us-east-1:1:open", {}) is Decision.IMPLICIT_DENY


def test_an_allow_whose_condition_fails_does_not_apply_and_is_no_deny():
    """moto answers an explicit deny here; AWS skips the statement, so another one may still allow."""
    conditional = {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*",
                   "Condition": {"StringEquals": {"iam:PassedToService": "chatbot.amazonaws.com"}}}
    plain = {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::1:role/x"}
    context = {"iam:passedtoservice": "lambda.amazonaws.com"}
    assert evaluate([policy(conditional)], "iam:PassRole", "arn:aws:iam::1:role/x", context) is Decision.IMPLICIT_DENY
    assert evaluate([policy(conditional, plain)], "iam:PassRole", "arn:aws:iam::1:role/x", context) is Decision.ALLOW


# -- conditions ("IAM JSON policy elements: Condition operators") -------------------------------------


def test_condition_values_are_ored_and_keys_anded():
    block = {"StringEquals": {"iam:PassedToService": ["chatbot.amazonaws.com", "supportapp.amazonaws.com"]},
             "StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/chatops-*"}}
    good = {"iam:passedtoservice": "supportapp.amazonaws.com", "aws:principalarn": "arn:aws:iam::1:role/chatops-provider"}
    assert conditions_met(block, good)
    assert not conditions_met(block, {**good, "aws:principalarn": "arn:aws:iam::1:role/other"})
    assert not conditions_met(block, {**good, "iam:passedtoservice": "ec2.amazonaws.com"})


def test_a_missing_key_fails_unless_if_exists_and_null_tests_presence():
    assert not conditions_met({"StringEquals": {"sts:ExternalId": "x"}}, {})
    assert conditions_met({"StringEqualsIfExists": {"sts:ExternalId": "x"}}, {})
    assert conditions_met({"Null": {"sts:ExternalId": "true"}}, {})
    assert not conditions_met({"Null": {"sts:ExternalId": "false"}}, {})


def test_negated_operators_hold_only_when_no_value_matches():
    block = {"StringNotEquals": {"aws:PrincipalOrgID": ["o-aaaaaaaaaa", "o-bbbbbbbbbb"]}}
    assert conditions_met(block, {"aws:principalorgid": "o-cccccccccc"})
    assert not conditions_met(block, {"aws:principalorgid": "o-bbbbbbbbbb"})
    assert conditions_met(block, {})  # a missing key: the negated condition holds


def test_set_operators_over_multivalued_keys():
    """ForAnyValue: one request value matches; ForAllValues: every one does (and holds over none)."""
    any_tag = {"ForAnyValue:StringEquals": {"aws:TagKeys": ["chatops:allow-elevated"]}}
    all_tags = {"ForAllValues:StringLike": {"aws:TagKeys": ["team", "cost-*"]}}
    assert conditions_met(any_tag, {"aws:tagkeys": ["team", "chatops:allow-elevated"]})
    assert not conditions_met(any_tag, {"aws:tagkeys": ["team"]})
    assert not conditions_met(any_tag, {})
    assert conditions_met(all_tags, {"aws:tagkeys": ["team", "cost-center"]})
    assert not conditions_met(all_tags, {"aws:tagkeys": ["team", "owner"]})
    assert conditions_met(all_tags, {})


def test_an_unknown_operator_never_grants():
    assert not conditions_met({"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}, {"aws:multifactorauthage": "1"})


def test_a_topic_policy_grants_only_the_principals_it_names():
    document = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sns:Publish", "Resource": "*",
                               "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-chatopslocal"}}}]}
    inside = {"aws:principalorgid": "o-chatopslocal"}
    assert resource_policy_decision(document, "sns:Publish", "arn:aws:sns:us-east-1:1:t", {"arn:x"}, "2", inside) is Decision.ALLOW
    assert resource_policy_decision(document, "sns:Publish", "arn:aws:sns:us-east-1:1:t", {"arn:x"}, "2", {}) is Decision.IMPLICIT_DENY
    named = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::2:root"}, "Action": "sns:*", "Resource": "*"}]}
    assert resource_policy_decision(named, "sns:Publish", "t", {"arn:aws:iam::3:root"}, "3", {}) is Decision.IMPLICIT_DENY


# -- the wire: the provider's sessions as the seed made them from cfn-templates/ ------------------------


def session(lc, credentials, region="us-east-1"):
    return boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"], aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"], region_name=region,
    )


@pytest.fixture(scope="module")
def execution(lc):
    """A session of member-role.yaml's execution role in a member account, assumed by the provider's role."""
    account = lc.members[0]
    out = lc.provider_client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{lc.info['execution_role_name']}", RoleSessionName="iam-tests",
        ExternalId=lc.info["external_id"],
    )["Credentials"]
    return account, session(lc, out)


def test_a_call_no_policy_allows_is_access_denied_in_each_services_format(lc, execution):
    account, s = execution
    caller = f"arn:aws:sts::{account}:assumed-role/{lc.info['execution_role_name']}/iam-tests"
    cases = [
        (lambda: s.client("sns", endpoint_url=lc.endpoint).create_topic(Name="x"), "AuthorizationError", 403, "sns:CreateTopic"),
        (lambda: s.client("iam", endpoint_url=lc.endpoint).get_role(RoleName=lc.info["execution_role_name"]), "AccessDenied", 403, "iam:GetRole"),
        (lambda: s.client("cloudformation", endpoint_url=lc.endpoint).create_stack(StackName="x", TemplateBody="{}"),
         "AccessDenied", 403, "cloudformation:CreateStack"),
        (lambda: s.client("chatbot", endpoint_url=lc.endpoint, region_name="us-east-2").delete_microsoft_teams_configured_team(TeamId=lc.info["teams_team_id"]),
         "AccessDeniedException", 403, "chatbot:DeleteMicrosoftTeamsConfiguredTeam"),
        (lambda: s.client("support-app", endpoint_url=lc.endpoint).delete_slack_workspace_configuration(teamId="T0X"),
         None, None, None),  # granted: the SupportApp statement lists it
        (lambda: s.client("organizations", endpoint_url=lc.endpoint).list_accounts(), "AccessDeniedException", 400, "organizations:ListAccounts"),
    ]
    for call, code, status, action in cases:
        if code is None:
            with pytest.raises(ClientError) as exc:
                call()
            assert error_code(exc) != "AccessDeniedException"
            continue
        with pytest.raises(ClientError) as exc:
            call()
        assert error_code(exc) == code and http_status(exc) == status, str(exc.value)
        message = str(exc.value)
        assert f"User: {caller} is not authorized to perform: {action}" in message


def test_resource_arns_are_the_ones_the_reference_defines(lc, execution):
    account, s = execution
    iam = s.client("iam", endpoint_url=lc.endpoint)
    assert iam.get_role(RoleName="chatops-chatbot-channel")["Role"]["RoleName"] == "chatops-chatbot-channel"
    with pytest.raises(ClientError) as exc:
        iam.get_role(RoleName="OrganizationAccountAccessRole")
    assert f"on resource: arn:aws:iam::{account}:role/OrganizationAccountAccessRole" in str(exc.value)
    with pytest.raises(ClientError) as exc:
        iam.get_role(RoleName="chatops-not-there")
    assert error_code(exc) == "NoSuchEntity"  # allowed, so the service answers


def test_create_needs_pass_role_to_chatbot_and_tag_resource(lc, execution):
    account, s = execution
    chatbot = s.client("chatbot", endpoint_url=lc.endpoint, region_name="us-east-2")
    admin_role = lc.account(account)["admin_role_arn"]
    outside_prefix = f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole"
    with pytest.raises(ClientError) as exc:
        chatbot.create_slack_channel_configuration(
            ConfigurationName="iam-pass", SlackTeamId=lc.info["slack_team_id"], SlackChannelId="CIAMPASS1", IamRoleArn=outside_prefix)
    assert f"iam:PassRole on resource: {outside_prefix}" in str(exc.value)
    name = "iam-tagged"
    created = chatbot.create_slack_channel_configuration(
        ConfigurationName=name, SlackTeamId=lc.info["slack_team_id"], SlackChannelId="CIAMTAG1", IamRoleArn=admin_role,
        Tags=[{"TagKey": "k", "TagValue": "v"}],
    )["ChannelConfiguration"]["ChatConfigurationArn"]
    assert created == f"arn:aws:chatbot::{account}:chat-configuration/slack-channel/{name}"
    chatbot.delete_slack_channel_configuration(ChatConfigurationArn=created)


def test_tag_on_create_is_refused_without_tag_resource(lc):
    """A role allowed to create but not to tag may create untagged only (dependent action chatbot:TagResource)."""
    iam = lc.client("iam", lc.members[1])
    name = "iam-test-no-tagging"
    trust = policy({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{lc.management}:root"}, "Action": "sts:AssumeRole"})
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)
    iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=policy(
        {"Effect": "Allow", "Action": ["chatbot:CreateSlackChannelConfiguration", "chatbot:DeleteSlackChannelConfiguration"], "Resource": "*"},
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*", "Condition": {"StringEquals": {"iam:PassedToService": "chatbot.amazonaws.com"}}},
    ))
    out = lc.client("sts").assume_role(RoleArn=f"arn:aws:iam::{lc.members[1]}:role/{name}", RoleSessionName="notag")["Credentials"]
    chatbot = session(lc, out).client("chatbot", endpoint_url=lc.endpoint, region_name="us-east-2")
    role = lc.account(lc.members[1])["chatbot_role_arn"]
    args = {"SlackTeamId": lc.info["slack_team_id"], "IamRoleArn": role}
    with pytest.raises(ClientError) as exc:
        chatbot.create_slack_channel_configuration(ConfigurationName="notag1", SlackChannelId="CNOTAG1", Tags=[{"TagKey": "k", "TagValue": "v"}], **args)
    assert "chatbot:TagResource on resource: arn:aws:chatbot::" in str(exc.value)
    arn = chatbot.create_slack_channel_configuration(ConfigurationName="notag2", SlackChannelId="CNOTAG2", **args)["ChannelConfiguration"]["ChatConfigurationArn"]
    chatbot.delete_slack_channel_configuration(ChatConfigurationArn=arn)


def test_root_and_the_tests_admin_role_are_not_limited(lc):
    assert lc.client("sns").create_topic(Name="iam-root-topic")["TopicArn"]
    assert lc.client("sns", lc.members[2]).create_topic(Name="iam-admin-topic")["TopicArn"]


def test_the_provider_role_reads_its_organization_but_not_more(lc):
    organizations = lc.provider_client("organizations")
    assert organizations.describe_account(AccountId=lc.members[0])["Account"]["Id"] == lc.members[0]
    with pytest.raises(ClientError) as exc:
        organizations.list_roots()
    assert error_code(exc) == "AccessDeniedException"
    with pytest.raises(ClientError) as exc:
        lc.provider_client("sns").create_topic(Name="nope")
    assert error_code(exc) == "AuthorizationError"


def test_only_the_named_principal_assumes_the_plan_role(lc):
    """member-role.yaml's PlanRole trusts the principal's account narrowed by ArnLike aws:PrincipalArn (a role session's is its role's ARN)."""
    arn = f"arn:aws:iam::{lc.members[0]}:role/{lc.info['plan_role_name']}"
    c = lc.info["planner_credentials"]
    planner = boto3.session.Session(aws_access_key_id=c["access_key_id"], aws_secret_access_key=c["secret_access_key"],
                                    aws_session_token=c["session_token"], region_name="us-east-1")
    out = planner.client("sts", endpoint_url=lc.endpoint).assume_role(RoleArn=arn, RoleSessionName="review")["Credentials"]
    chatbot = session(lc, out).client("chatbot", endpoint_url=lc.endpoint, region_name="us-east-2")
    assert isinstance(chatbot.describe_slack_channel_configurations()["SlackChannelConfigurations"], list)
    with pytest.raises(ClientError) as exc:  # read-only
        chatbot.delete_slack_channel_configuration(ChatConfigurationArn=f"arn:aws:chatbot::{lc.members[0]}:chat-configuration/slack-channel/x")
    assert error_code(exc) == "AccessDeniedException"
    with pytest.raises(ClientError) as exc:  # the management account's root is in the Principal, not in aws:PrincipalArn
        lc.client("sts").assume_role(RoleArn=arn, RoleSessionName="review")
    assert error_code(exc) == "AccessDenied"
    with pytest.raises(ClientError) as exc:  # the provider's role may assume only the execution role
        lc.provider_client("sts").assume_role(RoleArn=arn, RoleSessionName="review")
    assert error_code(exc) == "AccessDenied" and "chatops-provider-us-east-1" in str(exc.value)


def test_the_service_token_topic_policy_of_provider_yaml_admits_only_the_organization(lc):
    """A topic of another account needs its policy's Allow too; provider.yaml's denies publishers outside the organization."""
    from localcloud import template_roles

    name = "iam-topic-policy"
    resolved = template_roles.resolve_resources(
        template_roles.PROVIDER_TEMPLATE,
        {"ProviderName": name, "CodeS3Bucket": "chatops-code", "CodeS3Key": "chatops-lambda.zip",
         "ExternalId": lc.info["external_id"], "OrganizationId": lc.info["organization_id"]},
        lc.management, "us-east-1", ["ServiceTokenTopicPolicy"],
    )
    sns = lc.client("sns")
    topic = sns.create_topic(Name=name)["TopicArn"]
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(resolved["ServiceTokenTopicPolicy"]["PolicyDocument"]))
    assert lc.client("sns", lc.members[3]).publish(TopicArn=topic, Message="{}")["MessageId"]
    with pytest.raises(ClientError) as exc:
        lc.client("sns", lc.outsider).publish(TopicArn=topic, Message="{}")
    assert error_code(exc) == "AuthorizationError" and "explicit deny in a resource-based policy" in str(exc.value)
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=policy(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{lc.members[0]}:root"}, "Action": "sns:Publish", "Resource": topic}))
    with pytest.raises(ClientError) as exc:  # its identity policy allows, the topic's names another account
        lc.client("sns", lc.members[3]).publish(TopicArn=topic, Message="{}")
    assert "because no resource-based policy allows the sns:Publish action" in str(exc.value)
    sns.delete_topic(TopicArn=topic)


def test_organizations_reads_need_the_management_account_or_a_delegated_administrator(lc):
    """DescribeAccount and the List operations answer only there (Organizations API Reference); DescribeOrganization anywhere."""
    member = lc.members[4]
    organizations = lc.client("organizations", member)
    assert organizations.describe_organization()["Organization"]["Id"] == lc.info["organization_id"]
    with pytest.raises(ClientError) as exc:
        organizations.describe_account(AccountId=lc.members[0])
    assert error_code(exc) == "AccessDeniedException" and "delegated administrator" in str(exc.value)
    principal = "member.org.stacksets.cloudformation.amazonaws.com"
    management = lc.client("organizations")
    management.enable_aws_service_access(ServicePrincipal=principal)
    management.register_delegated_administrator(AccountId=member, ServicePrincipal=principal)
    try:
        assert organizations.describe_account(AccountId=lc.members[0])["Account"]["Id"] == lc.members[0]
    finally:
        management.deregister_delegated_administrator(AccountId=member, ServicePrincipal=principal)


def test_enforcement_can_be_turned_off_in_the_seed(tmp_path):
    from localcloud.tests.helpers import Cloud, start_server, stop_server

    seed = tmp_path / "seed.yaml"
    seed.write_text("enforce_iam: false\nmember_count: 1\n")
    proc, info = start_server("--seed", str(seed))
    try:
        off = Cloud(info)
        assert info["enforce_iam"] is False
        out = off.provider_client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{off.members[0]}:role/{info['execution_role_name']}", RoleSessionName="off",
            ExternalId=info["external_id"],
        )["Credentials"]
        assert session(off, out).client("sns", endpoint_url=off.endpoint).create_topic(Name="anything")["TopicArn"]
    finally:
        stop_server(proc)
