//! Sign-in rate limits: a token bucket per username and one per client address,
//! checked before any password is hashed, so brute force gets 429 and not a hash
//! storm. Limits come from the policy (`[auth] login_per_*_per_minute`).

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use fengqiao_domain::policy::AuthPolicy;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Keys kept before idle buckets are dropped (a flood of made-up usernames must
/// not grow memory without bound).
const PRUNE_ABOVE: usize = 10_000;

/// The sign-in limiter.
pub struct LoginLimiter {
    by_account: Option<DefaultKeyedRateLimiter<String>>,
    by_address: Option<DefaultKeyedRateLimiter<IpAddr>>,
    clock: DefaultClock,
}

fn keyed<K: std::hash::Hash + Eq + Clone>(per_minute: u32) -> Option<DefaultKeyedRateLimiter<K>> {
    NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n)))
}

impl LoginLimiter {
    /// A limiter with the policy's quotas (0 turns a limit off).
    pub fn new(policy: &AuthPolicy) -> LoginLimiter {
        LoginLimiter {
            by_account: keyed(policy.login_per_account_per_minute),
            by_address: keyed(policy.login_per_address_per_minute),
            clock: DefaultClock::default(),
        }
    }

    /// Takes one attempt for this username and address; `Err(wait)` when either
    /// bucket is empty (the caller should wait that long). The address bucket is
    /// checked first, so a spray over many usernames from one address is caught too.
    pub fn check(&self, username: &str, address: Option<IpAddr>) -> Result<(), Duration> {
        if let (Some(l), Some(ip)) = (&self.by_address, address) {
            prune(l);
            l.check_key(&ip).map_err(|n| n.wait_time_from(self.clock.now()))?;
        }
        if let Some(l) = &self.by_account {
            prune(l);
            l.check_key(&username.to_lowercase()).map_err(|n| n.wait_time_from(self.clock.now()))?;
        }
        Ok(())
    }
}

fn prune<K: std::hash::Hash + Eq + Clone>(l: &DefaultKeyedRateLimiter<K>) {
    if l.len() > PRUNE_ABOVE {
        l.retain_recent();
        l.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(account: u32, address: u32) -> AuthPolicy {
        AuthPolicy {
            login_per_account_per_minute: account,
            login_per_address_per_minute: address,
            ..Default::default()
        }
    }

    #[test]
    fn account_and_address_buckets_are_separate_and_zero_means_off() {
        let l = LoginLimiter::new(&policy(2, 3));
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        assert!(l.check("wang", Some(a)).is_ok());
        assert!(l.check("WANG", Some(b)).is_ok());
        let wait = l.check("wang", Some(b)).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(60), "{wait:?}");
        // another username from address a: a has used 1 of 3 (plus the refused one is not taken from b's)
        assert!(l.check("li", Some(a)).is_ok());
        assert!(l.check("zhao", Some(a)).is_ok());
        assert!(l.check("qian", Some(a)).is_err(), "address bucket empty");
        let off = LoginLimiter::new(&policy(0, 0));
        for _ in 0..100 {
            assert!(off.check("wang", Some(a)).is_ok());
        }
    }
}
