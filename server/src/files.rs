//! # Encrypted files: parts, assembly, storage, download ranges
//!
//! A secret-chat file is encrypted by the sender (AES-256-IGE with a fresh key and IV that
//! travel only inside the encrypted message) and uploaded as opaque bytes in parts
//! (SPEC §6): `upload.saveFilePart(file_id, file_part, bytes)` for small files,
//! `upload.saveBigFilePart(file_id, file_part, file_total_parts, bytes)` for big ones. The
//! part rules, from Telegram's files documentation:
//!
//! * a part is 1..=524288 bytes (`FILE_PART_EMPTY`, `FILE_PART_TOO_BIG`);
//! * part numbers run `0..max` (`FILE_PART_INVALID`);
//! * all parts have the same size except the last, which may be smaller
//!   (`FILE_PART_SIZE_CHANGED`), and that common size is a multiple of 1024 dividing
//!   524288 (`FILE_PART_SIZE_INVALID`).
//!
//! Parts may arrive in any order, so the mock checks the rule against what it has: every
//! part except the highest-numbered one so far must have the common size, and the highest
//! may be smaller. A sending method then names the upload
//! (`inputEncryptedFileUploaded{id, parts, md5_checksum, key_fingerprint}`) and the server
//! assembles it into one blob — `FILE_PART_<X>_MISSING`, `FILE_PARTS_INVALID`,
//! `MD5_CHECKSUM_INVALID` — and stores it as `encryptedFile{id, access_hash, size, dc_id,
//! key_fingerprint}`. Forwarding names the stored file (`inputEncryptedFile{id,
//! access_hash}`) and shares the same blob: nothing is copied.
//!
//! `upload.getFile(inputEncryptedFileLocation, offset, limit)` returns a range under the
//! usual (non-precise) rules: `offset % 4096 == 0`, `limit % 4096 == 0`,
//! `1048576 % limit == 0`, and the range stays inside one 1 MiB block.

use std::collections::BTreeMap;

use bytes::{Bytes, BytesMut};
use dashmap::mapref::entry::Entry;
use dashmap::DashMap;
use md5::{Digest, Md5};

use crate::device::DeviceId;
use crate::error::RpcError;

/// The largest part: 512 KiB.
pub const MAX_PART_BYTES: usize = 524_288;
/// `dc_id` of every stored file: the mock is one data centre, number 2 — where Telethon and
/// Pyrogram start and what `help.getConfig` calls `this_dc`, so a client downloads a file
/// from its home DC and never asks for `auth.exportAuthorization`.
pub const DC_ID: i32 = 2;

/// Whether `len` can be the common part size: a multiple of 1024 that divides 524288.
pub fn is_valid_part_size(len: usize) -> bool {
    len > 0 && len.is_multiple_of(1024) && MAX_PART_BYTES.is_multiple_of(len)
}

/// Which call started an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadKind {
    /// `upload.saveFilePart`.
    Small,
    /// `upload.saveBigFilePart` with its `file_total_parts` (−1 while unknown, as tdlib
    /// sends it when it does not know the size yet).
    Big { total_parts: i32 },
}

/// The limits a part and an upload are checked against.
#[derive(Debug, Clone, Copy)]
pub struct UploadLimits {
    pub max_parts: i32,
    pub max_file_bytes: usize,
}

/// Saves one part of the upload `(device, file_id)`, starting that upload with its first
/// part. A refused first part leaves no upload behind, so a failed part changes nothing.
pub fn save_upload_part(
    uploads: &DashMap<(DeviceId, i64), PartialUpload>,
    (device, file_id): (DeviceId, i64),
    kind: UploadKind,
    part: i32,
    bytes: Bytes,
    limits: UploadLimits,
) -> Result<(), RpcError> {
    match uploads.entry((device, file_id)) {
        Entry::Occupied(mut upload) => upload.get_mut().save_part(kind, part, bytes, limits),
        Entry::Vacant(vacant) => {
            let mut upload = PartialUpload::new(kind);
            upload.save_part(kind, part, bytes, limits)?;
            vacant.insert(upload);
            Ok(())
        }
    }
}

/// The parts of one `file_id` uploaded so far by one device.
#[derive(Debug)]
pub struct PartialUpload {
    kind: UploadKind,
    parts: BTreeMap<i32, Bytes>,
    total_bytes: usize,
}

