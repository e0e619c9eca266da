"""Every permission of the templates is needed: without it, the provider fails, and says which and whose.

For each action of the provider's role (cfn-templates/provider.yaml) and of
the execution role (cfn-templates/member-role.yaml), the test takes that one
action out of its statement in the deployed role policy, runs the provider
(the real binary: `chatops invoke` on direct events, `chatops plan`) through
a lifecycle that makes every call it can make, and checks that the first
failure is AccessDenied naming the action and the role. A lifecycle that
succeeds without the action means the template grants more than the
provider needs. The IAM enforcement of the local cloud does the denying
(localcloud/README.md, "IAM enforcement").

Not covered here, with why: the provider role's logs:* and sqs:SendMessage are
used by the Lambda service for the function (logs, dead letters), not by the
binary; iam:CreateServiceLinkedRole is what Chatbot needs from the caller the
first time a configuration is made in an account, and the local cloud's
Chatbot does not model service-linked roles.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import tempfile
import uuid
from typing import Any, Callable

import pytest

from localcloud.cfn import template as tpl
from localcloud.tests.helpers import REPO, Cloud, start_server, stop_server

BINARY = os.environ.get("CHATOPS_BINARY") or os.path.join(REPO, "target", "debug", "chatops")

# Used by the Lambda service or by Chatbot itself, never by the binary (see the module doc).
NOT_CALLED_BY_THE_BINARY = {"logs:CreateLogStream", "logs:PutLogEvents", "sqs:SendMessage", "iam:CreateServiceLinkedRole"}


def _role_actions(path: str, logical_id: str) -> list[tuple[str, str]]:
    """(Sid, action) of every statement of a role's inline policies or of a managed policy."""
    with open(path) as f:
        template = tpl.load(f.read())
    properties = template["Resources"][logical_id]["Properties"]
    documents = [p["PolicyDocument"] for p in properties["Policies"]] if "Policies" in properties else [properties["PolicyDocument"]]
    out = []
    for document in documents:
        for statement in document["Statement"]:
            if statement["Effect"] != "Allow":  # a Deny guards; removing it never makes the provider fail
                continue
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            out += [(statement["Sid"], action) for action in actions if action not in NOT_CALLED_BY_THE_BINARY]
    return out


PROVIDER_ACTIONS = _role_actions(os.path.join(REPO, "cfn-templates", "provider.yaml"), "ProviderRole")
PLANNER_ACTIONS = _role_actions(os.path.join(REPO, "cfn-templates", "provider.yaml"), "PlannerPolicy")
EXECUTION_ACTIONS = _role_actions(os.path.join(REPO, "cfn-templates", "member-role.yaml"), "ExecutionRole")
PLAN_ROLE_ACTIONS = _role_actions(os.path.join(REPO, "cfn-templates", "member-role.yaml"), "PlanRole")


@pytest.fixture(scope="module")
def private() -> Any:
    """A cloud of its own: the tests change the roles' policies."""
    if not os.access(BINARY, os.X_OK):
        pytest.skip(f"no chatops binary at {BINARY} (cargo build, or set CHATOPS_BINARY)")
    proc, info = start_server()
    yield Cloud(info)
    stop_server(proc)


