"""Telethon 1.45.0, unmodified, on the MTProto door: its default transport (full) and the
other three it offers, key creation, sign-in of new and returning users, a saved session,
get_me, usernames across both doors."""

import harness
import pytest
from harness import with_deadline
from telethon import errors, functions, types
from telethon.network import (
    ConnectionTcpAbridged,
    ConnectionTcpFull,
    ConnectionTcpIntermediate,
    ConnectionTcpObfuscated,
)


async def signed_in_client(phone, **settings):
    """A fresh client (new auth key, unless ``session`` holds one) signed in with
    ``client.start``, as a user would."""
    client = harness.telethon_client(**settings)
    await client.start(phone=phone, code_callback=lambda: harness.code_for(phone))
    return client


async def first_run(phone, **settings):
    """Signs a client in, then disconnects: ``(me, auth key, saved session)``."""
    client = await signed_in_client(phone, **settings)
    try:
        return await client.get_me(), client.session.auth_key.key, client.session.save()
    finally:
        await client.disconnect()


@with_deadline(15)
async def test_a_new_user_signs_in_with_the_test_code_and_get_me_returns_that_phone(door):
    phone = harness.new_phone()
    client = harness.telethon_client()
    try:
        await client.connect()
        assert client.session.auth_key is not None and client.session.auth_key.key is not None
        assert not await client.is_user_authorized()
        await client.start(phone=phone, code_callback=lambda: harness.code_for(phone))
        me = await client.get_me()
        assert isinstance(me, types.User)
        assert me.is_self
        assert me.phone == phone
        assert me.id > 0
        assert await client.is_user_authorized()
    finally:
        await client.disconnect()


@with_deadline(15)
async def test_a_wrong_code_is_refused_and_the_right_one_then_signs_in(door):
    phone = harness.new_phone()
    client = harness.telethon_client()
    try:
        await client.connect()
        await client.send_code_request(phone)
        wrong = "1" * 5 if harness.code_for(phone) != "1" * 5 else "3" * 5
        with pytest.raises(errors.PhoneCodeInvalidError):
            await client.sign_in(phone, code=wrong)
        assert await client.get_me() is None
        me = await client.sign_in(phone, code=harness.code_for(phone))
        assert me.phone == phone
    finally:
        await client.disconnect()


@with_deadline(25)
async def test_a_saved_session_file_reconnects_with_the_same_key_and_stays_signed_in(door, tmp_path):
    phone = harness.new_phone()
    path = tmp_path / "telethon.session"
    me, key, _ = await first_run(phone, session=path)

    again = harness.telethon_client(session=path)
    try:
        await again.connect()
        assert again.session.server_address == harness.mtproto_address()[0]
        assert again.session.port == harness.mtproto_address()[1]
        # The saved key is used as it is: no new handshake, and the server still knows it.
        assert again.session.auth_key.key == key
        assert await again.is_user_authorized()
        returned = await again.get_me()
        assert returned.id == me.id
        assert returned.phone == phone
        assert again.session.auth_key.key == key
    finally:
        await again.disconnect()


@with_deadline(25)
async def test_a_saved_string_session_reconnects_with_the_same_key_and_stays_signed_in(door):
    me, key, saved = await first_run(harness.new_phone())

    again = harness.telethon_client(session=saved)
    try:
        await again.connect()
        assert again.session.auth_key.key == key
        returned = await again.get_me()
        assert returned is not None, "the saved key is no longer signed in"
        assert returned.id == me.id
    finally:
        await again.disconnect()


@with_deadline(25)
async def test_a_returning_user_signing_in_with_a_new_key_gets_the_same_user_id(door):
    phone = harness.new_phone()
    me, first_key, _ = await first_run(phone)

    second = await signed_in_client(phone)
    try:
        assert second.session.auth_key.key != first_key
        returning = await second.get_me()
        assert returning.id == me.id
        assert returning.phone == phone
        # Each signed-in key is a device of the one user.
        devices = {device["id"] for device in harness.admin_user(me.id)["devices"]}
        assert devices == {
            harness.admin_auth_key(first_key)["device_id"],
            harness.admin_auth_key(second.session.auth_key.key)["device_id"],
        }
    finally:
        await second.disconnect()