impl PartialUpload {
    /// An upload with no parts yet.
    pub fn new(kind: UploadKind) -> Self {
        Self {
            kind,
            parts: BTreeMap::new(),
            total_bytes: 0,
        }
    }

    pub fn kind(&self) -> UploadKind {
        self.kind
    }

    pub fn total_bytes(&self) -> usize {
        self.total_bytes
    }

    /// Stores one part after checking every rule; on error nothing changes. Saving a part
    /// number again replaces it (clients retry).
    pub fn save_part(
        &mut self,
        kind: UploadKind,
        part: i32,
        bytes: Bytes,
        limits: UploadLimits,
    ) -> Result<(), RpcError> {
        if bytes.is_empty() {
            return Err(RpcError::FilePartEmpty);
        }
        if bytes.len() > MAX_PART_BYTES {
            return Err(RpcError::FilePartTooBig { len: bytes.len() });
        }
        self.check_kind(kind, limits)?;
        let part_limit = match kind {
            UploadKind::Big { total_parts } if total_parts > 0 => total_parts,
            _ => limits.max_parts,
        };
        if part < 0 || part >= part_limit {
            return Err(RpcError::FilePartInvalid {
                part,
                max: part_limit,
            });
        }
        self.check_size(part, bytes.len())?;
        let replaced = self.parts.get(&part).map_or(0, Bytes::len);
        let total = self.total_bytes - replaced + bytes.len();
        if total > limits.max_file_bytes {
            return Err(RpcError::FilePartsInvalid {
                detail: format!(
                    "the file would exceed the server's limit of {} bytes",
                    limits.max_file_bytes
                ),
            });
        }
        self.parts.insert(part, bytes);
        self.total_bytes = total;
        Ok(())
    }

    fn check_kind(&self, kind: UploadKind, limits: UploadLimits) -> Result<(), RpcError> {
        if let UploadKind::Big { total_parts } = kind {
            if total_parts != -1 && !(1..=limits.max_parts).contains(&total_parts) {
                return Err(RpcError::FilePartsInvalid {
                    detail: format!(
                        "file_total_parts {total_parts} is outside 1..={}",
                        limits.max_parts
                    ),
                });
            }
        }
        match (self.kind, kind) {
            (UploadKind::Small, UploadKind::Small) => Ok(()),
            (UploadKind::Big { total_parts: was }, UploadKind::Big { total_parts: now })
                if was == now || was == -1 || now == -1 =>
            {
                Ok(())
            }
            (was, now) => Err(RpcError::FilePartsInvalid {
                detail: format!("this file_id was started as {was:?}, not {now:?}"),
            }),
        }
    }

    /// The part-size rule against the parts already stored (a previous copy of `part`
    /// excluded): all parts but the highest-numbered share one valid size; the highest may
    /// be smaller.
    fn check_size(&self, part: i32, len: usize) -> Result<(), RpcError> {
        let mut others = self.parts.iter().filter(|(n, _)| **n != part);
        let Some((lowest, lowest_bytes)) = others.next() else {
            return Ok(());
        };
        let Some((highest, highest_bytes)) = self
            .parts
            .iter()
            .rev()
            .find(|(n, _)| **n != part)
            .map(|(n, b)| (*n, b.len()))
        else {
            return Ok(());
        };
        // The common size of the parts below the highest, if there are any.
        let common = (*lowest != highest).then_some(lowest_bytes.len());
        if part > highest {
            // The old highest part becomes a full one.
            if !is_valid_part_size(highest_bytes) {
                return Err(RpcError::FilePartSizeInvalid { len: highest_bytes });
            }
            if let Some(common) = common.filter(|c| *c != highest_bytes) {
                return Err(RpcError::FilePartSizeChanged {
                    len: highest_bytes,
                    part_size: common,
                });
            }
            if len > highest_bytes {
                return Err(RpcError::FilePartSizeChanged {
                    len,
                    part_size: highest_bytes,
                });
            }
        } else {
            // This part is a full one.
            match common {
                Some(common) if len != common => {
                    return Err(RpcError::FilePartSizeChanged {
                        len,
                        part_size: common,
                    })
                }
                Some(_) => {}
                None if !is_valid_part_size(len) => {
                    return Err(RpcError::FilePartSizeInvalid { len })
                }
                None if highest_bytes > len => {
                    return Err(RpcError::FilePartSizeChanged {
                        len: highest_bytes,
                        part_size: len,
                    })
                }
                None => {}
            }
        }
        Ok(())
    }

