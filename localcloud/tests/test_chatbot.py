"""AWS Chatbot: every operation the provider uses, and every error, across several accounts."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from localcloud.tests.helpers import error_code, http_status

WEBHOOK = "https://hooks.chime.aws/incomingwebhooks/abc-123?token=secret-TOKEN-42"


def chatbot_subscriptions(lc, topic_arn):
    arn = topic_arn.split(":")
    sns = lc.client("sns", account=arn[4], region=arn[3])
    subs = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    return [s for s in subs if s["Endpoint"] == "https://global.sns-api.chatbot.amazonaws.com"]


def channel_for(name):
    """A Slack channel id of its own for each configuration: a channel has one configuration per account."""
    return "C0" + "".join(ch for ch in name.upper() if ch.isalnum())


def slack_args(lc, account, name, **extra):
    args = {
        "SlackTeamId": lc.info["slack_team_id"],
        "SlackChannelId": channel_for(name),
        "SlackChannelName": "alerts",
        "IamRoleArn": lc.account(account)["chatbot_role_arn"],
        "ConfigurationName": name,
    }
    args.update(extra)
    return args


def test_describe_slack_workspaces_in_every_kind_of_account(lc):
    for account in (lc.management, lc.members[0], lc.outsider):
        spaces = lc.client("chatbot", account).describe_slack_workspaces()["SlackWorkspaces"]
        assert [(w["SlackTeamId"], w["SlackTeamName"]) for w in spaces] == [("T0CHATOPS1", "chatops-local")]


@pytest.mark.parametrize("account_index", [0, 1, 2])
def test_slack_channel_lifecycle_with_topics_in_two_regions(lc, unique, account_index):
    account = [lc.management, lc.members[0], lc.members[1]][account_index]
    chatbot = lc.client("chatbot", account)
    topics = lc.account(account)["topics"]
    name = unique("slack")

    created = chatbot.create_slack_channel_configuration(
        **slack_args(lc, account, name, SnsTopicArns=[topics["us-east-1"], topics["eu-west-1"]],
                     LoggingLevel="ERROR", Tags=[{"TagKey": "chatops:stack-id", "TagValue": "stack-1"}])
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    config = created["ChannelConfiguration"]
    arn = config["ChatConfigurationArn"]
    assert arn == f"arn:aws:chatbot::{account}:chat-configuration/slack-channel/{name}"
    assert config["SlackTeamName"] == "chatops-local"
    assert config["LoggingLevel"] == "ERROR"
    assert config["GuardrailPolicyArns"] == ["arn:aws:iam::aws:policy/AdministratorAccess"]
    assert config["State"] == "ENABLED"
    for region in ("us-east-1", "eu-west-1"):
        subs = chatbot_subscriptions(lc, topics[region])
        assert len(subs) == 1 and subs[0]["Protocol"] == "https" and subs[0]["Owner"] == account

    described = chatbot.describe_slack_channel_configurations(ChatConfigurationArn=arn)["SlackChannelConfigurations"]
    assert len(described) == 1 and described[0]["SlackChannelId"] == channel_for(name)
    assert described[0]["Tags"] == [{"TagKey": "chatops:stack-id", "TagValue": "stack-1"}]

    updated = chatbot.update_slack_channel_configuration(
        ChatConfigurationArn=arn, SlackChannelId="C0OTHER02", SnsTopicArns=[topics["eu-west-1"]],
        GuardrailPolicyArns=["arn:aws:iam::aws:policy/ReadOnlyAccess"], LoggingLevel="INFO",
    )["ChannelConfiguration"]
    assert updated["SlackChannelId"] == "C0OTHER02"
    assert updated["SnsTopicArns"] == [topics["eu-west-1"]]
    assert updated["GuardrailPolicyArns"] == ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
    assert updated["ConfigurationName"] == name
    assert chatbot_subscriptions(lc, topics["us-east-1"]) == []
    assert len(chatbot_subscriptions(lc, topics["eu-west-1"])) == 1

    deleted = chatbot.delete_slack_channel_configuration(ChatConfigurationArn=arn)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert chatbot.describe_slack_channel_configurations(ChatConfigurationArn=arn)["SlackChannelConfigurations"] == []
    assert chatbot_subscriptions(lc, topics["eu-west-1"]) == []


def test_configurations_are_per_account(lc, unique):
    name = unique("same-name")
    a, b = lc.members[2], lc.members[3]
    arn_a = lc.client("chatbot", a).create_slack_channel_configuration(**slack_args(lc, a, name))["ChannelConfiguration"]["ChatConfigurationArn"]
    arn_b = lc.client("chatbot", b).create_slack_channel_configuration(**slack_args(lc, b, name))["ChannelConfiguration"]["ChatConfigurationArn"]
    assert arn_a != arn_b
    seen_by_b = lc.client("chatbot", b).describe_slack_channel_configurations(ChatConfigurationArn=arn_a)
    assert seen_by_b["SlackChannelConfigurations"] == []
    with pytest.raises(ClientError) as exc:
        lc.client("chatbot", b).delete_slack_channel_configuration(ChatConfigurationArn=arn_a)
    assert error_code(exc) == "ResourceNotFoundException" and http_status(exc) == 404


def test_shared_topic_subscription_outlives_first_configuration(lc, unique):
    account = lc.members[4]
    chatbot = lc.client("chatbot", account)
    topic = lc.account(account)["topics"]["us-east-1"]
    one = chatbot.create_slack_channel_configuration(**slack_args(lc, account, unique("one"), SnsTopicArns=[topic]))
    two = chatbot.create_slack_channel_configuration(**slack_args(lc, account, unique("two"), SnsTopicArns=[topic]))
    assert len(chatbot_subscriptions(lc, topic)) == 1
    chatbot.delete_slack_channel_configuration(ChatConfigurationArn=one["ChannelConfiguration"]["ChatConfigurationArn"])
    assert len(chatbot_subscriptions(lc, topic)) == 1
    chatbot.delete_slack_channel_configuration(ChatConfigurationArn=two["ChannelConfiguration"]["ChatConfigurationArn"])
    assert chatbot_subscriptions(lc, topic) == []


def test_cross_account_topic_is_subscribed_in_its_own_account(lc, unique):
    account, topic_owner = lc.members[0], lc.members[1]
    sns = lc.client("sns", topic_owner, region="eu-west-1")
    topic = sns.create_topic(Name=unique("shared"))["TopicArn"]
    chatbot = lc.client("chatbot", account)
    arn = chatbot.create_slack_channel_configuration(**slack_args(lc, account, unique("xacct"), SnsTopicArns=[topic]))["ChannelConfiguration"]["ChatConfigurationArn"]
    subs = chatbot_subscriptions(lc, topic)
    assert len(subs) == 1 and subs[0]["TopicArn"] == topic
    chatbot.delete_slack_channel_configuration(ChatConfigurationArn=arn)
    assert chatbot_subscriptions(lc, topic) == []


def test_raw_message_delivery_on_existing_subscription_is_left_alone(lc, unique):
    account = lc.members[5]
    sns = lc.client("sns", account)
    topic = sns.create_topic(Name=unique("raw"))["TopicArn"]
    sub = sns.subscribe(TopicArn=topic, Protocol="https", Endpoint="https://global.sns-api.chatbot.amazonaws.com",
                        Attributes={"RawMessageDelivery": "true"}, ReturnSubscriptionArn=True)["SubscriptionArn"]
    chatbot = lc.client("chatbot", account)
    arn = chatbot.create_slack_channel_configuration(**slack_args(lc, account, unique("raw"), SnsTopicArns=[topic]))["ChannelConfiguration"]["ChatConfigurationArn"]
    subs = chatbot_subscriptions(lc, topic)
    assert [s["SubscriptionArn"] for s in subs] == [sub]
    assert sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["RawMessageDelivery"] == "true"
    chatbot.delete_slack_channel_configuration(ChatConfigurationArn=arn)


def test_publishing_to_a_chatbot_topic_never_leaves_loopback(lc, unique):
    account = lc.members[0]
    sns = lc.client("sns", account)
    topic = sns.create_topic(Name=unique("publish"))["TopicArn"]
    chatbot = lc.client("chatbot", account)
    arn = chatbot.create_slack_channel_configuration(**slack_args(lc, account, unique("pub"), SnsTopicArns=[topic]))["ChannelConfiguration"]["ChatConfigurationArn"]
    message_id = sns.publish(TopicArn=topic, Message="alarm!")["MessageId"]
    status, out = lc.control("GET", "sns-deliveries")
    assert status == 200
    delivered = [d for d in out["deliveries"] if d["message_id"] == message_id]
    assert len(delivered) == 1 and delivered[0]["endpoint"] == "https://global.sns-api.chatbot.amazonaws.com"
    chatbot.delete_slack_channel_configuration(ChatConfigurationArn=arn)


def test_describe_paging_with_max_results_and_next_token(lc, unique):
    account = lc.outsider
    chatbot = lc.client("chatbot", account)
    names = [unique("page") for _ in range(5)]
    for name in names:
        chatbot.create_slack_channel_configuration(**slack_args(lc, account, name))
    seen, token, pages = [], None, 0
    while True:
        kwargs = {"MaxResults": 2}
        if token:
            kwargs["NextToken"] = token
        out = chatbot.describe_slack_channel_configurations(**kwargs)
        assert len(out["SlackChannelConfigurations"]) <= 2
        seen += [c["ConfigurationName"] for c in out["SlackChannelConfigurations"]]
        pages += 1
        token = out.get("NextToken")
        if not token:
            break
    assert set(names) <= set(seen) and len(seen) == len(set(seen)) and pages >= 3
    paginated = [c["ConfigurationName"] for p in chatbot.get_paginator("describe_slack_channel_configurations").paginate(PaginationConfig={"PageSize": 1}) for c in p["SlackChannelConfigurations"]]
    assert paginated == seen
    with pytest.raises(ClientError) as exc:
        chatbot.describe_slack_channel_configurations(NextToken="not-a-real-token")
    assert error_code(exc) == "InvalidParameterException"


def test_configuration_name_is_unique_per_account_across_kinds(lc, unique):
    account = lc.members[1]
    chatbot = lc.client("chatbot", account)
    name = unique("dup")
    chatbot.create_slack_channel_configuration(**slack_args(lc, account, name))
    with pytest.raises(ClientError) as exc:
        chatbot.create_slack_channel_configuration(**slack_args(lc, account, name, SlackChannelId="C0DIFFERENT"))
    assert error_code(exc) == "ConflictException" and http_status(exc) == 409
    with pytest.raises(ClientError) as exc:
        chatbot.create_chime_webhook_configuration(
            WebhookDescription="d", WebhookUrl=WEBHOOK, SnsTopicArns=[], IamRoleArn=lc.account(account)["chatbot_role_arn"], ConfigurationName=name
        )
    assert error_code(exc) == "ConflictException"


def test_a_slack_channel_has_one_configuration_per_account(lc, unique):
    account = lc.members[3]
    chatbot = lc.client("chatbot", account)
    first = unique("chan")
    arn = chatbot.create_slack_channel_configuration(**slack_args(lc, account, first))["ChannelConfiguration"]["ChatConfigurationArn"]
    with pytest.raises(ClientError) as exc:
        chatbot.create_slack_channel_configuration(**slack_args(lc, account, unique("again"), SlackChannelId=channel_for(first)))
    assert error_code(exc) == "InvalidRequestException" and http_status(exc) == 400
    message = str(exc.value)
    assert "has already been configured" in message and channel_for(first) in message and account in message

    other = unique("other")
    other_arn = chatbot.create_slack_channel_configuration(**slack_args(lc, account, other))["ChannelConfiguration"]["ChatConfigurationArn"]
    with pytest.raises(ClientError) as exc:
        chatbot.update_slack_channel_configuration(ChatConfigurationArn=other_arn, SlackChannelId=channel_for(first))
    assert error_code(exc) == "InvalidRequestException" and "has already been configured" in str(exc.value)
    assert chatbot.describe_slack_channel_configurations(ChatConfigurationArn=other_arn)["SlackChannelConfigurations"][0]["SlackChannelId"] == channel_for(other)
    # Keeping its own channel is no conflict; another account may configure the same channel.
    chatbot.update_slack_channel_configuration(ChatConfigurationArn=arn, SlackChannelId=channel_for(first), LoggingLevel="INFO")
    elsewhere = lc.client("chatbot", lc.members[4])
    elsewhere_arn = elsewhere.create_slack_channel_configuration(**slack_args(lc, lc.members[4], unique("elsewhere"), SlackChannelId=channel_for(first)))
    elsewhere.delete_slack_channel_configuration(ChatConfigurationArn=elsewhere_arn["ChannelConfiguration"]["ChatConfigurationArn"])
    # Once deleted, the channel is free again.
    chatbot.delete_slack_channel_configuration(ChatConfigurationArn=arn)
    chatbot.update_slack_channel_configuration(ChatConfigurationArn=other_arn, SlackChannelId=channel_for(first))
    chatbot.delete_slack_channel_configuration(ChatConfigurationArn=other_arn)


def test_unauthorized_workspace_is_refused_with_what_to_do(lc, unique):
    account = lc.members[2]
    with pytest.raises(ClientError) as exc:
        lc.client("chatbot", account).create_slack_channel_configuration(
            **slack_args(lc, account, unique("unauthz"), SlackTeamId=lc.info["unauthorized_slack_team_id"])
        )
    assert error_code(exc) == "InvalidRequestException" and http_status(exc) == 400
    assert "T0UNAUTHZ1" in str(exc.value) and "console" in str(exc.value)


def test_unknown_arn_is_resource_not_found(lc):
    chatbot = lc.client("chatbot", lc.members[3])
    missing = f"arn:aws:chatbot::{lc.members[3]}:chat-configuration/slack-channel/never-created"
    calls = [
        lambda: chatbot.update_slack_channel_configuration(ChatConfigurationArn=missing, SlackChannelId="C1"),
        lambda: chatbot.delete_slack_channel_configuration(ChatConfigurationArn=missing),
        lambda: chatbot.update_chime_webhook_configuration(ChatConfigurationArn=missing.replace("slack-channel", "chime-webhook")),
        lambda: chatbot.delete_chime_webhook_configuration(ChatConfigurationArn=missing.replace("slack-channel", "chime-webhook")),
        lambda: chatbot.get_microsoft_teams_channel_configuration(ChatConfigurationArn=missing),
        lambda: chatbot.delete_microsoft_teams_channel_configuration(ChatConfigurationArn=missing),
        lambda: chatbot.list_tags_for_resource(ResourceARN=missing),
        lambda: chatbot.tag_resource(ResourceARN=missing, Tags=[{"TagKey": "k", "TagValue": "v"}]),
        lambda: chatbot.untag_resource(ResourceARN=missing, TagKeys=["k"]),
    ]
    for call in calls:
        with pytest.raises(ClientError) as exc:
            call()
        assert error_code(exc) == "ResourceNotFoundException" and http_status(exc) == 404
    assert chatbot.describe_slack_channel_configurations(ChatConfigurationArn=missing)["SlackChannelConfigurations"] == []


def test_slack_arn_is_not_found_through_the_chime_api(lc, unique):
    account = lc.members[3]
    chatbot = lc.client("chatbot", account)
    arn = chatbot.create_slack_channel_configuration(**slack_args(lc, account, unique("kind")))["ChannelConfiguration"]["ChatConfigurationArn"]
    with pytest.raises(ClientError) as exc:
        chatbot.delete_chime_webhook_configuration(ChatConfigurationArn=arn)
    assert error_code(exc) == "ResourceNotFoundException"
    assert chatbot.describe_chime_webhook_configurations(ChatConfigurationArn=arn)["WebhookConfigurations"] == []


def test_missing_role_and_missing_topic_are_invalid_parameters(lc, unique):
    account = lc.members[4]
    chatbot = lc.client("chatbot", account)
    with pytest.raises(ClientError) as exc:
        chatbot.create_slack_channel_configuration(**slack_args(lc, account, unique("norole"), IamRoleArn=f"arn:aws:iam::{account}:role/NoSuchRole"))
    assert error_code(exc) == "InvalidParameterException" and "IamRoleArn" in str(exc.value)
    with pytest.raises(ClientError) as exc:
        chatbot.create_slack_channel_configuration(**slack_args(lc, account, unique("notopic"), SnsTopicArns=[f"arn:aws:sns:us-east-1:{account}:no-such-topic"]))
    assert error_code(exc) == "InvalidParameterException" and "SnsTopicArns" in str(exc.value)


# Each row: the member, a value that breaks the model's rule for it, and the member name in the message.
INVALID_SLACK = [
    ("ConfigurationName", "has space", "configurationName"),
    ("ConfigurationName", "x" * 129, "configurationName"),
    ("ConfigurationName", "", "configurationName"),
    ("SlackTeamId", "t0lowercase", "slackTeamId"),
    ("SlackChannelId", "C-1", "slackChannelId"),
    ("LoggingLevel", "DEBUG", "loggingLevel"),
    ("IamRoleArn", "not-an-arn", "iamRoleArn"),
    ("GuardrailPolicyArns", ["arn:aws:iam::aws:policy/aws-service-role/X"], "guardrailPolicyArns.1.member"),
    ("SnsTopicArns", ["arn:aws:sns"], "snsTopicArns.1.member"),
    ("Tags", [{"TagKey": "", "TagValue": "v"}], "tags.1.member.tagKey"),
]


@pytest.mark.parametrize("member,value,path", INVALID_SLACK, ids=[f"{r[0]}-{i}" for i, r in enumerate(INVALID_SLACK)])
def test_model_constraints_name_the_member(lc, unique, member, value, path):
    account = lc.members[0]
    chatbot = lc.client("chatbot", account, validate=False)
    with pytest.raises(ClientError) as exc:
        chatbot.create_slack_channel_configuration(**slack_args(lc, account, unique("bad"), **{member: value}))
    assert error_code(exc) == "InvalidParameterException" and http_status(exc) == 400
    assert f"at '{path}'" in str(exc.value)


@pytest.mark.parametrize("missing", ["SlackTeamId", "SlackChannelId", "IamRoleArn", "ConfigurationName"])
def test_required_members(lc, unique, missing):
    account = lc.members[0]
    args = slack_args(lc, account, unique("req"))
    del args[missing]
    with pytest.raises(ClientError) as exc:
        lc.client("chatbot", account, validate=False).create_slack_channel_configuration(**args)
    assert error_code(exc) == "InvalidParameterException"
    assert "must not be null" in str(exc.value) and missing[0].lower() + missing[1:] in str(exc.value)


@pytest.mark.parametrize("value", [0, 101])
def test_max_results_range(lc, value):
    chatbot = lc.client("chatbot", lc.members[0], validate=False)
    with pytest.raises(ClientError) as exc:
        chatbot.describe_slack_channel_configurations(MaxResults=value)
    assert error_code(exc) == "InvalidParameterException" and "maxResults" in str(exc.value)


def test_chime_webhook_lifecycle_never_returns_the_url(lc, unique):
    account = lc.members[1]
    chatbot = lc.client("chatbot", account)
    topic = lc.account(account)["topics"]["us-east-1"]
    name = unique("chime")
    created = chatbot.create_chime_webhook_configuration(
        WebhookDescription="ops room", WebhookUrl=WEBHOOK, SnsTopicArns=[topic],
        IamRoleArn=lc.account(account)["chatbot_role_arn"], ConfigurationName=name, LoggingLevel="INFO",
    )["WebhookConfiguration"]
    arn = created["ChatConfigurationArn"]
    assert arn.endswith(f":chat-configuration/chime-webhook/{name}")
    assert "WebhookUrl" not in created
    assert len(chatbot_subscriptions(lc, topic)) == 1

    status, _, body = lc.raw("chatbot", "/describe-chime-webhook-configurations", json.dumps({"ChatConfigurationArn": arn}).encode(), account)
    assert status == 200 and b"secret-TOKEN-42" not in body and b"hooks.chime.aws" not in body
    assert json.loads(body)["WebhookConfigurations"][0]["WebhookDescription"] == "ops room"

    updated = chatbot.update_chime_webhook_configuration(
        ChatConfigurationArn=arn, WebhookDescription="new room", WebhookUrl=WEBHOOK.replace("42", "43"), SnsTopicArns=[]
    )["WebhookConfiguration"]
    assert updated["WebhookDescription"] == "new room" and "WebhookUrl" not in updated
    assert chatbot_subscriptions(lc, topic) == []
    assert chatbot.delete_chime_webhook_configuration(ChatConfigurationArn=arn)["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_bad_webhook_url_is_refused_without_echoing_it(lc, unique):
    account = lc.members[1]
    with pytest.raises(ClientError) as exc:
        lc.client("chatbot", account).create_chime_webhook_configuration(
            WebhookDescription="d", WebhookUrl="https://example.com/hook?token=leaked-secret", SnsTopicArns=[],
            IamRoleArn=lc.account(account)["chatbot_role_arn"], ConfigurationName=unique("badhook"),
        )
    assert error_code(exc) == "InvalidParameterException" and "webhookUrl" in str(exc.value)
    assert "leaked-secret" not in str(exc.value)


def test_teams_channel_lifecycle(lc, unique):
    account = lc.members[2]
    chatbot = lc.client("chatbot", account)
    team, tenant = lc.info["teams_team_id"], lc.info["teams_tenant_id"]
    configured = chatbot.list_microsoft_teams_configured_teams()["ConfiguredTeams"]
    assert [(t["TeamId"], t["TenantId"]) for t in configured] == [(team, tenant)]
    name = unique("teams")
    channel = "19%3ab6ef35dc342d56ba5654e6fc6d25a071%40thread.tacv2"
    created = chatbot.create_microsoft_teams_channel_configuration(
        ChannelId=channel, ChannelName="alerts", TeamId=team, TenantId=tenant,
        IamRoleArn=lc.account(account)["chatbot_role_arn"], ConfigurationName=name,
        Tags=[{"TagKey": "chatops:logical-id", "TagValue": "TeamsChannel"}],
    )["ChannelConfiguration"]
    arn = created["ChatConfigurationArn"]
    assert arn.endswith(f":chat-configuration/microsoft-teams-channel/{name}")
    got = chatbot.get_microsoft_teams_channel_configuration(ChatConfigurationArn=arn)["ChannelConfiguration"]
    assert got["TeamName"] == "chatops-local-teams" and got["ChannelId"] == channel
    listed = chatbot.list_microsoft_teams_channel_configurations(TeamId=team)["TeamChannelConfigurations"]
    assert arn in [c["ChatConfigurationArn"] for c in listed]
    other_team = "00000000-0000-0000-0000-000000000000"
    assert chatbot.list_microsoft_teams_channel_configurations(TeamId=other_team)["TeamChannelConfigurations"] == []
    updated = chatbot.update_microsoft_teams_channel_configuration(ChatConfigurationArn=arn, ChannelId=channel, ChannelName="renamed")
    assert updated["ChannelConfiguration"]["ChannelName"] == "renamed"
    chatbot.delete_microsoft_teams_channel_configuration(ChatConfigurationArn=arn)
    with pytest.raises(ClientError) as exc:
        chatbot.get_microsoft_teams_channel_configuration(ChatConfigurationArn=arn)
    assert error_code(exc) == "ResourceNotFoundException"


def test_teams_channel_needs_a_configured_team(lc, unique):
    account = lc.members[2]
    with pytest.raises(ClientError) as exc:
        lc.client("chatbot", account).create_microsoft_teams_channel_configuration(
            ChannelId="19%3aabc%40thread.tacv2", TeamId="00000000-0000-0000-0000-000000000000",
            TenantId=lc.info["teams_tenant_id"], IamRoleArn=lc.account(account)["chatbot_role_arn"], ConfigurationName=unique("noteam"),
        )
    assert error_code(exc) == "InvalidRequestException"


def test_tags(lc, unique):
    account = lc.members[3]
    chatbot = lc.client("chatbot", account)
    arn = chatbot.create_slack_channel_configuration(
        **slack_args(lc, account, unique("tags"), Tags=[{"TagKey": "chatops:stack-id", "TagValue": "s"}, {"TagKey": "chatops:logical-id", "TagValue": "L"}])
    )["ChannelConfiguration"]["ChatConfigurationArn"]
    tags = {t["TagKey"]: t["TagValue"] for t in chatbot.list_tags_for_resource(ResourceARN=arn)["Tags"]}
    assert tags == {"chatops:stack-id": "s", "chatops:logical-id": "L"}
    chatbot.tag_resource(ResourceARN=arn, Tags=[{"TagKey": "team", "TagValue": "sre"}, {"TagKey": "chatops:logical-id", "TagValue": "L2"}])
    chatbot.untag_resource(ResourceARN=arn, TagKeys=["chatops:stack-id"])
    tags = {t["TagKey"]: t["TagValue"] for t in chatbot.list_tags_for_resource(ResourceARN=arn)["Tags"]}
    assert tags == {"chatops:logical-id": "L2", "team": "sre"}
    with pytest.raises(ClientError) as exc:
        chatbot.tag_resource(ResourceARN=arn, Tags=[{"TagKey": f"k{i}", "TagValue": "v"} for i in range(60)])
    assert error_code(exc) == "TooManyTagsException"


def test_delete_slack_workspace_authorization(lc, unique):
    account = lc.members[5]
    status, _ = lc.control("POST", "slack-authorize", {"service": "chatbot", "account": account, "team_id": "T0EXTRA01", "team_name": "extra"})
    assert status == 200
    chatbot = lc.client("chatbot", account)
    assert "T0EXTRA01" in [w["SlackTeamId"] for w in chatbot.describe_slack_workspaces()["SlackWorkspaces"]]
    arn = chatbot.create_slack_channel_configuration(**slack_args(lc, account, unique("extra"), SlackTeamId="T0EXTRA01"))["ChannelConfiguration"]["ChatConfigurationArn"]
    with pytest.raises(ClientError) as exc:
        chatbot.delete_slack_workspace_authorization(SlackTeamId="T0EXTRA01")
    assert error_code(exc) == "InvalidRequestException"
    chatbot.delete_slack_channel_configuration(ChatConfigurationArn=arn)
    assert chatbot.delete_slack_workspace_authorization(SlackTeamId="T0EXTRA01")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert [w["SlackTeamId"] for w in chatbot.describe_slack_workspaces()["SlackWorkspaces"]] == ["T0CHATOPS1"]
    with pytest.raises(ClientError) as exc:
        chatbot.create_slack_channel_configuration(**slack_args(lc, account, unique("gone"), SlackTeamId="T0EXTRA01"))
    assert error_code(exc) == "InvalidRequestException"


def test_account_preferences(lc):
    chatbot = lc.client("chatbot", lc.members[4])
    assert chatbot.get_account_preferences()["AccountPreferences"]["UserAuthorizationRequired"] is False
    out = chatbot.update_account_preferences(UserAuthorizationRequired=True)
    assert out["AccountPreferences"]["UserAuthorizationRequired"] is True
    chatbot.update_account_preferences(UserAuthorizationRequired=False)


def test_chime_and_teams_paging(lc, unique):
    account = lc.members[5]
    chatbot = lc.client("chatbot", account)
    role = lc.account(account)["chatbot_role_arn"]
    chime = [chatbot.create_chime_webhook_configuration(WebhookDescription="d", WebhookUrl=WEBHOOK, SnsTopicArns=[], IamRoleArn=role,
                                                        ConfigurationName=unique("chime-page"))["WebhookConfiguration"]["ChatConfigurationArn"] for _ in range(3)]
    teams = [chatbot.create_microsoft_teams_channel_configuration(
        ChannelId=f"19%3apage{i}%40thread.tacv2", TeamId=lc.info["teams_team_id"], TenantId=lc.info["teams_tenant_id"],
        IamRoleArn=role, ConfigurationName=unique("teams-page"))["ChannelConfiguration"]["ChatConfigurationArn"] for i in range(3)]
    pages = list(chatbot.get_paginator("describe_chime_webhook_configurations").paginate(PaginationConfig={"PageSize": 2}))
    assert len(pages) >= 2 and set(chime) <= {c["ChatConfigurationArn"] for p in pages for c in p["WebhookConfigurations"]}
    pages = list(chatbot.get_paginator("list_microsoft_teams_channel_configurations").paginate(PaginationConfig={"PageSize": 2}))
    assert len(pages) >= 2 and set(teams) <= {c["ChatConfigurationArn"] for p in pages for c in p["TeamChannelConfigurations"]}

    with pytest.raises(ClientError) as exc:
        chatbot.delete_microsoft_teams_configured_team(TeamId=lc.info["teams_team_id"])
    assert error_code(exc) == "InvalidRequestException"
    for arn in chime:
        chatbot.delete_chime_webhook_configuration(ChatConfigurationArn=arn)
    for arn in teams:
        chatbot.delete_microsoft_teams_channel_configuration(ChatConfigurationArn=arn)
    chatbot.delete_microsoft_teams_configured_team(TeamId=lc.info["teams_team_id"])
    assert chatbot.list_microsoft_teams_configured_teams()["ConfiguredTeams"] == []


def test_custom_actions_are_made_and_associated_with_configurations(lc, unique):
    account = lc.members[1]
    chatbot = lc.client("chatbot", account)
    name = unique("action")
    arn = chatbot.create_custom_action(ActionName=name, Definition={"CommandText": "cloudwatch describe-alarms"})["CustomActionArn"]
    assert arn == f"arn:aws:chatbot::{account}:custom-action/{name}"
    assert arn in chatbot.list_custom_actions()["CustomActions"]
    assert chatbot.get_custom_action(CustomActionArn=arn)["CustomAction"]["Definition"] == {"CommandText": "cloudwatch describe-alarms"}
    with pytest.raises(ClientError) as caught:
        chatbot.create_custom_action(ActionName=name, Definition={"CommandText": "x"})
    assert error_code(caught) == "ConflictException"

    config = chatbot.create_slack_channel_configuration(**slack_args(lc, account, unique("custom")))["ChannelConfiguration"]
    config_arn = config["ChatConfigurationArn"]
    chatbot.associate_to_configuration(ChatConfiguration=config_arn, Resource=arn)
    assert chatbot.list_associations(ChatConfiguration=config_arn)["Associations"] == [{"Resource": arn}]
    missing = f"arn:aws:chatbot::{account}:custom-action/{unique('none')}"
    with pytest.raises(ClientError) as caught:
        chatbot.associate_to_configuration(ChatConfiguration=config_arn, Resource=missing)
    assert error_code(caught) == "InvalidRequestException"
    chatbot.disassociate_from_configuration(ChatConfiguration=config_arn, Resource=arn)
    assert chatbot.list_associations(ChatConfiguration=config_arn)["Associations"] == []

    chatbot.associate_to_configuration(ChatConfiguration=config_arn, Resource=arn)
    chatbot.delete_custom_action(CustomActionArn=arn)
    assert chatbot.list_associations(ChatConfiguration=config_arn)["Associations"] == []
    with pytest.raises(ClientError) as caught:
        chatbot.get_custom_action(CustomActionArn=arn)
    assert error_code(caught) == "ResourceNotFoundException"
    chatbot.delete_slack_channel_configuration(ChatConfigurationArn=config_arn)


def test_a_workspace_or_team_an_organization_policy_denies_is_listed_disabled(lc):
    """What an organization's Chatbot policy denies is DISABLED with a StateReason (API model, SlackWorkspace/ConfiguredTeam State)."""
    account = lc.members[4]
    chatbot = lc.client("chatbot", account)
    reason = "The organization's Chatbot policy does not allow this Slack workspace"
    status, _ = lc.control("POST", "slack-authorize", {"service": "chatbot", "account": account, "team_id": "T0DENIED1", "disabled_reason": reason})
    assert status == 200
    workspaces = {w["SlackTeamId"]: w for w in chatbot.describe_slack_workspaces()["SlackWorkspaces"]}
    assert workspaces["T0DENIED1"]["State"] == "DISABLED" and workspaces["T0DENIED1"]["StateReason"] == reason
    assert workspaces["T0CHATOPS1"]["State"] == "ENABLED" and "StateReason" not in workspaces["T0CHATOPS1"]
    # Authorized again without a reason: enabled; the authorization deleted: gone with its state.
    lc.control("POST", "slack-authorize", {"service": "chatbot", "account": account, "team_id": "T0DENIED1"})
    assert {w["SlackTeamId"]: w["State"] for w in chatbot.describe_slack_workspaces()["SlackWorkspaces"]}["T0DENIED1"] == "ENABLED"
    chatbot.delete_slack_workspace_authorization(SlackTeamId="T0DENIED1")

    team, tenant = "6f1c2a3b-0000-4d5e-8f90-112233445566", lc.info["teams_tenant_id"]
    status, _ = lc.control("POST", "teams-configure", {"account": account, "team_id": team, "tenant_id": tenant, "disabled_reason": "denied"})
    assert status == 200
    teams = {t["TeamId"]: t for t in chatbot.list_microsoft_teams_configured_teams()["ConfiguredTeams"]}
    assert (teams[team]["TenantId"], teams[team]["State"], teams[team]["StateReason"]) == (tenant, "DISABLED", "denied")
    assert teams[lc.info["teams_team_id"]]["State"] == "ENABLED"
    chatbot.delete_microsoft_teams_configured_team(TeamId=team)
    assert team not in [t["TeamId"] for t in chatbot.list_microsoft_teams_configured_teams()["ConfiguredTeams"]]


@pytest.mark.parametrize("spec", [
    {"team_id": "not-a-uuid", "tenant_id": "9c6b0c3e-7f5a-4b8e-9d1f-2a3b4c5d6e7f"},
    {"team_id": "6f1c2a3b-0000-4d5e-8f90-112233445566"},
    {"team_id": "6f1c2a3b-0000-4d5e-8f90-112233445566", "tenant_id": "9c6b0c3e-7f5a-4b8e-9d1f-2a3b4c5d6e7f", "disabled_reason": 3},
])
def test_teams_configure_takes_the_model_shapes_only(lc, spec):
    status, out = lc.control("POST", "teams-configure", {"account": lc.members[4], **spec})
    assert status == 400, out
