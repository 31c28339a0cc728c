//! Vectors of the primitive kinds: `aes_ige`, `kdf_v1`, `kdf_v2`, `msg_key_v2`,
//! `key_fingerprint`, `key_visualization`, `file_fingerprint`, `file_encryption`.

use secretchat_common::crypto::file::{self, FileDecryptor, FileEncryptor, FileKey};
use secretchat_common::crypto::ige::{self, BLOCK_LEN};
use secretchat_common::crypto::kdf::{self, AesKeyIv, X};
use secretchat_common::crypto::msg_key::{self, MsgKey};
use secretchat_common::crypto::visualization::KeyVisualization;
use secretchat_common::ChatKey;

use super::fields::{bad, Fields, Mismatch};

pub(super) fn chat_key(v: &Fields, name: &str) -> Result<ChatKey, Mismatch> {
    ChatKey::from_bytes(&v.input_hex(name)?)
        .map_err(|e| bad(&format!("inputs.{name}"), e.to_string()))
}

fn array<const N: usize>(v: &Fields, name: &str) -> Result<[u8; N], Mismatch> {
    let bytes = v.input_hex(name)?;
    bytes.as_slice().try_into().map_err(|_| {
        bad(
            &format!("inputs.{name}"),
            format!("expected {N} bytes, got {}", bytes.len()),
        )
    })
}

fn x(v: &Fields) -> Result<X, Mismatch> {
    match v.input_i64("x")? {
        0 => Ok(X::Zero),
        8 => Ok(X::Eight),
        other => Err(bad("inputs.x", format!("x is 0 or 8, got {other}"))),
    }
}

fn expect_key_iv(v: &Fields, derived: &AesKeyIv) -> Result<(), Mismatch> {
    v.expect_hex("aes_key", derived.key())?;
    v.expect_hex("aes_iv", derived.iv())
}

pub fn aes_ige(v: &Fields) -> Result<(), Mismatch> {
    let key = array::<32>(v, "key")?;
    let iv = array::<32>(v, "iv")?;
    let plaintext = v.input_hex("plaintext")?;
    let mut buf = plaintext.clone();
    ige::encrypt_in_place(&key, &iv, &mut buf)
        .map_err(|e| bad("inputs.plaintext", e.to_string()))?;
    v.expect_hex("ciphertext", &buf)?;
    ige::decrypt_in_place(&key, &iv, &mut buf)
        .map_err(|e| bad("outputs.ciphertext", e.to_string()))?;
    if buf != plaintext {
        return Err(Mismatch::Verdict {
            expected: "decrypting the ciphertext gives the plaintext back".into(),
            got: "different bytes".into(),
        });
    }
    Ok(())
}

fn msg_key_input(v: &Fields) -> Result<MsgKey, Mismatch> {
    Ok(MsgKey::from_bytes(array::<16>(v, "msg_key")?))
}

pub fn kdf_v1(v: &Fields) -> Result<(), Mismatch> {
    let derived = kdf::v1::derive_with_x(&chat_key(v, "key")?, &msg_key_input(v)?, x(v)?);
    expect_key_iv(v, &derived)
}

pub fn kdf_v2(v: &Fields) -> Result<(), Mismatch> {
    let derived = kdf::v2::derive(&chat_key(v, "key")?, &msg_key_input(v)?, x(v)?);
    expect_key_iv(v, &derived)
}

pub fn msg_key_v2(v: &Fields) -> Result<(), Mismatch> {
    let key = chat_key(v, "key")?;
    let padded = v.input_hex("plaintext_with_len_and_padding")?;
    let x = x(v)?;
    v.expect_hex("msg_key", msg_key::v2::compute(&key, x, &padded).as_bytes())?;
    v.expect_hex_if_present(
        "msg_key_large",
        &msg_key::v2::compute_large(&key, x, &padded),
    )
}

