"""Support App request handlers: validated params in, output members out (see localcloud/restjson.py)."""

from __future__ import annotations

from typing import Any

from moto.utilities.utils import get_partition

from localcloud.restjson import RestJsonModelResponse

from .models import SupportAppBackend, supportapp_backends


class SupportAppResponse(RestJsonModelResponse):
    MODEL_NAME = "support-app"
    SERVICE_NAME = "supportapp"
    VALIDATION_ERROR = "ValidationException"

    @property
    def backend(self) -> SupportAppBackend:
        return supportapp_backends[self.current_account][get_partition(self.region)]

    def register_slack_workspace_for_organization(self, p: dict[str, Any]) -> dict[str, Any]:
        return self.backend.register_slack_workspace_for_organization(p["teamId"])

    def list_slack_workspace_configurations(self, p: dict[str, Any]) -> dict[str, Any]:
        items, token = self.backend.list_slack_workspace_configurations(p.get("nextToken"))
        return _with_token({"slackWorkspaceConfigurations": items}, token)

    def delete_slack_workspace_configuration(self, p: dict[str, Any]) -> dict[str, Any]:
        self.backend.delete_slack_workspace_configuration(p["teamId"])
        return {}

    def create_slack_channel_configuration(self, p: dict[str, Any]) -> dict[str, Any]:
        self.backend.create_slack_channel_configuration(p)
        return {}

    def list_slack_channel_configurations(self, p: dict[str, Any]) -> dict[str, Any]:
        items, token = self.backend.list_slack_channel_configurations(p.get("nextToken"))
        return _with_token({"slackChannelConfigurations": items}, token)

    def update_slack_channel_configuration(self, p: dict[str, Any]) -> dict[str, Any]:
        return self.backend.update_slack_channel_configuration(p)

    def delete_slack_channel_configuration(self, p: dict[str, Any]) -> dict[str, Any]:
        self.backend.delete_slack_channel_configuration(p["teamId"], p["channelId"])
        return {}

    def put_account_alias(self, p: dict[str, Any]) -> dict[str, Any]:
        self.backend.put_account_alias(p["accountAlias"])
        return {}

    def get_account_alias(self, p: dict[str, Any]) -> dict[str, Any]:
        alias = self.backend.get_account_alias()
        return {"accountAlias": alias} if alias is not None else {}

    def delete_account_alias(self, p: dict[str, Any]) -> dict[str, Any]:
        self.backend.delete_account_alias()
        return {}


def _with_token(out: dict[str, Any], token: str | None) -> dict[str, Any]:
    if token:
        out["nextToken"] = token
    return out
