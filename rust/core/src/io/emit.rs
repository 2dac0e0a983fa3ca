//! Event emission shared by the message-at-a-time feed keepers (Binance,
//! Bybit, Kraken).

use super::flags;
use crate::types::{Event, Ts};

/// Appends events for a keeper: times never go backwards, every event
/// remembers the update id of its message, and a message's last event gets
/// [`flags::LAST`].
#[derive(Debug, Default)]
pub struct Emitter {
    last_ts: Ts,
    /// Events emitted so far (the index the next one gets).
    pub emitted: u64,
    /// Per emitted event, the update id of its message; the caller drains it.
    pub ids: Vec<u64>,
    /// Update id stamped on the events pushed from now on.
    pub id: u64,
    /// Keepers without update ids (Kraken) skip `ids`, which would only grow.
    untracked: bool,
}

impl Emitter {
    /// An emitter that keeps no per-event ids.
    pub fn untracked() -> Emitter {
        Emitter {
            untracked: true,
            ..Emitter::default()
        }
    }

    /// Appends `e`. Its time is clamped to the latest one so far: an event
    /// applied late (a buffered diff applied when its snapshot arrives) takes
    /// effect then.
    pub fn push(&mut self, out: &mut Vec<Event>, mut e: Event) {
        e.ts = e.ts.max(self.last_ts);
        self.last_ts = e.ts;
        out.push(e);
        if !self.untracked {
            self.ids.push(self.id);
        }
        self.emitted += 1;
    }

    /// Latest event time so far (ns).
    pub fn last_ts(&self) -> Ts {
        self.last_ts
    }

    /// Flags the last event appended since `start` with [`flags::LAST`];
    /// nothing when the message appended none.
    pub fn close(out: &mut [Event], start: usize) {
        if out.len() > start {
            if let Some(e) = out.last_mut() {
                e.flags |= flags::LAST;
            }
        }
    }
}
