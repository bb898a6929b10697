//! The provider's clock: the wall clock for users, or a settable virtual clock for tests, so the
//! planner's time gates (hours, days) pass in seconds while the AWS calls stay real.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::model::Timestamp;

/// Wall clock or virtual clock. Cloning shares the same virtual time.
#[derive(Clone, Debug, Default)]
pub enum Clock {
    /// `jiff::Timestamp::now()` and real sleeps.
    #[default]
    Wall,
    /// A virtual instant that only moves when told (or when waited on: waiting jumps to the end).
    Virtual(Arc<Mutex<Timestamp>>),
}

impl Clock {
    /// A virtual clock starting at `start`.
    pub fn virtual_at(start: Timestamp) -> Clock {
        Clock::Virtual(Arc::new(Mutex::new(start)))
    }

    pub fn now(&self) -> Timestamp {
        match self {
            Clock::Wall => Timestamp::now(),
            Clock::Virtual(t) => *t.lock().unwrap_or_else(|p| p.into_inner()),
        }
    }

    /// Moves a virtual clock to `t` (never backwards); no effect on the wall clock.
    pub fn set(&self, t: Timestamp) {
        if let Clock::Virtual(v) = self {
            let mut g = v.lock().unwrap_or_else(|p| p.into_inner());
            if t > *g {
                *g = t;
            }
        }
    }

    /// Moves a virtual clock forward by `d`.
    pub fn advance(&self, d: Duration) {
        if let Clock::Virtual(v) = self {
            let mut g = v.lock().unwrap_or_else(|p| p.into_inner());
            let span = jiff::SignedDuration::try_from(d).unwrap_or(jiff::SignedDuration::MAX);
            *g = g.checked_add(span).unwrap_or(Timestamp::MAX);
        }
    }

    /// Sleeps until `t` (a virtual clock jumps there at once).
    pub async fn sleep_until(&self, t: Timestamp) {
        match self {
            Clock::Wall => {
                let now = Timestamp::now();
                if t > now {
                    let d = now.duration_until(t);
                    let d = Duration::try_from(d).unwrap_or(Duration::ZERO);
                    tokio::time::sleep(d).await;
                }
            }
            Clock::Virtual(_) => self.set(t),
        }
    }

    /// Sleeps for `d` (a virtual clock advances by `d` at once, yielding to other tasks).
    pub async fn sleep(&self, d: Duration) {
        match self {
            Clock::Wall => tokio::time::sleep(d).await,
            Clock::Virtual(_) => {
                self.advance(d);
                tokio::task::yield_now().await;
            }
        }
    }

    pub fn is_virtual(&self) -> bool {
        matches!(self, Clock::Virtual(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn virtual_clock_jumps() {
        let start: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let c = Clock::virtual_at(start);
        let c2 = c.clone();
        c.sleep(Duration::from_secs(3600)).await;
        assert_eq!(c2.now().as_second() - start.as_second(), 3600);
        c.sleep_until(start).await; // never backwards
        assert_eq!(c.now().as_second() - start.as_second(), 3600);
        let later: Timestamp = "2026-01-15T00:00:00Z".parse().unwrap();
        c.sleep_until(later).await;
        assert_eq!(c2.now(), later);
    }
}
