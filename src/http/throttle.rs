//! Failed-authentication limit per client address.
//!
//! Without DataHub's signing key, a forged but well-formed token can only be judged by
//! GMS (`me`), so each distinct one costs an upstream call. Each client address has a
//! token bucket of `limit` failed authentications (401/403) refilled at `limit` per
//! minute; once it is empty, that address's requests whose token is not already known
//! to be good answer 429 with `Retry-After` and cost nothing upstream. Other addresses
//! are not affected, and neither is a token this gateway accepted lately, whatever
//! address it comes from (an IdP sharing an egress address with an attacker keeps
//! working).
//!
//! Addresses are grouped the way an attacker gets them: one IPv4 address, one IPv6
//! /64. The table is bounded (least recently seen addresses are forgotten first).

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Addresses tracked at once.
const MAX_ADDRESSES: u64 = 100_000;

/// A client address as the limit counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientKey {
    /// An IPv4 address (IPv4-mapped IPv6 included).
    V4([u8; 4]),
    /// The first 64 bits of an IPv6 address.
    V6([u8; 8]),
}

impl From<IpAddr> for ClientKey {
    fn from(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => ClientKey::V4(v4.octets()),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => ClientKey::V4(v4.octets()),
                None => {
                    let o = v6.octets();
                    let mut p = [0u8; 8];
                    p.copy_from_slice(&o[..8]);
                    ClientKey::V6(p)
                }
            },
        }
    }
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The per-address buckets.
pub struct FailureLimit {
    /// Bucket size; 0 switches the limit off.
    limit: u32,
    buckets: moka::sync::Cache<ClientKey, Arc<Mutex<Bucket>>>,
}

impl FailureLimit {
    /// `limit` failures per address per minute (0: no limit).
    pub fn new(limit: u32) -> Self {
        FailureLimit {
            limit,
            buckets: moka::sync::Cache::builder()
                .max_capacity(MAX_ADDRESSES)
                .time_to_idle(Duration::from_secs(600))
                .build(),
        }
    }

    fn per_sec(&self) -> f64 {
        f64::from(self.limit) / 60.0
    }

    fn refill(&self, b: &mut Bucket, now: Instant) {
        let gained = now.duration_since(b.at).as_secs_f64() * self.per_sec();
        b.tokens = (b.tokens + gained).min(f64::from(self.limit));
        b.at = now;
    }

    /// `Some(seconds to wait)` when `client` has used up its failures.
    pub fn exhausted(&self, client: ClientKey) -> Option<u64> {
        if self.limit == 0 {
            return None;
        }
        let bucket = self.buckets.get(&client)?;
        let mut b = bucket.lock().unwrap_or_else(|e| e.into_inner());
        self.refill(&mut b, Instant::now());
        (b.tokens < 1.0).then(|| ((1.0 - b.tokens) / self.per_sec()).ceil().max(1.0) as u64)
    }

    /// Counts one failed authentication of `client`.
    pub fn record_failure(&self, client: ClientKey) {
        if self.limit == 0 {
            return;
        }
        let limit = f64::from(self.limit);
        let bucket = self.buckets.get_with(client, || {
            Arc::new(Mutex::new(Bucket {
                tokens: limit,
                at: Instant::now(),
            }))
        });
        let mut b = bucket.lock().unwrap_or_else(|e| e.into_inner());
        self.refill(&mut b, Instant::now());
        b.tokens = (b.tokens - 1.0).max(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_group_by_host_and_v6_prefix() {
        let k = |s: &str| ClientKey::from(s.parse::<IpAddr>().expect("ip"));
        assert_eq!(k("10.0.0.1"), k("::ffff:10.0.0.1"));
        assert_ne!(k("10.0.0.1"), k("10.0.0.2"));
        assert_eq!(k("2001:db8::1"), k("2001:db8::ffff:1"));
        assert_ne!(k("2001:db8:0:1::1"), k("2001:db8:0:2::1"));
    }

    #[test]
    fn a_bucket_empties_refills_and_leaves_others_alone() {
        let l = FailureLimit::new(3);
        let a = ClientKey::V4([10, 0, 0, 1]);
        let b = ClientKey::V4([10, 0, 0, 2]);
        for _ in 0..3 {
            assert_eq!(l.exhausted(a), None);
            l.record_failure(a);
        }
        let wait = l.exhausted(a).expect("exhausted");
        assert!((1..=20).contains(&wait), "{wait}");
        assert_eq!(l.exhausted(b), None, "another address is not affected");
        // Refill: one failure comes back every 20 s at 3 per minute.
        {
            let bucket = l.buckets.get(&a).expect("bucket");
            let mut g = bucket.lock().expect("lock");
            g.at -= Duration::from_secs(21);
        }
        assert_eq!(l.exhausted(a), None);
        let off = FailureLimit::new(0);
        for _ in 0..100 {
            off.record_failure(a);
        }
        assert_eq!(off.exhausted(a), None);
    }
}
