//! Annotated decoding: where each part of a TL object lies in its bytes.
//!
//! A learner looking at a decrypted payload wants to see which bytes are the constructor
//! id, which are `random_bytes` (with their length prefix and padding), `layer`,
//! `in_seq_no`, `out_seq_no`, and where the message starts. [`annotate`] runs the ordinary
//! strict decoder ([`super::decode`]) with a reader that notes the span of every
//! constructor id, field, vector count and vector item as it reads them — the same code
//! path as every other decode, so the spans cannot disagree with what was decoded:
//!
//! ```text
//! 89 17 e3 1b | 0f  a1 … 3c | 90 00 00 00 | 03 00 00 00 | 02 00 00 00 | …
//! └ id ───────┘ └ random_bytes┘ └ layer ───┘ └ in_seq_no ┘ └ out_seq_no┘ └ message
//!   decryptedMessageLayer#1be31789   (len-prefixed, padded)
//! ```
//!
//! Spans come parents first, each with its depth (how many spans enclose it), so a
//! renderer can draw them as a tree or as nested ranges over a hex dump.

use super::decode::{DecodeError, Reader, TlRead};
use super::names::ConstructorInfo;

/// What a span of the input is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marked {
    /// A 4-byte constructor id: of a boxed object, of `Vector` (`0x1cb5c415`), of `Bool`.
    ConstructorId(u32),
    /// A field of a constructor, by its name in the schema (`random_bytes`, `flags`, …).
    Field(&'static str),
    /// The 4-byte item count of a vector.
    VectorCount,
    /// Item `n` (from 0) of a vector.
    Item(usize),
}

/// One span of the input: bytes `start..end`, inside `depth` enclosing spans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    pub start: usize,
    pub end: usize,
    pub depth: usize,
    pub what: Marked,
}

impl Mark {
    /// A short label: `decryptedMessageLayer#1be31789`, `random_bytes`, `count`, `[2]`.
    /// Constructor ids are named from `table` (`Vector`, `boolTrue`, `boolFalse` are known
    /// everywhere); an id `table` does not know is shown as `#xxxxxxxx`.
    pub fn label(&self, table: &[ConstructorInfo]) -> String {
        match self.what {
            Marked::ConstructorId(id) => match constructor_name(table, id) {
                Some(name) => format!("{name}#{id:08x}"),
                None => format!("#{id:08x}"),
            },
            Marked::Field(name) => name.to_owned(),
            Marked::VectorCount => "count".to_owned(),
            Marked::Item(index) => format!("[{index}]"),
        }
    }
}

/// The name of constructor `id` in `table`, or of the built-ins every schema shares.
pub fn constructor_name(table: &[ConstructorInfo], id: u32) -> Option<&'static str> {
    match id {
        super::decode::VECTOR_ID => Some("Vector"),
        super::decode::BOOL_TRUE_ID => Some("boolTrue"),
        super::decode::BOOL_FALSE_ID => Some("boolFalse"),
        _ => table
            .iter()
            .find(|info| info.id == id)
            .map(|info| info.name),
    }
}

/// A decoded value (or why it did not decode) with the spans seen on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct Annotated<T> {
    pub value: Result<T, DecodeError>,
    /// Parents before children; on an error, the spans read before it (the last one
    /// reaches where decoding stopped).
    pub marks: Vec<Mark>,
}

