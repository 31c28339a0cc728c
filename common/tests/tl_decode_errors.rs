//! Tampered bytes, and the exact [`DecodeError`] each one must produce.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use secretchat_common::tl::decode::{Reader, MAX_DEPTH};
use secretchat_common::tl::e2e::{enums, types, Object};
use secretchat_common::tl::{DecodeError, TlRead, TlWrite};

/// Records the largest allocation made on the current thread, so a test can show that a
/// hostile vector count was refused *before* anything was allocated for it.
struct LargestAllocation;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for LargestAllocation {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = LARGEST.try_with(|largest| largest.set(largest.get().max(layout.size())));
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: LargestAllocation = LargestAllocation;

fn notify_layer_service() -> types::DecryptedMessageService {
    types::DecryptedMessageService {
        random_id: 0x0102030405060708,
        action: types::DecryptedMessageActionNotifyLayer { layer: 46 }.into(),
    }
}

fn text_message(text: &str) -> types::DecryptedMessage {
    types::DecryptedMessage {
        no_webpage: false,
        silent: false,
        random_id: 7,
        ttl: 0,
        message: text.to_owned(),
        media: None,
        entities: None,
        via_bot_name: None,
        reply_to_random_id: None,
        grouped_id: None,
    }
}

#[test]
fn unknown_constructor_error_carries_its_id_and_the_expected_type() {
    let mut bytes = notify_layer_service().to_bytes();
    // service id (4) + random_id (8), then the action's constructor id.
    bytes[12..16].copy_from_slice(&0xdeadbeef_u32.to_le_bytes());
    assert_eq!(
        types::DecryptedMessageService::from_bytes(&bytes),
        Err(DecodeError::UnknownConstructor {
            id: 0xdeadbeef,
            expected: "DecryptedMessageAction",
            at: 12,
        })
    );
}

#[test]
fn an_unknown_top_level_constructor_is_refused_with_its_id_and_the_type_expected() {
    assert_eq!(
        Object::from_bytes(&[0x11, 0x22, 0x33, 0x44]),
        Err(DecodeError::UnknownConstructor {
            id: 0x44332211,
            expected: "Object",
            at: 0,
        })
    );
}

#[test]
fn boxed_struct_with_another_constructor_id_is_refused() {
    let bytes = types::DecryptedMessageActionNoop {}.to_bytes();
    assert_eq!(
        types::DecryptedMessageActionFlushHistory::from_bytes(&bytes),
        Err(DecodeError::UnknownConstructor {
            id: 0xa82fdd63,
            expected: "decryptedMessageActionFlushHistory",
            at: 0,
        })
    );
}

#[test]
fn trailing_bytes_after_the_object_are_an_error() {
    let mut bytes = notify_layer_service().to_bytes();
    let end = bytes.len();
    bytes.extend_from_slice(&[0, 0, 0, 0]);
    assert_eq!(
        Object::from_bytes(&bytes),
        Err(DecodeError::TrailingBytes { count: 4, at: end })
    );
}

#[test]
fn truncated_int_reports_what_was_needed() {
    let bytes = types::DecryptedMessageActionNotifyLayer { layer: 46 }.to_bytes();
    assert_eq!(
        Object::from_bytes(&bytes[..6]),
        Err(DecodeError::Truncated {
            needed: 4,
            remaining: 2,
            at: 4,
        })
    );
}

#[test]
fn missing_string_padding_is_truncation() {
    let bytes = text_message("ab").to_bytes();
    // "ab" is [2, 'a', 'b', 0]: drop the padding byte at the very end.
    assert_eq!(
        enums::DecryptedMessage::from_bytes(&bytes[..bytes.len() - 1]),
        Err(DecodeError::Truncated {
            needed: 1,
            remaining: 0,
            at: bytes.len() - 1,
        })
    );
}

#[test]
fn string_padding_value_is_not_checked() {
    let mut bytes = text_message("ab").to_bytes();
    let last = bytes.len() - 1;
    bytes[last] = 0x5a;
    let decoded = enums::DecryptedMessage::from_bytes(&bytes).unwrap();
    assert_eq!(decoded, text_message("ab").into());
}

#[test]
fn long_length_form_is_accepted_for_a_short_string() {
    let canonical = text_message("abc").to_bytes();
    // id(4) flags(4) random_id(8) ttl(4), then [3 'a' 'b' 'c'].
    let mut long_form = canonical[..20].to_vec();
    long_form.extend_from_slice(&[254, 3, 0, 0, b'a', b'b', b'c', 0]);
    let decoded = enums::DecryptedMessage::from_bytes(&long_form).unwrap();
    assert_eq!(decoded.to_bytes(), canonical);
}

#[test]
fn length_over_what_remains_is_refused_before_reading() {
    let request_key = types::DecryptedMessageActionRequestKey {
        exchange_id: 1,
        g_a: vec![0xaa; 8],
    };
    let mut bytes = request_key.to_bytes();
    // id(4) exchange_id(8), then the g_a length byte: claim 200 bytes.
    bytes[12] = 200;
    assert_eq!(
        Object::from_bytes(&bytes),
        Err(DecodeError::LengthOverRemaining {
            len: 200,
            remaining: 11,
            at: 12,
        })
    );
}

#[test]
fn long_form_length_over_what_remains_is_refused() {
    let mut bytes = types::DecryptedMessageActionRequestKey {
        exchange_id: 1,
        g_a: vec![0xaa; 256],
    }
    .to_bytes();
    // [0xfe, 0x00, 0x01, 0x00] = 256; make it 0xffffff.
    bytes[13..16].copy_from_slice(&[0xff, 0xff, 0xff]);
    assert_eq!(
        Object::from_bytes(&bytes),
        Err(DecodeError::LengthOverRemaining {
            len: 0xff_ffff,
            remaining: 256,
            at: 12,
        })
    );
}

#[test]
fn length_prefix_255_is_invalid() {
    let mut bytes = text_message("abc").to_bytes();
    bytes[20] = 255;
    assert_eq!(
        Object::from_bytes(&bytes),
        Err(DecodeError::InvalidLengthPrefix { at: 20 })
    );
}

#[test]
fn invalid_utf8_in_a_string_names_its_position() {
    let mut bytes = text_message("abc").to_bytes();
    bytes[21] = 0xff;
    assert_eq!(
        Object::from_bytes(&bytes),
        Err(DecodeError::InvalidUtf8 { at: 20 })
    );
}

#[test]
fn huge_vector_count_is_refused_without_allocating_for_it() {
    let read = types::DecryptedMessageActionReadMessages {
        random_ids: vec![1, 2],
    };
    let mut bytes = read.to_bytes();
    // id(4) vector id(4), then the count.
    bytes[8..12].copy_from_slice(&0x7fff_ffff_u32.to_le_bytes());

    LARGEST.with(|largest| largest.set(0));
    let result = Object::from_bytes(&bytes);
    let largest = LARGEST.with(Cell::get);

    assert_eq!(
        result,
        Err(DecodeError::VectorCountOverRemaining {
            count: 0x7fff_ffff,
            min_item_size: 8,
            remaining: 16,
            at: 8,
        })
    );
    assert!(
        largest < 1024,
        "allocated {largest} bytes for a refused vector"
    );
}

#[test]
fn negative_vector_count_is_refused() {
    let mut bytes = types::DecryptedMessageActionDeleteMessages { random_ids: vec![] }.to_bytes();
    bytes[8..12].copy_from_slice(&(-1i32).to_le_bytes());
    assert_eq!(
        Object::from_bytes(&bytes),
        Err(DecodeError::VectorCountOverRemaining {
            count: u32::MAX,
            min_item_size: 8,
            remaining: 0,
            at: 8,
        })
    );
}

#[test]
fn vector_with_a_wrong_vector_id_is_an_unknown_constructor() {
    let mut bytes = types::DecryptedMessageActionDeleteMessages {
        random_ids: vec![5],
    }
    .to_bytes();
    bytes[4..8].copy_from_slice(&0x12345678_u32.to_le_bytes());
    assert_eq!(
        Object::from_bytes(&bytes),
        Err(DecodeError::UnknownConstructor {
            id: 0x12345678,
            expected: "Vector",
            at: 4,
        })
    );
}

#[test]
fn bool_other_than_true_or_false_is_an_unknown_constructor() {
    assert_eq!(
        bool::from_bytes(&0x01020304_u32.to_le_bytes()),
        Err(DecodeError::UnknownConstructor {
            id: 0x01020304,
            expected: "Bool",
            at: 0,
        })
    );
    assert_eq!(bool::from_bytes(&true.to_bytes()), Ok(true));
}

#[test]
fn nesting_deeper_than_the_limit_is_refused() {
    fn descend(reader: &mut Reader<'_>, levels: usize) -> Result<(), DecodeError> {
        if levels == 0 {
            return Ok(());
        }
        reader.nested(|reader| descend(reader, levels - 1))
    }
    let mut reader = Reader::new(&[]);
    assert_eq!(descend(&mut reader, MAX_DEPTH), Ok(()));
    assert_eq!(
        descend(&mut reader, MAX_DEPTH + 1),
        Err(DecodeError::TooDeep {
            limit: MAX_DEPTH,
            at: 0,
        })
    );
}

#[test]
fn unknown_flag_bits_are_ignored() {
    let message = text_message("hi");
    let mut bytes = message.to_bytes();
    // flags follow the id; bit 30 means nothing in this constructor.
    bytes[4..8].copy_from_slice(&(1u32 << 30).to_le_bytes());
    assert_eq!(types::DecryptedMessage::from_bytes(&bytes), Ok(message));
}

#[test]
fn empty_input_is_truncated() {
    assert_eq!(
        Object::from_bytes(&[]),
        Err(DecodeError::Truncated {
            needed: 4,
            remaining: 0,
            at: 0,
        })
    );
}
