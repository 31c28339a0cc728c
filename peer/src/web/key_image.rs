//! # The key visualization as a real image
//!
//! Telegram's apps draw the key hash (SPEC §1.7) as a 12×12 picture in four colours; two
//! users who see the same picture on their two phones share one key, so nobody sits in
//! the middle of their Diffie-Hellman exchange. The pixels and the colours come from
//! [`KeyVisualization`] (`common`); this only enlarges each pixel to a square and encodes
//! the result as a PNG, so the page shows exactly what Rust computed.

use secretchat_common::crypto::visualization::{KeyVisualization, SIDE};

/// How many image pixels wide one key pixel is.
pub const SCALE: usize = 12;

/// The picture as a `SIDE·SCALE`-square RGB PNG.
pub fn png(visualization: &KeyVisualization) -> Vec<u8> {
    let side = SIDE * SCALE;
    let pixels = visualization.pixels();
    let mut rgb = Vec::with_capacity(side * side * 3);
    for y in 0..side {
        for x in 0..side {
            let (r, g, b) = pixels[(y / SCALE) * SIDE + x / SCALE].rgb();
            rgb.extend_from_slice(&[r, g, b]);
        }
    }
    let mut out = Vec::new();
    // `side` is 144: it fits a u32, and writing into a Vec cannot fail.
    let mut encoder = png::Encoder::new(&mut out, side as u32, side as u32);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    if let Ok(mut writer) = encoder.write_header() {
        let _ = writer.write_image_data(&rgb);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use secretchat_common::crypto::visualization::Colour;

    #[test]
    fn each_key_pixel_becomes_a_square_of_its_colour() {
        let mut bytes = [0u8; 36];
        bytes[0] = 0b11_10_01_00; // the first four pixels: the four colours in order
        let png_bytes = png(&KeyVisualization::from_bytes(bytes));
        let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut image = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut image).unwrap();
        assert_eq!((info.width, info.height), (144, 144));
        let at = |x: usize, y: usize| {
            let i = (y * 144 + x) * 3;
            (image[i], image[i + 1], image[i + 2])
        };
        for (n, colour) in [
            Colour::White,
            Colour::LightBlue,
            Colour::DarkBlue,
            Colour::Blue,
        ]
        .into_iter()
        .enumerate()
        {
            assert_eq!(at(n * SCALE, 0), colour.rgb());
            assert_eq!(at(n * SCALE + SCALE - 1, SCALE - 1), colour.rgb());
        }
    }
}
