//! Every constructor and function id of the three MTProto schemas, recomputed from its TL
//! line, and the shape of the generated modules.
//!
//! The CRC32 normalization is re-implemented here on purpose, independently of
//! `secretchat-tlgen`, so a bug in the generator's own check cannot hide itself.

use secretchat_common::tl::{ConstructorInfo, TlRead, TlWrite};
use secretchat_mtproto::api::{layer158, layer229};
use secretchat_mtproto::service;

const SERVICE_TL: &str = include_str!("../tl/mtproto.tl");
const LAYER229_TL: &str = include_str!("../tl/api_telethon_L229.tl");
const LAYER158_TL: &str = include_str!("../tl/api_pyrogram_L158.tl");

/// The TL id normalization (Telethon's generator, the schema headers): drop `#id`, drop
/// `name:flags.N?true` fields, a field typed `bytes` → `string` (not `Vector<bytes>`:
/// `codeSettings#ad253d78` keeps it), `Vector<X>` → `Vector X`, drop the braces of
/// `{X:Type}`, single spaces, no `;`.
fn normalize(line: &str) -> String {
    let body = line.trim().trim_end_matches(';');
    let mut words: Vec<String> = Vec::new();
    for (index, word) in body.split_whitespace().enumerate() {
        if index == 0 {
            words.push(word.split('#').next().unwrap().to_owned());
        } else if word.contains(":flags") && word.ends_with("?true") {
            continue;
        } else {
            let word = word.replace(['{', '}'], "");
            for part in word.replace('<', " ").replace('>', "").split(' ') {
                if part.ends_with(":bytes") || part.ends_with("?bytes") {
                    words.push(format!("{}string", &part[..part.len() - "bytes".len()]));
                } else {
                    words.push(part.to_owned());
                }
            }
        }
    }
    words.join(" ")
}

fn crc(line: &str) -> u32 {
    crc32fast::hash(normalize(line).as_bytes())
}

/// The `name#id ...;` declarations of a schema text: (declared id, line without comment).
/// With `commented`, the ones written as `// name#id ...;` (the hand-parsed envelopes).
fn declarations(text: &str, commented: bool) -> Vec<(u32, String)> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            let code = if commented {
                line.strip_prefix("//")?.trim()
            } else if line.starts_with("//") {
                return None;
            } else {
                line
            };
            let code = code.split("//").next()?.trim();
            let head = code.split_whitespace().next()?;
            let (_, hex) = head.split_once('#')?;
            // The built-in `vector#1cb5c415 {t:Type} # [ t ] = Vector t;` is not a declaration.
            if !code.ends_with(';') || hex.is_empty() || head.starts_with("vector#") {
                return None;
            }
            Some((u32::from_str_radix(hex, 16).ok()?, code.to_owned()))
        })
        .collect()
}

fn tables() -> [(&'static str, &'static str, Vec<&'static ConstructorInfo>); 3] {
    let all = |constructors: &'static [ConstructorInfo], functions: &'static [ConstructorInfo]| {
        constructors.iter().chain(functions).collect::<Vec<_>>()
    };
    [
        (
            "mtproto.tl",
            SERVICE_TL,
            all(service::CONSTRUCTORS, service::FUNCTIONS),
        ),
        (
            "api_telethon_L229.tl",
            LAYER229_TL,
            all(layer229::CONSTRUCTORS, layer229::FUNCTIONS),
        ),
        (
            "api_pyrogram_L158.tl",
            LAYER158_TL,
            all(layer158::CONSTRUCTORS, layer158::FUNCTIONS),
        ),
    ]
}

#[test]
fn every_generated_id_is_the_crc32_of_its_normalized_tl_line() {
    for (file, _, infos) in tables() {
        for info in infos {
            assert_eq!(crc(info.tl_line), info.id, "{file}: {}", info.name);
            let head = info.tl_line.split_whitespace().next().unwrap();
            let declared = head
                .split_once('#')
                .map(|(_, hex)| u32::from_str_radix(hex, 16));
            assert_eq!(declared, Some(Ok(info.id)), "{file}: {}", info.name);
        }
    }
}

#[test]
fn every_declaration_of_the_three_files_is_generated_once() {
    for (file, text, infos) in tables() {
        let declared = declarations(text, false);
        for (id, line) in &declared {
            assert_eq!(crc(line), *id, "{file}: {line}");
            let matches = infos.iter().filter(|info| info.id == *id).count();
            assert_eq!(matches, 1, "{file}: {line} is generated {matches} times");
        }
        assert_eq!(infos.len(), declared.len(), "{file}");
    }
    assert_eq!(declarations(SERVICE_TL, false).len(), 46);
    // 122 lines each in the shared notes (120 from the clients' layer, 2 added for the front
    // door), plus 8 types, invokeAfterMsgs and messages.uploadEncryptedFile (a method of the
    // HTTP door the shared subset lacks) in the repo copy.
    assert_eq!(declarations(LAYER229_TL, false).len(), 132);
    assert_eq!(declarations(LAYER158_TL, false).len(), 132);
}

#[test]
fn the_commented_envelopes_of_the_service_schema_have_the_crc32_of_their_lines() {
    let commented = declarations(SERVICE_TL, true);
    let names: Vec<&str> = commented
        .iter()
        .map(|(_, line)| line.split('#').next().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "rpc_result",
            "future_salts",
            "msg_container",
            "msg_copy",
            "gzip_packed"
        ]
    );
    for (id, line) in &commented {
        assert_eq!(crc(line), *id, "{line}");
    }
}

