//! Every key of the repo config with its type, default and meaning: the source of the key
//! tables in `docs/config.md` (written by `reference::config_keys`). A test feeds an unknown key
//! at every level of the schema and checks that the parser's list of known keys is exactly
//! what this table documents, so neither can drift from the other.

/// One documented key. `path` joins nested keys with `.`; `<rule id>` and `<fix kind>` stand
/// for any id; `apps[]` and `websocket-routes[]` are the keys of a list entry.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    pub path: &'static str,
    pub kind: &'static str,
    pub default: &'static str,
    pub meaning: &'static str,
}

const fn key(
    path: &'static str,
    kind: &'static str,
    default: &'static str,
    meaning: &'static str,
) -> Key {
    Key {
        path,
        kind,
        default,
        meaning,
    }
}

/// The keys of the file, in the order the documentation lists them.
pub const KEYS: &[Key] = &[
    key(
        "version",
        "integer",
        "`1`",
        "The schema version. Only `1` exists; any other value is an error. Write it so a future schema can tell the file apart.",
    ),
    key(
        "rules",
        "mapping of rule id → settings",
        "`{}`",
        "Per-rule settings. Keys are the rule ids of the table below; an unknown id is an error.",
    ),
    key(
        "rules.<rule id>.enabled",
        "boolean",
        "`true`",
        "`false` switches the rule off: no findings, no fixes.",
    ),
    key(
        "rules.<rule id>.severity",
        "`error` \\| `warning` \\| `notice`",
        "the catalogue's",
        "Replaces the rule's severity, for every cause.",
    ),
    key(
        "fail-on",
        "`error` \\| `warning` \\| `notice`",
        "`warning`",
        "A check run concludes with `checks.new-finding-conclusion` when the pull request adds a finding at or above this severity.",
    ),
    key(
        "apps",
        "list of apps",
        "`[]`",
        "More WebSocket apps, in the shape of `rules/apps.yaml` (see below). An app whose `id` is also in the catalogue replaces the catalogue's entry; the repo's apps are tried first.",
    ),
    key(
        "websocket-routes",
        "list of entries",
        "`[]`",
        "Routes to treat as WebSocket routes (see below).",
    ),
    key(
        "ignore-paths",
        "list of strings",
        "`[]`",
        "Gitignore-style patterns, relative to the repository root. Matching files (and everything under matching directories) are not read. `!pattern` re-includes.",
    ),
    key(
        "envoy-gateway.version",
        "string",
        "none",
        "The deployed Envoy Gateway release, `1.9.0` or `v1.9.0` (a full version, not a range). It replaces what ws-fix would read from the repo: use it when the install lives elsewhere, or when a range or a digest hides the real release, so that version-dependent fixes can be proposed.",
    ),
    key(
        "fixes.<fix kind>.enabled",
        "boolean",
        "`true`",
        "`false`: never propose this kind of fix. Keys are the fix kinds of the table below.",
    ),
    key(
        "fixes.http-upgrade.explicit",
        "boolean",
        "`false`",
        "Also write `httpUpgrade: [{type: websocket}]` into the Gateway-wide BackendTrafficPolicy where the upgrade is already on by default. The pull request then says it changes no behaviour. Only `http-upgrade` takes this key.",
    ),
    key(
        "fixes.prefer",
        "`ws-app-protocol` \\| `backend`",
        "none",
        "For `upstream-h2`, which fix to propose when the deployed version allows both. Without it ws-fix prefers `ws-app-protocol` (one line) and uses `backend` only where the Service app protocol does not work (1.7.3, 1.8.0) or the app is outside the cluster.",
    ),
    key(
        "mode",
        "`pull-requests` \\| `report`",
        "`pull-requests`",
        "`pull-requests`: one pull request per fix kind. `report`: findings only (reported in one issue or comment, and in check runs), no pull requests; for repos that want a report before any change.",
    ),
    key(
        "paused",
        "boolean",
        "`false`",
        "`true`: the App leaves this repository alone (no scans, check runs or pull requests) until the key is removed or set to `false`. The CLI is not affected.",
    ),
    key(
        "commands.min-permission",
        "`write` \\| `maintain` \\| `admin`",
        "`write`",
        "The lowest repository permission that may run `/ws-fix` commands.",
    ),
    key(
        "checks.enabled",
        "boolean",
        "`true`",
        "`false`: no check runs.",
    ),
    key(
        "checks.new-finding-conclusion",
        "`failure` \\| `neutral`",
        "`failure`",
        "The conclusion of a check run whose pull request adds a finding at or above `fail-on`.",
    ),
    key(
        "apps[].id",
        "string, kebab-case",
        "required",
        "Unique in the list. The id of a catalogue app replaces that app.",
    ),
    key("apps[].name", "string", "required", "Display name."),
    key(
        "apps[].images",
        "list of strings",
        "`[]`",
        "Image repositories, without tag or digest (`ghcr.io/example/app`, or `example/app` for Docker Hub).",
    ),
    key(
        "apps[].charts",
        "list of strings",
        "`[]`",
        "Bare Helm chart names (`grafana`, not `grafana/grafana`).",
    ),
    key(
        "apps[].kinds",
        "list of `{group, kind}`",
        "`[]`",
        "Operator resources that are the app, e.g. `{group: grafana.integreatly.org, kind: Grafana}`.",
    ),
    key(
        "apps[].port",
        "integer 1-65535",
        "none",
        "The port the app listens on by default.",
    ),
    key(
        "apps[].probe-path",
        "string starting with `/`",
        "`/`",
        "Where a WebSocket handshake can be tried; shown in the pull request's checklist.",
    ),
    key("apps[].notes", "string", "none", "Free text."),
    key(
        "websocket-routes[].kind",
        "`HTTPRoute` \\| `HelmRelease`",
        "`HTTPRoute`",
        "With `name`: the kind of resource; `HelmRelease` means every route in the HelmRelease's values.",
    ),
    key(
        "websocket-routes[].namespace",
        "string",
        "any",
        "With `name`: the namespace; without it the entry matches that name in every namespace.",
    ),
    key(
        "websocket-routes[].name",
        "string",
        "none",
        "The resource's name. An entry has `name` or `hostname`, not both.",
    ),
    key(
        "websocket-routes[].hostname",
        "string",
        "none",
        "Every route that serves this hostname counts. `*.example.com` matches one more label, as in Gateway API (`ha.example.com`, not `a.b.example.com`).",
    ),
];

/// The keys whose path starts with `prefix` (`""`: the top-level and nested keys of the file,
/// without list entries).
pub fn under(prefix: &str) -> impl Iterator<Item = &'static Key> + '_ {
    KEYS.iter().filter(move |k| {
        if prefix.is_empty() {
            !k.path.contains("[]")
        } else {
            k.path.starts_with(prefix)
        }
    })
}
