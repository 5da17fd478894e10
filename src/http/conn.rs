//! Connection admission and lifetime, for both listeners.
//!
//! - **Cap**: at most `max` open connections per listener (TLS handshakes included).
//!   At the cap, a new connection sheds the connection that has been idle longest (no
//!   request in flight: it is closed gracefully, as an idle timeout would), so idle
//!   connections cannot lock the door; when every connection is busy, the new one is
//!   refused (closed at once, `datahub_scim_connections_refused_total`).
//! - **Idle timeout**: a connection with no request in flight for `idle` is closed
//!   gracefully (HTTP/1.1: closed; HTTP/2: GOAWAY, then closed), including one that
//!   never sent a request. A connection that does not finish closing within
//!   [`CLOSE_GRACE`] (a peer that stopped reading) is dropped.
//! - **Shutdown**: every connection is asked to close gracefully; [`Tracker::drained`]
//!   resolves once all are gone, [`Tracker::force_close`] drops the rest.
//! - **Metrics**: `datahub_scim_connections_open{listener}`,
//!   `datahub_scim_connections_refused_total{listener}`,
//!   `datahub_scim_connections_shed_total{listener}`.
//!
//! The SCIM and admin listeners have a tracker each, so load on one never takes
//! the other's budget.

use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{watch, Notify};
use tokio::time::Instant;

use super::metrics::Metrics;

/// Time a connection asked to close (idle, shed) gets to finish before it is dropped.
pub const CLOSE_GRACE: Duration = Duration::from_secs(10);

/// What the listener's connections are told to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Serve,
    /// Close gracefully (shutdown began).
    Drain,
    /// Close now (the shutdown grace is over).
    Force,
}

/// The shared state of one connection.
#[derive(Debug)]
pub struct Conn {
    /// Requests (HTTP/2 streams) being served.
    in_flight: AtomicUsize,
    /// When the last request started or ended (or the connection was accepted), in
    /// milliseconds since the tracker's epoch.
    last_active_ms: AtomicU64,
    /// Set once the connection was asked to close.
    closing: AtomicBool,
    /// Wakes the connection's task: a request ended, or it must close.
    wake: Notify,
}

/// Connections of one listener.
pub struct Tracker {
    /// `scim` or `admin` (the metric label).
    listener: &'static str,
    /// Most open connections.
    max: usize,
    /// Idle timeout.
    idle: Duration,
    epoch: Instant,
    metrics: Arc<Metrics>,
    conns: Mutex<HashMap<u64, Arc<Conn>>>,
    next_id: AtomicU64,
    phase: watch::Sender<Phase>,
    /// Signalled when the last connection ends.
    empty: Notify,
}

/// Why a connection was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Every connection is busy.
    Full,
    /// Shutdown began.
    ShuttingDown,
}

/// An admitted connection; dropping it releases the place.
pub struct Slot {
    tracker: Arc<Tracker>,
    id: u64,
    conn: Arc<Conn>,
}

