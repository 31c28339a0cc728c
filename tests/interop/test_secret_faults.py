"""Secret chats through the MTProto door when things go wrong on the way: a push lost by a
fault rule and healed by the client's own getDifference, and a client that was offline
catching up in order after a restart. The event log says which door each delivery went
through."""

import harness
import secret
from harness import with_deadline


async def chat_between(alice, bob):
    """A chat alice asks for and bob accepts; its id."""
    chat_id = await alice.start_chat(bob.username)
    assert await bob.accepted_chat() == chat_id
    return chat_id


@with_deadline(40)
async def test_a_lost_push_is_healed_by_telethons_get_difference_and_both_texts_arrive_in_order(door):
    async with (
        await secret.TelethonUser.sign_in("lost_alice") as alice,
        await secret.TelethonUser.sign_in("lost_bob") as bob,
    ):
        chat_id = await chat_between(alice, bob)
        bob_device = secret.device_of(bob.me.id)
        _, since = secret.events()
        rule = secret.admin(
            "/admin/faults",
            {
                "match": {"device": {"id": bob_device}, "update": "new_encrypted_message", "nth": 1},
                "action": {"type": "lose_push"},
            },
        )
        await alice.send(chat_id, "first, its push lost")
        await alice.send(chat_id, "second, pushed")
        # The second push shows Telethon a qts gap (telethon/_updates/messagebox.py: held for
        # POSSIBLE_GAP_TIMEOUT, then updates.getDifference), which brings the first.
        await harness.eventually(
            lambda: len(bob.texts.of(chat_id)) >= 2 or len(bob.requests) > 1, "the texts, or the request again"
        )
        # The difference brings what bob missed, not what he had: a chat request he accepted
        # coming again would make telethon-secret-chat accept it again, over the chat's key.
        assert bob.requests == [chat_id], f"chat requests bob was handed: {bob.requests}"
        assert await bob.received(chat_id, 2, "alice's texts") == ["first, its push lost", "second, pushed"]

        found, _ = secret.events(since)
        faults = [event for event in found if event["event"] == "fault"]
        assert [(fault["rule"], fault["action"], fault["device"]) for fault in faults] == [
            (rule["id"], "lose_push", bob_device)
        ], faults
        delivered = [
            event for event in secret.deliveries(found, bob_device) if event["update"] == "new_encrypted_message"
        ]
        assert [event["door"] for event in delivered] == ["mtproto", "mtproto"], delivered
        # One qts after the other: the lost push lost no place in the queue.
        assert delivered[1]["qts"] == delivered[0]["qts"] + 1, delivered
        # Telethon's getDifference names the qts it had before the gap, which acknowledges
        # everything up to it (as receivedQueue would).
        acknowledged = [(event["device"], event["max_qts"]) for event in found if event["event"] == "acknowledged"]
        assert (bob_device, delivered[0]["qts"] - 1) in acknowledged, acknowledged


@with_deadline(60)
async def test_a_telethon_client_offline_while_texts_were_sent_catches_up_in_order_after_a_restart(door, tmp_path):
    session_file = tmp_path / "bob.session"
    alice = await secret.TelethonUser.sign_in("offline_alice")
    bob = await secret.TelethonUser.sign_in("offline_bob", session=session_file)
    try:
        chat_id = await chat_between(alice, bob)
        await alice.send(chat_id, "while online")
        assert await bob.received(chat_id, 1, "the first text") == ["while online"]
        chats = bob.manager.session
        # Telethon saves its update state (qts included) into the session file on disconnect.
        await bob.close()

        texts = [f"while offline {n}" for n in range(1, 11)]
        for text in texts:
            await alice.send(chat_id, text)

        # A new process: Telethon from the session file, told to catch up (``catch_up=True``:
        # updates.getDifference from the saved state once connected); telethon-secret-chat
        # with the chats it held (see README.md: its SQLite storage keeps none).
        bob = await secret.TelethonUser.sign_in(
            "offline_bob", session=session_file, secret_session=chats, catch_up=True
        )
        await harness.eventually(
            lambda: len(bob.texts.of(chat_id)) >= 10 or bob.requests, "the texts, or the request again"
        )
        # The restarted client was handed what it missed, not the request it accepted before.
        assert bob.requests == [], f"chat requests the restarted client was handed: {bob.requests}"
        assert await bob.received(chat_id, 10, "the texts sent while offline") == texts
        await bob.send(chat_id, "back")
        assert await alice.received(chat_id, 1, "bob's text after the restart") == ["back"]
    finally:
        await alice.close()
        await bob.close()