    /// The final step: checks that exactly parts `0..parts` are present (and, if given, the
    /// hex MD5 of the whole upload) and joins them into one blob.
    pub fn assemble(
        &self,
        parts: i32,
        md5_checksum: &str,
        limits: UploadLimits,
    ) -> Result<Bytes, RpcError> {
        if !(1..=limits.max_parts).contains(&parts) {
            return Err(RpcError::FilePartsInvalid {
                detail: format!("parts {parts} is outside 1..={}", limits.max_parts),
            });
        }
        if let UploadKind::Big { total_parts } = self.kind {
            if total_parts != -1 && total_parts != parts {
                return Err(RpcError::FilePartsInvalid {
                    detail: format!("parts {parts} differs from file_total_parts {total_parts}"),
                });
            }
        }
        if let Some(missing) = (0..parts).find(|n| !self.parts.contains_key(n)) {
            return Err(RpcError::FilePartMissing { part: missing });
        }
        if let Some((extra, _)) = self.parts.range(parts..).next() {
            return Err(RpcError::FilePartsInvalid {
                detail: format!("part {extra} was uploaded but parts is {parts}"),
            });
        }
        let mut blob = BytesMut::with_capacity(self.total_bytes);
        for bytes in self.parts.values() {
            blob.extend_from_slice(bytes);
        }
        if !md5_checksum.is_empty() {
            let digest = hex::encode(Md5::digest(&blob));
            if !digest.eq_ignore_ascii_case(md5_checksum) {
                return Err(RpcError::Md5ChecksumInvalid);
            }
        }
        Ok(blob.freeze())
    }
}

/// A finalized file: `encryptedFile{id, access_hash, size, dc_id, key_fingerprint}` and
/// its bytes, shared by every message that carries it.
#[derive(Debug)]
pub struct StoredFile {
    pub id: i64,
    pub access_hash: i64,
    pub key_fingerprint: i32,
    /// Server date of storage (`upload.file.mtime`).
    pub date: i32,
    pub blob: Bytes,
}

