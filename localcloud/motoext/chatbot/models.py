"""AWS Chatbot state: channel configurations, authorized workspaces and teams, tags.

Chatbot is global per account (its ARNs have no region), so there is one
backend per account, keyed by partition like moto's IAM and Organizations.
Rules kept from the real service: ConfigurationName is unique per account
(across configuration kinds); a Slack channel (team and channel id) has at
most one configuration per account; a Slack channel needs a workspace the
account has authorized (a one-time console OAuth, seeded here), a Teams
channel a configured team; the WebhookUrl is write-only; configuring a channel
subscribes Chatbot's HTTPS endpoint to each of its SNS topics in the topic's
own account and region, and deleting it removes the subscription once no
configuration uses that topic any more.
"""

from __future__ import annotations

import copy
import itertools
import threading
from typing import Any

from moto.core.base_backend import BackendDict, BaseBackend
from moto.utilities.utils import PARTITION_NAMES

from localcloud.awsutil import page, parse_arn, role_exists
from localcloud.modelvalidation import ServiceError

CHATBOT_SNS_ENDPOINT = "https://global.sns-api.chatbot.amazonaws.com"
DEFAULT_GUARDRAIL = "arn:aws:iam::aws:policy/AdministratorAccess"
MAX_TAGS = 50
# Service quota for channel configurations of all kinds in one account.
MAX_CONFIGURATIONS = 500

SLACK = "slack-channel"
CHIME = "chime-webhook"
TEAMS = "microsoft-teams-channel"

_sequence = itertools.count(1)
# SNS subscriptions span accounts, so changes to them are serialized globally.
_subscription_lock = threading.RLock()


def _bad(member: str, message: str) -> ServiceError:
    return ServiceError("InvalidParameterException", f"{member}: {message}")


class Configuration:
    """One chat configuration. `fields` holds the API members that Describe returns."""

    def __init__(self, kind: str, account_id: str, name: str, fields: dict[str, Any], tags: list[dict[str, str]]):
        self.kind = kind
        self.name = name
        self.arn = f"arn:aws:chatbot::{account_id}:chat-configuration/{kind}/{name}"
        self.sequence = next(_sequence)
        self.fields = fields
        self.webhook_url: str | None = None  # Chime only; never returned
        self.tags: dict[str, str] = {t["TagKey"]: t["TagValue"] for t in tags}

    def describe(self) -> dict[str, Any]:
        out = copy.deepcopy(self.fields)
        out["ChatConfigurationArn"] = self.arn
        out["ConfigurationName"] = self.name
        out["State"] = "ENABLED"
        out["Tags"] = [{"TagKey": k, "TagValue": v} for k, v in self.tags.items()]
        return out


