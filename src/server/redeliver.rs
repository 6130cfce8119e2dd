//! The redelivery sweep. GitHub does not retry a delivery our server failed to accept (it was
//! down, restarting, or answered 5xx). Every few minutes the server lists the App's delivery
//! attempts of the last hours and asks GitHub to deliver again each event that no attempt got
//! a 2xx for and that the queue has not recorded, oldest first, a few times at most: an outage
//! of our own heals without anyone pressing "Redeliver".

use std::collections::{BTreeMap, HashSet};

use crate::github::{GitHubApp, GitHubError, HookDelivery};

/// Redeliveries asked for one event in all (GitHub's list shows ours): an event our server
/// keeps refusing is left alone after this many.
pub const MAX_REDELIVERIES: usize = 3;

/// Redeliveries asked for in one sweep (each is a request with the App's JWT).
pub const MAX_PER_SWEEP: usize = 50;

/// How often `serve` sweeps.
pub const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(300);

/// Pages of 100 attempts read in one sweep.
const MAX_PAGES: usize = 10;

/// What one sweep did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Attempts listed in the window.
    pub attempts: usize,
    /// Events redelivered (their guids).
    pub redelivered: Vec<String>,
    /// Events that failed and are recorded in the queue all the same (nothing to do).
    pub already_recorded: usize,
    /// Events left alone after [`MAX_REDELIVERIES`].
    pub given_up: usize,
}

/// The attempts to redeliver, oldest event first: per event with no 2xx attempt, not in
/// `recorded`, and redelivered fewer than [`MAX_REDELIVERIES`] times, its newest attempt.
pub fn choose(
    attempts: &[HookDelivery],
    recorded: &HashSet<String>,
    report: &mut SweepReport,
) -> Vec<HookDelivery> {
    let mut events: BTreeMap<&str, Vec<&HookDelivery>> = BTreeMap::new();
    for a in attempts {
        events.entry(&a.guid).or_default().push(a);
    }
    let mut chosen: Vec<(i64, HookDelivery)> = Vec::new();
    for (guid, tries) in events {
        if tries.iter().any(|t| t.succeeded()) {
            continue;
        }
        if recorded.contains(guid) {
            report.already_recorded += 1;
            continue;
        }
        if tries.iter().filter(|t| t.redelivery).count() >= MAX_REDELIVERIES {
            report.given_up += 1;
            continue;
        }
        let first = tries.iter().map(|t| t.delivered_at_ms).min().unwrap_or(0);
        let newest = tries
            .iter()
            .max_by_key(|t| (t.delivered_at_ms, t.id))
            .expect("an event has an attempt");
        chosen.push((first, (*newest).clone()));
    }
    chosen.sort_by_key(|(first, d)| (*first, d.id));
    chosen
        .into_iter()
        .take(MAX_PER_SWEEP)
        .map(|(_, d)| d)
        .collect()
}

/// One sweep over the attempts of the last `window_ms`. `recorded` answers which of the
/// given event ids the queue holds (`None`: the queue cannot tell, and nothing is redelivered).
pub async fn sweep<F, Fut>(
    github: &GitHubApp,
    now_ms: i64,
    window_ms: i64,
    recorded: F,
) -> Result<SweepReport, GitHubError>
where
    F: FnOnce(Vec<String>) -> Fut,
    Fut: std::future::Future<Output = Option<HashSet<String>>>,
{
    let attempts = github.hook_deliveries(now_ms, window_ms, MAX_PAGES).await?;
    let mut report = SweepReport {
        attempts: attempts.len(),
        ..SweepReport::default()
    };
    let failed: Vec<String> = attempts
        .iter()
        .filter(|a| !a.succeeded())
        .map(|a| a.guid.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    if failed.is_empty() {
        return Ok(report);
    }
    let Some(recorded) = recorded(failed).await else {
        return Ok(report);
    };
    for d in choose(&attempts, &recorded, &mut report) {
        match github.redeliver(d.id).await {
            Ok(()) => {
                tracing::info!(delivery = %d.guid, event = %d.event, "asked GitHub to redeliver a failed delivery");
                report.redelivered.push(d.guid);
            }
            // The others may still go through; this one is tried again next sweep.
            Err(e) => tracing::warn!(delivery = %d.guid, "redelivery refused: {e}"),
        }
    }
    Ok(report)
}

/// Sweeps now and then every `every` until `stop` turns true: the first sweep right away, as
/// a start is when an outage of our own has just ended.
pub async fn keep_sweeping(
    github: GitHubApp,
    queue: crate::queue::Queue,
    window: std::time::Duration,
    every: std::time::Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let window_ms = window.as_millis() as i64;
    loop {
        let recorded = |ids: Vec<String>| {
            let queue = queue.clone();
            async move {
                queue
                    .recorded(&ids)
                    .await
                    .inspect_err(|e| tracing::warn!("redelivery sweep: {e}"))
                    .ok()
            }
        };
        match sweep(&github, crate::queue::now_ms(), window_ms, recorded).await {
            Ok(r) if !r.redelivered.is_empty() => tracing::info!(
                redelivered = r.redelivered.len(),
                given_up = r.given_up,
                "redelivery sweep"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!("redelivery sweep: {e}"),
        }
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(id: u64, guid: &str, at: i64, status: u16, redelivery: bool) -> HookDelivery {
        HookDelivery {
            id,
            guid: guid.into(),
            delivered_at_ms: at,
            redelivery,
            status_code: status,
            event: "push".into(),
        }
    }

    #[test]
    fn chooses_failed_unrecorded_events_oldest_first() {
        let attempts = [
            attempt(9, "c", 900, 502, false),
            attempt(8, "b", 800, 0, true),
            attempt(7, "b", 500, 0, false),
            attempt(6, "ok", 400, 202, false),
            attempt(5, "late", 300, 503, false),
            attempt(4, "late", 350, 200, true),
            attempt(3, "known", 200, 0, false),
            attempt(2, "a", 100, 500, false),
        ];
        let recorded: HashSet<String> = ["known".to_owned()].into();
        let mut report = SweepReport::default();
        let chosen = choose(&attempts, &recorded, &mut report);
        let ids: Vec<(u64, &str)> = chosen.iter().map(|d| (d.id, d.guid.as_str())).collect();
        // `b` is redelivered from its newest attempt, placed by its first.
        assert_eq!(ids, [(2, "a"), (8, "b"), (9, "c")]);
        assert_eq!(report.already_recorded, 1);
    }

    #[test]
    fn gives_up_after_max_redeliveries() {
        let mut attempts = vec![attempt(1, "x", 0, 0, false)];
        for i in 0..MAX_REDELIVERIES as u64 {
            attempts.push(attempt(2 + i, "x", 10 + i as i64, 503, true));
        }
        let mut report = SweepReport::default();
        assert!(choose(&attempts, &HashSet::new(), &mut report).is_empty());
        assert_eq!(report.given_up, 1);
    }
}
