//! A client-side token bucket: every attempt to call an AWS API takes one token first, so one
//! run — however many zones it observes or changes at once — stays within the account's request
//! rate (Route 53: 5 requests per second per account). Shared by every zone through an `Arc`.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    state: Mutex<Bucket>,
}

#[derive(Debug)]
struct Bucket {
    /// May go negative: tokens already promised to waiters.
    tokens: f64,
    last: Instant,
}

impl RateLimiter {
    /// `rate` tokens per second, holding at most `burst` (at least 1).
    pub fn new(rate: f64, burst: u32) -> Self {
        let rate = if rate.is_finite() && rate > 0.0 {
            rate
        } else {
            f64::INFINITY
        };
        let burst = f64::from(burst.max(1));
        RateLimiter {
            rate,
            burst,
            state: Mutex::new(Bucket {
                tokens: burst,
                last: Instant::now(),
            }),
        }
    }

    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// Waits for one token. Waiters are served in the order they asked (each reserves its token
    /// and sleeps until it has accrued).
    pub async fn acquire(&self) {
        if self.rate.is_infinite() {
            return;
        }
        let wait = {
            let mut b = self.state.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
            b.tokens = (b.tokens + elapsed * self.rate).min(self.burst);
            b.last = now;
            b.tokens -= 1.0;
            if b.tokens >= 0.0 {
                Duration::ZERO
            } else {
                Duration::from_secs_f64(-b.tokens / self.rate)
            }
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
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
}
