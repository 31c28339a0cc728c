"""Secret chats through the MTProto door with the real plugins, end to end: Pyrogram + tg-secret
with the reference peer's bot over HTTP (texts, a file both ways, a re-key), Telethon +
telethon-secret-chat with another, Telethon with Pyrogram, and the man in the middle between
two MTProto clients."""

import hashlib
import io
import os

import secret
from harness import with_deadline


async def texts_both_ways(asker, accepter, chat_id, count):
    """``count`` texts each way, interleaved: each side gets the other's in order. Returns
    the chat's key on each side."""
    for n in range(1, count + 1):
        await asker.send(chat_id, f"from {asker.username} {n}")
        await accepter.send(chat_id, f"from {accepter.username} {n}")
    for sender, receiver in ((asker, accepter), (accepter, asker)):
        expected = [f"from {sender.username} {n}" for n in range(1, count + 1)]
        assert await receiver.received(chat_id, count, f"{sender.username}'s texts") == expected
    return await asker.key(chat_id), await accepter.key(chat_id)


def assert_one_key(keys):
    """No one in the middle: both sides hold one key, so one picture."""
    asker_key, accepter_key = keys
    assert asker_key == accepter_key
    assert secret.key_visualization(asker_key) == secret.key_visualization(accepter_key)


@with_deadline(60)
async def test_pyrogram_with_tg_secret_chats_with_the_bot_over_http_texts_a_file_both_ways_and_a_rekey(door):
    async with secret.bot_running("echo") as bot, await secret.PyrogramUser.sign_in("pyro_echo") as user:
        signed_in = await bot.line("signed in as")
        chat_id = await user.start_chat("echo")
        await bot.line("chat_established")

        texts = [f"text {n}" for n in range(1, 21)]
        for text in texts:
            await user.send(chat_id, text)
        assert await user.received(chat_id, 20, "the bot's echoes") == texts
        # Two devices, one through each door: the event log says which.
        found, _ = secret.events()
        bot_device = secret.device_of(int(signed_in.split("user id ")[1].split(")")[0]))
        for device, door_name in ((secret.device_of(user.me.id), "mtproto"), (bot_device, "http")):
            delivered = [
                event for event in secret.deliveries(found, device) if event["update"] == "new_encrypted_message"
            ]
            assert len(delivered) >= 20 and {event["door"] for event in delivered} == {door_name}, delivered

        payload = bytes(range(256)) * 300 + b"end"
        sent = io.BytesIO(payload)
        sent.name = "payload.bin"
        await user.secret.send_document(chat_id, sent, file_name="payload.bin")
        echoed = (await user.messages.wait(chat_id, 21, "the file echoed"))[20]
        assert echoed.media is not None
        received = await user.download(echoed)
        assert hashlib.sha256(received).hexdigest() == hashlib.sha256(payload).hexdigest()

        first_key = await user.key(chat_id)
        established = await bot.line("chat_established")
        assert established.endswith(f"key_fingerprint={secret.fingerprint_hex(first_key)}")
        await user.secret.rekey(chat_id)
        changed = await bot.line("key_changed")
        # tg-secret, having committed, switches when a message under the new key arrives
        # (tg_secret/client.py ``_get_or_switch_chat_key``): the bot's next echo.
        await user.send(chat_id, "after the rekey")
        assert (await user.received(chat_id, 22, "the echo after the re-key"))[21] == "after the rekey"
        new_key = await user.key(chat_id)
        assert new_key != first_key
        assert changed.endswith(f"key_fingerprint={secret.fingerprint_hex(new_key)}")
        print(bot.output())


@with_deadline(60)
async def test_a_file_over_10_mb_goes_up_in_big_parts_through_pyrogram_and_comes_back_from_the_bot(door):
    async with secret.bot_running("big_echo") as bot, await secret.PyrogramUser.sign_in("pyro_big") as user:
        chat_id = await user.start_chat("big_echo")
        # Over 10 MB, Pyrogram's save_file uploads with upload.saveBigFilePart on media
        # sessions of its own (pyrogram/methods/advanced/save_file.py, ``is_big``), and
        # tg-secret sends inputEncryptedFileBigUploaded.
        payload = os.urandom(11 * 1024 * 1024)
        sent = io.BytesIO(payload)
        sent.name = "big.bin"
        await user.secret.send_document(chat_id, sent, file_name="big.bin")
        echoed = (await user.messages.wait(chat_id, 1, "the big file echoed", 40))[0]
        assert await user.download(echoed) == payload
        assert (await bot.line("file_received")).split("len=")[1].startswith(f"{len(payload)} ")


