//! When a failed request is sent again: only idempotent operations, only for failures that
//! say "try again", with exponential backoff and full jitter, within a time budget.

use std::time::Duration;

use reqwest::StatusCode;

/// How a client retries idempotent operations. On by default; set it with
/// `ClientBuilder::retry`.
///
/// Retried: connection failures (nothing was received), 408, 429, 502, 503 and 504. The wait
/// before attempt `n + 1` is a random duration up to `base_delay × 2ⁿ` (capped at
/// `max_delay`), or the server's `Retry-After` when that is longer. No retry starts once
/// the budget would be overrun. Operations that create something are never retried.
///
/// ```
/// use std::time::Duration;
/// use apikeys_common::RetryPolicy;
///
/// let patient = RetryPolicy::default().max_attempts(5).budget(Duration::from_secs(60));
/// let never = RetryPolicy::disabled();
/// # let _ = (patient, never);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    pub(crate) max_attempts: u32,
    pub(crate) budget: Duration,
    pub(crate) base_delay: Duration,
    pub(crate) max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Three attempts within 30 seconds, backing off from 200 ms up to 10 s.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            budget: Duration::from_secs(30),
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// Never retry: every request is sent once.
    pub fn disabled() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// How many times a request may be sent in all (1 disables retries).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The most time one call may spend on its attempts and the waits between them,
    /// counted from the first send: no retry starts that would end its wait past it. (Each
    /// attempt is also bounded by the client's timeout.)
    pub fn budget(mut self, budget: Duration) -> Self {
        self.budget = budget;
        self
    }

    /// The backoff before the second attempt; it doubles with each attempt.
    pub fn base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// The longest backoff between two attempts (a longer `Retry-After` still wins, within
    /// the budget).
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// The wait before the attempt after `attempt` (1-based), given the server's
    /// `Retry-After`, or `None` when no further attempt fits in the policy. `spent` is the
    /// time since the first attempt was sent.
    pub(crate) fn next_delay(
        &self,
        attempt: u32,
        spent: Duration,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        self.delay(attempt, spent, retry_after, fastrand::f64())
    }

    /// [`RetryPolicy::next_delay`] with the jitter given (a fraction in `[0, 1]`): a pure
    /// function of its inputs. No input can overflow it: `Retry-After` and `spent` may be
    /// anything a server or a clock produces, and a delay is computed only when an attempt
    /// is left and the budget is not spent. The delay it returns never ends past the
    /// budget; a `Retry-After` longer than what is left means no retry at all, since an
    /// earlier one would only be refused again.
    pub(crate) fn delay(
        &self,
        attempt: u32,
        spent: Duration,
        retry_after: Option<Duration>,
        jitter: f64,
    ) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        let left = self.budget.checked_sub(spent)?;
        let doublings = attempt.saturating_sub(1);
        let ceiling = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(doublings))
            .min(self.max_delay)
            .min(left);
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        // `mul_f64` panics when the product does not fit; this cannot, and is clamped anyway.
        let jittered = Duration::try_from_secs_f64(ceiling.as_secs_f64() * jitter)
            .unwrap_or(ceiling)
            .min(ceiling);
        let delay = retry_after.map_or(jittered, |asked| asked.max(jittered));
        (delay <= left).then_some(delay)
    }
}

/// Statuses that mean "the same request may succeed later".
pub(crate) fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 429 | 502 | 503 | 504)
}

