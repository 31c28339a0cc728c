//! TL schema → Rust code generator (placeholder, filled in by the TL work).