impl Tracker {
    /// A tracker for `listener` (`scim` or `admin`).
    pub fn new(
        listener: &'static str,
        max: usize,
        idle: Duration,
        metrics: Arc<Metrics>,
    ) -> Arc<Tracker> {
        // Every series exists from the start (a dashboard sees 0, not nothing).
        metrics.connections_open(listener).set(0);
        let _ = metrics.connections_refused(listener);
        let _ = metrics.connections_shed(listener);
        Arc::new(Tracker {
            listener,
            max: max.max(1),
            idle,
            epoch: Instant::now(),
            metrics,
            conns: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            phase: watch::channel(Phase::Serve).0,
            empty: Notify::new(),
        })
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Conn>>> {
        self.conns.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Open connections.
    pub fn open(&self) -> usize {
        self.lock().len()
    }

    /// Admits a new connection, shedding the longest-idle one at the cap.
    pub fn admit(self: &Arc<Self>) -> Result<Slot, Refused> {
        if *self.phase.borrow() != Phase::Serve {
            return Err(Refused::ShuttingDown);
        }
        let mut conns = self.lock();
        let closing = conns
            .values()
            .filter(|c| c.closing.load(Ordering::SeqCst))
            .count();
        if conns.len() - closing >= self.max {
            // Never more than twice the cap, even while shed connections close.
            let victim = (conns.len() < 2 * self.max)
                .then(|| {
                    conns
                        .values()
                        .filter(|c| {
                            !c.closing.load(Ordering::SeqCst)
                                && c.in_flight.load(Ordering::SeqCst) == 0
                        })
                        .min_by_key(|c| c.last_active_ms.load(Ordering::SeqCst))
                })
                .flatten();
            match victim {
                Some(v) => {
                    v.closing.store(true, Ordering::SeqCst);
                    v.wake.notify_one();
                    self.metrics.connections_shed(self.listener).inc();
                    tracing::debug!(
                        listener = self.listener,
                        "connection limit reached: closing the longest-idle connection"
                    );
                }
                None => {
                    drop(conns);
                    self.metrics.connections_refused(self.listener).inc();
                    tracing::debug!(
                        listener = self.listener,
                        "connection limit reached, every connection busy: refused"
                    );
                    return Err(Refused::Full);
                }
            }
        }
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let conn = Arc::new(Conn {
            in_flight: AtomicUsize::new(0),
            last_active_ms: AtomicU64::new(self.now_ms()),
            closing: AtomicBool::new(false),
            wake: Notify::new(),
        });
        conns.insert(id, conn.clone());
        drop(conns);
        self.metrics.connections_open(self.listener).inc();
        Ok(Slot {
            tracker: self.clone(),
            id,
            conn,
        })
    }

    /// Asks every connection to close gracefully and admits no more.
    pub fn drain(&self) {
        self.phase.send_replace(Phase::Drain);
    }

    /// Drops every connection still open.
    pub fn force_close(&self) {
        self.phase.send_replace(Phase::Force);
    }

    /// Resolves once no connection is open.
    pub async fn drained(&self) {
        loop {
            let notified = self.empty.notified();
            if self.open() == 0 {
                return;
            }
            notified.await;
        }
    }
}

impl Slot {
    /// Marks a request as started; the returned guard marks it ended.
    pub fn request(&self) -> RequestGuard {
        self.conn.in_flight.fetch_add(1, Ordering::SeqCst);
        self.touch();
        RequestGuard {
            conn: self.conn.clone(),
            tracker: self.tracker.clone(),
        }
    }

    fn touch(&self) {
        self.conn
            .last_active_ms
            .store(self.tracker.now_ms(), Ordering::SeqCst);
    }

    /// Drives `conn` (an HTTP connection future) until it ends, asking it to close
    /// gracefully through `graceful` when it has been idle too long, when it is shed,
    /// or when the listener drains, and dropping it when it does not close in time.
    pub async fn serve<F, G>(&self, conn: F, graceful: G)
    where
        F: Future,
        G: FnOnce(std::pin::Pin<&mut F>),
    {
        let mut conn = pin!(conn);
        let mut phase = self.tracker.phase.subscribe();
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = self.close_wanted(&mut phase) => {}
        }
        if *phase.borrow() == Phase::Force {
            return;
        }
        self.conn.closing.store(true, Ordering::SeqCst);
        graceful(conn.as_mut());
        let give_up = tokio::time::sleep(CLOSE_GRACE);
        let mut give_up = pin!(give_up);
        loop {
            tokio::select! {
                _ = conn.as_mut() => return,
                _ = &mut give_up => {
                    tracing::debug!(
                        listener = self.tracker.listener,
                        "connection did not close in time, dropped"
                    );
                    return;
                }
                changed = phase.changed() => {
                    if changed.is_err() || *phase.borrow() == Phase::Force {
                        return;
                    }
                }
            }
        }
    }

    /// Resolves when this connection should close: it was shed, the listener drains,
    /// or it has had no request in flight for the idle timeout.
    async fn close_wanted(&self, phase: &mut watch::Receiver<Phase>) {
        let idle = self.tracker.idle;
        loop {
            if *phase.borrow_and_update() != Phase::Serve
                || self.conn.closing.load(Ordering::SeqCst)
            {
                return;
            }
            let woken = self.conn.wake.notified();
            if self.conn.in_flight.load(Ordering::SeqCst) > 0 {
                tokio::select! {
                    _ = woken => {}
                    _ = phase.changed() => {}
                }
                continue;
            }
            let last = self.conn.last_active_ms.load(Ordering::SeqCst);
            let at = self.tracker.epoch + Duration::from_millis(last) + idle;
            if Instant::now() >= at {
                tracing::debug!(listener = self.tracker.listener, "idle connection closed");
                return;
            }
            tokio::select! {
                _ = tokio::time::sleep_until(at) => {}
                _ = woken => {}
                _ = phase.changed() => {}
            }
        }
    }

    /// Resolves when this connection should give up what it is doing before it
    /// serves anything (a TLS handshake): shed or draining. Handshakes have their own
    /// timeout.
    pub async fn shed(&self) {
        let mut phase = self.tracker.phase.subscribe();
        loop {
            if *phase.borrow_and_update() != Phase::Serve
                || self.conn.closing.load(Ordering::SeqCst)
            {
                return;
            }
            let woken = self.conn.wake.notified();
            tokio::select! {
                _ = woken => {}
                _ = phase.changed() => {}
            }
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut conns = self.tracker.lock();
        conns.remove(&self.id);
        let empty = conns.is_empty();
        drop(conns);
        self.tracker
            .metrics
            .connections_open(self.tracker.listener)
            .dec();
        if empty {
            self.tracker.empty.notify_waiters();
        }
    }
}

/// One request in flight on a connection; dropping it ends the request.
pub struct RequestGuard {
    conn: Arc<Conn>,
    tracker: Arc<Tracker>,
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.conn
            .last_active_ms
            .store(self.tracker.now_ms(), Ordering::SeqCst);
        self.conn.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.conn.wake.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tracker(max: usize) -> Arc<Tracker> {
        Tracker::new(
            "scim",
            max,
            Duration::from_secs(60),
            Arc::new(Metrics::new()),
        )
    }

    #[tokio::test]
    async fn at_the_cap_the_longest_idle_is_shed_and_busy_ones_refuse() {
        let t = tracker(2);
        let a = t.admit().expect("a");
        tokio::time::sleep(Duration::from_millis(5)).await;
        let b = t.admit().expect("b");
        // Both idle: the third sheds `a`, the longest idle.
        let c = t.admit().expect("c sheds a");
        assert!(a.conn.closing.load(Ordering::SeqCst));
        assert!(!b.conn.closing.load(Ordering::SeqCst));
        drop(a);
        assert_eq!(t.open(), 2);
        // b and c busy: refused.
        let _rb = b.request();
        let _rc = c.request();
        assert_eq!(t.admit().err(), Some(Refused::Full));
        let m = &t.metrics;
        assert_eq!(m.connections_refused("scim").get(), 1);
        assert_eq!(m.connections_shed("scim").get(), 1);
        assert_eq!(m.connections_open("scim").get(), 2);
        t.drain();
        assert_eq!(t.admit().err(), Some(Refused::ShuttingDown));
    }

    #[tokio::test(start_paused = true)]
    async fn idle_connections_are_asked_to_close_busy_ones_are_not() {
        let t = Tracker::new(
            "admin",
            10,
            Duration::from_secs(5),
            Arc::new(Metrics::new()),
        );
        let slot = t.admit().expect("slot");
        let closed = Arc::new(AtomicBool::new(false));
        let seen = closed.clone();
        let request = slot.request();
        let started = Instant::now();
        let serve = slot.serve(std::future::pending::<()>(), move |_| {
            seen.store(true, Ordering::SeqCst)
        });
        let end = async {
            // Busy for 20 s: never idle meanwhile.
            tokio::time::sleep(Duration::from_secs(20)).await;
            assert!(!closed.load(Ordering::SeqCst), "closed while busy");
            drop(request);
            tokio::time::sleep(Duration::from_secs(4)).await;
            assert!(
                !closed.load(Ordering::SeqCst),
                "closed before the idle timeout"
            );
            tokio::time::sleep(Duration::from_secs(2)).await;
            assert!(
                closed.load(Ordering::SeqCst),
                "closed after the idle timeout"
            );
        };
        tokio::select! {
            _ = serve => {
                // Asked to close at 25 s, dropped CLOSE_GRACE later.
                assert!(started.elapsed() >= Duration::from_secs(25) + CLOSE_GRACE);
            }
            _ = end => {}
        }
    }
}
