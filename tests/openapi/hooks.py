"""Schemathesis hooks of the OpenAPI suite (tests/openapi/main.rs).

Loaded with SCHEMATHESIS_HOOKS=hooks. The Rust test starts the server, signs a device in
and passes its token (or the admin token) and the client API's URL in the environment.

* `Token` puts the bearer token on every request. `auth.logOut` gets a token of its own,
  from a fresh sign-in of a throwaway device, so a logged-out token never ends the run.
* `positive_data_is_parsed`: a body the document calls valid is never refused as
  malformed (`400 INPUT_REQUEST_INVALID`). Telegram answers refusals that depend on state
  (an unknown chat id) with 400, so the run lets `positive_data_acceptance` accept 400;
  this check keeps what that allowance would otherwise give up.
* `filter_case` drops admin bodies with a range `{"from", "to"}` whose from > to: the one
  rule of the admin document that JSON Schema cannot state (it says so in words).
"""

import json
import os
import urllib.request

import schemathesis

CLIENT_URL = os.environ["SECRETCHAT_CLIENT_URL"]
TOKEN = os.environ["SECRETCHAT_TOKEN"]


def sign_in(username, device):
    request = urllib.request.Request(
        f"{CLIENT_URL}/api/auth.signIn",
        data=json.dumps({"username": username, "device": device}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["token"]


@schemathesis.auth()
class Token:
    def get(self, case, context):
        return TOKEN

    def set(self, case, data, context):
        if case.operation.path == "/api/auth.logOut":
            data = sign_in("logout_probe", "throwaway")
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schemathesis.check
def positive_data_is_parsed(ctx, response, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 400:
        return None
    try:
        message = response.json().get("error_message")
    except ValueError:
        message = None
    if message == "INPUT_REQUEST_INVALID":
        raise AssertionError(
            f"a body the document calls valid was refused as malformed: {response.text}"
        )
    return None


def _ranges_in_order(value):
    if isinstance(value, dict):
        if set(value) >= {"from", "to"}:
            low, high = value["from"], value["to"]
            if isinstance(low, int) and isinstance(high, int) and low > high:
                return False
        return all(_ranges_in_order(item) for item in value.values())
    if isinstance(value, list):
        return all(_ranges_in_order(item) for item in value)
    return True


@schemathesis.hook
def filter_case(context, case):
    if not case.operation.path.startswith("/admin/"):
        return True
    return _ranges_in_order(case.body)
