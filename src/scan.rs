//! One scan of a loaded repository: the model, the rules, and what could not be looked at.

use std::collections::BTreeSet;

use crate::catalogue::Catalogue;
use crate::config::RepoConfig;
use crate::findings::Finding;
use crate::load::Loaded;
use crate::model::Applied;
use crate::report::scan::Coverage;

/// The findings of a scan and its coverage.
#[derive(Clone, Debug)]
pub struct ScanResult {
    /// Sorted by file, position and rule; ignored findings included (marked).
    pub findings: Vec<Finding>,
    pub coverage: Coverage,
}

/// Builds the models of `loaded` and runs every enabled rule over them, one applied set at a
/// time (a repo with many entry points never holds all their models at once).
pub fn scan(loaded: &Loaded, catalogue: &Catalogue, config: &RepoConfig) -> ScanResult {
    let applied = crate::model::apply::apply(loaded);
    let mut findings = crate::rules::Collector::new(catalogue, config);
    for set in &applied.sets {
        findings.add(&crate::model::eg::build(set, catalogue, config), Some(set));
    }
    ScanResult {
        findings: findings.finish(),
        coverage: coverage(loaded, &applied),
    }
}

/// What the scan could not look at: skipped files, files nothing applies, and the things
/// (files, HelmReleases, routes) the apply layer could not follow, each counted once across
/// entry points.
pub fn coverage(loaded: &Loaded, applied: &Applied) -> Coverage {
    let mut files: BTreeSet<&str> = applied.not_applied.iter().map(String::as_str).collect();
    let mut routes: BTreeSet<&str> = BTreeSet::new();
    for set in &applied.sets {
        for n in &set.not_analysed {
            if n.route {
                routes.insert(&n.what);
            } else {
                files.insert(&n.what);
            }
        }
    }
    Coverage {
        files_parsed: loaded.files.len(),
        files_skipped: loaded.skipped.len(),
        files_not_analysed: files.len(),
        routes_not_analysed: routes.len(),
        entry_points: applied.sets.len(),
    }
}
