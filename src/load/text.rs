//! A file's text as the loader holds it: packed (LZ4) with its neighbours once parsed.
//!
//! The texts of every file of a repo are held for the whole scan, yet after parsing only a
//! few are read again: the files a finding points into (for a line and column), the files a
//! fix edits. Files are packed in blocks of about [`BLOCK`] bytes (a manifest alone is too
//! small to compress well: its neighbours share its keys); a block is unpacked on the first
//! read of one of its files and kept.

use std::sync::{Arc, OnceLock};

/// Bytes of text packed together (YAML packs to about a quarter).
pub const BLOCK: usize = 64 * 1024;

#[derive(Clone)]
pub enum Text {
    /// As read (a file parsed on its own, or not yet packed).
    Plain(Box<str>),
    Packed {
        block: Arc<Block>,
        start: u32,
        len: u32,
    },
}

pub struct Block {
    packed: Box<[u8]>,
    unpacked: OnceLock<Box<str>>,
}

impl Block {
    fn text(&self) -> &str {
        self.unpacked.get_or_init(|| {
            let bytes = lz4_flex::decompress_size_prepended(&self.packed)
                .expect("a block packed by `pack` unpacks");
            String::from_utf8(bytes)
                .expect("a block packed from texts is UTF-8")
                .into_boxed_str()
        })
    }
}

impl Text {
    /// The text (unpacking its block on the first read).
    pub fn get(&self) -> &str {
        match self {
            Text::Plain(text) => text,
            Text::Packed { block, start, len } => {
                &block.text()[*start as usize..*start as usize + *len as usize]
            }
        }
    }

    /// Length in bytes, without unpacking.
    pub fn len(&self) -> usize {
        match self {
            Text::Plain(text) => text.len(),
            Text::Packed { len, .. } => *len as usize,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Pack the plain texts of `texts` into one block (texts already packed stay as they are).
pub fn pack<'a>(texts: impl Iterator<Item = &'a mut Text>) {
    let mut plain: Vec<&mut Text> = texts.filter(|t| matches!(t, Text::Plain(_))).collect();
    let total: usize = plain.iter().map(|t| t.len()).sum();
    if plain.is_empty() || total > u32::MAX as usize {
        return;
    }
    let mut joined = String::with_capacity(total);
    let mut starts = Vec::with_capacity(plain.len());
    for t in &plain {
        starts.push(joined.len() as u32);
        joined.push_str(t.get());
    }
    let block = Arc::new(Block {
        packed: lz4_flex::compress_prepend_size(joined.as_bytes()).into_boxed_slice(),
        unpacked: OnceLock::new(),
    });
    for (t, start) in plain.iter_mut().zip(starts) {
        let len = t.len() as u32;
        **t = Text::Packed {
            block: Arc::clone(&block),
            start,
            len,
        };
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Text::Plain(text) => f.debug_tuple("Plain").field(&text.len()).finish(),
            Text::Packed { block, start, len } => f
                .debug_struct("Packed")
                .field("block", &block.packed.len())
                .field("start", start)
                .field("len", len)
                .finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_text_comes_back_from_its_block() {
        let texts = ["", "a: 1\n", "ünï: cödé\n", &"key: value\n".repeat(10_000)];
        let mut held: Vec<Text> = texts.iter().map(|t| Text::Plain((*t).into())).collect();
        pack(held.iter_mut());
        for (t, want) in held.iter().zip(texts) {
            assert!(matches!(t, Text::Packed { .. }));
            assert_eq!(t.len(), want.len());
            assert_eq!(t.get(), want);
        }
        let Text::Packed { block, .. } = &held[3] else {
            unreachable!()
        };
        assert!(block.packed.len() < texts[3].len() / 4);
    }
}
