//! The key visualization: what two users compare (a picture, or hex numbers) to be sure no
//! one sits in the middle of their Diffie-Hellman exchange.
//!
//! SPEC §1.7. The "key hash" is 36 bytes:
//!
//! ```text
//! key_hash = SHA1(initial_key)[0..16] ‖ SHA256(key_in_use_at_layer_46)[0..20]
//! ```
//!
//! For a chat created at layer ≥ 46 both halves hash the same, original key. The SHA-1 half
//! always comes from the *first* key of the chat, even after PFS re-keying, so the picture
//! users compared once stays valid.
//!
//! Shown two ways (td_api `secretChat.key_hash`):
//!
//! * a 12×12 picture: the 36 bytes read as 144 two-bit values, least significant bits of
//!   each byte first, filled left to right and top to bottom, each value picking one of four
//!   colours;
//! * the first 32 bytes as 32 two-digit hex numbers.

use std::fmt::Write as _;

use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::key::ChatKey;

/// Length of the key hash in bytes.
pub const KEY_HASH_LEN: usize = 36;
/// The picture is `SIDE × SIDE` pixels.
pub const SIDE: usize = 12;
/// Number of pixels: 144 two-bit values fill exactly 36 bytes.
pub const PIXELS: usize = SIDE * SIDE;

/// One of the four colours of the picture, indexed by a pixel's two bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Colour {
    /// 0 → `#FFFFFF`
    White,
    /// 1 → `#D5E6F3`
    LightBlue,
    /// 2 → `#2D5775`
    DarkBlue,
    /// 3 → `#2F99C9`
    Blue,
}

impl Colour {
    const ALL: [Colour; 4] = [
        Colour::White,
        Colour::LightBlue,
        Colour::DarkBlue,
        Colour::Blue,
    ];

    /// The colour for a two-bit value (only the low two bits of `bits` are used).
    pub const fn from_bits(bits: u8) -> Self {
        Self::ALL[(bits & 0b11) as usize]
    }

    /// The colour index, 0..=3.
    pub const fn index(self) -> u8 {
        self as u8
    }

    /// The colour as `(red, green, blue)`.
    pub const fn rgb(self) -> (u8, u8, u8) {
        match self {
            Colour::White => (0xff, 0xff, 0xff),
            Colour::LightBlue => (0xd5, 0xe6, 0xf3),
            Colour::DarkBlue => (0x2d, 0x57, 0x75),
            Colour::Blue => (0x2f, 0x99, 0xc9),
        }
    }

    /// A character standing for the colour on a plain terminal: lighter colour, lighter shade.
    pub const fn block_char(self) -> char {
        match self {
            Colour::White => ' ',
            Colour::LightBlue => '░',
            Colour::Blue => '▒',
            Colour::DarkBlue => '█',
        }
    }
}

/// The 36-byte key hash both users see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyVisualization([u8; KEY_HASH_LEN]);

impl KeyVisualization {
    /// `SHA1(initial_key)[0..16] ‖ SHA256(key_at_layer_46)[0..20]`.
    pub fn new(initial_key: &ChatKey, key_at_layer_46: &ChatKey) -> Self {
        let sha1 = Sha1::digest(initial_key.as_bytes());
        let sha256 = Sha256::digest(key_at_layer_46.as_bytes());
        let mut bytes = [0u8; KEY_HASH_LEN];
        bytes[..16].copy_from_slice(&sha1[..16]);
        bytes[16..].copy_from_slice(&sha256[..20]);
        Self(bytes)
    }

    /// From the halves kept separately: the SHA-1 half of the original key (kept for ever,
    /// even after re-keying) and the key in use when the chat reached layer 46.
    pub fn from_parts(initial_sha1: [u8; 16], key_at_layer_46: &ChatKey) -> Self {
        let sha256 = Sha256::digest(key_at_layer_46.as_bytes());
        let mut bytes = [0u8; KEY_HASH_LEN];
        bytes[..16].copy_from_slice(&initial_sha1);
        bytes[16..].copy_from_slice(&sha256[..20]);
        Self(bytes)
    }