/// Transport failures after which the server cannot have acted on the request.
pub(crate) fn is_retryable_error(error: &reqwest::Error) -> bool {
    error.is_connect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_jittered_below_an_exponential_ceiling() {
        let policy = RetryPolicy::default()
            .max_attempts(10)
            .budget(Duration::from_secs(3600));
        for attempt in 1..6 {
            let ceiling = Duration::from_millis(200 * 2u64.pow(attempt - 1));
            for _ in 0..50 {
                let delay = policy.next_delay(attempt, Duration::ZERO, None).unwrap();
                assert!(
                    delay <= ceiling,
                    "attempt {attempt}: {delay:?} > {ceiling:?}"
                );
            }
        }
        let capped = policy.next_delay(9, Duration::ZERO, None).unwrap();
        assert!(capped <= Duration::from_secs(10));
    }

    #[test]
    fn retry_after_wins_when_longer() {
        let policy = RetryPolicy::default();
        let delay = policy
            .next_delay(1, Duration::ZERO, Some(Duration::from_secs(2)))
            .unwrap();
        assert_eq!(delay, Duration::from_secs(2));
    }

    #[test]
    fn attempts_and_budget_bound_the_retries() {
        let policy = RetryPolicy::default()
            .max_attempts(3)
            .budget(Duration::from_secs(5));
        assert!(policy.next_delay(2, Duration::ZERO, None).is_some());
        assert!(
            policy.next_delay(3, Duration::ZERO, None).is_none(),
            "three attempts in all"
        );
        assert!(
            policy
                .next_delay(1, Duration::ZERO, Some(Duration::from_secs(6)))
                .is_none()
        );
        assert!(
            policy
                .next_delay(1, Duration::from_secs(4), Some(Duration::from_secs(2)))
                .is_none()
        );
        assert!(
            RetryPolicy::disabled()
                .next_delay(1, Duration::ZERO, None)
                .is_none()
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Whatever a server sends as `Retry-After` (as seconds: the HTTP-date form is a
        /// duration from now too), and however long the call has taken, the delay neither
        /// panics nor ends past the budget, and is at least what the server asked.
        #[test]
        fn no_retry_after_and_no_elapsed_time_breaks_the_delay(
            attempt in proptest::prelude::any::<u32>(),
            max_attempts in proptest::prelude::any::<u32>(),
            asked_secs in proptest::prelude::any::<u64>(),
            asked_nanos in 0u32..1_000_000_000,
            asked_present in proptest::prelude::any::<bool>(),
            spent_secs in proptest::prelude::any::<u64>(),
            spent_nanos in 0u32..1_000_000_000,
            budget_secs in proptest::prelude::any::<u64>(),
            base_nanos in proptest::prelude::any::<u64>(),
            max_secs in proptest::prelude::any::<u64>(),
            jitter in proptest::prelude::any::<f64>(),
        ) {
            let policy = RetryPolicy::default()
                .max_attempts(max_attempts)
                .budget(Duration::from_secs(budget_secs))
                .base_delay(Duration::from_nanos(base_nanos))
                .max_delay(Duration::from_secs(max_secs));
            let asked = asked_present.then(|| Duration::new(asked_secs, asked_nanos));
            let spent = Duration::new(spent_secs, spent_nanos);
            for jitter in [jitter, fastrand::f64(), 0.0, 1.0, f64::NAN, f64::INFINITY] {
                if let Some(delay) = policy.delay(attempt, spent, asked, jitter) {
                    proptest::prop_assert!(attempt < policy.max_attempts);
                    proptest::prop_assert!(spent.checked_add(delay).is_some_and(|end| end <= policy.budget));
                    proptest::prop_assert!(asked.is_none_or(|asked| delay >= asked));
                }
            }
        }

        /// `Retry-After` as the header arrives: any text, any number, any date.
        #[test]
        fn any_retry_after_header_is_read_without_panic(
            seconds in proptest::prelude::any::<u64>(),
            text in "\\PC{0,40}",
            year in 0u32..100_000,
        ) {
            use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
            let date = format!("Fri, 31 Dec {year} 23:59:59 GMT");
            for value in [seconds.to_string(), format!("{seconds}0"), text, date] {
                let mut headers = HeaderMap::new();
                if let Ok(value) = HeaderValue::from_str(&value) {
                    headers.insert(RETRY_AFTER, value);
                }
                let asked = crate::retry_after(&headers);
                let delay = RetryPolicy::default().next_delay(1, Duration::ZERO, asked);
                proptest::prop_assert!(delay.is_none_or(|d| d <= Duration::from_secs(30)));
            }
        }
    }

    #[test]
    fn the_largest_retry_after_means_no_retry_not_a_panic() {
        let policy = RetryPolicy::default();
        let forever = Some(Duration::from_secs(u64::MAX));
        for spent in [Duration::ZERO, Duration::from_secs(1), Duration::MAX] {
            assert_eq!(policy.next_delay(1, spent, forever), None);
            assert_eq!(RetryPolicy::disabled().next_delay(1, spent, forever), None);
        }
        let unbounded = RetryPolicy::default()
            .budget(Duration::MAX)
            .max_delay(Duration::MAX)
            .base_delay(Duration::MAX);
        assert_eq!(unbounded.delay(1, Duration::ZERO, forever, 0.0), forever);
        assert!(unbounded.delay(2, Duration::ZERO, None, 1.0).is_some());
    }

    #[test]
    fn only_transient_statuses_are_retryable() {
        for status in [408, 429, 502, 503, 504] {
            assert!(is_retryable_status(StatusCode::from_u16(status).unwrap()));
        }
        for status in [400, 401, 403, 404, 409, 500, 501] {
            assert!(!is_retryable_status(StatusCode::from_u16(status).unwrap()));
        }
    }
}
