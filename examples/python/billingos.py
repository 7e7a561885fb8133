"""A small BillingOS client using only Python's standard library (urllib, json).

The HTTP API is described by the OpenAPI document the server serves at GET /openapi.json. In short:
a query is GET /trpc/<procedure>?input=<URL-encoded JSON>, a mutation is POST /trpc/<procedure> with
a JSON body; a success answers {"result": {"data": ...}}, an error answers
{"error": {"message", "code", "data": {"code", "httpStatus", "fieldErrors"?, "retryAfterSeconds"?}}}.
"""

import json
import urllib.error
import urllib.parse
import urllib.request


class BillingOSError(Exception):
    """A refusal from BillingOS, typed by its error code (BAD_REQUEST, UNAUTHORIZED, NOT_FOUND, ...)."""

    def __init__(self, code, http_status, message, field_errors=None, retry_after_seconds=None):
        super().__init__(message)
        self.code = code
        self.http_status = http_status
        self.message = message
        self.field_errors = field_errors or {}
        self.retry_after_seconds = retry_after_seconds


class BillingOS:
    """The merchant API, called with a secret key (sk_test_... or sk_live_...)."""

    def __init__(self, secret_key, base_url="http://localhost:4000", timeout=10):
        self.secret_key = secret_key
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _call(self, method, procedure, payload=None):
        url = f"{self.base_url}/trpc/{procedure}"
        headers = {"Authorization": f"Bearer {self.secret_key}"}
        body = None
        if method == "GET":
            if payload is not None:
                url += "?input=" + urllib.parse.quote(json.dumps(payload), safe="")
        else:
            headers["Content-Type"] = "application/json"
            body = json.dumps({} if payload is None else payload).encode("utf-8")
        request = urllib.request.Request(url, data=body, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.load(response)["result"]["data"]
        except urllib.error.HTTPError as error:
            raise _error_from(error) from None

    # Queries (GET) -------------------------------------------------------------------------

    def list_session_tokens(self, external_user_id, status="all", limit=None, cursor=None):
        """One page: {"data": [...], "nextCursor": "tok_..." or None}."""
        payload = {"externalUserId": external_user_id, "status": status}
        if limit is not None:
            payload["limit"] = limit
        if cursor is not None:
            payload["cursor"] = cursor
        return self._call("GET", "sessionTokens.list", payload)

    def iter_session_tokens(self, external_user_id, status="all", limit=None):
        """Every token of the customer, page after page, newest first."""
        cursor = None
        while True:
            page = self.list_session_tokens(external_user_id, status, limit, cursor)
            yield from page["data"]
            cursor = page["nextCursor"]
            if cursor is None:
                return

    # Mutations (POST) ----------------------------------------------------------------------

    def create_session_token(self, external_user_id, **options):
        """options: email, emailVerified, externalOrganizationId, expiresIn, allowedOperations, metadata."""
        return self._call("POST", "sessionTokens.create", {"externalUserId": external_user_id, **options})

    def verify_session_token(self, session_token, operation=None):
        payload = {"sessionToken": session_token}
        if operation is not None:
            payload["operation"] = operation
        return self._call("POST", "sessionTokens.verify", payload)

    def revoke_session_token(self, token_id):
        return self._call("POST", "sessionTokens.revoke", {"tokenId": token_id})


def _error_from(error):
    """The typed error an HTTP error answer carries (or one naming the status when it carries none)."""
    try:
        envelope = json.load(error)["error"]
    except (ValueError, KeyError, TypeError):
        return BillingOSError("HTTP_ERROR", error.code, f"HTTP {error.code} without a BillingOS error body")
    data = envelope.get("data", {})
    retry_after = data.get("retryAfterSeconds")
    if retry_after is None and error.headers.get("Retry-After"):
        retry_after = int(error.headers["Retry-After"])
    return BillingOSError(
        data.get("code", "UNKNOWN"),
        data.get("httpStatus", error.code),
        envelope.get("message", ""),
        data.get("fieldErrors"),
        retry_after,
    )
