//! A file's text as the loader holds it: compressed (LZ4) once the file is parsed.
//!
//! The texts of every file of a repo are held for the whole scan, yet after parsing only a
//! few are read again: the files a finding points into (for a line and column), the files a
//! fix edits. YAML compresses to about a third; a text is unpacked on its first read and kept.

use std::sync::OnceLock;

#[derive(Clone)]
pub struct PackedText {
    packed: Box<[u8]>,
    unpacked: OnceLock<Box<str>>,
}

impl PackedText {
    pub fn new(text: &str) -> PackedText {
        PackedText {
            packed: lz4_flex::compress_prepend_size(text.as_bytes()).into_boxed_slice(),
            unpacked: OnceLock::new(),
        }
    }

    /// The text, unpacked on the first call.
    pub fn get(&self) -> &str {
        self.unpacked.get_or_init(|| {
            let bytes = lz4_flex::decompress_size_prepended(&self.packed)
                .expect("a text packed by PackedText::new unpacks");
            String::from_utf8(bytes)
                .expect("a text packed from a str is UTF-8")
                .into_boxed_str()
        })
    }

    /// Length of the text in bytes (without unpacking it).
    pub fn len(&self) -> usize {
        // `compress_prepend_size` writes the length first, as a little-endian u32.
        let head: [u8; 4] = self.packed[..4].try_into().expect("a length is prepended");
        u32::from_le_bytes(head) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes held now (packed, and unpacked if it was read).
    pub fn held(&self) -> usize {
        self.packed.len() + self.unpacked.get().map_or(0, |t| t.len())
    }
}

impl std::fmt::Debug for PackedText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PackedText")
            .field("packed", &self.packed.len())
            .field("unpacked", &self.unpacked.get().is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gives_back_the_text() {
        for text in ["", "a: 1\n", "ünï: cödé\n", &"key: value\n".repeat(10_000)] {
            let p = PackedText::new(text);
            assert_eq!(p.len(), text.len());
            assert_eq!(p.get(), text);
            assert_eq!(p.get(), text);
        }
        let long = "apiVersion: v1\nkind: ConfigMap\n".repeat(1000);
        assert!(PackedText::new(&long).held() < long.len() / 4);
    }
}
