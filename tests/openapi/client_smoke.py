"""Signs in and calls messages.getDhConfig with the client openapi-python-client generated
from the client document (tests/openapi/main.rs generates it under target/ and puts it on
PYTHONPATH). Prints what it got as one JSON object.

Usage: client_smoke.py CLIENT_API_URL
"""

import base64
import json
import sys

from secretchat_client import AuthenticatedClient, Client
from secretchat_client.api.auth import auth_sign_in
from secretchat_client.api.secret_chats import messages_get_dh_config
from secretchat_client.models import (
    AuthAuthorization,
    AuthSignInBody,
    MessagesDhConfig,
    MessagesGetDhConfigBody,
)

url = sys.argv[1]
authorization = auth_sign_in.sync(
    client=Client(base_url=url),
    body=AuthSignInBody(username="pyclient", device="laptop"),
)
if not isinstance(authorization, AuthAuthorization):
    sys.exit(f"auth.signIn answered {authorization!r}")

client = AuthenticatedClient(base_url=url, token=authorization.token)
config = messages_get_dh_config.sync(
    client=client, body=MessagesGetDhConfigBody(version=0, random_length=32)
)
if not isinstance(config, MessagesDhConfig):
    sys.exit(f"messages.getDhConfig answered {config!r}")

print(
    json.dumps(
        {
            "user": authorization.user.username,
            "dh": config.field_,
            "g": config.g,
            "p_bytes": len(base64.b64decode(config.p)),
            "random_bytes": len(base64.b64decode(config.random)),
        }
    )
)
