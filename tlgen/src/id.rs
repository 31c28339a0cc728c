//! Constructor ids: the CRC32 of a normalized declaration.
//!
//! A TL constructor id is not arbitrary: it is the CRC32 (IEEE) of the declaration text
//! after normalization (schema header of `secret_api.tl`):
//!
//! 1. drop the `#id` itself;
//! 2. drop every `name:flags.N?true` field (a bare flag bit carries no data);
//! 3. write `Vector<X>` as `Vector X`;
//! 4. write the field type `bytes` as `string` (same wire encoding);
//! 5. drop the braces around a type variable: `{X:Type}` → `X:Type`;
//! 6. single spaces between words, no trailing `;`.
//!
//! One published secret-chat id does not follow rule 4: `decryptedMessageMediaDocument#6abd9782`
//! (layer 143) is the CRC32 of its line with `bytes` left as written. [`matches()`] accepts
//! either form so a schema with that id still verifies, and says which rule applied.

/// The CRC32 of `body` (a declaration without its `;`) under the standard normalization.
pub fn constructor_id(body: &str) -> u32 {
    crc32(&normalize(body, BytesAs::String))
}

/// Which spelling of `bytes` a normalization uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BytesAs {
    /// The standard rule: `bytes` counts as `string`.
    String,
    /// `bytes` kept as written (the layer-143 document constructor).
    Bytes,
}

/// The normalization under which `declared` is the CRC32 of `body`, if any.
pub fn matching_rule(declared: u32, body: &str) -> Option<BytesAs> {
    [BytesAs::String, BytesAs::Bytes]
        .into_iter()
        .find(|&rule| crc32(&normalize(body, rule)) == declared)
}

/// Whether `declared` is the CRC32 of `body` under either normalization.
pub fn matches(declared: u32, body: &str) -> bool {
    matching_rule(declared, body).is_some()
}

/// The normalized text the CRC32 is taken over.
pub fn normalize(body: &str, bytes_as: BytesAs) -> String {
    let body = body.trim().trim_end_matches(';');
    let mut words = Vec::new();
    for (index, word) in body.split_whitespace().enumerate() {
        if index == 0 {
            words.push(word.split('#').next().unwrap_or(word).to_owned());
            continue;
        }
        if is_true_flag(word) {
            continue;
        }
        let spaced = word.replace('<', " ").replace(['>', '{', '}'], "");
        for part in spaced.split(' ') {
            words.push(rename_bytes(part, bytes_as));
        }
    }
    words.join(" ")
}

fn is_true_flag(word: &str) -> bool {
    word.split_once(':')
        .and_then(|(_, ty)| ty.split_once('?'))
        .is_some_and(|(condition, ty)| ty == "true" && condition.contains('.'))
}

fn rename_bytes(part: &str, bytes_as: BytesAs) -> String {
    if bytes_as == BytesAs::Bytes {
        return part.to_owned();
    }
    // The type is whatever follows the last ':' or '?' (or the whole word inside a Vector).
    let split = part.rfind([':', '?']).map_or(0, |at| at + 1);
    let (head, ty) = part.split_at(split);
    if ty == "bytes" {
        format!("{head}string")
    } else {
        part.to_owned()
    }
}

fn crc32(text: &str) -> u32 {
    crc32fast::hash(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notify_layer_id_is_the_crc32_of_its_line() {
        let body = "decryptedMessageActionNotifyLayer#f3048883 layer:int = DecryptedMessageAction";
        assert_eq!(constructor_id(body), 0xf3048883);
    }

    #[test]
    fn true_flags_vectors_and_bytes_are_normalized() {
        let body = "documentAttributeAudio#9852f9c6 flags:# voice:flags.10?true duration:int \
            title:flags.0?string performer:flags.1?string waveform:flags.2?bytes = DocumentAttribute";
        assert_eq!(
            normalize(body, BytesAs::String),
            "documentAttributeAudio flags:# duration:int title:flags.0?string \
             performer:flags.1?string waveform:flags.2?string = DocumentAttribute"
        );
        assert_eq!(constructor_id(body), 0x9852f9c6);
        let vector = "decryptedMessageActionReadMessages#c4f40be random_ids:Vector<long> = DecryptedMessageAction";
        assert_eq!(constructor_id(vector), 0x0c4f40be);
    }

    #[test]
    fn a_generic_wrapper_id_keeps_its_type_variable_without_braces() {
        let body = "invokeWithLayer#da9b0d0d {X:Type} layer:int query:!X = X";
        assert_eq!(
            normalize(body, BytesAs::String),
            "invokeWithLayer X:Type layer:int query:!X = X"
        );
        assert_eq!(constructor_id(body), 0xda9b0d0d);
        let after = "invokeAfterMsgs#3dc4b4f0 {X:Type} msg_ids:Vector<long> query:!X = X";
        assert_eq!(constructor_id(after), 0x3dc4b4f0);
    }

    #[test]
    fn a_field_named_bytes_keeps_its_name() {
        let body = "photoCachedSize#e9a734fa type:string location:FileLocation w:int h:int bytes:bytes = PhotoSize";
        assert_eq!(constructor_id(body), 0xe9a734fa);
    }

    #[test]
    fn document_143_id_uses_bytes_as_written() {
        let body = "decryptedMessageMediaDocument#6abd9782 thumb:bytes thumb_w:int thumb_h:int \
            mime_type:string size:long key:bytes iv:bytes attributes:Vector<DocumentAttribute> \
            caption:string = DecryptedMessageMedia";
        assert_eq!(matching_rule(0x6abd9782, body), Some(BytesAs::Bytes));
    }
}