pub fn key_fingerprint(v: &Fields) -> Result<(), Mismatch> {
    let fingerprint = chat_key(v, "key")?.fingerprint();
    v.expect_hex("fingerprint_wire_bytes", &fingerprint.to_wire_bytes())?;
    v.expect_i64("fingerprint_i64", fingerprint.as_i64())?;
    if v.has_output("fingerprint_u64") {
        // The same 64 bits read as unsigned: compare as text of the u64 value.
        let expected = v.output("fingerprint_u64")?.to_string();
        super::fields::same(
            "fingerprint_u64",
            &expected,
            &(fingerprint.as_i64() as u64).to_string(),
        )?;
    }
    Ok(())
}

pub fn key_visualization(v: &Fields) -> Result<(), Mismatch> {
    let visualization = KeyVisualization::of_key(&chat_key(v, "key")?);
    let bytes = visualization.as_bytes();
    v.expect_hex("visualization_36", bytes)?;
    v.expect_hex_if_present("sha1_first16", &bytes[..16])?;
    v.expect_hex_if_present("sha256_first20", &bytes[16..])
}

fn file_key(v: &Fields) -> Result<FileKey, Mismatch> {
    Ok(FileKey::new(array::<32>(v, "key")?, array::<32>(v, "iv")?))
}

pub fn file_fingerprint(v: &Fields) -> Result<(), Mismatch> {
    let fingerprint = file_key(v)?.fingerprint();
    v.expect_i64("fingerprint_i32", i64::from(fingerprint.as_i32()))?;
    v.expect_hex_if_present("fingerprint_wire_bytes", &fingerprint.to_wire_bytes())
}

/// The file is encrypted part by part (`chunk_size` bytes each) as one IGE stream; the
/// vectors pad the last part with zeros so the output is reproducible.
pub fn file_encryption(v: &Fields) -> Result<(), Mismatch> {
    let file_key = file_key(v)?;
    let plaintext = v.input_hex("plaintext")?;
    let chunk_size = usize::try_from(v.input_i64("chunk_size")?)
        .ok()
        .filter(|size| *size > 0 && size % BLOCK_LEN == 0)
        .ok_or_else(|| bad("inputs.chunk_size", "expected a positive multiple of 16"))?;

    let mut encryptor = FileEncryptor::new(&file_key);
    let mut ciphertext = Vec::with_capacity(file::padded_len(plaintext.len()));
    for chunk in plaintext.chunks(chunk_size) {
        let mut part = chunk.to_vec();
        part.resize(part.len().next_multiple_of(BLOCK_LEN), 0);
        encryptor
            .encrypt_part(&mut part)
            .map_err(|e| bad("inputs.plaintext", e.to_string()))?;
        ciphertext.extend_from_slice(&part);
    }
    v.expect_hex("ciphertext", &ciphertext)?;
    if v.has_output("ciphertext_len") {
        v.expect_i64("ciphertext_len", ciphertext.len() as i64)?;
    }
    if v.has_output("file_key_fingerprint_i32") {
        v.expect_i64(
            "file_key_fingerprint_i32",
            i64::from(file_key.fingerprint().as_i32()),
        )?;
    }

    // The receiving side: decrypt part by part and cut the padding at the declared size.
    let mut decryptor = FileDecryptor::new(&file_key);
    let mut decrypted = ciphertext.clone();
    for part in decrypted.chunks_mut(chunk_size) {
        decryptor
            .decrypt_part(part)
            .map_err(|e| bad("outputs.ciphertext", e.to_string()))?;
    }
    let whole = file::decrypt_file(&file_key, &ciphertext, plaintext.len())
        .map_err(|e| bad("outputs.ciphertext", e.to_string()))?;
    if decrypted.get(..plaintext.len()) != Some(plaintext.as_slice()) || whole != plaintext {
        return Err(Mismatch::Verdict {
            expected: "decrypting gives the plaintext back".into(),
            got: "different bytes".into(),
        });
    }
    Ok(())
}
