"""Pyrogram 2.0.106 (with TgCrypto 1.2.5), unmodified, on the MTProto door: its only transport
(abridged), key creation on a connection of its own, sign-in of new and returning users, an
exported session string, get_me, usernames across both doors."""

import harness
import pytest
import tgcrypto
from harness import with_deadline
from pyrogram import errors, raw, types


async def started_client(name, phone):
    """A fresh in-memory client (new auth key) started with a phone and its code."""
    app = harness.pyrogram_client(name, phone=phone)
    await harness.start_pyrogram(app)
    return app


async def first_run(name, phone):
    """Starts a client, then stops it: ``(me, auth key, exported session string)``."""
    app = await started_client(name, phone)
    try:
        return await app.get_me(), await app.storage.auth_key(), await app.export_session_string()
    finally:
        await app.stop()


def test_tgcrypto_is_the_one_pyrogram_uses():
    # Pyrogram falls back to pure-Python AES when TgCrypto is missing; this suite pins the
    # C extension and makes sure it is what runs.
    from pyrogram.crypto import aes

    assert aes.tgcrypto is tgcrypto


@with_deadline(15)
async def test_a_new_user_starts_with_the_test_code_gets_me_and_shows_in_the_admin_state(door):
    phone = harness.new_phone()
    app = harness.pyrogram_client("new_user", phone=phone)
    try:
        await harness.start_pyrogram(app)
        me = await app.get_me()
        assert isinstance(me, types.User)
        assert me.is_self
        assert me.phone_number == phone
        assert me.id > 0
        assert await app.storage.user_id() == me.id
        key = await app.storage.auth_key()
        assert len(key) == 256
        seen = harness.admin_auth_key(key)
        assert seen["layer"] == 158
        assert seen["client"]["api_id"] == harness.API_ID
        assert seen["client"]["device_model"] == harness.PYROGRAM_DEVICE
        assert seen["client"]["app_version"] == harness.APP_VERSION
        # The handshake's connection is closed; the session's own one remains.
        assert [link["transport"] for link in seen["connections"]] == ["abridged"]
        user = harness.admin_user(me.id)
        assert user["phone"] == phone
        assert [(device["id"], device["door"]) for device in user["devices"]] == [(seen["device_id"], "mtproto")]
    finally:
        if app.is_connected:
            await app.stop()


@with_deadline(15)
async def test_a_wrong_code_is_refused_and_the_right_one_then_signs_in(door):
    phone = harness.new_phone()
    app = harness.pyrogram_client("wrong_code")
    try:
        assert not await app.connect()
        sent = await app.send_code(phone)
        assert sent.phone_code_hash
        with pytest.raises(errors.PhoneCodeInvalid):
            await app.sign_in(phone, sent.phone_code_hash, "11111")
        user = await app.sign_in(phone, sent.phone_code_hash, harness.code_for(phone))
        if user is False:
            # The server asked for a sign-up (auth.authorizationSignUpRequired).
            user = await app.sign_up(phone, sent.phone_code_hash, "Pyro", "Interop")
        assert isinstance(user, types.User)
        assert user.phone_number == phone
    finally:
        if app.is_connected:
            await app.disconnect()


@with_deadline(25)
async def test_an_exported_session_string_restarts_with_the_same_key_without_signing_in(door):
    phone = harness.new_phone()
    me, key, saved = await first_run("first_run", phone)

    # No phone and no code: a prompt would mean the session was not taken as signed in.
    again = harness.pyrogram_client("second_run", session_string=saved)
    try:
        asked = await harness.start_pyrogram(again)
        assert not asked
        assert await again.storage.auth_key() == key
        returned = await again.get_me()
        assert returned.id == me.id
        assert returned.phone_number == phone
    finally:
        if again.is_connected:
            await again.stop()


@with_deadline(25)
async def test_a_returning_user_with_a_new_key_gets_the_same_user_id(door):
    phone = harness.new_phone()
    me, first_key, _ = await first_run("first_key", phone)

    second = await started_client("second_key", phone)
    try:
        assert await second.storage.auth_key() != first_key
        returning = await second.get_me()
        assert returning.id == me.id
        assert returning.phone_number == phone
    finally:
        await second.stop()


@with_deadline(15)
async def test_a_username_set_by_pyrogram_shows_in_get_me_and_resolves_from_the_http_door(
    door, http_user, new_username
):
    username = new_username("pyrogram")
    app = await started_client("set_username", harness.new_phone())
    try:
        me = await app.get_me()
        assert await app.set_username(username) is True
        assert (await app.get_me()).username == username
    finally:
        await app.stop()

    harness.assert_the_http_door_resolves(username, me.id, http_user)


@with_deadline(15)
async def test_an_http_users_username_resolves_with_get_users(door, http_user):
    username, user_id, _ = http_user
    app = await started_client("resolve_http_user", harness.new_phone())
    try:
        user = await app.get_users(username)
        assert isinstance(user, types.User)
        assert user.id == user_id
        assert user.username == username
        resolved = await app.invoke(raw.functions.contacts.ResolveUsername(username=username))
        assert resolved.peer == raw.types.PeerUser(user_id=user_id)
        with pytest.raises(errors.UsernameNotOccupied):
            await app.get_users("nobody_has_this_name")
    finally:
        await app.stop()


@with_deadline(25)
async def test_after_the_network_drops_pyrogram_restarts_its_session_on_the_same_key(door):
    relay = await harness.Relay().start()
    door_address, harness.pyrogram_address = harness.pyrogram_address, relay.address
    app = harness.pyrogram_client("network_drop", phone=harness.new_phone())
    try:
        await harness.start_pyrogram(app)
        me = await app.get_me()
        key = await app.storage.auth_key()
        accepted = relay.accepted
        relay.cut()
        # A request written to the dead connection is lost and sent again only after
        # Pyrogram's 15 s WAIT_TIMEOUT (see README.md): ask once it has reconnected.
        await harness.eventually(lambda: relay.accepted > accepted, "Pyrogram reconnects")
        again = await app.get_me()
        assert again.id == me.id
        assert relay.accepted == accepted + 1
        assert await app.storage.auth_key() == key
        seen = harness.admin_auth_key(key)
        assert seen["layer"] == 158
        assert len(seen["connections"]) == 1
    finally:
        harness.pyrogram_address = door_address
        if app.is_connected:
            await app.stop()
        await relay.close()
