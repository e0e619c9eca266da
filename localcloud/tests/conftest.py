"""One local cloud per test session, started the way everyone starts it: `localcloud/serve --port 0`.

Clients for other accounts come from a real STS AssumeRole of
OrganizationAccountAccessRole, so every cross-account test also exercises
the trust policy check; clients of the provider use the seeded session of
its role (Cloud.provider_client), whose policies the cloud enforces.
"""

from __future__ import annotations

import itertools
import os
import time
from typing import Any, Callable

import pytest

from localcloud.tests.helpers import Cloud, start_server, stop_server

# No real AWS: make sure nothing in the test process falls back to it.
for _var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_PROFILE", "MOTO_ACCOUNT_ID"):
    os.environ.pop(_var, None)
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
os.environ.pop("AWS_ENDPOINT_URL", None)


@pytest.fixture(scope="session")
def server() -> Any:
    """The `serve` process and its JSON line; its stderr is in proc.log_path."""
    proc, info = start_server()
    yield proc, info
    rc = stop_server(proc)
    assert rc == 0, "serve did not stop cleanly on SIGTERM"


@pytest.fixture(scope="session")
def cloud(server: Any) -> dict[str, Any]:
    return server[1]


@pytest.fixture(scope="session")
def lc(cloud: dict[str, Any]) -> Cloud:
    return Cloud(cloud)


_names = itertools.count(1)
_stamp = f"{int(time.time()) % 10**6}"


@pytest.fixture
def unique() -> Callable[[str], str]:
    """Names unique within the session (tests share one server)."""
    return lambda prefix: f"{prefix}-{_stamp}-{next(_names)}"
