//! One scan of a loaded repository: the model, the rules, and what could not be looked at.

use std::collections::BTreeSet;

use crate::catalogue::Catalogue;
use crate::config::RepoConfig;
use crate::findings::Finding;
use crate::load::Loaded;
use crate::model::NotAnalysed;
use crate::report::scan::Coverage;

/// The findings of a scan and its coverage.
#[derive(Clone, Debug)]
pub struct ScanResult {
    /// Sorted by file, position and rule; ignored findings included (marked).
    pub findings: Vec<Finding>,
    pub coverage: Coverage,
}

/// Builds the models of `loaded` and runs every enabled rule over them, one applied set at a
/// time: a set (its resources, its model) is dropped once its findings are in, so a repo with
/// many entry points never holds them all.
pub fn scan(loaded: &Loaded, catalogue: &Catalogue, config: &RepoConfig) -> ScanResult {
    let mut findings = crate::rules::Collector::new(catalogue, config);
    let (mut entry_points, mut not_analysed) = (0, Vec::new());
    let not_applied = crate::model::apply::apply_each(loaded, |set| {
        findings.add(
            &crate::model::eg::build(&set, catalogue, config),
            Some(&set),
        );
        entry_points += 1;
        not_analysed.extend(set.not_analysed);
    });
    let not_applied = not_applied
        .iter()
        .filter_map(|&id| Some(loaded.by_id(id)?.path.as_str()));
    ScanResult {
        findings: findings.finish(),
        coverage: coverage(loaded, not_applied, &not_analysed, entry_points),
    }
}

/// What the scan could not look at: skipped files, files nothing applies, and the things
/// (files, HelmReleases, routes) the apply layer could not follow, each counted once across
/// entry points.
pub fn coverage<'a>(
    loaded: &Loaded,
    not_applied: impl Iterator<Item = &'a str>,
    not_analysed: &'a [NotAnalysed],
    entry_points: usize,
) -> Coverage {
    let mut files: BTreeSet<&str> = not_applied.collect();
    let mut routes: BTreeSet<&str> = BTreeSet::new();
    for n in not_analysed {
        if n.route {
            routes.insert(&n.what);
        } else {
            files.insert(&n.what);
        }
    }
    Coverage {
        files_parsed: loaded.files.len(),
        files_skipped: loaded.skipped.len(),
        files_not_analysed: files.len(),
        routes_not_analysed: routes.len(),
        entry_points,
    }
}
