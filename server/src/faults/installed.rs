//! # A rule or hostile mode, as installed
//!
//! Fault rules and hostile modes are installed, listed and removed the same way: the
//! admin sends a spec (`POST /admin/faults`, `POST /admin/hostile`); the engine gives it
//! the next id and a seed — the one the spec names, or one drawn from the server's
//! `--seed` — and a ChaCha20 generator seeded with it, so the same run with the same seeds
//! makes the same draws; it counts how often the installation acted. [`Installed`] is
//! that record for either kind, [`Spec`] what a kind adds to it (a rule's match count and
//! reorder window, a mode's bound chat) and what removing one of it must tidy up.
//!
//! ```text
//!   POST spec ─▶ Engine::install ─▶ Installed { id, seed, spec, rng, applied, state }
//!   GET       ─▶ Installed::json  ─▶ {"id", "seed", "<key>": spec, …}
//!   DELETE    ─▶ Engine::remove   ─▶ Spec::removed (release what a rule holds; forget a MitM's keys)
//! ```

use std::fmt::Debug;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde::Serialize;
use serde_json::{json, Value};

use super::engine::Engine;
use super::FaultContext;

/// What a kind of installation (rule or hostile mode) is to the engine.
pub trait Spec: Serialize + Sized {
    /// The key its spec is answered and listed under (`"rule"`, `"hostile"`).
    const KEY: &'static str;
    /// What an installation of this kind keeps besides its counters.
    type State: Debug + Default;
    /// The seed the spec names, if any.
    fn seed(&self) -> Option<u64>;
    /// The engine's installations of this kind, in install order.
    fn installed(engine: &mut Engine) -> &mut Vec<Installed<Self>>;
    /// Tidies up after installations of this kind were removed (perhaps none).
    fn removed(engine: &mut Engine, ctx: &dyn FaultContext, removed: Vec<Installed<Self>>);
}

/// A rule or hostile mode as installed.
#[derive(Debug)]
pub struct Installed<S: Spec> {
    pub id: u64,
    pub seed: u64,
    pub spec: S,
    /// Its own generator, seeded with `seed`.
    pub rng: ChaCha20Rng,
    /// Times it acted.
    pub applied: u64,
    pub state: S::State,
}

impl<S: Spec> Installed<S> {
    /// `{"id", "seed", "<key>": spec}` followed by the fields of `more`, in their order.
    pub fn json(&self, more: Value) -> Value {
        let mut value = json!({"id": self.id, "seed": self.seed, S::KEY: self.spec});
        if let (Some(object), Value::Object(more)) = (value.as_object_mut(), more) {
            object.extend(more);
        }
        value
    }
}

impl Engine {
    /// Installs a spec; answers its id and seed.
    pub fn install<S: Spec>(&mut self, spec: S) -> (u64, u64) {
        let id = self.next_id;
        self.next_id += 1;
        let seed = spec.seed().unwrap_or_else(|| self.rng.gen());
        S::installed(self).push(Installed {
            id,
            seed,
            spec,
            rng: ChaCha20Rng::seed_from_u64(seed),
            applied: 0,
            state: S::State::default(),
        });
        (id, seed)
    }

    /// Removes the installation `id` of kind `S` (`None`: all of them), then tidies up;
    /// answers how many were removed.
    pub fn remove<S: Spec>(&mut self, ctx: &dyn FaultContext, id: Option<u64>) -> usize {
        let (removed, kept): (Vec<_>, Vec<_>) = std::mem::take(S::installed(self))
            .into_iter()
            .partition(|installed| id.is_none_or(|id| id == installed.id));
        *S::installed(self) = kept;
        let count = removed.len();
        S::removed(self, ctx, removed);
        count
    }
}
