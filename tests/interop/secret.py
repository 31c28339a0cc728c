"""Secret chats with the real plugins on the MTProto door, and the reference peer beside them.

* :class:`TelethonUser` — Telethon 1.45.0 with telethon-secret-chat 0.2.4 (``SecretChatManager``);
* :class:`PyrogramUser` — Pyrogram 2.0.106 with tg-secret 0.1.3 (``TelegramSecretClient``);
* :class:`PeerProcess` — the ``secretchat-peer`` binary (``bot``, ``actor``) as a child process on
  the HTTP door.

Each user signs in by phone as harness.py does, sets a username (so the other side finds it by
name, through either door), and keeps what its plugin hands it — texts, files, chats made ready —
in an :class:`Inbox` a test awaits. The plugins' own calls do the protocol. Where a plugin has a
bug that would stop a run, the workaround is here — named ``workaround_*``, or a client setting
with a comment — and listed in README.md with the plugin's code that needs it.

The key checks are computed here from the chat keys the plugins hold, independently of the
server: the key fingerprint (the low 64 bits of SHA1(key)) and the key visualization, 36 bytes
= SHA1(key)[0:16] + SHA256(key)[0:20] (docs/SPEC.md section 1.7).
"""

import asyncio
import contextlib
import functools
import hashlib
import os
import signal
import struct

import harness

# --- what both sides of a chat must agree on -----------------------------------------------


def key_fingerprint(key):
    """key_fingerprint = the lower 64 bits of SHA1(key), a signed little-endian long."""
    return struct.unpack("<q", hashlib.sha1(key).digest()[-8:])[0]


def fingerprint_hex(key):
    """The fingerprint as the reference peer prints it: its 8 bytes as they go on the wire."""
    return hashlib.sha1(key).digest()[-8:].hex()


def key_visualization(key):
    """The 36 bytes both users compare: SHA1(key)[0:16] + SHA256(key)[0:20] (SPEC 1.7)."""
    return hashlib.sha1(key).digest()[:16] + hashlib.sha256(key).digest()[:20]


# --- the admin listener --------------------------------------------------------------------


def admin(path, body=None):
    """``POST`` (with a body) or ``GET`` on the admin listener; the JSON answer."""
    return harness._request(
        f"{harness.env('SECRETCHAT_ADMIN_URL')}{path}", body, token=harness.env("SECRETCHAT_ADMIN_TOKEN")
    )


def events(since=0):
    """``GET /admin/events?since=N``: the events after ``since`` and the last id."""
    answer = admin(f"/admin/events?since={since}")
    return answer["events"], answer["last_id"]


def deliveries(found, device_id):
    """The ``delivered`` events of a device among ``found``."""
    return [event for event in found if event["event"] == "delivered" and event["device"] == device_id]


def device_of(user_id):
    """The device id of a user with exactly one device (``/admin/state``)."""
    devices = harness.admin_user(user_id)["devices"]
    assert len(devices) == 1, devices
    return devices[0]["id"]


# --- what a plugin hands the test ----------------------------------------------------------


