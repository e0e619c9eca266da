"""Chatbot request handlers: validated params in, output members out (see localcloud/restjson.py)."""

from __future__ import annotations

from typing import Any

from moto.utilities.utils import get_partition

from localcloud.modelvalidation import ServiceError
from localcloud.restjson import RestJsonModelResponse

from .models import ChatbotBackend, chatbot_backends


class ChatbotResponse(RestJsonModelResponse):
    MODEL_NAME = "chatbot"
    SERVICE_NAME = "chatbot"
    VALIDATION_ERROR = "InvalidParameterException"

    @property
    def backend(self) -> ChatbotBackend:
        return chatbot_backends[self.current_account][get_partition(self.region)]

    # Slack
    def create_slack_channel_configuration(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"ChannelConfiguration": self.backend.create_slack_channel_configuration(p)}

    def describe_slack_channel_configurations(self, p: dict[str, Any]) -> dict[str, Any]:
        items, token = self.backend.describe_slack_channel_configurations(p)
        return _with_token({"SlackChannelConfigurations": items}, token)

    def update_slack_channel_configuration(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"ChannelConfiguration": self.backend.update_slack_channel_configuration(p)}

    def delete_slack_channel_configuration(self, p: dict[str, Any]) -> None:
        self.backend.delete_slack_channel_configuration(p["ChatConfigurationArn"])

    def describe_slack_workspaces(self, p: dict[str, Any]) -> dict[str, Any]:
        items, token = self.backend.describe_slack_workspaces(p)
        return _with_token({"SlackWorkspaces": items}, token)

    def delete_slack_workspace_authorization(self, p: dict[str, Any]) -> None:
        self.backend.delete_slack_workspace_authorization(p["SlackTeamId"])

    # Chime
    def create_chime_webhook_configuration(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"WebhookConfiguration": self.backend.create_chime_webhook_configuration(p)}

    def describe_chime_webhook_configurations(self, p: dict[str, Any]) -> dict[str, Any]:
        items, token = self.backend.describe_chime_webhook_configurations(p)
        return _with_token({"WebhookConfigurations": items}, token)

    def update_chime_webhook_configuration(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"WebhookConfiguration": self.backend.update_chime_webhook_configuration(p)}

    def delete_chime_webhook_configuration(self, p: dict[str, Any]) -> None:
        self.backend.delete_chime_webhook_configuration(p["ChatConfigurationArn"])

    # Microsoft Teams
    def create_microsoft_teams_channel_configuration(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"ChannelConfiguration": self.backend.create_microsoft_teams_channel_configuration(p)}

    def get_microsoft_teams_channel_configuration(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"ChannelConfiguration": self.backend.get_microsoft_teams_channel_configuration(p["ChatConfigurationArn"])}

    def list_microsoft_teams_channel_configurations(self, p: dict[str, Any]) -> dict[str, Any]:
        items, token = self.backend.list_microsoft_teams_channel_configurations(p)
        return _with_token({"TeamChannelConfigurations": items}, token)

    def update_microsoft_teams_channel_configuration(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"ChannelConfiguration": self.backend.update_microsoft_teams_channel_configuration(p)}

    def delete_microsoft_teams_channel_configuration(self, p: dict[str, Any]) -> None:
        self.backend.delete_microsoft_teams_channel_configuration(p["ChatConfigurationArn"])

    def list_microsoft_teams_configured_teams(self, p: dict[str, Any]) -> dict[str, Any]:
        items, token = self.backend.list_microsoft_teams_configured_teams(p)
        return _with_token({"ConfiguredTeams": items}, token)

    # Account preferences; user identities (made by chat users, never by the provider: always none here)
    def get_account_preferences(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"AccountPreferences": self.backend.get_account_preferences()}

    def update_account_preferences(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"AccountPreferences": self.backend.update_account_preferences(p)}

    def describe_slack_user_identities(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"SlackUserIdentities": []}

    def list_microsoft_teams_user_identities(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"TeamsUserIdentities": []}

    def delete_slack_user_identity(self, p: dict[str, Any]) -> None:
        self.backend.require(p["ChatConfigurationArn"])
        raise ServiceError("ResourceNotFoundException", f"Slack user {p['SlackUserId']} has no identity in {p['ChatConfigurationArn']}")

    def delete_microsoft_teams_user_identity(self, p: dict[str, Any]) -> None:
        self.backend.require(p["ChatConfigurationArn"])
        raise ServiceError("ResourceNotFoundException", f"Teams user {p['UserId']} has no identity in {p['ChatConfigurationArn']}")

    def delete_microsoft_teams_configured_team(self, p: dict[str, Any]) -> None:
        self.backend.delete_microsoft_teams_configured_team(p["TeamId"])

    # Custom actions and their associations with configurations
    def create_custom_action(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"CustomActionArn": self.backend.create_custom_action(p)}

    def get_custom_action(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"CustomAction": self.backend.get_custom_action(p["CustomActionArn"])}

    def update_custom_action(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"CustomActionArn": self.backend.update_custom_action(p)}

    def delete_custom_action(self, p: dict[str, Any]) -> None:
        self.backend.delete_custom_action(p["CustomActionArn"])

    def list_custom_actions(self, p: dict[str, Any]) -> dict[str, Any]:
        items, token = self.backend.list_custom_actions(p)
        return _with_token({"CustomActions": items}, token)

    def associate_to_configuration(self, p: dict[str, Any]) -> dict[str, Any]:
        self.backend.associate_to_configuration(p["ChatConfiguration"], p["Resource"])
        return {}

    def disassociate_from_configuration(self, p: dict[str, Any]) -> None:
        self.backend.disassociate_from_configuration(p["ChatConfiguration"], p["Resource"])

    def list_associations(self, p: dict[str, Any]) -> dict[str, Any]:
        items, token = self.backend.list_associations(p)
        return _with_token({"Associations": items}, token)

    # Tags
    def list_tags_for_resource(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"Tags": self.backend.list_tags_for_resource(p["ResourceARN"])}

    def tag_resource(self, p: dict[str, Any]) -> dict[str, Any]:
        self.backend.tag_resource(p["ResourceARN"], p["Tags"])
        return {}

    def untag_resource(self, p: dict[str, Any]) -> dict[str, Any]:
        self.backend.untag_resource(p["ResourceARN"], p["TagKeys"])
        return {}


def _with_token(out: dict[str, Any], token: str | None) -> dict[str, Any]:
    if token:
        out["NextToken"] = token
    return out
