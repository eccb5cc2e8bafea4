"""Extension ``unknown_operation_errors``: an operation moto does not implement answers as AWS answers an action it
does not know (see :mod:`samlocal.moto_ext`), instead of an exception (an HTML 500 from the server, which SDKs
retry).

- JSON protocols (``json``, ``rest-json``): HTTP 400, ``x-amzn-ErrorType: UnknownOperationException`` and
  ``{"__type": "UnknownOperationException", "message": ...}``;
- query protocols (``query``, ``ec2``): HTTP 400, ``<ErrorResponse>`` with code ``InvalidAction``;
- ``rest-xml`` (S3, Route 53, CloudFront): HTTP 501, ``<Error>`` with code ``NotImplemented``.

The message names the operation and says it is not implemented offline; botocore raises it at once as a
``ClientError`` (4xx errors other than throttling are not retried).
"""

from __future__ import annotations

import json
import uuid
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..registry import RuntimeRegistry


@lru_cache(maxsize=64)
def _protocol(service: str) -> str:
    import botocore.session
    from botocore.exceptions import UnknownServiceError

    try:
        return str(botocore.session.get_session().get_service_model(service).protocol)
    except UnknownServiceError:  # answer in JSON
        return "json"


def unknown_operation_response(service: str | None, action: str) -> tuple[int, dict[str, str], str]:
    """``(status, headers, body)`` of AWS's answer to an operation of ``service`` it does not know."""
    protocol = _protocol(service or "")
    message = f"The operation {action} is not implemented by the offline emulator (samlocal)"
    request_id = str(uuid.uuid4())
    if protocol in ("json", "rest-json"):
        body = json.dumps({"__type": "UnknownOperationException", "message": message})
        return 400, {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": "UnknownOperationException",
                     "x-amzn-RequestId": request_id}, body
    if protocol == "rest-xml":
        body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NotImplemented</Code>"
                f"<Message>{message}</Message><RequestId>{request_id}</RequestId></Error>")
        return 501, {"Content-Type": "application/xml", "x-amz-request-id": request_id}, body
    body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>{message}</Message>"
            f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>")
    return 400, {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}, body


def _install_unknown_operation_errors(registry: RuntimeRegistry) -> None:
    from moto.core.responses import BaseResponse

    original = BaseResponse.call_action

    def call_action(self: Any) -> Any:
        try:
            return original(self)
        except NotImplementedError:
            try:
                action = self._get_action()
            except (AttributeError, KeyError, ValueError):  # the request names no action at all
                action = "unknown"
            status, headers, body = unknown_operation_response(getattr(self, "service_name", None), action)
            return status, {**self.response_headers, **headers, "status": str(status)}, body

    call_action._samlocal = True  # type: ignore[attr-defined]
    if not getattr(original, "_samlocal", False):
        BaseResponse.call_action = call_action  # type: ignore[method-assign]
