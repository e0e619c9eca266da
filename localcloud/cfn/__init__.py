"""The local cloud's CloudFormation: stacks and StackSets whose custom resources are sent as CloudFormation sends them.

`handle` answers the CloudFormation API calls implemented here (see HANDLERS
in api.py and stacksets.py); any other CloudFormation call goes on to moto.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qs

from localcloud.cfn import api, changesets, stacksets, wire

log = logging.getLogger("localcloud")

HANDLERS = {**api.HANDLERS, **stacksets.HANDLERS, **changesets.HANDLERS}  # changesets' GetTemplate also reads change sets


def handle(operation: str | None, account: str, region: str, environ: dict[str, Any], body: bytes | None) -> tuple[int, list[tuple[str, str]], bytes] | None:
    """The answer to a CloudFormation call, or None to leave it to moto."""
    handler = HANDLERS.get(operation or "")
    if handler is None:
        return None
    params = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True).items()}
    if body:
        params.update({k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()})
    try:
        request = wire.parse(operation, params)  # type: ignore[arg-type]
        return wire.render(operation, handler(account, region, request))  # type: ignore[arg-type]
    except wire.ApiError as err:
        return wire.error(err)


def reset() -> None:
    api.STORE.clear()
    changesets.STORE.clear()
    stacksets.STORE.clear()
