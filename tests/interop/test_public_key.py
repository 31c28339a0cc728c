"""The door's RSA public key as a harness fetches it, and as each client takes it."""

import harness
import rsa


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


def test_the_document_names_the_door_it_serves(door):
    host, port = harness.mtproto_address()
    assert door["mtproto_addr"] == f"{host}:{port}"
