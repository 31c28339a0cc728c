//! Kinds whose implementation is being merged (temporary).
use super::fields::Mismatch;
pub fn pending(kind: &str) -> Result<(), Mismatch> {
    Err(Mismatch::UnknownKind(format!("{kind} (not wired yet)")))
}