class Provider:
    """The binary, run as the provider's role against `lc` (or, `planner`, as a reviewer running plans)."""

    def __init__(self, lc: Cloud, planner: bool = False):
        self.lc = lc
        credentials = lc.info["planner_credentials" if planner else "provider_credentials"]
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
            "AWS_ENDPOINT_URL": lc.endpoint, "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_ACCESS_KEY_ID": credentials["access_key_id"], "AWS_SECRET_ACCESS_KEY": credentials["secret_access_key"],
            "AWS_SESSION_TOKEN": credentials["session_token"],
            "CHATOPS_EXTERNAL_ID": lc.info["external_id"], "CHATOPS_EXECUTION_ROLE_NAME": lc.info["execution_role_name"],
            "CHATOPS_ORGANIZATION_ID": lc.info["organization_id"],
            "CHATOPS_LOCAL_RESPONSE_ORIGIN": lc.endpoint, "RUST_LOG": "error",
        }
        if planner:
            self.env["CHATOPS_PLAN_ROLE_NAME"] = lc.info["plan_role_name"]

    def invoke(self, request: dict[str, Any], stage: dict[str, Any] | None = None) -> dict[str, Any]:
        """Stages CloudFormation's state for `request` (`stage`: phase and current id), runs it, returns the response."""
        status, answer = self.lc.control("POST", "response-url", {})
        assert status == 200, answer
        request = {**request, "ResponseURL": answer["url"], "RequestId": str(uuid.uuid4())}
        status, out = self.lc.control("POST", "cloudformation/stage", {"request": request, **(stage or {})})
        assert status == 200, out
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(request, f)
        try:
            run = subprocess.run([BINARY, "invoke", "--event", f.name, "--no-send"], env=self.env, capture_output=True, text=True, timeout=120)
        finally:
            os.unlink(f.name)
        assert run.stdout.strip(), run.stderr
        return json.loads(run.stdout.strip().splitlines()[-1])

    def plan(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([BINARY, "plan", *args, "--json"], env=self.env, capture_output=True, text=True, timeout=120)


class Lifecycle:
    """Requests of one stack in one member account, in the order CloudFormation would send them."""

    def __init__(self, lc: Cloud, provider: Provider, account: str):
        self.lc, self.provider, self.account = lc, provider, account
        self.stack_id = f"arn:aws:cloudformation:us-east-1:{account}:stack/perm-{uuid.uuid4().hex[:8]}/{uuid.uuid4()}"
        self.live: dict[str, tuple[str, str, dict[str, Any]]] = {}  # logical id -> (type, physical id, properties)
        self.replaced: dict[str, str] = {}  # logical id -> the physical id an Update replaced, until its cleanup
        seeded = lc.account(account)
        self.chatbot_role, self.support_role, self.topic = seeded["chatbot_role_arn"], seeded["supportapp_role_arn"], seeded["topics"]["us-east-1"]
        self.admin_role = seeded["admin_role_arn"]
        self.tag = uuid.uuid4().hex[:8]
        # A custom action made in the console, that the Slack channel associates (CustomizationResourceArns).
        self.custom_action = lc.client("chatbot", account).create_custom_action(
            ActionName=f"perm{self.tag}", Definition={"CommandText": "cloudwatch describe-alarms"})["CustomActionArn"]

    def request(self, request_type: str, logical: str, resource_type: str, properties: dict[str, Any], old: dict[str, Any] | None = None,
                cleanup_of: str | None = None) -> dict[str, Any]:
        """Sends one request; `cleanup_of` is the replaced physical id a cleanup-phase Delete removes."""
        request: dict[str, Any] = {
            "RequestType": request_type, "ServiceToken": f"arn:aws:sns:us-east-1:{self.lc.management}:chatops-provider",
            "StackId": self.stack_id, "ResourceType": resource_type, "LogicalResourceId": logical,
            "ResourceProperties": {"ServiceToken": f"arn:aws:sns:us-east-1:{self.lc.management}:chatops-provider", **properties},
        }
        if request_type != "Create":
            request["PhysicalResourceId"] = cleanup_of or self.live[logical][1]
        if old is not None:
            request["OldResourceProperties"] = {"ServiceToken": request["ServiceToken"], **old}
        stage = {"phase": "cleanup", "current_physical_id": self.live[logical][1]} if cleanup_of else None
        if request_type == "Update":
            self.replaced[logical] = self.live[logical][1]
        response = self.provider.invoke(request, stage)
        if response["Status"] == "SUCCESS":
            if cleanup_of:
                self.replaced.pop(logical, None)
            elif request_type == "Delete":
                self.live.pop(logical, None)
            else:
                self.live[logical] = (resource_type, response["PhysicalResourceId"], properties)
        return response

    def steps(self) -> list[Callable[[], dict[str, Any]]]:
        t = self.tag
        slack = {"ConfigurationName": f"perm-slack-{t}", "SlackWorkspaceId": self.lc.info["slack_team_id"], "SlackChannelId": f"CPERM{t.upper()}",
                 "IamRoleArn": self.chatbot_role, "SnsTopicArns": [self.topic], "LoggingLevel": "ERROR",
                 "GuardrailPolicies": ["arn:aws:iam::aws:policy/ReadOnlyAccess"], "Tags": [{"Key": "team", "Value": "platform"}],
                 "CustomizationResourceArns": [self.custom_action]}
        # An administrator channel role capped by a guardrail: the provider reads both policies; the
        # custom action is disassociated.
        slack2 = {**{k: v for k, v in slack.items() if k not in ("Tags", "CustomizationResourceArns")}, "LoggingLevel": "INFO",
                  "IamRoleArn": self.admin_role}
        # A new ConfigurationName (and Slack channel) replaces; the old one goes in the cleanup phase.
        slack3 = {**slack2, "ConfigurationName": f"perm-slack-{t}-2", "SlackChannelId": f"CPERM{t.upper()}2"}
        chime = {"ConfigurationName": f"perm-chime-{t}", "WebhookDescription": "room", "IamRoleArn": self.chatbot_role, "SnsTopicArns": [self.topic],
                 "WebhookUrl": f"https://hooks.chime.aws/incomingwebhooks/{t}?token=perm-token-{t}"}
        chime2 = {**chime, "WebhookDescription": "other room"}
        teams = {"ConfigurationName": f"perm-teams-{t}", "TeamId": self.lc.info["teams_team_id"], "TeamsTenantId": self.lc.info["teams_tenant_id"],
                 "TeamsChannelId": f"19%3a{t}perm%40thread.tacv2", "IamRoleArn": self.chatbot_role, "SnsTopicArns": [self.topic]}
        teams2 = {**teams, "LoggingLevel": "INFO"}
        workspace = {"TeamId": self.lc.info["slack_team_id"]}
        channel = {"TeamId": self.lc.info["slack_team_id"], "ChannelId": f"CPERM{t.upper()}S", "ChannelRoleArn": self.support_role, "NotifyOnCaseSeverity": "none"}
        channel2 = {**channel, "NotifyOnCaseSeverity": "high", "NotifyOnResolveCase": "true"}
        alias, alias2 = {"AccountAlias": f"perm {t}"}, {"AccountAlias": f"perm {t} 2"}
        sc, ch, tm = "Custom::ChatbotSlackChannel", "Custom::ChatbotChimeWebhook", "Custom::ChatbotTeamsChannel"
        ws, sa, aa = "Custom::SupportAppSlackWorkspace", "Custom::SupportAppSlackChannel", "Custom::SupportAppAccountAlias"
        self.steps_properties = {"Slack": slack}
        return [
            lambda: self.request("Create", "Slack", sc, slack),
            lambda: self.request("Create", "Slack", sc, slack),  # a retried Create adopts what the first made
            lambda: self.request("Update", "Slack", sc, slack2, slack),
            lambda: self.request("Update", "Slack", sc, slack3, slack2),
            lambda: self.request("Delete", "Slack", sc, slack2, cleanup_of=self.replaced["Slack"]),
            lambda: self.request("Delete", "Slack", sc, slack3),
            lambda: self.request("Create", "Chime", ch, chime),
            lambda: self.request("Create", "Chime", ch, chime),
            lambda: self.request("Update", "Chime", ch, chime2, chime),
            lambda: self.request("Delete", "Chime", ch, chime2),
            lambda: self.request("Create", "Teams", tm, teams),
            lambda: self.request("Create", "Teams", tm, teams),
            lambda: self.request("Update", "Teams", tm, teams2, teams),
            lambda: self.request("Delete", "Teams", tm, teams2),
            lambda: self.request("Create", "Workspace", ws, workspace),
            lambda: self.request("Create", "Channel", sa, channel),
            lambda: self.request("Update", "Channel", sa, channel2, channel),
            lambda: self.request("Delete", "Channel", sa, channel2),
            lambda: self.request("Delete", "Workspace", ws, workspace),
            lambda: self.request("Create", "Alias", aa, alias),
            lambda: self.request("Update", "Alias", aa, alias2, alias),
            lambda: self.request("Delete", "Alias", aa, alias2),
        ]

    def clean_up(self) -> None:
        for logical, physical in list(self.replaced.items()):
            if logical in self.live and physical != self.live[logical][1]:
                self.request("Delete", logical, self.live[logical][0], self.live[logical][2], cleanup_of=physical)
        for logical, (resource_type, _physical, properties) in reversed(list(self.live.items())):
            self.request("Delete", logical, resource_type, properties)


# One resource of each type, so that a plan lists each kind of live configuration; the Slack channel
# is the one the lifecycle's first step creates, so that its ownership tags are read too.
PLAN_TEMPLATE = """
Parameters:
  ServiceToken: {Type: String}
  Name: {Type: String}
  Channel: {Type: String}
Resources:
  Slack:
    Type: Custom::ChatbotSlackChannel
    Properties:
      ServiceToken: !Ref ServiceToken
      ConfigurationName: !Ref Name
      SlackWorkspaceId: T0CHATOPS1
      SlackChannelId: !Ref Channel
      IamRoleArn: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/chatops-chatbot-channel"
  Chime:
    Type: Custom::ChatbotChimeWebhook
    Properties:
      ServiceToken: !Ref ServiceToken
      ConfigurationName: plan-chime
      WebhookDescription: room
      WebhookUrl: https://hooks.chime.aws/incomingwebhooks/plan?token=plan
      IamRoleArn: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/chatops-chatbot-channel"
      SnsTopicArns: [!Sub "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:chatops-alerts"]
  Teams:
    Type: Custom::ChatbotTeamsChannel
    Properties:
      ServiceToken: !Ref ServiceToken
      ConfigurationName: plan-teams
      TeamId: 3f2504e0-4f89-41d3-9a0c-0305e82c3301
      TeamsTenantId: 9c6b0c3e-7f5a-4b8e-9d1f-2a3b4c5d6e7f
      TeamsChannelId: "19%3aplan%40thread.tacv2"
      IamRoleArn: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/chatops-chatbot-channel"
  Workspace:
    Type: Custom::SupportAppSlackWorkspace
    Properties:
      ServiceToken: !Ref ServiceToken
      TeamId: T0CHATOPS1
  Channel:
    Type: Custom::SupportAppSlackChannel
    Properties:
      ServiceToken: !Ref ServiceToken
      TeamId: T0CHATOPS1
      ChannelId: CPLAN1
      ChannelRoleArn: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/chatops-supportapp-channel"
      NotifyOnCaseSeverity: none
  Alias:
    Type: Custom::SupportAppAccountAlias
    Properties:
      ServiceToken: !Ref ServiceToken
      AccountAlias: !Sub "perm ${AWS::AccountId}"
"""


# What `chatops doctor` reads through the plan role: the workspaces and teams, the execution role,
# an administrator channel role capped by a guardrail (its policies, the guardrail's versions), and
# the topic whose Chatbot subscription the lifecycle's Slack channel made.
DOCTOR_TEMPLATE = """
Resources:
  Alerts:
    Type: Custom::ChatbotSlackChannel
    Properties:
      ServiceToken: arn:aws:sns:us-east-1:123456789012:chatops-provider
      ConfigurationName: doctor-alerts
      SlackWorkspaceId: T0CHATOPS1
      SlackChannelId: CDOCTOR1
      IamRoleArn: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/chatops-admin-channel"
      SnsTopicArns: [!Sub "arn:${AWS::Partition}:sns:us-east-1:${AWS::AccountId}:chatops-alerts"]
      GuardrailPolicies: [arn:aws:iam::aws:policy/ReadOnlyAccess]
"""


def doctor_step(provider: Provider, life: "Lifecycle") -> Callable[[], dict[str, Any]]:
    """`chatops doctor` on the lifecycle's account; exit 2 (something blocks a deploy) is a finding, 1 a failure."""
    def run() -> dict[str, Any]:
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
            f.write(DOCTOR_TEMPLATE)
        try:
            out = subprocess.run([BINARY, "doctor", f.name, "--accounts", life.account, "--json"], env=provider.env, capture_output=True,
                                 text=True, timeout=120)
        finally:
            os.unlink(f.name)
        if out.returncode not in (0, 2):
            return {"Status": "FAILED", "Reason": out.stderr + out.stdout}
        return {"Status": "SUCCESS"}

    return run


def plan_steps(lc: Cloud, provider: Provider, template: str, stack_set: str, change_set: str,
               life: "Lifecycle") -> list[Callable[[], dict[str, Any]]]:
    """`chatops plan` on one account, the organization, an OU, a StackSet and a change set; a failure reads as a FAILED response."""
    root = lc.client("organizations").list_roots()["Roots"][0]["Id"]
    slack = life.steps_properties["Slack"]

    def run(*args: str) -> dict[str, Any]:
        out = provider.plan(*args)
        if out.returncode not in (0, 2):
            return {"Status": "FAILED", "Reason": out.stderr + out.stdout}
        return {"Status": "SUCCESS"}

    def run_per_account(*args: str) -> dict[str, Any]:
        """A plan whose resources may be reported as failing to deploy (another stack's), read per account."""
        out = provider.plan(*args)
        try:
            errors = [a["error"] for a in json.loads(out.stdout)["accounts"] if a.get("error")]
        except (ValueError, KeyError):
            return {"Status": "FAILED", "Reason": out.stderr + out.stdout}
        return {"Status": "FAILED", "Reason": "\n".join(errors)} if errors else {"Status": "SUCCESS"}

    parameters = ["-p", f"ServiceToken=arn:aws:sns:us-east-1:{lc.management}:chatops-provider",
                  "-p", f"Name={slack['ConfigurationName']}", "-p", f"Channel={slack['SlackChannelId']}"]
    return [
        # A named stack: its StackId is read in the account (DescribeStacks) to tell its resources.
        lambda: run_per_account(template, "--accounts", life.account, "--stack-name", "perm-plan-stack", *parameters),
        lambda: run(template, "--accounts", life.account, *parameters),
        lambda: run(template, "--org", *parameters),
        lambda: run(template, "--org", "--ou", root, *parameters),
        lambda: run("--stack-set", stack_set),
        lambda: run("--change-set", change_set),
    ]


@pytest.fixture(scope="module")
def plan_inputs(private: Cloud, tmp_path_factory: Any) -> tuple[str, str, str]:
    path = tmp_path_factory.mktemp("plan") / "alias.yaml"
    path.write_text(PLAN_TEMPLATE)
    cfn = private.client("cloudformation")
    name = "perm-plan-set"
    cfn.create_stack_set(StackSetName=name, TemplateBody="Resources:\n  Topic: {Type: AWS::SNS::Topic}\n", PermissionModel="SERVICE_MANAGED",
                         AutoDeployment={"Enabled": False})
    op = cfn.create_stack_instances(StackSetName=name, Regions=["us-east-1"], DeploymentTargets={"Accounts": [private.members[1]],
                                    "OrganizationalUnitIds": [private.client("organizations").list_roots()["Roots"][0]["Id"]],
                                    "AccountFilterType": "INTERSECTION"})["OperationId"]
    from localcloud.tests.test_stacksets import wait_operation

    assert wait_operation(cfn, name, op, timeout=60)["Status"] == "SUCCEEDED"
    # A change set of a stack in the account whose plan role the tests edit.
    member = private.client("cloudformation", private.members[1])
    body = "Resources:\n  Topic: {Type: AWS::SNS::Topic}\n"
    stack_id = member.create_stack(StackName="perm-plan-stack", TemplateBody=body)["StackId"]
    from localcloud.tests.test_cloudformation import wait

    assert wait(member, stack_id)["StackStatus"] == "CREATE_COMPLETE"
    change_set = member.create_change_set(StackName=stack_id, ChangeSetName="perm-plan-review",
                                          TemplateBody=body + "  Second: {Type: AWS::SNS::Topic}\n")["Id"]
    from localcloud.tests.test_changesets import settled

    assert settled(member, change_set)["Status"] == "CREATE_COMPLETE"
    return str(path), name, change_set


def without(document: dict[str, Any], sid: str, action: str) -> dict[str, Any]:
    """`document` with `action` taken out of statement `sid` (the statement goes when it has no action left)."""
    out = copy.deepcopy(document)
    statements = []
    for statement in out["Statement"]:
        if statement.get("Sid") == sid:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            rest = [a for a in actions if a != action]
            assert len(rest) < len(actions), f"{action} is not in {sid}"
            if not rest:
                continue
            statement["Action"] = rest
        statements.append(statement)
    out["Statement"] = statements
    return out


def first_failure(steps: list[Callable[[], dict[str, Any]]]) -> dict[str, Any] | None:
    for step in steps:
        response = step()
        if response["Status"] != "SUCCESS":
            return response
    return None


def check_needed(lc: Cloud, iam: Any, role: str, policy_name: str, sid: str, action: str, steps: list[Callable[[], dict[str, Any]]],
                 clean_up: Callable[[], None]) -> None:
    original = iam.get_role_policy(RoleName=role, PolicyName=policy_name)["PolicyDocument"]
    iam.put_role_policy(RoleName=role, PolicyName=policy_name, PolicyDocument=json.dumps(without(original, sid, action)))
    try:
        failed = first_failure(steps)
    finally:
        iam.put_role_policy(RoleName=role, PolicyName=policy_name, PolicyDocument=json.dumps(original))
        clean_up()
    assert failed is not None, f"nothing the provider does needs {action} ({sid}): remove it from the template"
    reason = failed["Reason"]
    assert f"not authorized to perform: {action}" in reason and f"/{role}/" in reason, reason


@pytest.mark.parametrize("sid,action", EXECUTION_ACTIONS, ids=[a for _, a in EXECUTION_ACTIONS])
def test_each_permission_of_the_execution_role_is_needed(private: Cloud, sid: str, action: str) -> None:
    account = private.members[0]
    life = Lifecycle(private, Provider(private), account)
    iam = private.client("iam", account)
    check_needed(private, iam, private.info["execution_role_name"], "chatops-execution", sid, action, life.steps(), life.clean_up)


@pytest.mark.parametrize("sid,action", PROVIDER_ACTIONS, ids=[a for _, a in PROVIDER_ACTIONS])
def test_each_permission_of_the_provider_role_is_needed(private: Cloud, sid: str, action: str) -> None:
    life = Lifecycle(private, Provider(private), private.members[2])
    role = private.info["provider_role_arn"].rsplit("/", 1)[-1]
    check_needed(private, private.client("iam"), role, "chatops-provider", sid, action, life.steps()[:1], life.clean_up)


def planned(lc: Cloud, plan_inputs: tuple[str, str, str], account: str) -> tuple[Lifecycle, list[Callable[[], dict[str, Any]]]]:
    """A Slack channel made by the provider, then the reviewer's plans that read it, and `chatops doctor`."""
    life = Lifecycle(lc, Provider(lc), account)
    create = life.steps()[:1]
    assert first_failure(create) is None
    reviewer = Provider(lc, planner=True)
    return life, plan_steps(lc, reviewer, *plan_inputs, life) + [doctor_step(reviewer, life)]


@pytest.mark.parametrize("sid,action", PLANNER_ACTIONS, ids=[a for _, a in PLANNER_ACTIONS])
def test_each_permission_of_the_planner_policy_is_needed(private: Cloud, plan_inputs: tuple[str, str, str], sid: str, action: str) -> None:
    """PlannerPolicy, on the reviewer's role in the management account (a managed policy: edited as a new default version)."""
    life, steps = planned(private, plan_inputs, private.members[1])
    iam = private.client("iam")
    arn = next(p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName="chatops-planner")["AttachedPolicies"])
    policy = iam.get_policy(PolicyArn=arn)["Policy"]
    original = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])["PolicyVersion"]["Document"]
    original = json.loads(original) if isinstance(original, str) else original
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(without(original, sid, action)), SetAsDefault=True)
    try:
        failed = first_failure(steps)
    finally:
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(original), SetAsDefault=True)
        for version in iam.list_policy_versions(PolicyArn=arn)["Versions"]:
            if not version["IsDefaultVersion"]:
                iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
        life.clean_up()
    assert failed is not None, f"no plan needs {action} ({sid}): remove it from PlannerPolicy"
    assert f"not authorized to perform: {action}" in failed["Reason"] and "/chatops-planner/" in failed["Reason"], failed["Reason"]


