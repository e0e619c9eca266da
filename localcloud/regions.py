"""Where Chatbot and the Support App have endpoints, and what a call signed for any other region gets.

The sets are the AWS General Reference's endpoint tables (see
localcloud/README.md, "Regions"). Every SDK client here points at one local
endpoint, so the region a call was meant for is the one in its SigV4
credential scope.

Outside these regions there is no host (`chatbot.us-east-1.amazonaws.com`
does not resolve), so no HTTP answer of any kind is faithful: an SDK gets a
transport failure and no service error. The local cloud therefore closes the
connection without writing a byte; botocore then raises a connection error
(no HTTP status, no error code) and the Rust SDK a dispatch failure, as they
do when a host cannot be resolved or reached.
"""

from __future__ import annotations

import socket
from typing import Any, NoReturn

from localcloud import protocols

# Signing name -> regions with an endpoint.
SERVED_REGIONS: dict[str, frozenset[str]] = {
    # https://docs.aws.amazon.com/general/latest/gr/chatbot.html (botocore has no region list for chatbot)
    "chatbot": frozenset({"us-east-2", "us-west-2", "eu-west-1", "ap-southeast-1"}),
    # botocore/data/endpoints.json, partition aws, service supportapp; AWS General Reference,
    # "AWS Support App in Slack endpoints"
    "supportapp": frozenset({"us-east-1", "us-west-2", "eu-west-1"}),
}


def unserved_call(environ: dict[str, Any]) -> tuple[str, str] | None:
    """(service, region) of a call signed for a region where that service has no endpoint, else None."""
    service = protocols.signing_service(environ)
    served = SERVED_REGIONS.get(service or "")
    if served is None:
        return None
    scope = protocols.credential_scope(environ)
    region = scope[2] if scope and len(scope) >= 5 else None
    if region is None or region in served:
        return None
    return service or "", region


def drop_connection(environ: dict[str, Any], why: str) -> NoReturn:
    """Close the client's connection without an answer (werkzeug then drops the request quietly)."""
    # The body is read first: left in the buffer, werkzeug would parse it as a next request.
    try:
        if environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
            environ["wsgi.input"].read()
        else:
            environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    except (OSError, ValueError):
        pass
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    raise ConnectionAbortedError(why)