#[test]
fn the_two_layers_differ_exactly_where_the_notes_say() {
    let id_of = |table: &[ConstructorInfo], name: &str| {
        table
            .iter()
            .find(|info| info.name == name)
            .map(|info| info.id)
    };
    let changed = [
        ("user", 0x8f97c628, 0xb1b8cc83),
        ("userFull", 0x93eadb53, 0x06cbe645),
        ("peerSettings", 0xa518110d, 0xf47741f7),
        ("peerNotifySettings", 0xa83b0426, 0x99622c0c),
        ("userStatusRecently", 0xe26f42f1, 0x7b197dc8),
    ];
    for (name, old, new) in changed {
        assert_eq!(id_of(layer158::CONSTRUCTORS, name), Some(old), "{name}");
        assert_eq!(id_of(layer229::CONSTRUCTORS, name), Some(new), "{name}");
    }
    let changed_functions = [
        ("auth.signUp", 0x80eee427, 0xaac7b717),
        ("auth.resendCode", 0x3ef1a9bf, 0xcae47523),
        ("contacts.resolveUsername", 0xf93ccba3, 0x725afbbc),
        ("updates.getDifference", 0x25939651, 0x19c2f763),
    ];
    for (name, old, new) in changed_functions {
        assert_eq!(id_of(layer158::FUNCTIONS, name), Some(old), "{name}");
        assert_eq!(id_of(layer229::FUNCTIONS, name), Some(new), "{name}");
    }
    // Everything else, the wrappers included, is the same in both layers.
    let differing: Vec<&str> = layer229::CONSTRUCTORS
        .iter()
        .chain(layer229::FUNCTIONS)
        .filter(|info| {
            !layer158::CONSTRUCTORS
                .iter()
                .chain(layer158::FUNCTIONS)
                .any(|old| old.id == info.id)
        })
        .map(|info| info.name)
        .collect();
    assert_eq!(
        differing.len(),
        changed.len() + changed_functions.len(),
        "{differing:?}"
    );
}

#[test]
fn a_wrapper_keeps_its_inner_query_as_the_rest_of_the_input() {
    use layer229::functions::{HelpGetConfig, InvokeWithLayer};
    let query = HelpGetConfig {}.to_bytes();
    let wrapped = InvokeWithLayer {
        layer: 229,
        query: secretchat_common::tl::RawQuery(query.clone()),
    };
    let bytes = wrapped.to_bytes();
    assert_eq!(&bytes[..8], [0x0d, 0x0d, 0x9b, 0xda, 229, 0, 0, 0]);
    assert_eq!(&bytes[8..], query);
    let decoded = layer229::Function::from_bytes(&bytes).unwrap();
    let layer229::Function::InvokeWithLayer(decoded) = decoded else {
        panic!("not invokeWithLayer: {decoded:?}");
    };
    assert_eq!(
        decoded.query.constructor_id(),
        Some(HelpGetConfig::CONSTRUCTOR_ID)
    );
    assert_eq!(decoded, wrapped);
}