@pytest.mark.parametrize("sid,action", PLAN_ROLE_ACTIONS, ids=[a for _, a in PLAN_ROLE_ACTIONS])
def test_each_permission_of_the_plan_role_is_needed(private: Cloud, plan_inputs: tuple[str, str, str], sid: str, action: str) -> None:
    account = private.members[1]
    life, steps = planned(private, plan_inputs, account)
    iam = private.client("iam", account)
    # The plan of one account (a named stack's StackId, each type), the plan of the change set, then
    # `chatops doctor` on the account.
    check_needed(private, iam, private.info["plan_role_name"], "chatops-plan", sid, action, [steps[0], steps[-2], steps[-1]],
                 life.clean_up)


def test_the_lifecycle_and_plans_succeed_with_every_permission(private: Cloud, plan_inputs: tuple[str, str, str]) -> None:
    """The baseline: with the templates as they are, nothing fails."""
    life = Lifecycle(private, Provider(private), private.members[3])
    try:
        assert first_failure(life.steps()) is None
    finally:
        life.clean_up()
    reviewed, steps = planned(private, plan_inputs, private.members[3])
    try:
        assert first_failure(steps) is None
    finally:
        reviewed.clean_up()


def test_a_provider_outside_the_management_account_is_told_where_to_deploy(private: Cloud) -> None:
    """Organizations answers DescribeAccount only in the management account or a delegated administrator."""
    member = private.members[5]
    out = private.client("sts").assume_role(RoleArn=f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole", RoleSessionName="misplaced")
    provider = Provider(private)
    provider.env.update({"AWS_ACCESS_KEY_ID": out["Credentials"]["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": out["Credentials"]["SecretAccessKey"],
                         "AWS_SESSION_TOKEN": out["Credentials"]["SessionToken"]})
    response = Lifecycle(private, provider, member).steps()[0]()
    assert response["Status"] == "FAILED"
    assert "neither the organization's management account nor a delegated administrator" in response["Reason"], response["Reason"]
