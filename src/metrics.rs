//! The process's metrics: counters, gauges and histograms with labels, held in memory and
//! written in the Prometheus text format (`GET /metrics`). Every metric is declared once here,
//! with its help text ([`ALL`]); the layers that move them (the webhook, the worker, the App,
//! the GitHub façade) share one [`Metrics`] in an `Arc`. `docs/observability.md` lists them.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// What a metric is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    Counter,
    Gauge,
    /// A histogram with these upper bounds (seconds, ascending; `+Inf` is added).
    Histogram(&'static [f64]),
}

/// One metric: its name, its help line and its kind.
#[derive(Debug, PartialEq)]
pub struct Metric {
    pub name: &'static str,
    pub help: &'static str,
    pub kind: Kind,
}

const JOB_BUCKETS: &[f64] = &[
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];
const SCAN_BUCKETS: &[f64] = &[0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

pub const DELIVERIES: Metric = Metric {
    name: "ws_fix_deliveries_total",
    help: "Webhook deliveries by event (X-GitHub-Event; unknown when unsigned) and outcome.",
    kind: Kind::Counter,
};
pub const SIGNATURES: Metric = Metric {
    name: "ws_fix_signatures_total",
    help: "Signed deliveries by the webhook secret that matched (current or previous).",
    kind: Kind::Counter,
};
pub const JOBS: Metric = Metric {
    name: "ws_fix_jobs",
    help: "Jobs in the queue by state.",
    kind: Kind::Gauge,
};
pub const QUEUE_OLDEST_AGE: Metric = Metric {
    name: "ws_fix_queue_oldest_job_age_seconds",
    help: "How long the queued job that became due first has waited since (0 when none waits).",
    kind: Kind::Gauge,
};
pub const JOB_DURATION: Metric = Metric {
    name: "ws_fix_job_duration_seconds",
    help: "Time to run a job, by event kind and outcome (done, retry, failed, unrecorded).",
    kind: Kind::Histogram(JOB_BUCKETS),
};
pub const SCANS: Metric = Metric {
    name: "ws_fix_scans_total",
    help: "Commits the App scanned.",
    kind: Kind::Counter,
};
pub const SCAN_DURATION: Metric = Metric {
    name: "ws_fix_scan_duration_seconds",
    help: "Time to scan a commit: read through the API, loaded, modelled, checked, fixes planned.",
    kind: Kind::Histogram(SCAN_BUCKETS),
};
pub const FINDINGS: Metric = Metric {
    name: "ws_fix_findings_total",
    help: "Findings (not ignored) reported by the App's scans, by rule.",
    kind: Kind::Counter,
};
pub const PULL_REQUESTS: Metric = Metric {
    name: "ws_fix_pull_requests_total",
    help: "Fix pull requests opened, updated or closed by the publisher.",
    kind: Kind::Counter,
};
pub const GITHUB_REQUESTS: Metric = Metric {
    name: "ws_fix_github_requests_total",
    help: "Requests to GitHub's API by the status answered (error: no answer).",
    kind: Kind::Counter,
};
pub const GITHUB_RATE_LIMIT_REMAINING: Metric = Metric {
    name: "ws_fix_github_rate_limit_remaining",
    help: "x-ratelimit-remaining of the last GitHub answer that had it.",
    kind: Kind::Gauge,
};

/// Every metric, in the order `/metrics` lists them.
pub const ALL: [&Metric; 11] = [
    &DELIVERIES,
    &SIGNATURES,
    &JOBS,
    &QUEUE_OLDEST_AGE,
    &JOB_DURATION,
    &SCANS,
    &SCAN_DURATION,
    &FINDINGS,
    &PULL_REQUESTS,
    &GITHUB_REQUESTS,
    &GITHUB_RATE_LIMIT_REMAINING,
];

/// Label names and values, in the order given.
type Labels = Vec<(&'static str, String)>;

enum Value {
    Number(f64),
    /// Per bucket the observations in it alone (made cumulative when written).
    Histogram {
        buckets: Vec<u64>,
        sum: f64,
        count: u64,
    },
}

/// The metrics of one process. Series appear when first moved; an unlabelled counter or
/// histogram is written as zero before that, a gauge only once set.
#[derive(Default)]
pub struct Metrics {
    series: Mutex<BTreeMap<&'static str, BTreeMap<Labels, Value>>>,
}

impl Metrics {
    /// Adds one to a counter.
    pub fn inc(&self, metric: &Metric, labels: &[(&'static str, &str)]) {
        self.add(metric, labels, 1);
    }

    /// Adds `n` to a counter.
    pub fn add(&self, metric: &Metric, labels: &[(&'static str, &str)], n: u64) {
        debug_assert_eq!(metric.kind, Kind::Counter, "{}", metric.name);
        let mut series = self.lock();
        let v = series
            .entry(metric.name)
            .or_default()
            .entry(owned(labels))
            .or_insert(Value::Number(0.0));
        if let Value::Number(x) = v {
            *x += n as f64;
        }
    }

    /// Sets a gauge.
    pub fn set(&self, metric: &Metric, labels: &[(&'static str, &str)], value: f64) {
        debug_assert_eq!(metric.kind, Kind::Gauge, "{}", metric.name);
        self.lock()
            .entry(metric.name)
            .or_default()
            .insert(owned(labels), Value::Number(value));
    }

    /// Records one observation of a histogram.
    pub fn observe(&self, metric: &Metric, labels: &[(&'static str, &str)], value: f64) {
        let Kind::Histogram(bounds) = metric.kind else {
            debug_assert!(false, "{} is not a histogram", metric.name);
            return;
        };
        let mut series = self.lock();
        let v = series
            .entry(metric.name)
            .or_default()
            .entry(owned(labels))
            .or_insert_with(|| Value::Histogram {
                buckets: vec![0; bounds.len()],
                sum: 0.0,
                count: 0,
            });
        if let Value::Histogram {
            buckets,
            sum,
            count,
        } = v
        {
            if let Some(i) = bounds.iter().position(|b| value <= *b) {
                buckets[i] += 1;
            }
            *sum += value;
            *count += 1;
        }
    }

    /// Every metric of [`ALL`] in the Prometheus text format (version 0.0.4).
    pub fn render(&self) -> String {
        let series = self.lock();
        let mut out = String::new();
        for m in ALL {
            let kind = match m.kind {
                Kind::Counter => "counter",
                Kind::Gauge => "gauge",
                Kind::Histogram(_) => "histogram",
            };
            let _ = writeln!(out, "# HELP {} {}", m.name, escape(m.help, false));
            let _ = writeln!(out, "# TYPE {} {kind}", m.name);
            match series.get(m.name) {
                Some(s) => {
                    for (labels, value) in s {
                        write_series(&mut out, m, labels, value);
                    }
                }
                None => match m.kind {
                    Kind::Counter => write_series(&mut out, m, &[], &Value::Number(0.0)),
                    Kind::Histogram(bounds) => {
                        let empty = Value::Histogram {
                            buckets: vec![0; bounds.len()],
                            sum: 0.0,
                            count: 0,
                        };
                        write_series(&mut out, m, &[], &empty);
                    }
                    Kind::Gauge => {}
                },
            }
        }
        out
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<&'static str, BTreeMap<Labels, Value>>> {
        // A panic elsewhere while counting leaves numbers that are still numbers.
        self.series.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn owned(labels: &[(&'static str, &str)]) -> Labels {
    labels.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
}

fn write_series(out: &mut String, m: &Metric, labels: &[(&'static str, String)], value: &Value) {
    match (value, m.kind) {
        (Value::Number(x), _) => {
            let _ = writeln!(out, "{}{} {x}", m.name, label_text(labels, None));
        }
        (
            Value::Histogram {
                buckets,
                sum,
                count,
            },
            Kind::Histogram(bounds),
        ) => {
            let mut below = 0;
            for (bound, n) in bounds.iter().zip(buckets) {
                below += n;
                let le = bound.to_string();
                let _ = writeln!(
                    out,
                    "{}_bucket{} {below}",
                    m.name,
                    label_text(labels, Some(&le))
                );
            }
            let _ = writeln!(
                out,
                "{}_bucket{} {count}",
                m.name,
                label_text(labels, Some("+Inf"))
            );
            let _ = writeln!(out, "{}_sum{} {sum}", m.name, label_text(labels, None));
            let _ = writeln!(out, "{}_count{} {count}", m.name, label_text(labels, None));
        }
        (Value::Histogram { .. }, _) => {}
    }
}

/// `{a="x",b="y"}` with `le` last when given; empty without labels.
fn label_text(labels: &[(&'static str, String)], le: Option<&str>) -> String {
    let mut parts: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v, true)))
        .collect();
    if let Some(le) = le {
        parts.push(format!("le=\"{le}\""));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", parts.join(","))
    }
}

/// A label value (`quoted`: `\`, `"` and line feeds escaped) or a help text (`\` and line feeds).
fn escape(s: &str, quoted: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if quoted => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
        text.lines()
            .filter(|l| l.starts_with(name) && !l.starts_with('#'))
            .collect()
    }

    #[test]
    fn counters_gauges_and_escaped_labels() {
        let m = Metrics::default();
        m.inc(&DELIVERIES, &[("event", "push"), ("outcome", "accepted")]);
        m.add(
            &DELIVERIES,
            &[("event", "push"), ("outcome", "accepted")],
            2,
        );
        m.inc(&FINDINGS, &[("rule", "a\"b\\c\nd")]);
        m.set(&JOBS, &[("state", "queued")], 4.0);
        m.set(&JOBS, &[("state", "queued")], 2.0);
        let text = m.render();
        assert!(text.contains("# HELP ws_fix_deliveries_total Webhook deliveries"));
        assert!(text.contains("# TYPE ws_fix_deliveries_total counter\n"));
        assert!(text.contains("# TYPE ws_fix_jobs gauge\n"));
        assert_eq!(
            lines_of(&text, "ws_fix_deliveries_total"),
            ["ws_fix_deliveries_total{event=\"push\",outcome=\"accepted\"} 3"]
        );
        assert_eq!(
            lines_of(&text, "ws_fix_findings_total"),
            [r#"ws_fix_findings_total{rule="a\"b\\c\nd"} 1"#]
        );
        assert_eq!(
            lines_of(&text, "ws_fix_jobs"),
            ["ws_fix_jobs{state=\"queued\"} 2"]
        );
        // Untouched: an unlabelled counter is zero, a gauge is absent.
        assert_eq!(
            lines_of(&text, "ws_fix_scans_total"),
            ["ws_fix_scans_total 0"]
        );
        assert!(lines_of(&text, "ws_fix_github_rate_limit_remaining").is_empty());
        assert!(text.contains("# TYPE ws_fix_github_rate_limit_remaining gauge\n"));
    }

    #[test]
    fn histogram_buckets_are_cumulative_with_inf_sum_and_count() {
        let m = Metrics::default();
        let labels = [("kind", "push"), ("outcome", "done")];
        // Binary fractions: the sum is exact.
        for v in [0.0625, 0.375, 0.375, 7.0, 1000.0] {
            m.observe(&JOB_DURATION, &labels, v);
        }
        let text = m.render();
        let lines = lines_of(&text, "ws_fix_job_duration_seconds");
        let bucket = |le: &str| {
            let head = format!(
                "ws_fix_job_duration_seconds_bucket{{kind=\"push\",outcome=\"done\",le=\"{le}\"}} "
            );
            lines
                .iter()
                .find_map(|l| l.strip_prefix(head.as_str()))
                .unwrap_or_else(|| panic!("no bucket {le}:\n{text}"))
                .to_owned()
        };
        assert_eq!(bucket("0.1"), "1");
        assert_eq!(bucket("0.25"), "1");
        assert_eq!(bucket("0.5"), "3");
        assert_eq!(bucket("5"), "3");
        assert_eq!(bucket("10"), "4");
        assert_eq!(bucket("300"), "4");
        assert_eq!(bucket("+Inf"), "5");
        assert!(lines.contains(
            &"ws_fix_job_duration_seconds_sum{kind=\"push\",outcome=\"done\"} 1007.8125"
        ));
        assert!(
            lines.contains(&"ws_fix_job_duration_seconds_count{kind=\"push\",outcome=\"done\"} 5")
        );
        // Buckets in ascending order, never decreasing.
        let counts: Vec<u64> = lines
            .iter()
            .filter(|l| l.contains("_bucket"))
            .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(counts.len(), JOB_BUCKETS.len() + 1);
        assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{counts:?}");
        // An untouched unlabelled histogram is written empty.
        assert!(text.contains("ws_fix_scan_duration_seconds_bucket{le=\"+Inf\"} 0\n"));
        assert!(text.contains("ws_fix_scan_duration_seconds_count 0\n"));
    }

    #[test]
    fn every_metric_is_named_ws_fix_and_listed_once() {
        let mut names: Vec<&str> = ALL.iter().map(|m| m.name).collect();
        assert!(names.iter().all(|n| n.starts_with("ws_fix_")));
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
    }
}