#[test]
fn a_field_of_an_opaque_type_decodes_only_when_absent() {
    use layer229::types::{AuthSentCode, AuthSentCodeTypeApp};
    // auth.sentCode with flags.1 set announces a next_type:auth.CodeType, which the subset
    // does not define: decoding must fail at that field, naming the type.
    let mut bytes = AuthSentCode::CONSTRUCTOR_ID.to_le_bytes().to_vec();
    bytes.extend(2u32.to_le_bytes()); // flags: next_type
    bytes.extend(AuthSentCodeTypeApp { length: 5 }.to_bytes());
    bytes.extend([1, b'h', 0, 0]); // phone_code_hash
    bytes.extend(0x72a3158cu32.to_le_bytes()); // auth.codeTypeSms of the full schema
    let err = layer229::Object::from_bytes(&bytes).unwrap_err();
    assert_eq!(
        err,
        secretchat_common::tl::DecodeError::UnknownConstructor {
            id: 0x72a3158c,
            expected: "auth.CodeType",
            at: 20
        }
    );
    let without = AuthSentCode::from_bytes(&[&bytes[..4], &[0; 4], &bytes[8..20]].concat());
    assert_eq!(without.map(|code| code.next_type.is_none()), Ok(true));
}

#[test]
fn a_recursive_peer_round_trips_through_its_box() {
    use layer158::enums::InputPeer;
    use layer158::types::{InputPeerSelf, InputPeerUserFromMessage};
    let peer = InputPeer::InputPeerUserFromMessage(InputPeerUserFromMessage {
        peer: Box::new(InputPeer::InputPeerSelf(InputPeerSelf {})),
        msg_id: 5,
        user_id: 77,
    });
    let bytes = peer.to_bytes();
    assert_eq!(InputPeer::from_bytes(&bytes).unwrap(), peer);
}

#[test]
fn fields_sharing_a_flag_bit_are_written_only_together() {
    use layer229::types::AuthAuthorization;
    // setup_password_required and otherwise_relogin_days share flags.1.
    let user = layer229::enums::User::UserEmpty(layer229::types::UserEmpty { id: 1 });
    let alone = AuthAuthorization {
        setup_password_required: true,
        otherwise_relogin_days: None,
        tmp_sessions: None,
        future_auth_token: None,
        user: user.clone(),
    };
    let decoded = AuthAuthorization::from_bytes(&alone.to_bytes()).unwrap();
    assert!(
        !decoded.setup_password_required,
        "the bit needs the data it guards"
    );
    let together = AuthAuthorization {
        otherwise_relogin_days: Some(3),
        ..alone
    };
    assert_eq!(
        AuthAuthorization::from_bytes(&together.to_bytes()).unwrap(),
        together
    );
}

#[test]
fn service_int128_fields_are_the_raw_bytes() {
    use service::functions::ReqPqMulti;
    let nonce: [u8; 16] = std::array::from_fn(|i| i as u8);
    let bytes = ReqPqMulti { nonce }.to_bytes();
    assert_eq!(bytes[..4], 0xbe7e8ef1u32.to_le_bytes());
    assert_eq!(bytes[4..], nonce);
    assert_eq!(ReqPqMulti::from_bytes(&bytes).unwrap().nonce, nonce);
}

#[test]
fn an_int128_in_json_must_have_exactly_16_bytes() {
    use secretchat_common::tl::{JsonErrorKind, TlJson};
    use service::functions::ReqPqMulti;
    let request = ReqPqMulti { nonce: [7; 16] };
    let json = request.to_json();
    assert_eq!(ReqPqMulti::from_json(&json).unwrap(), request);
    let short = serde_json::json!({"_": "req_pq_multi", "nonce": {"$hex": "0707"}});
    let err = ReqPqMulti::from_json(&short).unwrap_err();
    assert_eq!(err.path, "nonce");
    assert_eq!(
        err.kind,
        JsonErrorKind::WrongLength {
            len: 2,
            expected: 16
        }
    );
}
