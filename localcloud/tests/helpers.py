"""Helpers for the localcloud tests: start `serve`, clients per account, control endpoints."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import tempfile
import urllib.error
import urllib.request
from typing import Any

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

# A region where each service has an endpoint (localcloud/regions.py); others default to us-east-1.
CHATBOT_REGION = "us-east-2"

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERVE = os.path.join(REPO, "localcloud", "serve")


def start_server(*args: str, timeout: float = 30.0) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """Run `serve` and wait for its single JSON line."""
    # stderr goes to a file: a pipe nobody drains would block the server once full.
    log = tempfile.NamedTemporaryFile(prefix="localcloud-", suffix=".log", delete=False)
    proc = subprocess.Popen([SERVE, "--port", "0", *args], stdout=subprocess.PIPE, stderr=log, text=True)
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    line = proc.stdout.readline() if ready else ""
    if not line:
        proc.kill()
        proc.wait()
        with open(log.name) as f:
            raise RuntimeError(f"localcloud/serve did not start: {f.read()}")
    proc.log_path = log.name  # type: ignore[attr-defined]
    return proc, json.loads(line)


def stop_server(proc: subprocess.Popen[str]) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


class Cloud:
    """Clients and control-endpoint helpers for one running local cloud."""

    def __init__(self, info: dict[str, Any]):
        self.info = info
        self.endpoint = info["endpoint"]
        self.management = info["management_account"]
        self.members = info["member_accounts"]
        self.outsider = info["outside_account"]
        self._creds: dict[str, dict[str, str]] = {}
        self._clients: dict[tuple[Any, ...], Any] = {}
        self._session = boto3.session.Session()

    def account(self, account_id: str) -> dict[str, Any]:
        return next(a for a in self.info["accounts"] if a["id"] == account_id)

    def credentials(self, account: str) -> dict[str, str]:
        if account == self.management:
            return {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        if account not in self._creds:
            sts = self.client("sts")
            out = sts.assume_role(
                RoleArn=f"arn:aws:iam::{account}:role/{self.info['organization_access_role_name']}",
                RoleSessionName="localcloud-tests",
            )["Credentials"]
            self._creds[account] = {
                "aws_access_key_id": out["AccessKeyId"],
                "aws_secret_access_key": out["SecretAccessKey"],
                "aws_session_token": out["SessionToken"],
            }
        return self._creds[account]

    def provider_credentials(self) -> dict[str, str]:
        """The session of the provider's role that the seed issued (the provider's identity, policies enforced)."""
        c = self.info["provider_credentials"]
        return {"aws_access_key_id": c["access_key_id"], "aws_secret_access_key": c["secret_access_key"], "aws_session_token": c["session_token"]}

    def provider_env(self) -> dict[str, str]:
        """Environment variables of a process that runs as the provider."""
        c = self.info["provider_credentials"]
        return {"AWS_ACCESS_KEY_ID": c["access_key_id"], "AWS_SECRET_ACCESS_KEY": c["secret_access_key"], "AWS_SESSION_TOKEN": c["session_token"]}

    def provider_client(self, service: str, region: str | None = None) -> Any:
        """A boto3 client acting as the provider (its role's session in the management account)."""
        region = region or default_region(service)
        return self._session.client(service, endpoint_url=self.endpoint, region_name=region, **self.provider_credentials())

    def client(self, service: str, account: str | None = None, region: str | None = None, validate: bool = True, retries: int = 1) -> Any:
        """A boto3 client acting in `account` (retries=1: no retries, so injected faults are seen as they are)."""
        region = region or default_region(service)
        key = (service, account or self.management, region, validate, retries)
        if key not in self._clients:
            config = Config(parameter_validation=validate, retries={"total_max_attempts": retries, "mode": "standard"})
            self._clients[key] = self._session.client(
                service, endpoint_url=self.endpoint, region_name=region, config=config,
                **self.credentials(account or self.management),
            )
        return self._clients[key]

    def control(self, method: str, route: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.endpoint}/_localcloud/{route}", data=data, method=method)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                raw, status, ctype = resp.read(), resp.status, resp.headers.get("Content-Type", "")
        except urllib.error.HTTPError as err:
            raw, status, ctype = err.read(), err.code, err.headers.get("Content-Type", "")
        return status, (json.loads(raw) if "json" in ctype else raw)

    def raw(self, service: str, path: str, body: bytes, account: str | None = None, content_type: str = "application/json", region: str | None = None) -> tuple[int, dict[str, str], bytes]:
        """A SigV4-signed POST with any body, for inputs an SDK would never send."""
        creds = self.credentials(account or self.management)
        request = AWSRequest(method="POST", url=self.endpoint + path, data=body, headers={"Content-Type": content_type})
        SigV4Auth(
            Credentials(creds["aws_access_key_id"], creds["aws_secret_access_key"], creds.get("aws_session_token")),
            service,
            region or default_region(service),
        ).add_auth(request)
        req = urllib.request.Request(request.url, data=body, headers=dict(request.headers.items()), method="POST")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, dict(resp.headers.items()), resp.read()
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers.items()), err.read()

    def add_fault(self, **spec: Any) -> str:
        status, out = self.control("POST", "faults", spec)
        assert status == 200, out
        return out["id"]


def default_region(service: str) -> str:
    return CHATBOT_REGION if service == "chatbot" else "us-east-1"


def error_code(excinfo: Any) -> str:
    return excinfo.value.response["Error"]["Code"]


def http_status(excinfo: Any) -> int:
    return excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]

