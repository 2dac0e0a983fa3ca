//! Test harness for the detectors: an [`Instrument`] with detectors on, a
//! clock, and a quiet warm-up that sets the typical order size, so each
//! detector's unit tests read as the market story they check.

use super::{Alert, DetectConfig};
use crate::instrument::Instrument;
use crate::types::{kind, Event, OrderId, Price, Qty, Ts};
use crate::{Book, L2Book, L3Book};

pub(crate) const MS: Ts = 1_000_000;

/// The default configuration with only detector `name` on (a name of
/// [`super::alert_kind::NAMES`], which are also the on/off options; layering
/// shares its state machine with spoofing / phantom and is on with them).
pub(crate) fn only(name: &str) -> DetectConfig {
    let mut cfg = DetectConfig::default();
    for &n in &super::alert_kind::NAMES[1..] {
        let on = n == name;
        if let Err(e) = cfg.set(n, super::options::OptionValue::Bool(on)) {
            unreachable!("{n}: {e}");
        }
    }
    cfg
}

/// A book with detectors and a clock (ns).
pub(crate) struct Market<B> {
    pub inst: Instrument<B>,
    pub now: Ts,
    next_id: OrderId,
}

impl<B: Book> Market<B> {
    fn with(book: B, cfg: DetectConfig) -> Self {
        let mut inst = Instrument::new(book);
        // The detectors' own rules, without the alert budget (tested in
        // `budget.rs`): a hand-made case raises alerts within milliseconds.
        inst.enable_detectors(DetectConfig {
            alert_budget_per_hour: 0.0,
            ..cfg
        });
        Market {
            inst,
            now: 0,
            next_id: 1_000_000,
        }
    }

    /// Moves the clock on by `dt` ns.
    pub fn wait(&mut self, dt: Ts) -> &mut Self {
        self.now += dt;
        self
    }

    /// Applies one event at the current time; a refused event fails the test.
    pub fn ev(&mut self, k: u8, side: i8, price: Price, size: Qty, id: OrderId) -> &mut Self {
        let e = Event::new(self.now, k, side, price, size, id);
        if let Err(err) = self.inst.step(&e) {
            unreachable!("test event {e:?} refused: {err}");
        }
        self
    }

    /// 1.5 s later, a 1-lot bid far from the touch (price 1 tick):
    /// what releases alerts held for a later look (spoofing and layering
    /// wait to be judged against depth collapses; an L2 sweep its gap).
    pub fn settle(&mut self) -> &mut Self {
        let id = self.fresh_id();
        self.wait(1_500 * MS).ev(kind::ADD, 1, 1, 1, id)
    }

    /// The alerts so far of one kind.
    pub fn alerts(&self, kind_code: u8) -> Vec<Alert> {
        self.inst
            .alerts()
            .iter()
            .filter(|a| a.kind == kind_code)
            .copied()
            .collect()
    }

    fn fresh_id(&mut self) -> OrderId {
        self.next_id += 1;
        self.next_id
    }
}

impl Market<L3Book> {
    /// An L3 market after `n` quiet 2-lot add/delete pairs far from the
    /// touch, 1 ms apart (typical order size 2 lots).
    pub fn l3(cfg: DetectConfig, n: usize) -> Self {
        let mut m = Market::with(L3Book::new(), cfg);
        for _ in 0..n {
            let id = m.fresh_id();
            m.wait(MS)
                .ev(kind::ADD, 1, 50, 2, id)
                .ev(kind::DELETE, 1, 50, 2, id);
        }
        m
    }
}

impl Market<L2Book> {
    /// An L2 market after `n` quiet 2-lot level flickers far from the
    /// touch, 1 ms apart (typical increment 2 lots).
    pub fn l2(cfg: DetectConfig, n: usize) -> Self {
        let mut m = Market::with(L2Book::new(), cfg);
        for _ in 0..n {
            m.wait(MS)
                .ev(kind::SET_LEVEL, 1, 50, 2, 0)
                .ev(kind::SET_LEVEL, 1, 50, 0, 0);
        }
        m
    }
}
