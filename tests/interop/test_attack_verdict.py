"""The attack pack judging a real plugin over MTProto: ``secretchat-peer actor`` plays the
attacker of a scenario over HTTP, Pyrogram + tg-secret plays the victim it names, signed in
by phone with the scenario's username (docs/attacks.md, "Judging a real client over
MTProto"). The pack tells a right reaction from a wrong one."""

import os

import harness
import secret
from harness import with_deadline

ATTACKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scenarios", "attacks")

VERDICTS = "verdicts: what each client under test did, against what the spec requires"


async def judged(scenario, seed):
    """Runs the scenario's attacker ``alice`` as a process against a tg-secret ``bob``:
    ``(victim, the actor's exit status, its output lines)``. The caller releases the victim.
    Each run on one server needs a seed of its own: the seed picks the chat id alice asks
    for, and a chat id once used stays taken."""
    # The victim signs in by phone and takes the scenario's username, "bob"; the actor
    # process finds that user through the HTTP door (usernames are shared by both doors).
    victim = await secret.PyrogramUser.sign_in("bob")
    actor = await secret.PeerProcess.start(
        f"actor alice of {scenario}",
        "actor",
        "--server",
        harness.env("SECRETCHAT_HTTP_URL"),
        "--admin-url",
        harness.env("SECRETCHAT_ADMIN_URL"),
        "--admin-token",
        harness.env("SECRETCHAT_ADMIN_TOKEN"),
        "--scenario",
        os.path.join(ATTACKS, f"{scenario}.toml"),
        "--as",
        "alice",
        "--seed",
        str(seed),
    )
    try:
        status = await actor.finished(30)
    finally:
        await actor.stop()
    return victim, status, actor.lines


async def release(victim):
    """Gives "bob" back (the next scenario's victim takes it) and stops the client."""
    from pyrogram import raw

    await victim.app.invoke(raw.functions.account.UpdateUsername(username=""))
    await victim.close()


@with_deadline(45)
async def test_the_pack_judges_tg_secret_right_when_it_aborts_on_a_wrong_seq_no_parity(door):
    victim, status, lines = await judged("wrong_seq_parity_aborts_the_chat", seed=1)
    try:
        output = "\n".join(lines)
        assert status == 0, output
        assert f"{VERDICTS} (1 right, 0 wrong)" in output
        assert any(line.strip().startswith("RIGHT  wrong-out-seq-parity  bob: discarded the chat") for line in lines), output
        # And the victim did give the chat up (tg-secret ``_handle_encrypted_update``: a wrong
        # parity discards the chat and forgets it).
        chat_id = await victim.accepted_chat()
        assert await victim.stored_chat(chat_id) is None, "tg-secret kept the chat"
    finally:
        await release(victim)


@with_deadline(45)
async def test_the_pack_judges_tg_secret_wrong_when_it_goes_on_after_a_resend_of_5000_messages(door):
    victim, status, lines = await judged("resend_of_5000_messages_aborts_the_chat", seed=2)
    try:
        output = "\n".join(lines)
        # tg-secret re-sends what it has of the range and keeps the chat (tg_secret/client.py
        # ``_handle_encrypted_service_message``, DecryptedMessageActionResend): no abort, so
        # the verdict is WRONG and the actor's run fails.
        assert status == 1, output
        assert f"{VERDICTS} (0 right, 1 wrong)" in output
        assert any(line.strip().startswith("WRONG  resend-too-many  bob:") for line in lines), output
        chat_id = await victim.accepted_chat()
        assert await victim.stored_chat(chat_id) is not None, "tg-secret gave the chat up after all"
    finally:
        await release(victim)
