//! Constructor names across layers: canonical names, official names, and layer aliases.
//!
//! The end-to-end schema reuses official names: `decryptedMessage` has four versions
//! (layers 8, 17, 45 and 73), each with its own id (SPEC §5, schema header). Every
//! constructor therefore has a unique *canonical* name (tdlib's: `decryptedMessage`,
//! `decryptedMessage46`, `decryptedMessage23`, `decryptedMessage8`), which is what JSON
//! output uses. On input a name is looked up by these rules, in order:
//!
//! 1. a canonical name means that constructor;
//! 2. a bare official name means its newest version;
//! 3. an official name followed by a layer number N means the version in force at layer N:
//!    the newest section ≤ N that defines it (`decryptedMessageMediaDocument143` →
//!    `#6abd9782`, `documentAttributeAudio45` → `#ded218e0`).

/// What the schema says about one constructor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConstructorInfo {
    pub id: u32,
    /// The unique name (tdlib's where the official name repeats).
    pub name: &'static str,
    /// The name core.telegram.org uses; may repeat across layers.
    pub official_name: &'static str,
    /// The TL type it builds, e.g. `DecryptedMessage`.
    pub type_name: &'static str,
    /// The layer section it was introduced in (`None` for the built-ins before any section).
    pub layer: Option<u32>,
    /// The schema line that declares it.
    pub tl_line: &'static str,
}

impl ConstructorInfo {
    /// Whether this constructor is in force at `layer`: introduced at or before it, and not
    /// replaced by a newer version (same official name) introduced at or before it.
    /// Constructors without a layer section are always in force.
    pub fn is_in_force_at(&self, table: &[ConstructorInfo], layer: u32) -> bool {
        let Some(introduced) = self.layer else {
            return true;
        };
        introduced <= layer
            && !table.iter().any(|other| {
                other.official_name == self.official_name
                    && other.layer.is_some_and(|l| introduced < l && l <= layer)
            })
    }
}

/// Finds a constructor by name (rules in the module comment).
pub fn resolve_name<'t>(table: &'t [ConstructorInfo], name: &str) -> Option<&'t ConstructorInfo> {
    if let Some(info) = table.iter().find(|info| info.name == name) {
        return Some(info);
    }
    let newest = |official: &str, at_most: u32| {
        table
            .iter()
            .filter(|info| info.official_name == official)
            .filter(|info| info.layer.unwrap_or(0) <= at_most)
            .max_by_key(|info| info.layer)
    };
    if let Some(info) = newest(name, u32::MAX) {
        return Some(info);
    }
    let official = name.trim_end_matches(|c: char| c.is_ascii_digit());
    let layer: u32 = name[official.len()..].parse().ok()?;
    newest(official, layer).filter(|info| info.layer.is_some())
}

/// The constructors of `table` in force at `layer` (see [`ConstructorInfo::is_in_force_at`]).
pub fn in_force_at(
    table: &'static [ConstructorInfo],
    layer: u32,
) -> impl Iterator<Item = &'static ConstructorInfo> {
    table
        .iter()
        .filter(move |info| info.is_in_force_at(table, layer))
}
