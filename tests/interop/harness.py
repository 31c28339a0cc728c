"""Pointing unmodified Telethon and Pyrogram at the mock's MTProto door.

Everything a user would do to aim the real clients at this server lives here, and nothing
else: the address (Telethon: ``session.set_dc``; Pyrogram: its ``DataCenter`` table), the
server's RSA public key (Telethon: ``telethon.crypto.rsa.add_key``; Pyrogram:
``pyrogram.crypto.rsa.server_public_keys``), and client settings that make a failure fail
fast instead of retrying or sleeping. The Rust runner (``main.rs``) starts the server and
passes its addresses in the environment:

* ``SECRETCHAT_HTTP_URL`` — the client API (``POST /api/<method>``, ``GET /mtproto/public-key``);
* ``SECRETCHAT_ADMIN_URL`` and ``SECRETCHAT_ADMIN_TOKEN`` — the admin listener;
* ``SECRETCHAT_MTPROTO_HOST`` and ``SECRETCHAT_MTPROTO_PORT`` — the MTProto door.
"""

import asyncio
import functools
import hashlib
import io
import itertools
import json
import os
import struct
import sys
import urllib.error
import urllib.request

import rsa

# Any api_id / api_hash: the mock records them (initConnection) and checks nothing else.
API_ID = 12345
API_HASH = "0123456789abcdef0123456789abcdef"

# Telethon and Pyrogram both start on DC 2 and the mock is DC 2 (the test-phone convention
# below puts the DC in the number).
DC_ID = 2

# Test phones: 99966 X YYYY gets the code "X" five times (Telegram's test-server
# convention, which the mock follows). X is the DC.
_PHONE_PREFIX = f"99966{DC_ID}"
_PHONE_SUFFIXES = itertools.count(1000)


def new_phone():
    """A phone number no other test of this run uses (each run has a server of its own)."""
    return f"{_PHONE_PREFIX}{next(_PHONE_SUFFIXES):04d}"


def code_for(phone):
    """The login code the mock accepts for a test phone."""
    return phone[5] * 5


def env(name):
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set: run this suite through `cargo test -p secretchat-e2e --test interop`")
    return value


def mtproto_address():
    return env("SECRETCHAT_MTPROTO_HOST"), int(env("SECRETCHAT_MTPROTO_PORT"))


# --- the HTTP door and the admin listener ------------------------------------------------


class HttpError(Exception):
    def __init__(self, status, body):
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