@with_deadline(15)
async def test_a_username_set_over_mtproto_shows_in_get_me_and_resolves_from_the_http_door(
    door, http_user, new_username
):
    username = new_username("telethon")
    client = await signed_in_client(harness.new_phone())
    try:
        me = await client.get_me()
        updated = await client(functions.account.UpdateUsernameRequest(username=username))
        assert isinstance(updated, types.User)
        assert updated.id == me.id
        assert updated.username == username
        assert (await client.get_me()).username == username
    finally:
        await client.disconnect()

    harness.assert_the_http_door_resolves(username, me.id, http_user)


@with_deadline(15)
async def test_an_http_users_username_resolves_to_its_id(door, http_user):
    username, user_id, _ = http_user
    client = await signed_in_client(harness.new_phone())
    try:
        resolved = await client(functions.contacts.ResolveUsernameRequest(username=username))
        assert resolved.peer == types.PeerUser(user_id=user_id)
        assert [user.id for user in resolved.users] == [user_id]
        assert resolved.users[0].username == username
        assert resolved.users[0].access_hash is not None
        entity = await client.get_entity(username)
        assert isinstance(entity, types.User)
        assert entity.id == user_id
        with pytest.raises(errors.UsernameNotOccupiedError):
            await client(functions.contacts.ResolveUsernameRequest(username="nobody_has_this_name"))
    finally:
        await client.disconnect()


@pytest.mark.parametrize(
    "connection, transport",
    [
        (ConnectionTcpFull, "full"),
        (ConnectionTcpAbridged, "abridged"),
        (ConnectionTcpIntermediate, "intermediate"),
        (ConnectionTcpObfuscated, "abridged (obfuscated2)"),
    ],
    ids=["full", "abridged", "intermediate", "obfuscated2"],
)
@with_deadline(15)
async def test_each_transport_creates_a_key_signs_in_and_shows_in_the_admin_state(door, connection, transport):
    phone = harness.new_phone()
    client = harness.telethon_client(connection=connection)
    try:
        await client.start(phone=phone, code_callback=lambda: harness.code_for(phone))
        me = await client.get_me()
        assert me.phone == phone
        seen = harness.admin_auth_key(client.session.auth_key.key)
        assert seen["kind"] == "permanent"
        assert seen["layer"] == 229
        assert seen["client"]["api_id"] == harness.API_ID
        assert seen["client"]["device_model"] == harness.TELETHON_DEVICE
        assert seen["client"]["app_version"] == harness.APP_VERSION
        assert [link["transport"] for link in seen["connections"]] == [transport]
        user = harness.admin_user(me.id)
        assert user["phone"] == phone
        assert [(device["id"], device["door"]) for device in user["devices"]] == [(seen["device_id"], "mtproto")]
    finally:
        await client.disconnect()


@with_deadline(20)
async def test_after_the_network_drops_telethon_reconnects_by_itself_on_the_same_key_and_layer(door):
    # Telethon's automatic reconnect opens a new session and sends get_me without
    # invokeWithLayer (telethon/client/updates.py _handle_auto_reconnect): the server must
    # keep the layer per auth key.
    relay = await harness.Relay().start()
    phone = harness.new_phone()
    client = harness.telethon_client(address=relay.address, auto_reconnect=True)
    try:
        await client.start(phone=phone, code_callback=lambda: harness.code_for(phone))
        me = await client.get_me()
        key = client.session.auth_key.key
        relay.cut()
        again = await client.get_me()
        assert again.id == me.id
        assert relay.accepted == 2
        assert client.session.auth_key.key == key
        seen = harness.admin_auth_key(key)
        assert seen["layer"] == 229
        assert len(seen["connections"]) == 1
    finally:
        await client.disconnect()
        await relay.close()
