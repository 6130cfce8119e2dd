//! `/metrics` in the Prometheus text format: delivery outcomes counted here, job states read
//! from the queue.

use std::collections::BTreeMap;
use std::sync::Mutex;

#[derive(Default)]
pub struct Metrics {
    counters: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
}

impl Metrics {
    /// Adds one to `ws_fix_<name>_total{outcome="<outcome>"}`.
    pub fn count(&self, name: &'static str, outcome: &'static str) {
        let mut c = self.counters.lock().expect("metrics lock");
        *c.entry((name, outcome)).or_default() += 1;
    }

    pub fn render(&self, jobs: &[(String, i64)]) -> String {
        let mut out = String::new();
        let c = self.counters.lock().expect("metrics lock");
        let mut last = "";
        for ((name, outcome), n) in c.iter() {
            if *name != last {
                out.push_str(&format!(
                    "# HELP ws_fix_{name}_total Webhook {name} by outcome.\n# TYPE ws_fix_{name}_total counter\n"
                ));
                last = name;
            }
            out.push_str(&format!(
                "ws_fix_{name}_total{{outcome=\"{outcome}\"}} {n}\n"
            ));
        }
        out.push_str("# HELP ws_fix_jobs Jobs in the queue by state.\n# TYPE ws_fix_jobs gauge\n");
        for (state, n) in jobs {
            out.push_str(&format!("ws_fix_jobs{{state=\"{state}\"}} {n}\n"));
        }
        out
    }
}