class ChatbotBackend(BaseBackend):
    def __init__(self, region_name: str, account_id: str):
        super().__init__(region_name, account_id)
        self.lock = threading.RLock()
        self.configurations: dict[str, Configuration] = {}
        # team id -> team name; authorized by the console OAuth step (seeded).
        self.slack_workspaces: dict[str, str] = {}
        # team id -> {"TenantId", "TeamName"}; configured in the console (seeded).
        self.teams: dict[str, dict[str, str]] = {}
        # (SLACK or TEAMS, team id) -> StateReason: what an organization's Chatbot policy
        # denies is listed DISABLED with a reason (API model, SlackWorkspace/ConfiguredTeam State).
        self.disabled: dict[tuple[str, str], str] = {}
        self.preferences = {"UserAuthorizationRequired": False, "TrainingDataCollectionEnabled": False}

    # -- seeding (the console steps that have no API) --------------------------------

    def authorize_slack_workspace(self, team_id: str, team_name: str, disabled_reason: str | None = None) -> None:
        self.slack_workspaces[team_id] = team_name
        self._set_disabled(SLACK, team_id, disabled_reason)

    def configure_teams_team(self, team_id: str, tenant_id: str, team_name: str, disabled_reason: str | None = None) -> None:
        self.teams[team_id] = {"TenantId": tenant_id, "TeamName": team_name}
        self._set_disabled(TEAMS, team_id, disabled_reason)

    def _set_disabled(self, kind: str, team_id: str, reason: str | None) -> None:
        with self.lock:
            if reason:
                self.disabled[(kind, team_id)] = reason
            else:
                self.disabled.pop((kind, team_id), None)

    def _state(self, kind: str, team_id: str) -> dict[str, str]:
        reason = self.disabled.get((kind, team_id))
        return {"State": "DISABLED", "StateReason": reason} if reason else {"State": "ENABLED"}

    # -- shared rules ---------------------------------------------------------------------

    def _get(self, arn: str, kind: str | None = None) -> Configuration:
        config = self.configurations.get(arn)
        if config is None or (kind is not None and config.kind != kind):
            raise ServiceError("ResourceNotFoundException", f"Chat configuration {arn} was not found in account {self.account_id}")
        return config

    def _check_role(self, role_arn: str) -> None:
        if not role_exists(self.account_id, role_arn):
            raise _bad("IamRoleArn", f"the IAM role {role_arn} does not exist in account {self.account_id}")

    def _check_topics(self, topic_arns: list[str]) -> None:
        from moto.sns.models import sns_backends

        for topic_arn in topic_arns:
            arn = parse_arn(topic_arn)
            if arn is None or arn.service != "sns" or not arn.region or not arn.account:
                raise _bad("SnsTopicArns", f"{topic_arn} is not an SNS topic ARN")
            if topic_arn not in sns_backends[arn.account][arn.region].topics:
                raise _bad("SnsTopicArns", f"the SNS topic {topic_arn} does not exist")

    def _check_new_name(self, name: str) -> None:
        for config in self.configurations.values():
            if config.name == name:
                raise ServiceError(
                    "ConflictException",
                    f"A chat configuration named {name} already exists in account {self.account_id} ({config.arn})",
                )
        if len(self.configurations) >= MAX_CONFIGURATIONS:
            raise ServiceError(
                "LimitExceededException",
                f"Account {self.account_id} has reached the quota of {MAX_CONFIGURATIONS} chat configurations",
            )

    def _check_tags(self, tags: dict[str, str]) -> None:
        if len(tags) > MAX_TAGS:
            raise ServiceError("TooManyTagsException", f"A chat configuration can have at most {MAX_TAGS} tags")

    def _create(self, kind: str, params: dict[str, Any], fields: dict[str, Any]) -> Configuration:
        name = params["ConfigurationName"]
        self._check_new_name(name)
        self._check_role(params["IamRoleArn"])
        topics = params.get("SnsTopicArns") or []
        self._check_topics(topics)
        tags = params.get("Tags") or []
        self._check_tags({t["TagKey"]: t["TagValue"] for t in tags})
        fields["IamRoleArn"] = params["IamRoleArn"]
        fields["SnsTopicArns"] = list(topics)
        fields["LoggingLevel"] = params.get("LoggingLevel", "NONE")
        config = Configuration(kind, self.account_id, name, fields, tags)
        self.configurations[config.arn] = config
        sync_subscriptions(set(topics))
        return config

    def _update_common(self, config: Configuration, params: dict[str, Any]) -> None:
        if "IamRoleArn" in params:
            self._check_role(params["IamRoleArn"])
        old_topics = set(config.fields["SnsTopicArns"])
        if "SnsTopicArns" in params:
            self._check_topics(params["SnsTopicArns"])
            config.fields["SnsTopicArns"] = list(params["SnsTopicArns"])
        for member in ("IamRoleArn", "LoggingLevel", "GuardrailPolicyArns", "UserAuthorizationRequired"):
            if member in params and member in config.fields:
                config.fields[member] = copy.deepcopy(params[member])
        sync_subscriptions(old_topics | set(config.fields["SnsTopicArns"]))

    def _delete(self, arn: str, kind: str) -> None:
        config = self._get(arn, kind)
        del self.configurations[arn]
        sync_subscriptions(set(config.fields["SnsTopicArns"]))

    def _list(self, kind: str, params: dict[str, Any], match=lambda c: True) -> tuple[list[dict[str, Any]], str | None]:
        wanted = params.get("ChatConfigurationArn")
        items = sorted(
            (c.sequence, c)
            for c in self.configurations.values()
            if c.kind == kind and (wanted is None or c.arn == wanted) and match(c)
        )
        chosen, token = page(items, params.get("NextToken"), params.get("MaxResults", 100), "NextToken", "InvalidParameterException")
        return [c.describe() for c in chosen], token

    # -- Slack ----------------------------------------------------------------------------

    def _check_channel_free(self, team_id: str, channel_id: str, arn: str | None = None) -> None:
        """One configuration per Slack channel in an account (the real service's reported error, see README)."""
        for config in self.configurations.values():
            if (
                config.kind == SLACK
                and config.arn != arn
                and config.fields["SlackTeamId"] == team_id
                and config.fields["SlackChannelId"] == channel_id
            ):
                raise ServiceError(
                    "InvalidRequestException",
                    f"Slack channel with ID {channel_id} in Slack team {team_id} has already been configured for "
                    f"AWS account {self.account_id}.",
                )

    def create_slack_channel_configuration(self, params: dict[str, Any]) -> dict[str, Any]:
        team_id = params["SlackTeamId"]
        with self.lock:
            if team_id not in self.slack_workspaces:
                raise ServiceError(
                    "InvalidRequestException",
                    f"The Slack workspace {team_id} is not authorized for AWS Chatbot in account {self.account_id}. "
                    "Authorize it once in the AWS Chatbot console (Configure new client > Slack), then retry.",
                )
            self._check_channel_free(team_id, params["SlackChannelId"])
            fields = {
                "SlackTeamName": self.slack_workspaces[team_id],
                "SlackTeamId": team_id,
                "SlackChannelId": params["SlackChannelId"],
                "SlackChannelName": params.get("SlackChannelName", params["SlackChannelId"]),
                "GuardrailPolicyArns": list(params.get("GuardrailPolicyArns") or [DEFAULT_GUARDRAIL]),
                "UserAuthorizationRequired": params.get("UserAuthorizationRequired", False),
            }
            return self._create(SLACK, params, fields).describe()

    def describe_slack_channel_configurations(self, params: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
        with self.lock:
            return self._list(SLACK, params)

    def update_slack_channel_configuration(self, params: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            config = self._get(params["ChatConfigurationArn"], SLACK)
            self._check_channel_free(config.fields["SlackTeamId"], params["SlackChannelId"], config.arn)
            self._update_common(config, params)
            config.fields["SlackChannelId"] = params["SlackChannelId"]
            if "SlackChannelName" in params:
                config.fields["SlackChannelName"] = params["SlackChannelName"]
            return config.describe()

    def delete_slack_channel_configuration(self, arn: str) -> None:
        with self.lock:
            self._delete(arn, SLACK)

    def describe_slack_workspaces(self, params: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
        with self.lock:
            items = [
                (i, {"SlackTeamId": team_id, "SlackTeamName": name, **self._state(SLACK, team_id)})
                for i, (team_id, name) in enumerate(sorted(self.slack_workspaces.items()))
            ]
        return page(items, params.get("NextToken"), params.get("MaxResults", 100), "NextToken", "InvalidParameterException")

    def delete_slack_workspace_authorization(self, team_id: str) -> None:
        with self.lock:
            in_use = [c.arn for c in self.configurations.values() if c.kind == SLACK and c.fields["SlackTeamId"] == team_id]
            if in_use:
                raise ServiceError(
                    "InvalidRequestException",
                    f"Delete the {len(in_use)} channel configuration(s) of Slack workspace {team_id} before deleting its authorization",
                )
            self.slack_workspaces.pop(team_id, None)
            self.disabled.pop((SLACK, team_id), None)

    # -- Chime ----------------------------------------------------------------------------

    def create_chime_webhook_configuration(self, params: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            fields = {"WebhookDescription": params["WebhookDescription"]}
            config = self._create(CHIME, params, fields)
            config.webhook_url = params["WebhookUrl"]
            return config.describe()

    def describe_chime_webhook_configurations(self, params: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
        with self.lock:
            return self._list(CHIME, params)

    def update_chime_webhook_configuration(self, params: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            config = self._get(params["ChatConfigurationArn"], CHIME)
            self._update_common(config, params)
            if "WebhookDescription" in params:
                config.fields["WebhookDescription"] = params["WebhookDescription"]
            if "WebhookUrl" in params:
                config.webhook_url = params["WebhookUrl"]
            return config.describe()

    def delete_chime_webhook_configuration(self, arn: str) -> None:
        with self.lock:
            self._delete(arn, CHIME)

    # -- Microsoft Teams --------------------------------------------------------------------

    def create_microsoft_teams_channel_configuration(self, params: dict[str, Any]) -> dict[str, Any]:
        team_id, tenant_id = params["TeamId"], params["TenantId"]
        with self.lock:
            team = self.teams.get(team_id)
            if team is None or team["TenantId"] != tenant_id:
                raise ServiceError(
                    "InvalidRequestException",
                    f"The Microsoft Teams team {team_id} (tenant {tenant_id}) is not configured for AWS Chatbot in account "
                    f"{self.account_id}. Configure it once in the AWS Chatbot console (Configure new client > Microsoft Teams), then retry.",
                )
            fields = {
                "ChannelId": params["ChannelId"],
                "ChannelName": params.get("ChannelName", params["ChannelId"]),
                "TeamId": team_id,
                "TeamName": params.get("TeamName", team["TeamName"]),
                "TenantId": tenant_id,
                "GuardrailPolicyArns": list(params.get("GuardrailPolicyArns") or [DEFAULT_GUARDRAIL]),
                "UserAuthorizationRequired": params.get("UserAuthorizationRequired", False),
            }
            return self._create(TEAMS, params, fields).describe()

    def get_microsoft_teams_channel_configuration(self, arn: str) -> dict[str, Any]:
        with self.lock:
            return self._get(arn, TEAMS).describe()

    def list_microsoft_teams_channel_configurations(self, params: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
        team_id = params.get("TeamId")
        with self.lock:
            return self._list(TEAMS, params, lambda c: team_id is None or c.fields["TeamId"] == team_id)

    def update_microsoft_teams_channel_configuration(self, params: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            config = self._get(params["ChatConfigurationArn"], TEAMS)
            self._update_common(config, params)
            config.fields["ChannelId"] = params["ChannelId"]
            if "ChannelName" in params:
                config.fields["ChannelName"] = params["ChannelName"]
            return config.describe()

    def delete_microsoft_teams_channel_configuration(self, arn: str) -> None:
        with self.lock:
            self._delete(arn, TEAMS)

    def list_microsoft_teams_configured_teams(self, params: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
        with self.lock:
            items = [
                (i, {"TeamId": team_id, "TenantId": t["TenantId"], "TeamName": t["TeamName"], **self._state(TEAMS, team_id)})
                for i, (team_id, t) in enumerate(sorted(self.teams.items()))
            ]
        return page(items, params.get("NextToken"), params.get("MaxResults", 100), "NextToken", "InvalidParameterException")

    def delete_microsoft_teams_configured_team(self, team_id: str) -> None:
        with self.lock:
            in_use = [c.arn for c in self.configurations.values() if c.kind == TEAMS and c.fields["TeamId"] == team_id]
            if in_use:
                raise ServiceError(
                    "InvalidRequestException",
                    f"Delete the {len(in_use)} channel configuration(s) of Microsoft Teams team {team_id} before deleting the team",
                )
            self.teams.pop(team_id, None)
            self.disabled.pop((TEAMS, team_id), None)

    def require(self, arn: str) -> None:
        with self.lock:
            self._get(arn)

    # -- Account preferences -----------------------------------------------------------------

    def get_account_preferences(self) -> dict[str, bool]:
        return dict(self.preferences)

    def update_account_preferences(self, params: dict[str, Any]) -> dict[str, bool]:
        with self.lock:
            for member in self.preferences:
                if member in params:
                    self.preferences[member] = params[member]
            return dict(self.preferences)

    # -- Tags ---------------------------------------------------------------------------------

    def list_tags_for_resource(self, arn: str) -> list[dict[str, str]]:
        with self.lock:
            return [{"TagKey": k, "TagValue": v} for k, v in self._get(arn).tags.items()]

    def tag_resource(self, arn: str, tags: list[dict[str, str]]) -> None:
        with self.lock:
            config = self._get(arn)
            merged = dict(config.tags)
            merged.update({t["TagKey"]: t["TagValue"] for t in tags})
            self._check_tags(merged)
            config.tags = merged

    def untag_resource(self, arn: str, keys: list[str]) -> None:
        with self.lock:
            config = self._get(arn)
            for key in keys:
                config.tags.pop(key, None)

    # -- Custom actions (CreateCustomAction, ..., AssociateToConfiguration; chatbot API model) ----
    # Made by users, not by the provider: the provider only associates them
    # with its configurations (CustomizationResourceArns of the native types).

    def _custom_actions(self) -> dict[str, dict[str, Any]]:
        return self.__dict__.setdefault("custom_actions", {})

    def _custom_action(self, arn: str) -> dict[str, Any]:
        action = self._custom_actions().get(arn)
        if action is None:
            raise ServiceError("ResourceNotFoundException", f"Custom action {arn} was not found in account {self.account_id}")
        return action

    def create_custom_action(self, params: dict[str, Any]) -> str:
        with self.lock:
            name = params["ActionName"]
            arn = f"arn:aws:chatbot::{self.account_id}:custom-action/{name}"
            if arn in self._custom_actions():
                raise ServiceError("ConflictException", f"A custom action named {name} already exists in account {self.account_id}")
            action = {"CustomActionArn": arn, "ActionName": name, "Definition": copy.deepcopy(params["Definition"])}
            for member in ("AliasName", "Attachments"):
                if member in params:
                    action[member] = copy.deepcopy(params[member])
            self._custom_actions()[arn] = action
            return arn

    def get_custom_action(self, arn: str) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self._custom_action(arn))

    def update_custom_action(self, params: dict[str, Any]) -> str:
        with self.lock:
            action = self._custom_action(params["CustomActionArn"])
            for member in ("Definition", "AliasName", "Attachments"):
                if member in params:
                    action[member] = copy.deepcopy(params[member])
            return action["CustomActionArn"]

    def delete_custom_action(self, arn: str) -> None:
        with self.lock:
            self._custom_action(arn)
            del self._custom_actions()[arn]
            for config in self.configurations.values():
                associated = config.__dict__.get("custom_actions", [])
                if arn in associated:
                    associated.remove(arn)

    def list_custom_actions(self, params: dict[str, Any]) -> tuple[list[str], str | None]:
        with self.lock:
            items = list(enumerate(sorted(self._custom_actions())))
        return page(items, params.get("NextToken"), params.get("MaxResults", 100), "NextToken", "InvalidRequestException")

    def associate_to_configuration(self, config_arn: str, action_arn: str) -> None:
        with self.lock:
            config = self._get(config_arn)
            if action_arn not in self._custom_actions():
                raise ServiceError(
                    "InvalidRequestException",
                    f"Custom action {action_arn} does not exist in account {self.account_id}",
                )
            associated = config.__dict__.setdefault("custom_actions", [])
            if action_arn not in associated:
                associated.append(action_arn)

    def disassociate_from_configuration(self, config_arn: str, action_arn: str) -> None:
        with self.lock:
            associated = self._get(config_arn).__dict__.setdefault("custom_actions", [])
            if action_arn not in associated:
                raise ServiceError("InvalidRequestException", f"{action_arn} is not associated with {config_arn}")
            associated.remove(action_arn)

    def list_associations(self, params: dict[str, Any]) -> tuple[list[dict[str, str]], str | None]:
        with self.lock:
            associated = self._get(params["ChatConfiguration"]).__dict__.get("custom_actions", [])
            items = [(i, {"Resource": arn}) for i, arn in enumerate(associated)]
        return page(items, params.get("NextToken"), params.get("MaxResults", 100), "NextToken", "InvalidRequestException")


def _topics_in_use() -> set[str]:
    in_use: set[str] = set()
    for account_backends in list(chatbot_backends.values()):
        for backend in list(account_backends.values()):
            for config in list(backend.configurations.values()):
                in_use.update(config.fields["SnsTopicArns"])
    return in_use


def sync_subscriptions(topic_arns: set[str]) -> None:
    """Make Chatbot's subscription on each topic exist iff some configuration uses the topic.

    An existing subscription is left as it is (a RawMessageDelivery=true one is
    for the provider to report, not for Chatbot to fix).
    """
    from moto.sns.models import sns_backends

    if not topic_arns:
        return
    with _subscription_lock:
        in_use = _topics_in_use()
        for topic_arn in sorted(topic_arns):
            arn = parse_arn(topic_arn)
            if arn is None:
                continue
            sns = sns_backends[arn.account][arn.region]
            if topic_arn not in sns.topics:
                continue
            existing = [
                s for s in list(sns.subscriptions.values())
                if s.topic.arn == topic_arn and s.protocol == "https" and s.endpoint == CHATBOT_SNS_ENDPOINT
            ]
            if topic_arn in in_use and not existing:
                sns.subscribe(topic_arn, CHATBOT_SNS_ENDPOINT, "https")
            elif topic_arn not in in_use:
                for sub in existing:
                    sns.unsubscribe(sub.arn)


chatbot_backends = BackendDict(ChatbotBackend, "chatbot", use_boto3_regions=False, additional_regions=PARTITION_NAMES)