    /// The common case: a chat created at layer ≥ 46, both halves from the same key.
    pub fn of_key(key: &ChatKey) -> Self {
        Self::new(key, key)
    }

    pub const fn from_bytes(bytes: [u8; KEY_HASH_LEN]) -> Self {
        Self(bytes)
    }

    pub const fn as_bytes(&self) -> &[u8; KEY_HASH_LEN] {
        &self.0
    }

    /// The 144 pixels, row by row: pixel `i` is bits `2·(i mod 4) ..` of byte `i / 4`.
    pub fn pixels(&self) -> [Colour; PIXELS] {
        std::array::from_fn(|i| {
            let byte = self.0[i / 4];
            Colour::from_bits(byte >> (2 * (i % 4)))
        })
    }

    /// The picture as 12 lines of block characters, each pixel two characters wide so it
    /// looks square in a terminal.
    pub fn render_blocks(&self) -> Vec<String> {
        self.render_with(|colour, line| {
            line.push(colour.block_char());
            line.push(colour.block_char());
        })
    }

    /// The picture as 12 lines using 24-bit ANSI background colours, in the real colours.
    pub fn render_ansi(&self) -> Vec<String> {
        self.render_with(|colour, line| {
            let (r, g, b) = colour.rgb();
            // Writing to a String cannot fail.
            let _ = write!(line, "\x1b[48;2;{r};{g};{b}m  ");
        })
        .into_iter()
        .map(|mut line| {
            line.push_str("\x1b[0m");
            line
        })
        .collect()
    }

    /// The first 32 bytes as 32 two-digit hex numbers, in 4 lines of 8.
    pub fn hex_lines(&self) -> Vec<String> {
        self.0[..32]
            .chunks(8)
            .map(|row| {
                row.iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }

    fn render_with(&self, mut paint: impl FnMut(Colour, &mut String)) -> Vec<String> {
        self.pixels()
            .chunks(SIDE)
            .map(|row| {
                let mut line = String::new();
                for &colour in row {
                    paint(colour, &mut line);
                }
                line
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixels_take_the_low_bits_of_each_byte_first() {
        let mut bytes = [0u8; KEY_HASH_LEN];
        bytes[0] = 0b11_10_01_00;
        bytes[35] = 0b00_01_10_11;
        let pixels = KeyVisualization::from_bytes(bytes).pixels();
        assert_eq!(
            pixels[..4],
            [
                Colour::White,
                Colour::LightBlue,
                Colour::DarkBlue,
                Colour::Blue
            ]
        );
        assert_eq!(
            pixels[140..],
            [
                Colour::Blue,
                Colour::DarkBlue,
                Colour::LightBlue,
                Colour::White
            ]
        );
    }

    #[test]
    fn block_rendering_is_twelve_lines_of_twelve_square_pixels() {
        let lines = KeyVisualization::from_bytes([0x1b; KEY_HASH_LEN]).render_blocks();
        assert_eq!(lines.len(), SIDE);
        assert!(lines.iter().all(|line| line.chars().count() == 2 * SIDE));
        // 0x1b = 0b00_01_10_11 → Blue, DarkBlue, LightBlue, White, repeated.
        assert!(lines[0].starts_with("▒▒██░░  ▒▒"), "{:?}", lines[0]);
    }

    #[test]
    fn ansi_rendering_uses_the_four_spec_colours_and_resets() {
        let lines = KeyVisualization::from_bytes([0x1b; KEY_HASH_LEN]).render_ansi();
        assert_eq!(lines.len(), SIDE);
        assert!(lines[0].starts_with("\x1b[48;2;47;153;201m  \x1b[48;2;45;87;117m  "));
        assert!(lines[0].ends_with("\x1b[0m"));
    }

    #[test]
    fn hex_form_is_the_first_32_bytes_in_four_rows() {
        let mut bytes = [0u8; KEY_HASH_LEN];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = i as u8;
        }
        let lines = KeyVisualization::from_bytes(bytes).hex_lines();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0], "00 01 02 03 04 05 06 07");
        assert_eq!(lines[3], "18 19 1a 1b 1c 1d 1e 1f");
    }
}
