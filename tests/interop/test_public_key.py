"""The door's RSA public key as a harness fetches it, and as each client takes it."""

import rsa

import harness


def test_the_published_key_is_pkcs1_and_both_clients_compute_its_published_fingerprint(door):
    pem = door["pem"]
    assert pem.startswith("-----BEGIN RSA PUBLIC KEY-----\n")
    key = rsa.PublicKey.load_pkcs1(pem.encode())
    assert key.n.bit_length() == 2048
    fingerprint = int(door["fingerprint"])
    assert fingerprint == harness.fingerprint_of(key.n, key.e)
    assert harness.install_key_in_telethon(pem) == fingerprint

    from pyrogram.crypto import rsa as pyrogram_rsa

    assert pyrogram_rsa.server_public_keys[fingerprint] == (key.n, key.e)


def test_the_fingerprint_in_hex_is_the_same_number(door):
    assert len(door["fingerprint_hex"]) == 16
    assert int(door["fingerprint_hex"], 16) == int(door["fingerprint"]) % (1 << 64)


def test_the_admin_listener_publishes_the_same_document(door):
    assert harness.public_key_document(admin=True) == door


def test_the_document_names_the_door_when_it_knows_it(door):
    if door["mtproto_addr"] is not None:
        host, port = harness.mtproto_address()
        assert door["mtproto_addr"] == f"{host}:{port}"


def test_a_message_encrypted_by_each_client_is_what_the_key_holder_recovers():
    # The clients' own RSA step (SHA1(data) + data + padding, raw m^e mod n), checked with a
    # key made here: proves the harness installs a PEM the way each client then uses it.
    from hashlib import sha1

    from pyrogram.crypto import rsa as pyrogram_rsa
    from telethon.crypto import rsa as telethon_rsa

    public, private = rsa.newkeys(2048)
    pem = public.save_pkcs1().decode()
    fingerprint = harness.install_key_in_telethon(pem)
    assert fingerprint == harness.fingerprint_of(public.n, public.e)
    harness.install_key_in_pyrogram(pem, fingerprint)
    data = bytes(range(100))
    for cipher in (
        telethon_rsa.encrypt(fingerprint, data),
        pyrogram_rsa.encrypt(sha1(data).digest() + data + bytes(255 - 20 - len(data)), fingerprint),
    ):
        plain = pow(int.from_bytes(cipher, "big"), private.d, private.n).to_bytes(256, "big")
        assert plain[0] == 0
        assert plain[1:21] == sha1(data).digest()
        assert plain[21 : 21 + len(data)] == data