/// Decodes `bytes` as one `T` spanning all of them, noting every span on the way.
pub fn annotate<T: TlRead>(bytes: &[u8]) -> Annotated<T> {
    let mut reader = Reader::annotating(bytes);
    let value = T::read_from(&mut reader);
    let (value, marks) = match value {
        Ok(value) => {
            let at = reader.position();
            let remaining = reader.remaining();
            let marks = reader.into_marks();
            match remaining {
                0 => (Ok(value), marks),
                count => (Err(DecodeError::TrailingBytes { count, at }), marks),
            }
        }
        Err(error) => (Err(error), reader.into_marks()),
    };
    Annotated { value, marks }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tl::e2e::{self, enums, types, CONSTRUCTORS};
    use crate::tl::TlWrite;

    fn layer_message() -> e2e::Object {
        e2e::Object::DecryptedMessageLayer(types::DecryptedMessageLayer {
            random_bytes: vec![0xab; 15],
            layer: 144,
            in_seq_no: 3,
            out_seq_no: 2,
            message: enums::DecryptedMessage::DecryptedMessageService(
                types::DecryptedMessageService {
                    random_id: 7,
                    action: enums::DecryptedMessageAction::DecryptedMessageActionNotifyLayer(
                        types::DecryptedMessageActionNotifyLayer { layer: 144 },
                    ),
                },
            ),
        })
    }

    fn labelled(marks: &[Mark]) -> Vec<(String, usize, usize, usize)> {
        marks
            .iter()
            .map(|m| (m.label(CONSTRUCTORS), m.start, m.end, m.depth))
            .collect()
    }

    #[test]
    fn each_field_of_a_layer_message_is_marked_at_its_byte_offsets() {
        let bytes = layer_message().to_bytes();
        let annotated = annotate::<e2e::Object>(&bytes);
        assert_eq!(annotated.value, Ok(layer_message()));
        let marks = labelled(&annotated.marks);
        let expect = |label: &str, start: usize, end: usize, depth: usize| {
            assert!(
                marks.contains(&(label.to_owned(), start, end, depth)),
                "no {label} at {start}..{end} (depth {depth}) in {marks:#?}"
            );
        };
        expect("decryptedMessageLayer#1be31789", 0, 4, 0);
        // 1 length byte + 15 bytes, already a multiple of 4: no padding.
        expect("random_bytes", 4, 20, 0);
        expect("layer", 20, 24, 0);
        expect("in_seq_no", 24, 28, 0);
        expect("out_seq_no", 28, 32, 0);
        expect("message", 32, bytes.len(), 0);
        expect("decryptedMessageService#73164160", 32, 36, 1);
        expect("random_id", 36, 44, 1);
        expect("action", 44, bytes.len(), 1);
        expect("layer", bytes.len() - 4, bytes.len(), 2);
    }

    #[test]
    fn parents_come_before_their_children_and_enclose_them() {
        let bytes = layer_message().to_bytes();
        let marks = annotate::<e2e::Object>(&bytes).marks;
        for (i, child) in marks.iter().enumerate() {
            if child.depth == 0 {
                continue;
            }
            let parent = marks[..i]
                .iter()
                .rev()
                .find(|m| m.depth == child.depth - 1)
                .expect("a parent before every nested span");
            assert!(parent.start <= child.start && child.end <= parent.end);
        }
    }

    #[test]
    fn vectors_mark_their_count_and_each_item() {
        let bytes = vec![1i64, 2].to_bytes();
        let annotated = annotate::<Vec<i64>>(&bytes);
        assert_eq!(annotated.value, Ok(vec![1, 2]));
        assert_eq!(
            labelled(&annotated.marks),
            vec![
                ("Vector#1cb5c415".to_owned(), 0, 4, 0),
                ("count".to_owned(), 4, 8, 0),
                ("[0]".to_owned(), 8, 16, 0),
                ("[1]".to_owned(), 16, 24, 0),
            ]
        );
    }

    #[test]
    fn a_truncated_object_keeps_the_marks_read_before_the_error() {
        let bytes = layer_message().to_bytes();
        let annotated = annotate::<e2e::Object>(&bytes[..26]);
        assert!(matches!(
            annotated.value,
            Err(DecodeError::Truncated { at: 24, .. })
        ));
        let marks = labelled(&annotated.marks);
        assert!(marks.contains(&("layer".to_owned(), 20, 24, 0)));
        // The field being read when the input ran out ends where decoding stopped.
        assert!(
            marks.contains(&("in_seq_no".to_owned(), 24, 24, 0)),
            "{marks:?}"
        );
    }

    #[test]
    fn trailing_bytes_are_an_error_with_the_marks_of_the_whole_object() {
        let mut bytes = layer_message().to_bytes();
        let len = bytes.len();
        bytes.extend_from_slice(&[0; 4]);
        let annotated = annotate::<e2e::Object>(&bytes);
        assert_eq!(
            annotated.value,
            Err(DecodeError::TrailingBytes { count: 4, at: len })
        );
        assert!(annotated.marks.iter().any(|m| m.end == len));
    }

    #[test]
    fn a_plain_reader_notes_nothing() {
        let bytes = layer_message().to_bytes();
        let mut reader = Reader::new(&bytes);
        e2e::Object::read_from(&mut reader).unwrap();
        assert!(reader.into_marks().is_empty());
    }
}
