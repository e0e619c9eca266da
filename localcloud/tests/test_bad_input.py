"""Bad input gets the service's error (4xx, its error shape), never a 500 or a traceback."""

from __future__ import annotations

import json

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from localcloud.modelvalidation import service_model
from localcloud.restjson import model_routes
from localcloud.tests.helpers import error_code

OPERATIONS = [
    (signing, model, op.name, path)
    for signing, model in (("chatbot", "chatbot"), ("supportapp", "support-app"))
    for (_method, path), op in sorted(model_routes(model).items())
]
BODIES = [b"not json", b"[]", b"null", b'"a string"', b'{"unterminated": ', b"{}"]


def wrong_types(model: str, operation: str) -> bytes:
    """Every member of the input set to a value of the wrong type."""
    shape = service_model(model).operation_model(operation).input_shape
    wrong = {"string": 42, "integer": "x", "boolean": "yes", "list": "x", "structure": 7, "map": [1]}
    return json.dumps({name: wrong.get(m.type_name, None) for name, m in shape.members.items()}).encode()


@pytest.mark.parametrize("signing,model,operation,path", OPERATIONS, ids=[f"{o[0]}-{o[2]}" for o in OPERATIONS])
def test_every_operation_answers_garbage_with_a_4xx_error_shape(lc, signing, model, operation, path):
    for body in BODIES + [wrong_types(model, operation)]:
        status, headers, raw = lc.raw(signing, path, body, lc.members[0])
        if body == b"{}" and status < 300:
            continue  # an operation without required members accepts an empty request
        assert 400 <= status < 500 or (status == 501 and body == b"{}"), (operation, body, status, raw)
        assert headers.get("x-amzn-ErrorType"), (operation, body)
        message = json.loads(raw)
        assert message["message"] and "Traceback" not in message["message"]


def test_unknown_path_is_a_json_404(lc):
    for signing in ("chatbot", "supportapp"):
        status, headers, raw = lc.raw(signing, "/no-such-operation", b"{}")
        assert status == 404 and headers["x-amzn-ErrorType"] == "UnknownOperationException"
        assert json.loads(raw)["message"]


def test_every_operation_of_the_models_is_served():
    # An operation the model has and no handler serves answers 501
    # NotImplementedException (restjson.py); today there is none.
    import re

    import botocore.session

    from localcloud.motoext.chatbot.responses import ChatbotResponse
    from localcloud.motoext.supportapp.responses import SupportAppResponse

    for service, handler in (("chatbot", ChatbotResponse), ("support-app", SupportAppResponse)):
        model = botocore.session.get_session().get_service_model(service)
        missing = [
            op for op in model.operation_names
            if not callable(getattr(handler, re.sub(r"(?<!^)(?=[A-Z])", "_", op).lower(), None))
        ]
        assert missing == [], f"{service}: {missing}"


def test_chatbot_user_identity_and_custom_action_calls(lc):
    chatbot = lc.client("chatbot", lc.members[0])
    assert chatbot.list_custom_actions()["CustomActions"] == []
    assert chatbot.describe_slack_user_identities()["SlackUserIdentities"] == []
    assert chatbot.list_microsoft_teams_user_identities()["TeamsUserIdentities"] == []
    missing = f"arn:aws:chatbot::{lc.members[0]}:chat-configuration/slack-channel/nope"
    for call in (
        lambda: chatbot.delete_slack_user_identity(ChatConfigurationArn=missing, SlackTeamId="T0CHATOPS1", SlackUserId="U1"),
        lambda: chatbot.get_custom_action(CustomActionArn=f"arn:aws:chatbot::{lc.members[0]}:custom-action/nope"),
        lambda: chatbot.list_associations(ChatConfiguration=missing),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_code(exc) == "ResourceNotFoundException"


@pytest.mark.parametrize(
    "service,call,code",
    [
        ("sts", lambda c: c.assume_role(RoleSessionName="only-a-session"), "ValidationError"),
        ("sts", lambda c: c.assume_role(RoleArn="arn:aws:iam::100000000001:role/ChatOpsExecutionRole", RoleSessionName="has space",
                                       ExternalId="chatops-local-external-id"), "ValidationError"),
        ("sts", lambda c: c.assume_role(RoleArn="arn:aws:iam::100000000001:role/ChatOpsExecutionRole", RoleSessionName="ok",
                                       ExternalId="bad external id!"), "ValidationError"),
        ("iam", lambda c: c.get_role(RoleName=""), "ValidationError"),
        ("iam", lambda c: c.get_role(RoleName="NoSuchRole"), "NoSuchEntity"),
        ("sns", lambda c: c.list_subscriptions_by_topic(TopicArn="not-an-arn"), "InvalidParameter"),
        ("sns", lambda c: c.get_topic_attributes(TopicArn="arn:aws:sns:us-east-1:123456789012:missing"), "NotFound"),
    ],
)
def test_moto_services_answer_bad_input_with_4xx(lc, service, call, code):
    import boto3

    client = boto3.session.Session().client(
        service, endpoint_url=lc.endpoint, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing",
        config=Config(parameter_validation=False, retries={"total_max_attempts": 1}),
    )
    with pytest.raises(ClientError) as exc:
        call(client)
    assert error_code(exc) == code
    assert 400 <= exc.value.response["ResponseMetadata"]["HTTPStatusCode"] < 500


def test_server_log_has_no_tracebacks(server):
    """Nothing the tests sent so far ended in an unhandled exception in the server."""
    with open(server[0].log_path) as f:
        assert "Traceback" not in f.read()
