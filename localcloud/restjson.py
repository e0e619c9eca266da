"""A moto BaseResponse for restJson1 services written from their botocore model.

chatbot and supportapp are plain restJson1 APIs: every operation is a POST to
a fixed URI with a JSON body. The model gives the routing (URI -> operation),
the input constraints, the success status (201 for chatbot's creates, 204 for
its deletes) and the HTTP status of each error shape. Errors carry the shape
name in `x-amzn-ErrorType` and a JSON body with both `message` and `Message`,
which is what botocore and the Rust SDK read to build typed errors.
"""

from __future__ import annotations

import functools
import json
import re
import uuid
from typing import Any, Callable

import botocore.model
from moto.core.responses import BaseResponse

from localcloud.modelvalidation import ServiceError, service_model, validate


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@functools.cache
def model_routes(model_name: str) -> dict[tuple[str, str], botocore.model.OperationModel]:
    model = service_model(model_name)
    routes = {}
    for op_name in model.operation_names:
        op = model.operation_model(op_name)
        routes[(op.http["method"], op.http["requestUri"].split("?")[0])] = op
    return routes


@functools.cache
def error_status(model_name: str, code: str) -> int:
    """HTTP status of an error shape in the model (400 for codes the model lacks)."""
    model = service_model(model_name)
    for shape in model.error_shapes:
        if shape.name == code or shape.error_code == code:
            return int(shape.metadata.get("error", {}).get("httpStatusCode", 400))
    return 400


def error_response(model_name: str, code: str, message: str, status: int | None = None) -> tuple[int, dict[str, str], str]:
    status = status or error_status(model_name, code)
    headers = {
        "Content-Type": "application/json",
        "x-amzn-ErrorType": code,
        "x-amzn-RequestId": str(uuid.uuid4()),
    }
    return status, headers, json.dumps({"message": message, "Message": message})


class RestJsonModelResponse(BaseResponse):
    """Routes by the model, validates input, calls `self.<snake_case op>(params)`.

    Subclasses set MODEL_NAME (botocore name), SERVICE_NAME (signing name) and
    VALIDATION_ERROR (the model's error shape for bad members), and implement
    one method per operation that takes the validated params dict and returns
    the output dict (or None).
    """

    MODEL_NAME = ""
    SERVICE_NAME = ""
    VALIDATION_ERROR = "ValidationException"

    def __init__(self) -> None:
        super().__init__(service_name=self.SERVICE_NAME)

    @property
    def boto3_service_name(self) -> str:
        return self.MODEL_NAME

    def _get_action(self) -> str:
        op = model_routes(self.MODEL_NAME).get((self.method, self.path.rstrip("/") or "/"))
        return op.name if op else ""

    def call_action(self) -> tuple[int, dict[str, str], str]:
        op = model_routes(self.MODEL_NAME).get((self.method, self.path.rstrip("/") or "/"))
        if op is None:
            return error_response(
                self.MODEL_NAME, "UnknownOperationException", f"No operation at {self.method} {self.path}", 404
            )
        handler: Callable[[dict[str, Any]], Any] | None = getattr(self, _snake(op.name), None)
        try:
            try:
                params = json.loads(self.body) if self.body else {}
            except (ValueError, TypeError):
                raise ServiceError("SerializationException", "The request body is not valid JSON", 400)
            validate(op, params, self.VALIDATION_ERROR)
            if handler is None:
                raise ServiceError("NotImplementedException", f"localcloud does not implement {op.name}", 501)
            result = handler(params)
        except ServiceError as err:
            return error_response(self.MODEL_NAME, err.code, err.message, err.status)
        status = int(op.http.get("responseCode", 200))
        headers = {
            "Content-Type": "application/json",
            "x-amzn-RequestId": str(uuid.uuid4()),
        }
        body = "" if status == 204 else json.dumps(result or {})
        return status, headers, body
