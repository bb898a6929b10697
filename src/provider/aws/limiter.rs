//! Client-side token buckets after Route 53's throttling model of July 2026: every request takes
//! a token from its service's **account bucket** (Route 53: refill `--max-rps`, default 10 per
//! second, capacity 50) and from the bucket of its **operation** (same size), so one run —
//! however many zones it observes or changes at once — stays within the account's rates. The
//! operation buckets are **adaptive**: a throttling answer halves that operation's rate (at most
//! once a second, never below a floor) and every success wins back a twentieth of the ceiling,
//! so a run sharing its account with other tools settles just under what AWS grants and climbs
//! back when they stop. Shared by every zone through the provider's `Arc`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

/// The lowest rate a throttled bucket falls to (requests per second).
const FLOOR: f64 = 0.5;
/// A second throttling answer within this time of a halving does not halve again (the answers
/// of requests sent before the first one was seen).
const HALVING_GAP: Duration = Duration::from_secs(1);
/// Successes needed to climb from the floor back to the ceiling: the ceiling ÷ this per success.
const RECOVERY_STEPS: f64 = 20.0;

/// One token bucket whose refill rate adapts between a floor and its ceiling.
#[derive(Debug)]
pub struct RateLimiter {
    ceiling: f64,
    burst: f64,
    state: Mutex<Bucket>,
}

#[derive(Debug)]
struct Bucket {
    /// May go negative: tokens already promised to waiters.
    tokens: f64,
    last: Instant,
    /// The current refill rate (≤ the ceiling).
    rate: f64,
    last_halving: Option<Instant>,
}

