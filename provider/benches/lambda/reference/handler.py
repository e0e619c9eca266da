"""Reference for the benchmark: Custom::ChatbotSlackChannel as a Python
Lambda with boto3 would implement it, making the same service calls as the
chatops provider, in the same order, with the same warm caches:

  Every request: Organizations DescribeAccount and STS AssumeRole (cached
  per account), CloudFormation DescribeStackResource (is the stack really
  sending this request? docs/provenance.md). Create: Chatbot
  DescribeSlackWorkspaces, IAM GetRole,
  ListAttachedRolePolicies, ListRolePolicies, GetRolePolicy (each inline
  policy), SNS GetTopicAttributes and ListSubscriptionsByTopic (each topic),
  Chatbot CreateSlackChannelConfiguration; Delete: DeleteSlackChannel-
  Configuration; an Update that changes nothing: no further call. Then the response
  PUT to the ResponseURL.

Only what the benchmark drives is implemented (one type, no replacement or
adoption); it is a yardstick, not a second provider.
"""

import json
import os
import re
import time
import urllib.parse
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

CONFIG = Config(retries={"mode": "standard", "max_attempts": 5})
SESSION = boto3.session.Session()
ORGANIZATIONS = SESSION.client("organizations", config=CONFIG)
STS = SESSION.client("sts", config=CONFIG)
REGION = SESSION.region_name or "us-east-1"
# Chatbot has no us-east-1 endpoint: the provider calls the nearest served region.
CHATBOT_REGION = os.environ.get("CHATOPS_CHATBOT_REGION") or ("us-east-2" if REGION == "us-east-1" else REGION)
EXPECTED_STATUS = {"Create": "CREATE_IN_PROGRESS", "Update": "UPDATE_IN_PROGRESS", "Delete": "DELETE_IN_PROGRESS"}
ROLE_NAME = os.environ.get("CHATOPS_EXECUTION_ROLE_NAME", "ChatOpsExecutionRole")
EXTERNAL_ID = os.environ.get("CHATOPS_EXTERNAL_ID")
MEMBERSHIP_TTL = 300
REFRESH_MARGIN = 300

PATTERNS = {
    "ConfigurationName": r"^[A-Za-z0-9-_]{1,128}$",
    "SlackWorkspaceId": r"^[0-9A-Z]{1,255}$",
    "SlackChannelId": r"^[A-Za-z0-9]{1,255}$",
    "IamRoleArn": r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$",
}
CREATE_ONLY = ("ConfigurationName", "SlackWorkspaceId", "AccountId", "Region")

_memberships = {}
_credentials = {}
_clients = {}


def handler(event, context):
    requests = [json.loads(r["Sns"]["Message"]) for r in event["Records"]] if "Records" in event else [event]
    for request in requests:
        respond(request, *handle(request))
    return {}


def handle(request):
    kind = request["RequestType"]
    physical_id = request.get("PhysicalResourceId") or "chatops:create-failed:" + request["RequestId"]
    try:
        props = without_token(request.get("ResourceProperties"))
        account = request["StackId"].split(":")[4]
        verify(request, account)
        if kind == "Create":
            return "SUCCESS", create(props, account, request), None
        if kind == "Update":
            old = without_token(request.get("OldResourceProperties"))
            if old == props:
                return "SUCCESS", physical_id, None
            raise ValueError("only creates, deletes and no-change updates are implemented")
        delete(physical_id, account, request)
        return "SUCCESS", physical_id, None
    except Exception as error:  # always answer
        return "FAILED", physical_id, str(error)[:2000]


def verify(request, account):
    """Acts only on what CloudFormation confirms is in progress (the provider's cleanup-phase check aside)."""
    cloudformation = client(account, request, "cloudformation", request["StackId"].split(":")[3])
    resource = cloudformation.describe_stack_resource(
        StackName=request["StackId"], LogicalResourceId=request["LogicalResourceId"])["StackResourceDetail"]
    confirmed = resource["ResourceType"] == request["ResourceType"] and \
        resource["ResourceStatus"] == EXPECTED_STATUS[request["RequestType"]] and \
        (request["RequestType"] == "Create" or resource.get("PhysicalResourceId") == request.get("PhysicalResourceId"))
    if not confirmed:
        raise PermissionError("could not verify this request with CloudFormation")


def without_token(props):
    props = dict(props or {})
    props.pop("ServiceToken", None)
    return props


def validate(props):
    for name, pattern in PATTERNS.items():
        if not isinstance(props.get(name), str) or not re.match(pattern, props[name]):
            raise ValueError(f"invalid property {name}")
    if props.get("LoggingLevel", "ERROR") not in ("ERROR", "INFO", "NONE"):
        raise ValueError("invalid property LoggingLevel")