class Inbox:
    """Items (texts, files, ready chats) in the order the plugin handed them over, per chat."""

    def __init__(self):
        self._items = {}
        self._changed = asyncio.Event()

    def put(self, chat_id, item):
        self._items.setdefault(chat_id, []).append(item)
        self._changed.set()

    def of(self, chat_id):
        return list(self._items.get(chat_id, []))

    async def wait(self, chat_id, count, what, seconds=10):
        """The first ``count`` items of ``chat_id`` once there are that many."""
        await self._until(
            lambda: len(self._items.get(chat_id, [])) >= count,
            lambda: f"{what}: {len(self.of(chat_id))} of {count} within {seconds} s: {self.of(chat_id)}",
            seconds,
        )
        return self.of(chat_id)[:count]

    async def _until(self, done, failure, seconds):
        """Waits for ``done()``, woken by each item put; TimeoutError(``failure()``) past
        ``seconds``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not done():
            self._changed.clear()
            left = deadline - loop.time()
            if left <= 0:
                raise TimeoutError(failure())
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except asyncio.TimeoutError:  # noqa: UP041 (distinct before 3.11)
                pass

    async def first(self, what, seconds=10):
        """The first chat that got an item, and that item."""
        await self._until(lambda: bool(self._items), lambda: f"{what}: nothing within {seconds} s", seconds)
        chat_id, items = next(iter(self._items.items()))
        return chat_id, items[0]


class ChatUser:
    """What both plugins' users share: a username, and the chats made ready (asked for and
    accepted by the peer, or accepted here) in the order the plugin reported them."""

    def __init__(self, username):
        self.username = username
        self.ready = Inbox()

    async def _once_ready(self, chat_id, peer, seconds):
        await self.ready.wait(chat_id, 1, f"{self.username}'s chat with {peer} ready", seconds)
        return chat_id

    async def accepted_chat(self, seconds=10):
        """The first chat made ready here (for the accepting side: the first it accepted)."""
        chat_id, _ = await self.ready.first(f"a chat accepted by {self.username}", seconds)
        return chat_id

    async def __aenter__(self):
        return self

    async def __aexit__(self, *_exception):
        await self.close()


# --- Telethon + telethon-secret-chat -------------------------------------------------------


def workaround_telethon_secret_chat_creation_time():
    """telethon-secret-chat's ``SecretChat.__init__`` has ``created=time(), updated=time()`` as
    default arguments, evaluated once, when the module is imported
    (telethon_secret_chat/secret_methods.py ``SecretChat.__init__``). Fifteen seconds after the
    import every chat looks older than 15 s, and ``handle_decrypted_message`` then answers
    every ``decryptedMessageLayer`` it receives with a NotifyLayer — twice (once for the layer
    wrapper, once for the NotifyLayer inside it), so two such clients flood each other. The
    harness gives each chat its real creation time, as the author meant."""
    import time

    from telethon_secret_chat import secret_methods

    original = secret_methods.SecretChat.__init__
    if getattr(original, "timed", False):
        return

    @functools.wraps(original)
    def init(self, *args, created=None, updated=None, **kwargs):
        now = time.time()
        original(
            self,
            *args,
            created=now if created is None else created,
            updated=now if updated is None else updated,
            **kwargs,
        )

    init.timed = True
    secret_methods.SecretChat.__init__ = init


def workaround_telethon_secret_chat_mtproto_1_at_layer_101(manager):
    """telethon-secret-chat wraps its messages in ``decryptedMessageLayer`` with layer 101 from
    the first one (the NotifyLayer it sends on accepting or finishing a chat) but encrypts them
    with MTProto 1.0 until the peer announces a layer of at least 73 (``SecretChat(…,
    mtproto=1)``, telethon_secret_chat/secret_methods.py; ``encrypt_secret_message``). tdlib
    treats a layer ≥ 73 message under 1.0 as fatal, and tg-secret decrypts MTProto 2.0 only
    (tg_secret/client.py ``_handle_encrypted_update``: ``kdf_v2`` always): it never reads that
    first message, asks for it with a Resend, and telethon-secret-chat fails on every Resend
    (``for seq, message in peer.outgoing`` walks a dict's keys, ``handle_decrypted_message``),
    so the chat stalls. For the chats of ``manager`` that meet tg-secret, the harness starts
    them at MTProto 2.0, the version layer 101 requires (SPEC section 2.5): each chat the
    plugin saves (it saves a chat before its first message) gets ``mtproto = 2``."""
    storage = manager.session
    save_chat = storage.save_chat

    def save_at_mtproto_2(chat, temp=False):
        if not temp:
            chat.mtproto = 2
        save_chat(chat, temp)

    storage.save_chat = save_at_mtproto_2


class TelethonUser(ChatUser):
    """A Telethon client signed in with a username, its ``SecretChatManager`` accepting every
    chat (``auto_accept=True``), and what it decrypted in :attr:`texts`."""

    def __init__(self, client, username, secret_session=None, mtproto_2_at_once=False):
        from telethon_secret_chat import SecretChatManager

        super().__init__(username)
        self.client = client
        self.me = None
        self.texts = Inbox()
        # Before connecting: a client told to catch up dispatches what it missed at once.
        self.manager = SecretChatManager(
            client, session=secret_session, auto_accept=True, new_chat_created=self._on_chat_ready
        )
        self.manager.add_secret_event_handler(func=self._on_message)
        # Every chat request this client is handed (pushed or in a difference), in order.
        self.requests = []
        client.add_event_handler(self._on_update)
        if mtproto_2_at_once:
            workaround_telethon_secret_chat_mtproto_1_at_layer_101(self.manager)

    @classmethod
    async def sign_in(
        cls, username, phone=None, session=None, secret_session=None, mtproto_2_at_once=False, **settings
    ):
        """Signs in (a new phone unless given), sets ``username``, with the plugin on the
        client — ``secret_session`` is the plugin's storage of an earlier run, if any;
        ``mtproto_2_at_once`` for a user who will chat with tg-secret (see
        :func:`workaround_telethon_secret_chat_mtproto_1_at_layer_101`)."""
        from telethon import functions

        workaround_telethon_secret_chat_creation_time()
        # One update at a time, in order: telethon-secret-chat saves a chat it accepts only
        # after awaiting getDhConfig (``finish_secret_chat_creation``), and Telethon runs each
        # update in a task of its own by default, so the peer's first message could be
        # handled first and dropped ("Secret chat not saved. skipping",
        # ``handle_encrypted_update``).
        settings.setdefault("sequential_updates", True)
        user = cls(harness.telethon_client(session=session, **settings), username, secret_session, mtproto_2_at_once)
        if await user._connect_signed_in():
            user.me = await user.client.get_me()
        else:
            phone = phone or harness.new_phone()
            await user.client.start(phone=phone, code_callback=lambda: harness.code_for(phone))
            user.me = await user.client.get_me()
        if user.me.username != username:
            user.me = await user.client(functions.account.UpdateUsernameRequest(username=username))
        return user

    async def _connect_signed_in(self):
        """Connects; whether a saved session is signed in already."""
        await self.client.connect()
        return await self.client.is_user_authorized()

    async def _on_chat_ready(self, chat, created_by_me):
        self.ready.put(chat.id, created_by_me)

    async def _on_update(self, update):
        from telethon import types

        if isinstance(update, types.UpdateEncryption) and isinstance(update.chat, types.EncryptedChatRequested):
            self.requests.append(update.chat.id)

    async def _on_message(self, event):
        message = event.decrypted_event
        self.texts.put(event.message.chat_id, getattr(message, "message", None))

    async def start_chat(self, username, seconds=10):
        """``start_secret_chat``, then waits for the other side to accept: the chat's id."""
        return await self._once_ready(await self.manager.start_secret_chat(username), username, seconds)

    async def send(self, chat_id, text):
        await self.manager.send_secret_message(chat_id, text)

    async def received(self, chat_id, count, what, seconds=10):
        """The first ``count`` texts of the chat, once decrypted."""
        return await self.texts.wait(chat_id, count, what, seconds)

    async def key(self, chat_id):
        """The chat's key, as the plugin holds it (``SecretChat.auth_key``)."""
        return self.manager.get_secret_chat(chat_id).auth_key

    async def close(self):
        await self.client.disconnect()


# --- Pyrogram + tg-secret ------------------------------------------------------------------

VECTOR_ID = 0x1CB5C415


def workaround_tg_secret_vector_fields():
    """tg-secret writes every ``Vector`` field boxed (``Vector.write_list``: the id 0x1cb5c415,
    the count, the items) but reads it as if bare: the generated readers call
    ``Vector.read(b, …)`` directly (tg_secret/raw/types/__init__.py, e.g.
    ``DecryptedMessageMediaDocument_143.read``), and ``Vector.read`` takes the id for the count
    (tg_secret/raw/vector.py). So it cannot read a document's ``attributes``, a message's
    ``entities`` or a delete's ``random_ids`` from anyone, itself included: the read fails
    (KeyError) and the message is lost. The harness makes ``Vector.read`` skip the vector's
    id when it is there (a count of 0x1cb5c415 items cannot occur)."""
    from tg_secret.raw import vector

    original = vector.Vector.read.__func__
    if getattr(original, "skips_id", False):
        return

    def read(cls, data, read_func=None, *args):
        start = data.tell()
        if int.from_bytes(data.read(4), "little") != VECTOR_ID:
            data.seek(start)
        return original(cls, data, read_func, *args)

    read.skips_id = True
    vector.Vector.read = classmethod(read)


class PyrogramUser(ChatUser):
    """A Pyrogram client signed in with a username, tg-secret accepting every chat, and what it
    decrypted in :attr:`messages` (tg-secret's ``SecretMessage`` objects)."""

    def __init__(self, app, secret, me, username):
        super().__init__(username)
        self.app = app
        self.secret = secret
        self.me = me
        self.messages = Inbox()

    @classmethod
    async def sign_in(cls, username, phone=None, **settings):
        from pyrogram import raw
        from tg_secret import ChatRequestResult, TelegramSecretClient
        from tg_secret.client_adapters.pyrogram_adapter import PyrogramClientAdapter

        workaround_tg_secret_vector_fields()
        phone = phone or harness.new_phone()
        # One update at a time: tg-secret's own TODO (tg_secret/client.py
        # ``TelegramSecretClient.__init__``) says it needs updates processed in order, and
        # Pyrogram hands them to several workers at once by default.
        settings.setdefault("workers", 1)
        app = harness.pyrogram_client(username, phone=phone, **settings)
        await harness.start_pyrogram(app)
        me = await app.invoke(raw.functions.account.UpdateUsername(username=username))
        secret = TelegramSecretClient(PyrogramClientAdapter(app), session_name=username, in_memory=True)
        await secret.start()
        user = cls(app, secret, me, username)

        @secret.on_request
        async def accept(_chat):
            return ChatRequestResult.ACCEPT

        @secret.on_chat_ready
        async def ready(chat):
            user.ready.put(chat.id, chat)

        @secret.on_new_message
        async def message(secret_message):
            user.messages.put(secret_message.chat.id, secret_message)

        return user

    async def start_chat(self, username, seconds=10):
        """``request_encryption``, then waits for the other side to accept: the chat's id."""
        chat = await self.secret.request_encryption(username)
        assert chat is not None, f"requestEncryption to {username} was discarded"
        return await self._once_ready(chat.id, username, seconds)

    async def send(self, chat_id, text):
        await self.secret.send_text_message(chat_id, text)

    async def received(self, chat_id, count, what, seconds=10):
        """The first ``count`` texts of the chat, once decrypted."""
        return [message.text for message in await self.messages.wait(chat_id, count, what, seconds)]

    async def stored_chat(self, chat_id):
        return await self.secret._storage.get_chat(chat_id)

    async def key(self, chat_id):
        """The chat's key, as the plugin stores it."""
        return (await self.stored_chat(chat_id)).key

    async def download(self, message):
        """The decrypted bytes of a file a ``SecretMessage`` carries. tg-secret 0.1.3 cannot
        download media ("TODO: downloading media", tg_secret/client.py after ``send_document``),
        so this does what a Pyrogram user does: ``upload.getFile`` on the encrypted file's
        location, AES-256-IGE with the key and IV of the decrypted media, after checking the
        file's key fingerprint (md5(key + iv): the low 4 bytes XOR the next 4)."""
        import tgcrypto
        from pyrogram import raw

        media, file = message._media, message._file
        assert file is not None, "the message carries no file"
        digest = hashlib.md5(media.key + media.iv).digest()
        assert file.key_fingerprint == struct.unpack("<i", bytes(a ^ b for a, b in zip(digest[:4], digest[4:8])))[0]
        location = raw.types.InputEncryptedFileLocation(id=file.id, access_hash=file.access_hash)
        chunk, encrypted = 512 * 1024, b""
        while True:
            part = await self.app.invoke(
                raw.functions.upload.GetFile(location=location, offset=len(encrypted), limit=chunk)
            )
            encrypted += part.bytes
            if len(part.bytes) < chunk:
                break
        assert len(encrypted) == file.size, (len(encrypted), file.size)
        return tgcrypto.ige256_decrypt(encrypted, media.key, media.iv)[: media.size]

    async def close(self):
        await self.secret.stop()
        await self.app.stop()


# --- the reference peer as a process -------------------------------------------------------


class PeerProcess:
    """``secretchat-peer`` (the binary ``SECRETCHAT_PEER_BIN`` names) running as a child of
    the test, its output kept line by line."""

    def __init__(self, process, name):
        self.process = process
        self.name = name
        self.lines = []
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def start(cls, name, *args):
        process = await asyncio.create_subprocess_exec(
            harness.env("SECRETCHAT_PEER_BIN"),
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "NO_COLOR": "1"},
        )
        return cls(process, name)

    async def _read(self):
        while line := await self.process.stdout.readline():
            self.lines.append(line.decode(errors="replace").rstrip("\n"))

    def output(self):
        return "\n".join(self.lines)

    async def line(self, contains, seconds=10):
        """The first output line containing ``contains``, once it is printed."""
        await harness.eventually(
            lambda: any(contains in line for line in self.lines) or self.process.returncode is not None,
            f"{self.name} printing {contains!r}",
            seconds,
        )
        found = [line for line in self.lines if contains in line]
        assert found, f"{self.name} ended ({self.process.returncode}) without printing {contains!r}:\n{self.output()}"
        return found[0]

    async def finished(self, seconds):
        """Waits for the process to end by itself: its exit status."""
        await asyncio.wait_for(self.process.wait(), seconds)
        await self._reader
        return self.process.returncode

    async def stop(self):
        """Ctrl-C (the bot stops gracefully on it), then waits; a kill if it does not."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(self.process.wait(), 5)
            except asyncio.TimeoutError:  # noqa: UP041
                self.process.kill()
                await self.process.wait()
        await self._reader


@contextlib.asynccontextmanager
async def bot_running(username, *flags):
    """``secretchat-peer bot --server <HTTP door> --user <username> [flags]``, once signed in;
    stopped (Ctrl-C) on leaving."""
    bot = await PeerProcess.start(
        f"bot {username}", "bot", "--server", harness.env("SECRETCHAT_HTTP_URL"), "--user", username, *flags
    )
    try:
        await bot.line("signed in as")
        yield bot
    finally:
        await bot.stop()