impl RateLimiter {
    /// `rate` tokens per second, holding at most `burst` (at least 1). A rate that is not a
    /// positive finite number means "unlimited".
    pub fn new(rate: f64, burst: u32) -> Self {
        let rate = if rate.is_finite() && rate > 0.0 {
            rate
        } else {
            f64::INFINITY
        };
        let burst = f64::from(burst.max(1));
        RateLimiter {
            ceiling: rate,
            burst,
            state: Mutex::new(Bucket {
                tokens: burst,
                last: Instant::now(),
                rate,
                last_halving: None,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Bucket> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The configured ceiling (requests per second).
    pub fn ceiling(&self) -> f64 {
        self.ceiling
    }

    /// The current rate: the ceiling, or less after throttling answers.
    pub fn rate(&self) -> f64 {
        self.lock().rate
    }

    /// Waits for one token. Waiters are served in the order they asked (each reserves its token
    /// and sleeps until it has accrued).
    pub async fn acquire(&self) {
        if self.ceiling.is_infinite() {
            return;
        }
        let wait = {
            let mut b = self.lock();
            let now = Instant::now();
            let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
            b.tokens = (b.tokens + elapsed * b.rate).min(self.burst);
            b.last = now;
            b.tokens -= 1.0;
            if b.tokens >= 0.0 {
                Duration::ZERO
            } else {
                Duration::from_secs_f64(-b.tokens / b.rate)
            }
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    /// AWS answered "slow down": halve the rate (once per [`HALVING_GAP`], not below the floor)
    /// and spend the saved-up burst, so the next requests are paced at once.
    pub fn throttled(&self) {
        if self.ceiling.is_infinite() {
            return;
        }
        let mut b = self.lock();
        let now = Instant::now();
        if b.last_halving
            .is_some_and(|t| now.saturating_duration_since(t) < HALVING_GAP)
        {
            return;
        }
        // Settle what accrued at the old rate before changing it.
        let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
        b.tokens = (b.tokens + elapsed * b.rate).min(self.burst).min(0.0);
        b.last = now;
        b.rate = (b.rate / 2.0).max(FLOOR.min(self.ceiling));
        b.last_halving = Some(now);
    }

    /// A request went through: win back a step of the rate, up to the ceiling.
    pub fn succeeded(&self) {
        if self.ceiling.is_infinite() {
            return;
        }
        let mut b = self.lock();
        if b.rate < self.ceiling {
            let now = Instant::now();
            let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
            b.tokens = (b.tokens + elapsed * b.rate).min(self.burst);
            b.last = now;
            b.rate = (b.rate + self.ceiling / RECOVERY_STEPS).min(self.ceiling);
        }
    }
}

/// The buckets of one service: the account's, and one per operation.
#[derive(Debug)]
pub struct ServiceLimiter {
    account: RateLimiter,
    rate: f64,
    burst: u32,
    ops: Mutex<HashMap<&'static str, std::sync::Arc<RateLimiter>>>,
    throttled: AtomicU64,
}

impl ServiceLimiter {
    /// An account bucket of `rate` per second and capacity `burst`; each operation gets a bucket
    /// of the same size, created on its first use.
    pub fn new(rate: f64, burst: u32) -> Self {
        ServiceLimiter {
            account: RateLimiter::new(rate, burst),
            rate,
            burst,
            ops: Mutex::new(HashMap::new()),
            throttled: AtomicU64::new(0),
        }
    }

    fn op(&self, op: &'static str) -> std::sync::Arc<RateLimiter> {
        let mut ops = self.ops.lock().unwrap_or_else(|p| p.into_inner());
        ops.entry(op)
            .or_insert_with(|| std::sync::Arc::new(RateLimiter::new(self.rate, self.burst)))
            .clone()
    }

    /// The account's ceiling (requests per second).
    pub fn ceiling(&self) -> f64 {
        self.account.ceiling()
    }

    /// The current rate of `op`'s bucket.
    pub fn op_rate(&self, op: &'static str) -> f64 {
        self.op(op).rate()
    }

    /// Throttling answers seen so far.
    pub fn throttled_answers(&self) -> u64 {
        self.throttled.load(Ordering::Relaxed)
    }

    /// Waits for a token of `op`'s bucket, then one of the account's.
    pub async fn acquire(&self, op: &'static str) {
        let bucket = self.op(op);
        bucket.acquire().await;
        self.account.acquire().await;
    }

    /// `op` was throttled: its bucket slows down.
    pub fn throttled(&self, op: &'static str) {
        self.throttled.fetch_add(1, Ordering::Relaxed);
        self.op(op).throttled();
    }

    /// `op` went through: its bucket recovers a step.
    pub fn succeeded(&self, op: &'static str) {
        self.op(op).succeeded();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn paces_to_the_rate() {
        let l = RateLimiter::new(50.0, 1);
        let start = Instant::now();
        for _ in 0..11 {
            l.acquire().await;
        }
        // One token at once, then ten at 50/s.
        let e = start.elapsed().as_secs_f64();
        assert!((0.19..0.35).contains(&e), "{e}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_is_spent_at_once_then_paced() {
        let l = RateLimiter::new(100.0, 20);
        let start = Instant::now();
        for _ in 0..20 {
            l.acquire().await;
        }
        assert!(start.elapsed().as_secs_f64() < 0.05);
        for _ in 0..10 {
            l.acquire().await;
        }
        let e = start.elapsed().as_secs_f64();
        assert!((0.08..0.25).contains(&e), "{e}");
    }

    #[test]
    fn throttling_halves_once_per_gap_and_successes_recover() {
        let l = RateLimiter::new(10.0, 50);
        l.throttled();
        assert_eq!(l.rate(), 5.0);
        // The answers of requests already in flight do not halve again.
        l.throttled();
        l.throttled();
        assert_eq!(l.rate(), 5.0);
        for _ in 0..10 {
            l.succeeded();
        }
        assert_eq!(l.rate(), 10.0);
        l.succeeded();
        assert_eq!(l.rate(), 10.0, "never above the ceiling");
    }

    #[tokio::test(start_paused = true)]
    async fn throttling_spends_the_burst() {
        let l = RateLimiter::new(100.0, 50);
        l.throttled();
        let start = Instant::now();
        for _ in 0..6 {
            l.acquire().await;
        }
        // No saved-up tokens any more: six requests at 50/s take about 0.12 s.
        let e = start.elapsed().as_secs_f64();
        assert!(e >= 0.09, "{e}");
    }

    #[test]
    fn operations_adapt_separately() {
        let s = ServiceLimiter::new(10.0, 50);
        s.throttled("ChangeResourceRecordSets");
        assert_eq!(s.op_rate("ChangeResourceRecordSets"), 5.0);
        assert_eq!(s.op_rate("ListResourceRecordSets"), 10.0);
        assert_eq!(s.throttled_answers(), 1);
        assert_eq!(s.ceiling(), 10.0);
    }
}
