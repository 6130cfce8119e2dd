//! What gets applied: entry points, kustomizations, patches, namespaces, substitution, and
//! resources built from HelmRelease values and operator resources.

use crate::load::Loaded;

use super::resource::{Applied, AppliedSet, Origin, Resource};

/// Every document of every parsed file as one set, namespaces from `metadata` only: the model
/// of a plain folder of manifests (and of Envoy Gateway's own test cases).
pub fn plain(loaded: &Loaded) -> AppliedSet {
    let resources = loaded
        .documents()
        .filter_map(|(_, doc)| {
            let root = doc.root.as_ref()?;
            Some(Resource {
                api_version: doc.api_version()?.to_owned(),
                kind: doc.kind()?.to_owned(),
                name: doc.name().unwrap_or_default().to_owned(),
                namespace: doc.namespace().map(str::to_owned),
                node: root.clone(),
                span: doc.span,
                origin: Origin::Manifest,
            })
        })
        .collect();
    AppliedSet {
        entry_point: "all manifests".into(),
        entry_span: None,
        resources,
        not_analysed: Vec::new(),
    }
}

/// What a repo applies (today: every manifest as one set; entry points come next).
pub fn apply(loaded: &Loaded) -> Applied {
    Applied {
        sets: vec![plain(loaded)],
        not_applied: Vec::new(),
    }
}
