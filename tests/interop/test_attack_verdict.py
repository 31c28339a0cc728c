"""The attack pack judging a real plugin over MTProto: ``secretchat-peer actor`` plays the
attacker of a scenario over HTTP, Pyrogram + tg-secret plays the victim it names, signed in
by phone with the scenario's username (docs/attacks.md, "Judging a real client over
MTProto"). The pack tells a right reaction from a wrong one."""

import contextlib
import os

import harness
import secret
from harness import with_deadline
from pyrogram import raw

ATTACKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scenarios", "attacks")

VERDICTS = "verdicts: what each client under test did, against what the spec requires"


@contextlib.asynccontextmanager
async def judged(scenario, seed):
    """Runs the scenario's attacker ``alice`` as a process against a tg-secret ``bob``, and
    yields the victim and the actor's one verdict line (``RIGHT  <case>  bob: …`` or
    ``WRONG  …``), once the exit status and the summary agree with it. Each run on one server
    needs a seed of its own: the seed picks the chat id alice asks for, and a chat id once used
    stays taken."""
    # The victim signs in by phone and takes the scenario's username, "bob"; the actor
    # process finds that user through the HTTP door (usernames are shared by both doors).
    victim = await secret.PyrogramUser.sign_in("bob")
    try:
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
        output = actor.output()
        verdicts = [line.strip() for line in actor.lines if line.strip().startswith(("RIGHT  ", "WRONG  "))]
        assert len(verdicts) == 1, output
        right = verdicts[0].startswith("RIGHT")
        assert status == (0 if right else 1), output
        assert f"{VERDICTS} ({int(right)} right, {int(not right)} wrong)" in output
        yield victim, verdicts[0]
    finally:
        # Gives "bob" back for the next scenario's victim.
        await victim.app.invoke(raw.functions.account.UpdateUsername(username=""))
        await victim.close()


@with_deadline(45)
async def test_the_pack_judges_tg_secret_right_when_it_aborts_on_a_wrong_seq_no_parity(door):
    async with judged("wrong_seq_parity_aborts_the_chat", seed=1) as (victim, verdict):
        assert verdict.startswith("RIGHT  wrong-out-seq-parity  bob: discarded the chat"), verdict
        # And the victim did give the chat up (tg-secret ``_handle_encrypted_update``: a wrong
        # parity discards the chat and forgets it).
        assert await victim.stored_chat(await victim.accepted_chat()) is None, "tg-secret kept the chat"


@with_deadline(45)
async def test_the_pack_judges_tg_secret_wrong_when_it_goes_on_after_a_resend_of_5000_messages(door):
    # tg-secret re-sends what it has of the range and keeps the chat (tg_secret/client.py
    # ``_handle_encrypted_service_message``, DecryptedMessageActionResend): no abort, so the
    # verdict is WRONG and the actor's run fails.
    async with judged("resend_of_5000_messages_aborts_the_chat", seed=2) as (victim, verdict):
        assert verdict.startswith("WRONG  resend-too-many  bob:"), verdict
        assert await victim.stored_chat(await victim.accepted_chat()) is not None, "tg-secret gave the chat up"
