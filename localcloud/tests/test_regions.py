"""Chatbot and the Support App answer only in the regions where they have endpoints; Chatbot's state is global."""

from __future__ import annotations

import http.client
import json
import urllib.parse

import boto3
import botocore.loaders
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

from localcloud.regions import SERVED_REGIONS

CHATBOT_REGIONS = ["us-east-2", "us-west-2", "eu-west-1", "ap-southeast-1"]


def client(lc, service, region, account=None):
    return boto3.session.Session().client(
        service, endpoint_url=lc.endpoint, region_name=region,
        config=Config(retries={"total_max_attempts": 1}), **lc.credentials(account or lc.management),
    )


def signed_post(lc, service, region, path):
    """A signed request on a fresh connection: (status, body), or the OSError the connection ended with."""
    creds = lc.credentials(lc.management)
    request = AWSRequest(method="POST", url=lc.endpoint + path, data=b"{}", headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(creds["aws_access_key_id"], creds["aws_secret_access_key"]), service, region).add_auth(request)
    url = urllib.parse.urlsplit(lc.endpoint)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        conn.request("POST", path, body=b"{}", headers=dict(request.headers.items()))
        resp = conn.getresponse()
        return resp.status, resp.read()
    except OSError as err:  # http.client.RemoteDisconnected is a ConnectionResetError
        return err
    finally:
        conn.close()


def test_supportapp_regions_are_botocores_endpoints():
    endpoints = botocore.loaders.create_loader().load_data("endpoints")
    aws = next(p for p in endpoints["partitions"] if p["partition"] == "aws")
    assert SERVED_REGIONS["supportapp"] == set(aws["services"]["supportapp"]["endpoints"])


@pytest.mark.parametrize("region", ["us-east-1", "eu-central-1", "ap-southeast-2"])
def test_chatbot_outside_its_regions_gets_no_answer_at_all(lc, server, region):
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)) as exc:
        client(lc, "chatbot", region).describe_slack_workspaces()
    assert not isinstance(exc.value, ClientError)
    outcome = signed_post(lc, "chatbot", region, "/describe-slack-workspaces")
    assert isinstance(outcome, (ConnectionError, http.client.RemoteDisconnected)), outcome
    with open(server[0].log_path) as f:
        assert "Bad request" not in f.read()  # the unanswered body was not taken for a next request


@pytest.mark.parametrize("region", CHATBOT_REGIONS)
def test_chatbot_answers_in_each_served_region(lc, region):
    assert client(lc, "chatbot", region).describe_slack_workspaces()["SlackWorkspaces"]
    status, body = signed_post(lc, "chatbot", region, "/describe-slack-workspaces")
    assert status == 200 and json.loads(body)["SlackWorkspaces"]


def test_supportapp_outside_its_regions_gets_no_answer_and_answers_inside(lc):
    for region in ("us-east-2", "ap-southeast-1"):
        with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
            client(lc, "support-app", region).list_slack_workspace_configurations()
    for region in ("us-east-1", "us-west-2", "eu-west-1"):
        assert "slackWorkspaceConfigurations" in client(lc, "support-app", region).list_slack_workspace_configurations()


def test_other_services_answer_in_any_region(lc):
    for region in ("us-east-1", "eu-central-1"):
        assert client(lc, "sts", region).get_caller_identity()["Account"] == lc.management


def test_chatbot_configurations_are_global_per_account(lc, unique):
    account = lc.members[1]
    name = unique("global")
    made = client(lc, "chatbot", "us-east-2", account).create_slack_channel_configuration(
        ConfigurationName=name, SlackTeamId=lc.info["slack_team_id"], SlackChannelId=f"C0{name.upper().replace('-', '')}"[:20],
        IamRoleArn=lc.account(account)["chatbot_role_arn"],
    )["ChannelConfiguration"]
    arn = made["ChatConfigurationArn"]
    assert arn.split(":")[3] == ""  # no region in the ARN
    for region in CHATBOT_REGIONS:
        seen = client(lc, "chatbot", region, account).describe_slack_channel_configurations(ChatConfigurationArn=arn)
        assert [c["ConfigurationName"] for c in seen["SlackChannelConfigurations"]] == [name]
    other = client(lc, "chatbot", "eu-west-1", lc.members[2]).describe_slack_channel_configurations()
    assert arn not in [c["ChatConfigurationArn"] for c in other["SlackChannelConfigurations"]]
    client(lc, "chatbot", "ap-southeast-1", account).delete_slack_channel_configuration(ChatConfigurationArn=arn)
    gone = client(lc, "chatbot", "us-west-2", account).describe_slack_channel_configurations(ChatConfigurationArn=arn)
    assert gone["SlackChannelConfigurations"] == []
