//! Vectors of kinds `mtproto1_encrypt`, `mtproto2_encrypt` (a TL payload sealed with fixed
//! padding gives exact bytes) and `decrypt_positive` / `decrypt_negative` (a received
//! wire that a correct receiver accepts or must refuse).

use secretchat_common::envelope::{self, Opened, Side, Version};
use secretchat_common::seq_no::{SeqField, WireSeqNo};
use secretchat_common::tl::e2e::{enums, Object};
use secretchat_common::tl::TlRead;
use secretchat_common::ChatKey;

use super::crypto::chat_key;
use super::fields::{bad, Fields, Mismatch};

/// decryptedMessageLayer.random_bytes must be at least this long (SPEC §2.1).
const MIN_RANDOM_BYTES: usize = 15;
/// From this layer on, MTProto 1.0 is forbidden (SPEC §2.5).
const V2_MANDATORY_LAYER: i32 = 73;

fn seal(v: &Fields, version: Version, sender: Side) -> Result<(), Mismatch> {
    let key = chat_key(v, "key")?;
    let tl = v.input_hex("plaintext_tl")?;
    let sealed = envelope::seal_with_padding(&key, version, sender, &tl, &v.input_hex("padding")?)
        .map_err(|e| bad("inputs.padding", e.to_string()))?;
    v.expect_hex("wire", sealed.wire())?;
    v.expect_hex_if_present("key_fingerprint", &key.fingerprint().to_wire_bytes())?;
    v.expect_hex("msg_key", sealed.msg_key().as_bytes())?;
    v.expect_hex("aes_key", sealed.aes_key_iv().key())?;
    v.expect_hex("aes_iv", sealed.aes_key_iv().iv())?;
    let padded = sealed.padded_plaintext();
    v.expect_hex_if_present("plaintext_with_len_and_padding", padded)?;
    v.expect_hex_if_present(
        "plaintext_with_len",
        padded.get(..4 + tl.len()).unwrap_or(padded),
    )?;
    v.expect_hex_if_present("ciphertext", sealed.wire().get(24..).unwrap_or_default())?;

    // And the receiver opens it again.
    let opened = envelope::open(&key, version, sender, sealed.wire())
        .map_err(|e| bad("outputs.wire", format!("does not open: {e}")))?;
    if opened.tl() != tl.as_slice() {
        return Err(Mismatch::Verdict {
            expected: "opening the wire gives the TL bytes back".into(),
            got: hex::encode(opened.tl()),
        });
    }
    Ok(())
}

pub fn mtproto1_encrypt(v: &Fields) -> Result<(), Mismatch> {
    // MTProto 1.0 has no x: either side seals the same way.
    seal(v, Version::V1, Side::Creator)
}

pub fn mtproto2_encrypt(v: &Fields) -> Result<(), Mismatch> {
    let sender = if v.input_bool("sender_is_originator")? {
        Side::Creator
    } else {
        Side::Participant
    };
    seal(v, Version::V2, sender)
}

/// Everything a receiver can check about one message without the chat's history: the
/// envelope (opened with the *peer's* side, MTProto 2.0 first, then 1.0), the TL, the
/// parity of both sequence numbers, the length of random_bytes, and that a layer ≥ 73
/// message did not come under MTProto 1.0.
pub(super) fn receive(
    key: &ChatKey,
    receiver: Side,
    wire: &[u8],
) -> Result<(Opened, Object), String> {
    let sender = receiver.peer();
    let (opened, version) = match envelope::open(key, Version::V2, sender, wire) {
        Ok(opened) => (opened, Version::V2),
        Err(v2_error) => match envelope::open(key, Version::V1, sender, wire) {
            Ok(opened) => (opened, Version::V1),
            Err(v1_error) => return Err(format!("envelope: v2: {v2_error}; v1: {v1_error}")),
        },
    };
    let object = Object::from_bytes(opened.tl()).map_err(|e| format!("TL: {e}"))?;
    if let Object::DecryptedMessageLayer(layer) = &object {
        for (field, value) in [
            (SeqField::In, layer.in_seq_no),
            (SeqField::Out, layer.out_seq_no),
        ] {
            WireSeqNo(value)
                .to_raw(field, sender)
                .map_err(|e| format!("sequence number: {e}"))?;
        }
        if layer.random_bytes.len() < MIN_RANDOM_BYTES {
            return Err(format!(
                "random_bytes is {} bytes, at least {MIN_RANDOM_BYTES} required",
                layer.random_bytes.len()
            ));
        }
        if version == Version::V1 && layer.layer >= V2_MANDATORY_LAYER {
            return Err(format!("layer {} message under MTProto 1.0", layer.layer));
        }
        let _: &enums::DecryptedMessage = &layer.message;
    }
    Ok((opened, object))
}

pub fn decrypt(v: &Fields, expect_accept: bool) -> Result<(), Mismatch> {
    let key = chat_key(v, "key")?;
    let receiver = if v.input_bool("receiver_is_originator")? {
        Side::Creator
    } else {
        Side::Participant
    };
    let wire = v.input_hex("wire")?;
    match (receive(&key, receiver, &wire), expect_accept) {
        (Ok((opened, _)), true) => {
            if v.input("plaintext_tl").is_ok() {
                let expected = v.input_hex("plaintext_tl")?;
                super::fields::same(
                    "plaintext_tl",
                    &hex::encode(expected),
                    &hex::encode(opened.tl()),
                )?;
            }
            Ok(())
        }
        (Err(_), false) => Ok(()),
        (Ok(_), false) => Err(Mismatch::Verdict {
            expected: "rejected".into(),
            got: "accepted".into(),
        }),
        (Err(why), true) => Err(Mismatch::Verdict {
            expected: "accepted".into(),
            got: format!("rejected: {why}"),
        }),
    }
}
