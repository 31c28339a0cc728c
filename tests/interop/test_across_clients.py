"""Both clients on one server: names set at one layer (229, Telethon) resolve at the other
(158, Pyrogram) and the other way round."""

import harness
from harness import with_deadline


@with_deadline(25)
async def test_usernames_set_by_each_client_resolve_in_the_other(door, new_username):
    telethon_name = new_username("by_telethon")
    pyrogram_name = new_username("by_pyrogram")
    phone = harness.new_phone()
    telethon = harness.telethon_client()
    app = harness.pyrogram_client("across", phone=harness.new_phone())
    try:
        from telethon import functions, types

        await telethon.start(phone=phone, code_callback=lambda: harness.code_for(phone))
        telethon_me = await telethon.get_me()
        await telethon(functions.account.UpdateUsernameRequest(username=telethon_name))

        await harness.start_pyrogram(app)
        pyrogram_me = await app.get_me()
        await app.set_username(pyrogram_name)

        seen_by_pyrogram = await app.get_users(telethon_name)
        assert seen_by_pyrogram.id == telethon_me.id

        seen_by_telethon = await telethon.get_entity(pyrogram_name)
        assert isinstance(seen_by_telethon, types.User)
        assert seen_by_telethon.id == pyrogram_me.id
    finally:
        await telethon.disconnect()
        if app.is_connected:
            await app.stop()