def credentials(account, request):
    now = time.time()
    status, at = _memberships.get(account, (None, 0))
    if now - at > MEMBERSHIP_TTL:
        status = ORGANIZATIONS.describe_account(AccountId=account)["Account"]["Status"]
        _memberships[account] = (status, now)
    if status != "ACTIVE":
        raise PermissionError(f"account {account} is {status}")
    cached = _credentials.get(account)
    if cached is None or cached["Expiration"].timestamp() < now + REFRESH_MARGIN:
        stack_name = request["StackId"].split("/")[1]
        session_name = re.sub(r"[^\w+=,.@-]", "-", f"{stack_name}-{request['LogicalResourceId']}")[:64]
        args = {"RoleArn": f"arn:aws:iam::{account}:role/{ROLE_NAME}", "RoleSessionName": session_name}
        if EXTERNAL_ID:
            args["ExternalId"] = EXTERNAL_ID
        cached = STS.assume_role(**args)["Credentials"]
        _credentials[account] = cached
    return cached


def client(account, request, service, region=REGION):
    """A client acting in `account`, kept while its credentials are (boto3 clients are slow to make)."""
    creds = credentials(account, request)
    key = (account, service, region)
    cached = _clients.get(key)
    if cached is None or cached[0] != creds["AccessKeyId"]:
        session = boto3.session.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=region,
        )
        cached = (creds["AccessKeyId"], session.client(service, config=CONFIG))
        _clients[key] = cached
    return cached[1]


def create(props, account, request):
    validate(props)
    chatbot = client(account, request, "chatbot", CHATBOT_REGION)
    iam = client(account, request, "iam")
    workspaces = chatbot.describe_slack_workspaces()["SlackWorkspaces"]
    if not any(w["SlackTeamId"] == props["SlackWorkspaceId"] for w in workspaces):
        raise PermissionError(f"Slack workspace {props['SlackWorkspaceId']} is not authorized")
    role_name = props["IamRoleArn"].rsplit("/", 1)[1]
    role = iam.get_role(RoleName=role_name)["Role"]
    trust = role["AssumeRolePolicyDocument"]
    if isinstance(trust, str):
        trust = json.loads(urllib.parse.unquote(trust))
    if "chatbot.amazonaws.com" not in json.dumps(trust):
        raise ValueError("the role does not trust chatbot.amazonaws.com")
    attached = iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]
    if any(p["PolicyName"] == "AdministratorAccess" for p in attached) and not props.get("GuardrailPolicies"):
        raise ValueError("the channel role is an administrator and no guardrail caps it")
    for name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]
        if isinstance(document, str):
            document = json.loads(urllib.parse.unquote(document))
    for topic in props.get("SnsTopicArns", []):
        region, owner = topic.split(":")[3:5]
        if owner != account:
            continue
        sns = client(account, request, "sns", region)
        sns.get_topic_attributes(TopicArn=topic)
        for subscription in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]:
            if subscription.get("Endpoint") == "https://global.sns-api.chatbot.amazonaws.com":
                attributes = sns.get_subscription_attributes(SubscriptionArn=subscription["SubscriptionArn"])
                if attributes["Attributes"].get("RawMessageDelivery") == "true":
                    raise ValueError("raw message delivery is on")
    args = {
        "ConfigurationName": props["ConfigurationName"],
        "SlackTeamId": props["SlackWorkspaceId"],
        "SlackChannelId": props["SlackChannelId"],
        "IamRoleArn": props["IamRoleArn"],
        "SnsTopicArns": props.get("SnsTopicArns", []),
        "Tags": [
            {"TagKey": "chatops:stack-id", "TagValue": request["StackId"]},
            {"TagKey": "chatops:logical-id", "TagValue": request["LogicalResourceId"]},
        ],
    }
    if "LoggingLevel" in props:
        args["LoggingLevel"] = props["LoggingLevel"]
    created = chatbot.create_slack_channel_configuration(**args)
    return created["ChannelConfiguration"]["ChatConfigurationArn"]


def delete(physical_id, account, request):
    if not physical_id.startswith("arn:"):
        return
    chatbot = client(account, request, "chatbot", CHATBOT_REGION)
    try:
        chatbot.delete_slack_channel_configuration(ChatConfigurationArn=physical_id)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceNotFoundException":
            raise


def respond(request, status, physical_id, reason):
    body = {
        "Status": status,
        "Reason": reason,
        "PhysicalResourceId": physical_id,
        "StackId": request["StackId"],
        "RequestId": request["RequestId"],
        "LogicalResourceId": request["LogicalResourceId"],
        "NoEcho": False,
        "Data": {},
    }
    data = json.dumps(body).encode()
    put = urllib.request.Request(request["ResponseURL"], data=data, method="PUT", headers={"Content-Type": ""})
    for attempt in range(5):
        try:
            with urllib.request.urlopen(put, timeout=10) as answer:
                answer.read()
            return
        except OSError:
            time.sleep(0.2 * 2**attempt)
    raise RuntimeError("the response could not be sent")