def _request(url, body=None, token=None):
    headers = {"Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        raise HttpError(error.code, error.read().decode(errors="replace")) from None


def http_call(method, body, token=None):
    """``POST /api/<method>`` on the HTTP door; the JSON answer."""
    return _request(f"{env('SECRETCHAT_HTTP_URL')}/api/{method}", body, token)


def http_sign_in(username, device="interop"):
    """Signs a user in over the HTTP door: ``(user id, bearer token)``."""
    answer = http_call("auth.signIn", {"username": username, "device": device})
    assert answer["_"] == "auth.authorization", answer
    return int(answer["user"]["id"]), answer["token"]


def assert_the_http_door_resolves(username, user_id, http_user):
    """``contacts.resolveUsername`` on the HTTP door, as the HTTP user ``http_user``
    (the fixture's tuple), finds ``username`` as ``user_id``."""
    _, _, token = http_user
    found = http_call("contacts.resolveUsername", {"username": username}, token)
    assert found["_"] == "user", found
    assert int(found["id"]) == user_id, found
    assert found["username"] == username, found


def public_key_document(admin=False):
    """``GET /mtproto/public-key`` (or its admin twin)."""
    if admin:
        return _request(
            f"{env('SECRETCHAT_ADMIN_URL')}/admin/mtproto/public-key",
            token=env("SECRETCHAT_ADMIN_TOKEN"),
        )
    return _request(f"{env('SECRETCHAT_HTTP_URL')}/mtproto/public-key")


def admin_state():
    """``GET /admin/state``."""
    return _request(f"{env('SECRETCHAT_ADMIN_URL')}/admin/state", token=env("SECRETCHAT_ADMIN_TOKEN"))


def admin_auth_key(key):
    """The entry of ``/admin/state`` ``mtproto.auth_keys`` for a client's auth key (found by
    its auth_key_id as it starts every packet: 8 bytes, shown in hex)."""
    wanted = hashlib.sha1(key).digest()[-8:].hex()
    keys = admin_state()["mtproto"]["auth_keys"]
    found = [entry for entry in keys if entry["auth_key_id"] == wanted]
    assert len(found) == 1, f"auth key {wanted} not listed once in {[entry['auth_key_id'] for entry in keys]}"
    return found[0]


def admin_user(user_id):
    """The entry of ``/admin/state`` ``users`` for a user (ids are decimal text there)."""
    found = [user for user in admin_state()["users"] if user["id"] == str(user_id)]
    assert len(found) == 1, f"user {user_id} not listed once in /admin/state"
    return found[0]


# --- the server's RSA key ------------------------------------------------------------------


def tl_bytes(data):
    """TL ``bytes`` serialization (length prefix, padding to 4)."""
    if len(data) < 254:
        head = bytes([len(data)])
    else:
        head = b"\xfe" + len(data).to_bytes(3, "little")
    body = head + data
    return body + b"\0" * (-len(body) % 4)


def minimal_big_endian(number):
    return number.to_bytes((number.bit_length() + 7) // 8, "big")


def fingerprint_of(n, e):
    """The key fingerprint as core.telegram.org/mtproto/auth_key defines it: the lower 64
    bits of SHA1(n as TL bytes + e as TL bytes), a signed little-endian int64. Computed
    here independently of both clients, to check theirs and the server's."""
    digest = hashlib.sha1(tl_bytes(minimal_big_endian(n)) + tl_bytes(minimal_big_endian(e))).digest()
    return struct.unpack("<q", digest[-8:])[0]


def install_key_in_telethon(pem):
    """What a Telethon user does: ``add_key(pem, old=False)``. Returns the fingerprint
    Telethon computed for it."""
    from telethon.crypto import rsa as telethon_rsa

    telethon_rsa.add_key(pem, old=False)
    key = rsa.PublicKey.load_pkcs1(pem.encode())
    return telethon_rsa._compute_fingerprint(key)


def install_key_in_pyrogram(pem, fingerprint):
    """What a Pyrogram user does: the modulus and exponent under the signed fingerprint in
    ``pyrogram.crypto.rsa.server_public_keys``."""
    from pyrogram.crypto import rsa as pyrogram_rsa

    key = rsa.PublicKey.load_pkcs1(pem.encode())
    pyrogram_rsa.server_public_keys[fingerprint] = pyrogram_rsa.PublicKey(key.n, key.e)


# Where Pyrogram's sessions go: the door, or a test's relay in front of it.
pyrogram_address = None


def point_pyrogram_at(host, port):
    """Pyrogram's addresses come from a table with the port hard-coded (80 / 443);
    replacing the table's constructor sends every session there, media sessions too."""
    from pyrogram.session.internals import data_center

    global pyrogram_address
    pyrogram_address = (host, port)
    data_center.DataCenter.__new__ = staticmethod(lambda cls, dc_id, test_mode, ipv6, media: pyrogram_address)


def report_pyrogram_session_start_errors():
    """Pyrogram's ``Session.start`` retries at once, forever and silently, when the server
    answers its ping or initConnection with an RPC error (pyrogram/session/session.py
    ``start``: ``except (OSError, RPCError): await self.stop()`` inside ``while True``). The
    behaviour stays; each distinct error is logged once, so a test that runs into its
    deadline says what the server answered."""
    from pyrogram.errors import RPCError
    from pyrogram.session import session

    original = session.Session.send
    if getattr(original, "reports_errors", False):
        return
    seen = set()

    async def send(self, data, *args, **kwargs):
        try:
            return await original(self, data, *args, **kwargs)
        except (RPCError, TimeoutError, asyncio.TimeoutError) as error:  # noqa: UP041 (distinct before 3.11)
            said = (type(data).__name__, repr(error))
            if not self.is_started.is_set() and said not in seen:
                seen.add(said)
                session.log.warning("session start: %s failed: %r (Pyrogram retries silently)", *said)
            raise

    send.reports_errors = True
    session.Session.send = send


_configured = False


def configure_clients():
    """Installs the door's public key in both clients and points Pyrogram at the door
    (Telethon takes its address per session, see :func:`telethon_client`). Returns the
    public-key document."""
    global _configured
    document = public_key_document()
    if not _configured:
        install_key_in_telethon(document["pem"])
        install_key_in_pyrogram(document["pem"], int(document["fingerprint"]))
        point_pyrogram_at(*mtproto_address())
        report_pyrogram_session_start_errors()
        _configured = True
    return document


# --- clients set to fail fast ------------------------------------------------------------

APP_VERSION = "interop-suite 1.0"
TELETHON_DEVICE = "telethon-interop"
PYROGRAM_DEVICE = "pyrogram-interop"


def telethon_client(session=None, connection=None, address=None, **settings):
    """A Telethon client on the door. ``session``: None (a fresh StringSession, set to the
    door's address or ``address``), a fresh SQLite file path (the same), or a saved session
    (string or file), which must already hold the address."""
    from telethon import TelegramClient
    from telethon.network import ConnectionTcpFull
    from telethon.sessions import StringSession

    fresh = session is None or (isinstance(session, os.PathLike) and not os.path.exists(session))
    if session is None:
        session = StringSession()
    elif isinstance(session, str):
        session = StringSession(session)
    elif isinstance(session, os.PathLike):
        session = os.fspath(session)
    options = {
        "connection": connection or ConnectionTcpFull,
        "device_model": TELETHON_DEVICE,
        "app_version": APP_VERSION,
        "timeout": 5,
        # A few connection attempts: Telethon redoes the handshake itself when its own key
        # encoding loses a leading zero byte (about 1 key in 256; see README.md).
        "connection_retries": 2,
        "retry_delay": 0,
        "request_retries": 1,
        "flood_sleep_threshold": 0,
        "auto_reconnect": False,
        "raise_last_call_error": True,
    }
    options.update(settings)
    client = TelegramClient(session, API_ID, API_HASH, **options)
    if fresh:
        client.session.set_dc(DC_ID, *(address or mtproto_address()))
    return client


def pyrogram_client(name, session_string=None, phone=None, **settings):
    """A Pyrogram client on the door, in memory (a new key) or from a saved session string.
    With ``phone``, ``start()`` signs in without prompting (the code follows the test
    convention)."""
    from pyrogram import Client

    options = {
        "in_memory": True,
        "device_model": PYROGRAM_DEVICE,
        "app_version": APP_VERSION,
        "sleep_threshold": 0,
    }
    if session_string is not None:
        options["session_string"] = session_string
    if phone is not None:
        options["phone_number"] = phone
        options["phone_code"] = code_for(phone)
    options.update(settings)
    return Client(name, api_id=API_ID, api_hash=API_HASH, **options)


async def start_pyrogram(app, first_name="Pyro", last_name="Interop"):
    """``app.start()`` as a user runs it. Should the server ask for a sign-up
    (auth.authorizationSignUpRequired), Pyrogram prompts for a first and a last name on
    standard input: they come from here. A prompt that loops (a refused code) runs out of
    input and fails with EOFError instead of waiting. Returns whether a name was asked."""
    answers = io.StringIO(f"{first_name}\n{last_name}\n")
    saved, sys.stdin = sys.stdin, answers
    try:
        await app.start()
    finally:
        sys.stdin = saved
    return answers.tell() > 0


def auth_key_id(key):
    """auth_key_id = the lower 64 bits of SHA1(auth_key), as an unsigned little-endian int
    (core.telegram.org/mtproto/description)."""
    return struct.unpack("<Q", hashlib.sha1(key).digest()[-8:])[0]


class Relay:
    """A TCP relay in front of the door whose connections a test can cut, as a network
    would: the client sees its connection drop and must come back by itself."""

    def __init__(self):
        self.accepted = 0
        self._pairs = []
        self._server = None
        self.address = None

    async def start(self):
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.address = self._server.sockets[0].getsockname()[:2]
        return self

    async def _serve(self, client_reader, client_writer):
        self.accepted += 1
        door_reader, door_writer = await asyncio.open_connection(*mtproto_address())
        self._pairs.append((client_writer, door_writer))
        await asyncio.gather(
            _pipe(client_reader, door_writer), _pipe(door_reader, client_writer), return_exceptions=True
        )

    def cut(self):
        """Drops every connection open now (both sides at once, like a reset)."""
        for client_writer, door_writer in self._pairs:
            client_writer.transport.abort()
            door_writer.transport.abort()
        self._pairs.clear()

    async def close(self):
        self.cut()
        self._server.close()
        await self._server.wait_closed()


async def eventually(condition, what, seconds=10):
    """Waits until ``condition()`` holds (polling: the clients offer no event for it)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"{what}: not within {seconds} s")
        await asyncio.sleep(0.02)


async def _pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


# --- running coroutines with a deadline ----------------------------------------------------


def _awaiting(coroutine):
    """Where a suspended coroutine waits: its chain of awaits, outermost first."""
    places = []
    while coroutine is not None:
        frame = getattr(coroutine, "cr_frame", None) or getattr(coroutine, "gi_frame", None)
        if frame is not None:
            places.append(f"  {frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}")
        coroutine = getattr(coroutine, "cr_await", None) or getattr(coroutine, "gi_yieldfrom", None)
    return "\n".join(places)


def with_deadline(seconds):
    """Turns an ``async def`` test into a plain one that runs on a fresh event loop and
    fails (rather than hangs) after ``seconds``, saying where it waited: a client that
    keeps retrying against a broken server ends here. The clients are made inside the
    coroutine, so they bind to its loop."""

    def decorate(test):
        @functools.wraps(test)
        def run(*args, **kwargs):
            async def bounded():
                task = asyncio.ensure_future(test(*args, **kwargs))
                done, _ = await asyncio.wait({task}, timeout=seconds)
                if done:
                    return task.result()
                where = _awaiting(task.get_coro())
                task.cancel()
                # The test's own clean-up (disconnecting its clients) runs on cancellation.
                await asyncio.wait({task}, timeout=5)
                raise TimeoutError(f"{test.__name__} did not finish within {seconds} s; it was waiting at\n{where}")

            return asyncio.run(bounded())

        return run

    return decorate
