//! Every constructor id recomputed from its TL line, and the naming rules across layers.
//!
//! The CRC32 normalization is re-implemented here on purpose, independently of
//! `secretchat-tlgen`, so a bug in the generator's own check cannot hide itself.

use secretchat_common::tl::e2e::{self, types};
use secretchat_common::tl::names::resolve_name;

/// The TL id normalization (schema header): drop `#id`, drop `name:flags.N?true` fields,
/// `Vector<X>` → `Vector X`, field type `bytes` → `string`, drop `{...}` generic
/// parameters, single spaces, no `;`.
fn normalize(line: &str, bytes_as_string: bool) -> String {
    let body = line.trim().trim_end_matches(';');
    let mut words: Vec<String> = Vec::new();
    for (index, word) in body.split_whitespace().enumerate() {
        if index == 0 {
            words.push(word.split('#').next().unwrap().to_owned());
        } else if word.starts_with('{') || (word.contains(":flags.") && word.ends_with("?true")) {
            continue;
        } else {
            for part in word.replace('<', " ").replace('>', "").split(' ') {
                let typed_bytes =
                    part.ends_with(":bytes") || part.ends_with("?bytes") || part == "bytes";
                if bytes_as_string && typed_bytes {
                    words.push(format!("{}string", &part[..part.len() - "bytes".len()]));
                } else {
                    words.push(part.to_owned());
                }
            }
        }
    }
    words.join(" ")
}

fn crc(text: &str) -> u32 {
    crc32fast::hash(text.as_bytes())
}

#[test]
fn every_constructor_id_is_the_crc32_of_its_normalized_tl_line() {
    let mut raw_bytes_rule = Vec::new();
    for info in e2e::CONSTRUCTORS {
        let standard = crc(&normalize(info.tl_line, true));
        if standard == info.id {
            continue;
        }
        assert_eq!(
            crc(&normalize(info.tl_line, false)),
            info.id,
            "{}: id does not match its line under either normalization",
            info.name
        );
        raw_bytes_rule.push(info.id);
    }
    // The one published id computed without the bytes → string rule (layer-143 document).
    assert_eq!(raw_bytes_rule, [0x6abd9782]);
}

#[test]
fn declared_ids_in_tl_lines_match_the_table() {
    for info in e2e::CONSTRUCTORS {
        let head = info.tl_line.split_whitespace().next().unwrap();
        if let Some((_, hex)) = head.split_once('#') {
            assert_eq!(
                u32::from_str_radix(hex, 16).unwrap(),
                info.id,
                "{}",
                info.name
            );
        }
    }
}

#[test]
fn table_has_every_schema_constructor_once() {
    // Every `name#id ... ;` line of the schema, plus boolFalse/boolTrue (ids computed).
    let declared = include_str!("../tl/secret_api.tl")
        .lines()
        .filter(|line| {
            let head = line.split_whitespace().next().unwrap_or("");
            head.contains('#') && !head.starts_with("//") && line.contains(';')
        })
        .count();
    assert_eq!(declared, 82);
    assert_eq!(e2e::CONSTRUCTORS.len(), declared + 2);
    let mut ids: Vec<u32> = e2e::CONSTRUCTORS.iter().map(|info| info.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), e2e::CONSTRUCTORS.len());
}

#[test]
fn canonical_names_of_repeated_official_names_are_tdlibs() {
    let expected = [
        ("decryptedMessage", 0x91cc4674, Some(73)),
        ("decryptedMessage46", 0x36b091de, Some(45)),
        ("decryptedMessage23", 0x204d3878, Some(17)),
        ("decryptedMessage8", 0x1f814f1f, Some(8)),
        ("decryptedMessageService", 0x73164160, Some(17)),
        ("decryptedMessageService8", 0xaa48327d, Some(8)),
        ("decryptedMessageMediaPhoto23", 0x32798a8c, Some(8)),
        ("decryptedMessageMediaDocument", 0x6abd9782, Some(143)),
    ];
    for (name, id, layer) in expected {
        let info = e2e::CONSTRUCTORS
            .iter()
            .find(|info| info.name == name)
            .unwrap_or_else(|| panic!("no constructor named {name}"));
        assert_eq!((info.id, info.layer), (id, layer), "{name}");
    }
    assert_eq!(types::DecryptedMessage::OFFICIAL_NAME, "decryptedMessage");
    assert_eq!(types::DecryptedMessage8::NAME, "decryptedMessage8");
    assert_eq!(types::DecryptedMessage8::LAYER, Some(8));
    assert!(types::DecryptedMessage8::TL_LINE.starts_with("decryptedMessage#1f814f1f "));
}

#[test]
fn official_name_with_a_layer_means_the_version_in_force_at_that_layer() {
    let id = |name| resolve_name(e2e::CONSTRUCTORS, name).map(|info| info.id);
    assert_eq!(id("decryptedMessageMediaDocument143"), Some(0x6abd9782));
    assert_eq!(id("decryptedMessageMediaDocument142"), Some(0x7afe8ae2));
    assert_eq!(id("decryptedMessageMediaPhoto23"), Some(0x32798a8c));
    assert_eq!(id("decryptedMessageMediaPhoto8"), Some(0x32798a8c));
    assert_eq!(id("decryptedMessage46"), Some(0x36b091de));
    assert_eq!(id("decryptedMessage100"), Some(0x91cc4674));
    assert_eq!(id("documentAttributeAudio45"), Some(0xded218e0));
    assert_eq!(id("documentAttributeAudio"), Some(0x9852f9c6));
    assert_eq!(id("decryptedMessageMediaDocument"), Some(0x6abd9782));
    assert_eq!(id("decryptedMessage7"), None);
    assert_eq!(id("decryptedMessageLayer16"), None);
    assert_eq!(id("noSuchConstructor"), None);
}

#[test]
fn in_force_at_layer_46_has_the_layer_45_message_and_not_the_layer_73_one() {
    let names: Vec<&str> = e2e::in_force_at(46).map(|info| info.name).collect();
    assert!(names.contains(&"decryptedMessage46"));
    assert!(names.contains(&"decryptedMessageService"));
    assert!(names.contains(&"documentAttributeAudio"));
    assert!(!names.contains(&"documentAttributeAudio45"));
    assert!(!names.contains(&"decryptedMessage"));
    assert!(!names.contains(&"decryptedMessage23"));
    assert!(!names.contains(&"messageEntityUnderline"));
    let at_8: Vec<&str> = e2e::in_force_at(8).map(|info| info.name).collect();
    assert!(at_8.contains(&"decryptedMessage8"));
    assert!(!at_8.contains(&"decryptedMessageLayer"));
}
