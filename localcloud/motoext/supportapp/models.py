"""AWS Support App state: Slack workspaces, Slack channel configurations and the account alias.

Rules of the real service (API reference and quotas):
- a workspace comes into an account either by the console OAuth step
  (seeded, or POST /_localcloud/slack-authorize) or, in a member account, by
  RegisterSlackWorkspaceForOrganization once the management account has
  registered that workspace for the organization; outside an organization
  that call is a ConflictException;
- at most 5 workspaces and 20 channel configurations per account
  (ServiceQuotaExceededException);
- a channel needs its workspace in the account to be created, updated or
  deleted (ConflictException) and is unique per (teamId, channelId)
  (ConflictException), and a workspace with channels cannot be deleted
  (ConflictException);
- notifyOnCaseSeverity high or all needs at least one notify flag; none
  refuses a notify flag set true in the same request (ValidationException);
- notify flags left out of a create are false.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

from moto.core.base_backend import BackendDict, BaseBackend
from moto.utilities.utils import PARTITION_NAMES

from localcloud.awsutil import organization_of, page, role_exists
from localcloud.modelvalidation import ServiceError

MAX_WORKSPACES = 5
MAX_CHANNELS = 20
PAGE_SIZE = 10
NOTIFY_FLAGS = ("notifyOnAddCorrespondenceToCase", "notifyOnCreateOrReopenCase", "notifyOnResolveCase")
CHANNEL_MEMBERS = ("channelName", "channelRoleArn", "notifyOnCaseSeverity") + NOTIFY_FLAGS

_sequence = itertools.count(1)


class SupportAppBackend(BaseBackend):
    def __init__(self, region_name: str, account_id: str):
        super().__init__(region_name, account_id)
        self.lock = threading.RLock()
        # team id -> {"teamName", "allowOrganizationMemberAccount", "sequence"}
        self.workspaces: dict[str, dict[str, Any]] = {}
        # (team id, channel id) -> channel configuration (API members) plus "sequence"
        self.channels: dict[tuple[str, str], dict[str, Any]] = {}
        self.account_alias: str | None = None

    # -- the console step (no API) ------------------------------------------------------------

    def authorize_workspace(self, team_id: str, team_name: str, for_organization: bool = False) -> None:
        """What the Support Center console's Slack OAuth does; the management account may also share it."""
        with self.lock:
            if team_id not in self.workspaces:
                self._check_workspace_quota()
                self.workspaces[team_id] = {"teamName": team_name, "sequence": next(_sequence)}
            self.workspaces[team_id]["allowOrganizationMemberAccount"] = for_organization

    def _check_workspace_quota(self) -> None:
        if len(self.workspaces) >= MAX_WORKSPACES:
            raise ServiceError(
                "ServiceQuotaExceededException",
                f"Account {self.account_id} already has the maximum of {MAX_WORKSPACES} Slack workspaces",
            )

    # -- workspaces ----------------------------------------------------------------------------

    def register_slack_workspace_for_organization(self, team_id: str) -> dict[str, Any]:
        membership = organization_of(self.account_id)
        if membership is None:
            raise ServiceError(
                "ConflictException",
                f"Account {self.account_id} isn't part of an organization in AWS Organizations; "
                "RegisterSlackWorkspaceForOrganization needs one",
            )
        if membership.management_account == self.account_id:
            with self.lock:
                workspace = self.workspaces.get(team_id)
                if workspace is None:
                    raise ServiceError(
                        "ResourceNotFoundException",
                        f"The management account hasn't authorized Slack workspace {team_id}: "
                        "authorize it in the AWS Support Center console first",
                    )
                workspace["allowOrganizationMemberAccount"] = True
                return {"teamId": team_id, "teamName": workspace["teamName"], "accountType": "management"}

        management = supportapp_backends[membership.management_account]["aws"]
        with management.lock:
            shared = management.workspaces.get(team_id)
            if shared is None or not shared.get("allowOrganizationMemberAccount"):
                raise ServiceError(
                    "ConflictException",
                    f"The management account {membership.management_account} hasn't registered Slack workspace "
                    f"{team_id} for the organization yet",
                )
            team_name = shared["teamName"]
        self.authorize_workspace(team_id, team_name, for_organization=True)
        return {"teamId": team_id, "teamName": team_name, "accountType": "member"}

    def list_slack_workspace_configurations(self, token: str | None) -> tuple[list[dict[str, Any]], str | None]:
        with self.lock:
            items = sorted(
                (w["sequence"], {"teamId": t, "teamName": w["teamName"], "allowOrganizationMemberAccount": w["allowOrganizationMemberAccount"]})
                for t, w in self.workspaces.items()
            )
        return page(items, token, PAGE_SIZE, "nextToken", "ValidationException")

    def delete_slack_workspace_configuration(self, team_id: str) -> None:
        with self.lock:
            if team_id not in self.workspaces:
                raise ServiceError("ResourceNotFoundException", f"Slack workspace {team_id} isn't configured in account {self.account_id}")
            channels = [c for (t, c) in self.channels if t == team_id]
            if channels:
                raise ServiceError(
                    "ConflictException",
                    f"Slack workspace {team_id} still has {len(channels)} channel configuration(s): delete them first",
                )
            del self.workspaces[team_id]

    # -- channels ------------------------------------------------------------------------------

    def _check_workspace_added(self, team_id: str) -> None:
        if team_id not in self.workspaces:
            raise ServiceError(
                "ConflictException",
                f"Slack workspace {team_id} isn't configured in account {self.account_id}: add it first "
                "(Support Center console, or RegisterSlackWorkspaceForOrganization in a member account)",
            )

    def _check_channel(self, config: dict[str, Any], request: dict[str, Any]) -> None:
        # The API reference: with `none`, the notify flags given in the request must be null or false.
        if request.get("notifyOnCaseSeverity") == "none":
            set_true = [f for f in NOTIFY_FLAGS if request.get(f) is True]
            if set_true:
                raise ServiceError(
                    "ValidationException",
                    "notifyOnCaseSeverity 'none' needs " + ", ".join(set_true) + " to be false or left out",
                )
        if config["notifyOnCaseSeverity"] in ("high", "all") and not any(config.get(f) for f in NOTIFY_FLAGS):
            raise ServiceError(
                "ValidationException",
                f"notifyOnCaseSeverity '{config['notifyOnCaseSeverity']}' needs at least one of "
                + ", ".join(NOTIFY_FLAGS) + " to be true",
            )
        if not role_exists(self.account_id, config["channelRoleArn"]):
            raise ServiceError(
                "ValidationException",
                f"channelRoleArn: the IAM role {config['channelRoleArn']} does not exist in account {self.account_id}",
            )

    def create_slack_channel_configuration(self, params: dict[str, Any]) -> None:
        team_id, channel_id = params["teamId"], params["channelId"]
        with self.lock:
            self._check_workspace_added(team_id)
            if (team_id, channel_id) in self.channels:
                raise ServiceError("ConflictException", f"Slack channel {channel_id} of workspace {team_id} is already configured")
            if len(self.channels) >= MAX_CHANNELS:
                raise ServiceError(
                    "ServiceQuotaExceededException",
                    f"Account {self.account_id} already has the maximum of {MAX_CHANNELS} Slack channel configurations",
                )
            # The API reference: notify flags left out of the request default to false.
            config: dict[str, Any] = {"teamId": team_id, "channelId": channel_id, **{f: False for f in NOTIFY_FLAGS}}
            config.update({m: params[m] for m in CHANNEL_MEMBERS if m in params})
            self._check_channel(config, params)
            config["sequence"] = next(_sequence)
            self.channels[(team_id, channel_id)] = config

    def _channel(self, team_id: str, channel_id: str) -> dict[str, Any]:
        config = self.channels.get((team_id, channel_id))
        if config is None:
            raise ServiceError(
                "ResourceNotFoundException",
                f"Slack channel {channel_id} of workspace {team_id} isn't configured in account {self.account_id}",
            )
        return config

    def update_slack_channel_configuration(self, params: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self._check_workspace_added(params["teamId"])
            config = self._channel(params["teamId"], params["channelId"])
            updated = dict(config)
            updated.update({m: params[m] for m in CHANNEL_MEMBERS if m in params})
            self._check_channel(updated, params)
            config.update(updated)
            return _public(config)

    def delete_slack_channel_configuration(self, team_id: str, channel_id: str) -> None:
        with self.lock:
            self._check_workspace_added(team_id)
            self._channel(team_id, channel_id)
            del self.channels[(team_id, channel_id)]

    def list_slack_channel_configurations(self, token: str | None) -> tuple[list[dict[str, Any]], str | None]:
        with self.lock:
            items = sorted((c["sequence"], _public(c)) for c in self.channels.values())
        return page(items, token, PAGE_SIZE, "nextToken", "ValidationException")

    # -- account alias ---------------------------------------------------------------------------

    def put_account_alias(self, alias: str) -> None:
        self.account_alias = alias

    def get_account_alias(self) -> str | None:
        return self.account_alias

    def delete_account_alias(self) -> None:
        if self.account_alias is None:
            raise ServiceError("ResourceNotFoundException", f"Account {self.account_id} has no account alias for the AWS Support App")
        self.account_alias = None


def _public(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k != "sequence"}


supportapp_backends = BackendDict(
    SupportAppBackend, "support-app", use_boto3_regions=False, additional_regions=PARTITION_NAMES
)