impl StoredFile {
    /// `upload.getFile`'s range: checks the alignment rules and returns the bytes from
    /// `offset`, at most `limit` of them (empty past the end). Shares, never copies.
    pub fn range(&self, offset: i64, limit: i32) -> Result<Bytes, RpcError> {
        const BLOCK: i64 = 1024 * 1024;
        if offset < 0 || offset % 4096 != 0 {
            return Err(RpcError::OffsetInvalid { offset });
        }
        // The range must not cross a 1 MiB boundary: (offset mod 1 MiB) + limit <= 1 MiB
        // (written this way, it cannot overflow for any offset).
        let limit_ok = limit > 0
            && limit % 4096 == 0
            && BLOCK % i64::from(limit) == 0
            && offset % BLOCK + i64::from(limit) <= BLOCK;
        if !limit_ok {
            return Err(RpcError::LimitInvalid { limit });
        }
        let len = self.blob.len();
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(len);
        let end = start
            .saturating_add(usize::try_from(limit).unwrap_or(0))
            .min(len);
        Ok(self.blob.slice(start..end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: UploadLimits = UploadLimits {
        max_parts: 4000,
        max_file_bytes: 10 * 1024 * 1024,
    };

    fn part(len: usize, fill: u8) -> Bytes {
        Bytes::from(vec![fill; len])
    }

    fn small() -> PartialUpload {
        PartialUpload::new(UploadKind::Small)
    }

    #[test]
    fn parts_in_any_order_assemble_in_part_order() {
        let mut upload = small();
        upload
            .save_part(UploadKind::Small, 2, part(100, 3), LIMITS)
            .unwrap();
        upload
            .save_part(UploadKind::Small, 0, part(1024, 1), LIMITS)
            .unwrap();
        upload
            .save_part(UploadKind::Small, 1, part(1024, 2), LIMITS)
            .unwrap();
        let blob = upload.assemble(3, "", LIMITS).unwrap();
        assert_eq!(blob.len(), 2148);
        assert_eq!((blob[0], blob[1024], blob[2048]), (1, 2, 3));
    }

    #[test]
    fn empty_part_is_rejected() {
        assert_eq!(
            small().save_part(UploadKind::Small, 0, Bytes::new(), LIMITS),
            Err(RpcError::FilePartEmpty)
        );
    }

    #[test]
    fn part_over_512_kib_is_too_big() {
        assert_eq!(
            small().save_part(UploadKind::Small, 0, part(MAX_PART_BYTES + 1, 0), LIMITS),
            Err(RpcError::FilePartTooBig {
                len: MAX_PART_BYTES + 1
            })
        );
    }

    #[test]
    fn part_number_outside_0_to_max_is_invalid() {
        let mut upload = small();
        assert_eq!(
            upload.save_part(UploadKind::Small, -1, part(1024, 0), LIMITS),
            Err(RpcError::FilePartInvalid {
                part: -1,
                max: 4000
            })
        );
        assert_eq!(
            upload.save_part(UploadKind::Small, 4000, part(1024, 0), LIMITS),
            Err(RpcError::FilePartInvalid {
                part: 4000,
                max: 4000
            })
        );
    }

    #[test]
    fn big_part_number_must_be_below_file_total_parts() {
        let mut upload = PartialUpload::new(UploadKind::Big { total_parts: 2 });
        assert_eq!(
            upload.save_part(UploadKind::Big { total_parts: 2 }, 2, part(1024, 0), LIMITS),
            Err(RpcError::FilePartInvalid { part: 2, max: 2 })
        );
    }

    #[test]
    fn big_file_total_parts_outside_range_is_parts_invalid() {
        let mut upload = PartialUpload::new(UploadKind::Big { total_parts: 0 });
        assert!(matches!(
            upload.save_part(UploadKind::Big { total_parts: 0 }, 0, part(1024, 0), LIMITS),
            Err(RpcError::FilePartsInvalid { .. })
        ));
        let mut unknown = PartialUpload::new(UploadKind::Big { total_parts: -1 });
        unknown
            .save_part(
                UploadKind::Big { total_parts: -1 },
                0,
                part(1024, 0),
                LIMITS,
            )
            .unwrap();
    }

    #[test]
    fn a_full_part_of_a_size_not_dividing_512_kib_is_size_invalid() {
        let mut upload = small();
        upload
            .save_part(UploadKind::Small, 0, part(3000, 0), LIMITS)
            .unwrap();
        // Part 0 was fine as a possible last part, but now it must be a full one.
        assert_eq!(
            upload.save_part(UploadKind::Small, 1, part(100, 0), LIMITS),
            Err(RpcError::FilePartSizeInvalid { len: 3000 })
        );
        let mut other = small();
        other
            .save_part(UploadKind::Small, 5, part(10, 0), LIMITS)
            .unwrap();
        assert_eq!(
            other.save_part(UploadKind::Small, 1, part(3072 + 1, 0), LIMITS),
            Err(RpcError::FilePartSizeInvalid { len: 3073 })
        );
    }

    #[test]
    fn a_part_of_another_size_is_size_changed() {
        let mut upload = small();
        upload
            .save_part(UploadKind::Small, 0, part(2048, 0), LIMITS)
            .unwrap();
        upload
            .save_part(UploadKind::Small, 1, part(2048, 0), LIMITS)
            .unwrap();
        upload
            .save_part(UploadKind::Small, 3, part(10, 0), LIMITS)
            .unwrap();
        assert_eq!(
            upload.save_part(UploadKind::Small, 2, part(4096, 0), LIMITS),
            Err(RpcError::FilePartSizeChanged {
                len: 4096,
                part_size: 2048
            })
        );
        // A last part larger than the full ones.
        assert_eq!(
            upload.save_part(UploadKind::Small, 3, part(4096, 0), LIMITS),
            Err(RpcError::FilePartSizeChanged {
                len: 4096,
                part_size: 2048
            })
        );
        // Part 3 (10 bytes) can no longer be the last one.
        assert_eq!(
            upload.save_part(UploadKind::Small, 4, part(2048, 0), LIMITS),
            Err(RpcError::FilePartSizeInvalid { len: 10 })
        );
    }

    #[test]
    fn a_failed_part_changes_nothing() {
        let mut upload = small();
        upload
            .save_part(UploadKind::Small, 0, part(1024, 0), LIMITS)
            .unwrap();
        let _ = upload.save_part(UploadKind::Small, 1, part(2048, 0), LIMITS);
        assert_eq!(upload.total_bytes(), 1024);
        assert_eq!(
            upload.assemble(2, "", LIMITS),
            Err(RpcError::FilePartMissing { part: 1 })
        );
    }

    #[test]
    fn file_over_the_byte_limit_is_refused() {
        let limits = UploadLimits {
            max_parts: 10,
            max_file_bytes: 2048,
        };
        let mut upload = small();
        upload
            .save_part(UploadKind::Small, 0, part(1024, 0), limits)
            .unwrap();
        upload
            .save_part(UploadKind::Small, 1, part(1024, 0), limits)
            .unwrap();
        assert!(matches!(
            upload.save_part(UploadKind::Small, 2, part(1, 0), limits),
            Err(RpcError::FilePartsInvalid { .. })
        ));
    }

    #[test]
    fn mixing_small_and_big_calls_is_parts_invalid() {
        let mut upload = small();
        assert!(matches!(
            upload.save_part(UploadKind::Big { total_parts: 1 }, 0, part(1024, 0), LIMITS),
            Err(RpcError::FilePartsInvalid { .. })
        ));
    }

    #[test]
    fn assembly_names_the_first_missing_part() {
        let mut upload = small();
        upload
            .save_part(UploadKind::Small, 0, part(1024, 0), LIMITS)
            .unwrap();
        upload
            .save_part(UploadKind::Small, 2, part(1024, 0), LIMITS)
            .unwrap();
        assert_eq!(
            upload.assemble(3, "", LIMITS),
            Err(RpcError::FilePartMissing { part: 1 })
        );
    }

    #[test]
    fn assembly_refuses_parts_beyond_the_count_and_counts_out_of_range() {
        let mut upload = small();
        upload
            .save_part(UploadKind::Small, 0, part(1024, 0), LIMITS)
            .unwrap();
        upload
            .save_part(UploadKind::Small, 1, part(1024, 0), LIMITS)
            .unwrap();
        assert!(matches!(
            upload.assemble(1, "", LIMITS),
            Err(RpcError::FilePartsInvalid { .. })
        ));
        assert!(matches!(
            upload.assemble(0, "", LIMITS),
            Err(RpcError::FilePartsInvalid { .. })
        ));
    }

    #[test]
    fn assembly_checks_a_given_md5_checksum_of_the_encrypted_bytes() {
        let mut upload = small();
        upload
            .save_part(UploadKind::Small, 0, Bytes::from_static(b"abc"), LIMITS)
            .unwrap();
        // MD5("abc")
        upload
            .assemble(1, "900150983cd24fb0d6963f7d28e17f72", LIMITS)
            .unwrap();
        assert_eq!(
            upload.assemble(1, "00000000000000000000000000000000", LIMITS),
            Err(RpcError::Md5ChecksumInvalid)
        );
    }

    fn stored(len: usize) -> StoredFile {
        StoredFile {
            id: 1,
            access_hash: 2,
            key_fingerprint: 3,
            date: 0,
            blob: Bytes::from((0..len).map(|i| i as u8).collect::<Vec<_>>()),
        }
    }

    #[test]
    fn get_file_range_returns_the_bytes_and_shares_them() {
        let file = stored(10_000);
        let range = file.range(4096, 4096).unwrap();
        assert_eq!(range.len(), 4096);
        assert_eq!(range[0], file.blob[4096]);
        assert_eq!(file.range(8192, 4096).unwrap().len(), 10_000 - 8192);
        assert!(file.range(12288, 4096).unwrap().is_empty());
    }

    #[test]
    fn get_file_past_the_end_is_empty_even_at_the_largest_offset() {
        let file = stored(10);
        let largest = i64::MAX - i64::MAX % 4096;
        assert_eq!(file.range(largest, 4096).unwrap().len(), 0);
    }

    #[test]
    fn get_file_refuses_unaligned_offsets_and_limits() {
        let file = stored(10);
        assert_eq!(
            file.range(100, 4096),
            Err(RpcError::OffsetInvalid { offset: 100 })
        );
        assert_eq!(
            file.range(-4096, 4096),
            Err(RpcError::OffsetInvalid { offset: -4096 })
        );
        assert_eq!(
            file.range(0, 1000),
            Err(RpcError::LimitInvalid { limit: 1000 })
        );
        assert_eq!(
            file.range(0, 12288),
            Err(RpcError::LimitInvalid { limit: 12288 })
        );
        assert_eq!(file.range(0, 0), Err(RpcError::LimitInvalid { limit: 0 }));
        // 4096 + 1 MiB crosses into the next 1 MiB block.
        assert_eq!(
            file.range(4096, 1024 * 1024),
            Err(RpcError::LimitInvalid { limit: 1024 * 1024 })
        );
    }
}