@with_deadline(40)
async def test_telethon_secret_chat_as_it_is_chats_with_the_bot_playing_telegram_android(door):
    # telethon-secret-chat seals its first messages with MTProto 1.0 at layer 101: the bot's
    # default profile (tdlib) aborts such a chat, Telegram Android's keeps it
    # (docs/profiles.md, rows E1 and E2).
    async with (
        secret.bot_running("android_echo", "--profile", "android") as bot,
        await secret.TelethonUser.sign_in("ts_android") as user,
    ):
        chat_id = await user.start_chat("android_echo")
        texts = [f"to android {n}" for n in range(1, 6)]
        for text in texts:
            await user.send(chat_id, text)
        assert await user.received(chat_id, 5, "the bot's echoes") == texts
        established = await bot.line("chat_established")
        assert established.endswith(f"key_fingerprint={secret.fingerprint_hex(await user.key(chat_id))}")
        assert not [line for line in bot.lines if "aborted" in line], bot.output()


@with_deadline(40)
async def test_two_telethon_clients_with_telethon_secret_chat_exchange_texts_both_ways(door):
    async with (
        await secret.TelethonUser.sign_in("ts_alice") as alice,
        await secret.TelethonUser.sign_in("ts_bob") as bob,
    ):
        chat_id = await alice.start_chat("ts_bob")
        assert await bob.accepted_chat() == chat_id
        assert_one_key(await texts_both_ways(alice, bob, chat_id, 5))


@with_deadline(40)
async def test_a_telethon_client_and_a_pyrogram_client_chat_with_each_other(door):
    async with (
        await secret.TelethonUser.sign_in("ts_cross", mtproto_2_at_once=True) as telethon,
        await secret.PyrogramUser.sign_in("tg_cross") as pyrogram,
    ):
        chat_id = await pyrogram.start_chat("ts_cross")
        assert await telethon.accepted_chat() == chat_id
        assert_one_key(await texts_both_ways(pyrogram, telethon, chat_id, 3))

        # And the other way round: Telethon asks, Pyrogram accepts.
        other_id = await telethon.start_chat("tg_cross")
        assert not (await pyrogram.ready.wait(other_id, 1, "the second chat on pyrogram's side"))[0].originator
        assert_one_key(await texts_both_ways(telethon, pyrogram, other_id, 3))


@with_deadline(40)
async def test_a_man_in_the_middle_between_two_mtproto_clients_passes_both_fingerprint_checks_but_not_the_pictures(
    door,
):
    async with (
        await secret.TelethonUser.sign_in("ts_mitm", mtproto_2_at_once=True) as telethon,
        await secret.PyrogramUser.sign_in("tg_mitm") as pyrogram,
    ):
        secret.admin("/admin/hostile", {"next_chat_of": "ts_mitm", "mode": {"type": "mitm"}})
        # Each plugin checks the key_fingerprint the server shows it against the key it
        # computed (telethon-secret-chat ``finish_secret_chat_creation``, tg-secret
        # ``_accept_chat``): the chat opening on both sides means both checks passed.
        chat_id = await telethon.start_chat("tg_mitm")
        assert await pyrogram.accepted_chat() == chat_id
        # Texts flow both ways, re-encrypted in the middle...
        telethon_key, pyrogram_key = await texts_both_ways(telethon, pyrogram, chat_id, 3)
        # ...but the two sides hold different keys, and their pictures show it.
        assert secret.key_visualization(telethon_key) != secret.key_visualization(pyrogram_key)
        assert secret.key_fingerprint(telethon_key) != secret.key_fingerprint(pyrogram_key)
        keys = secret.admin(f"/admin/hostile/mitm?chat_id={chat_id}")
        assert keys["key_with_admin"]["visualization"] == secret.key_visualization(telethon_key).hex()
        assert keys["key_with_participant"]["visualization"] == secret.key_visualization(pyrogram_key).hex()
