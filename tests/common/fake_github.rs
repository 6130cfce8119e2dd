//! A stateful fake of GitHub's REST API for tests, served over HTTP by axum on 127.0.0.1 inside
//! the test's tokio runtime, so the production client (octocrab with App auth) talks to it as to
//! GitHub: the App's JWT buys installation tokens, repositories hold git objects, refs, pull
//! requests, issues, comments, labels, reactions and permissions. Every request is checked
//! against GitHub's REST description (`openapi.rs`); one the description does not allow gets a
//! 400 and is recorded as a violation. Tests seed and inspect the state through [`FakeGitHub`],
//! read the request log, and queue faults (a 502, a secondary rate limit, a 5xx after the write
//! happened).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Value, json};

// Declared here so that `common/mod.rs` needs one line for both files.
#[path = "openapi.rs"]
pub mod openapi;

/// The App's ID unless [`FakeGitHub::start_with_app`] says otherwise.
pub const APP_ID: u64 = 424242;
/// The App's slug: its bot user is `ws-fix[bot]`.
pub const APP_SLUG: &str = "ws-fix";
const DOCS: &str = "https://docs.github.com/rest";
/// The most entries GitHub lists in one (recursive) tree.
pub const MAX_TREE_ENTRIES: usize = 100_000;

/// `tests/fixtures/github/test-app-key.pem`: the App's private key (PKCS#1 PEM).
pub fn test_private_key_pem() -> String {
    std::fs::read_to_string(fixture("test-app-key.pem")).expect("the test App key")
}

/// `tests/fixtures/github/test-app-key.pub.pem`: the public key the fake verifies JWTs with.
pub fn test_public_key_pem() -> String {
    std::fs::read_to_string(fixture("test-app-key.pub.pem")).expect("the test App public key")
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/github")
        .join(name)
}

// ---------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------

#[path = "fake_apps.rs"]
mod apps;
#[path = "fake_gate.rs"]
mod gate;
#[path = "fake_hook.rs"]
mod hook;
#[allow(unused_imports)]
pub use apps::{CreatedApp, ManifestFlow, form_encode};
#[allow(unused_imports)]
pub use gate::{Held, Release};
#[allow(unused_imports)]
pub use hook::{Hook, HookAttempt};

/// Everything the fake knows. Reach it with [`FakeGitHub::with_state`].
pub struct State {
    pub app_id: u64,
    pub app_slug: String,
    /// `http://127.0.0.1:PORT`, for the `url` fields of responses.
    pub api_url: String,
    pub installations: BTreeMap<u64, Installation>,
    /// Keyed by lower-case `owner/name`.
    pub repos: BTreeMap<String, Repo>,
    pub tokens: HashMap<String, Token>,
    pub log: Vec<LoggedRequest>,
    pub violations: Vec<String>,
    pub faults: VecDeque<Fault>,
    /// Refuse body fields GitHub's schemas do not list (see [`FakeGitHub::set_strict_bodies`]).
    pub strict_bodies: bool,
    /// The public key App JWTs must verify with after [`FakeGitHub::rotate_app_key`] (before:
    /// the test key's).
    pub app_public_key: Option<String>,
    /// The App's webhook and its delivery attempts.
    pub hook: Hook,
    /// Apps created from manifests, and their one-time codes.
    pub manifests: ManifestFlow,
    /// Requests to hold when they arrive (see [`FakeGitHub::hold_next`]).
    gates: Vec<gate::Gate>,
    next_id: u64,
}

#[derive(Debug, Clone)]
pub struct Installation {
    pub id: u64,
    /// The account (user or organisation) the App is installed on.
    pub account: String,
    /// Lower-case `owner/name` of the repositories the installation can reach.
    pub repos: BTreeSet<String>,
}

#[derive(Debug, Clone)]
pub struct Token {
    pub installation_id: u64,
    /// Unix seconds.
    pub expires_at: i64,
}

/// One repository: git objects (content-addressed with git's own SHA-1), refs, issues and pull
/// requests (one number sequence), comments, collaborator permissions.
#[derive(Debug, Clone)]
pub struct Repo {
    pub id: u64,
    pub owner: String,
    pub name: String,
    pub default_branch: String,
    pub archived: bool,
    pub private: bool,
    pub objects: HashMap<String, GitObject>,
    /// Full ref name (`refs/heads/main`) → commit SHA.
    pub refs: BTreeMap<String, String>,
    /// Issue number → issue or pull request.
    pub issues: BTreeMap<u64, Issue>,
    /// Comment id → comment.
    pub comments: BTreeMap<u64, Comment>,
    /// Login (lower case) → (`permission`, `role_name`).
    pub permissions: HashMap<String, (String, String)>,
    /// Check run id → check run (see the "Checks" section).
    pub check_runs: BTreeMap<u64, CheckRun>,
    next_number: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum GitObject {
    Blob(Vec<u8>),
    Tree(Vec<TreeEntry>),
    Commit(Commit),
}

#[derive(Debug, Clone, PartialEq)]
pub struct TreeEntry {
    pub name: String,
    /// As the API writes it: `100644`, `100755`, `040000`, `160000`, `120000`.
    pub mode: String,
    /// `blob`, `tree` or `commit`.
    pub kind: String,
    pub sha: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Commit {
    pub tree: String,
    pub parents: Vec<String>,
    pub message: String,
    pub author: Signature,
    pub committer: Signature,
    /// `verification.verified`: true only for a commit the App made through the API without
    /// `author`, `committer` or `signature`.
    pub verified: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Signature {
    pub name: String,
    pub email: String,
    /// RFC 3339.
    pub date: String,
}

/// An issue or, with `pull`, a pull request.
#[derive(Debug, Clone)]
pub struct Issue {
    pub number: u64,
    pub id: u64,
    pub title: String,
    pub body: Option<String>,
    /// Login of the author (`ws-fix[bot]` when made through the API).
    pub user: String,
    /// `open` or `closed`.
    pub state: String,
    pub labels: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
    pub closed_at: Option<String>,
    pub pull: Option<Pull>,
}

#[derive(Debug, Clone)]
pub struct Pull {
    /// The head branch (without `refs/heads/`).
    pub head_ref: String,
    pub base_ref: String,
    /// The head commit when the PR was opened, and again when it was closed; while open, the
    /// head branch's tip is shown instead.
    pub head_sha: String,
    /// `owner/name` of the fork the head branch is in; `None`: this repository.
    pub head_repo: Option<String>,
    pub draft: bool,
    pub merged_at: Option<String>,
    pub merge_commit_sha: Option<String>,
    pub merged_by: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Comment {
    pub id: u64,
    pub issue_number: u64,
    pub user: String,
    pub body: String,
    pub created_at: String,
    pub updated_at: String,
    pub reactions: Vec<Reaction>,
}

#[derive(Debug, Clone)]
pub struct Reaction {
    pub id: u64,
    pub user: String,
    pub content: String,
}

/// One request as the fake saw it (also those refused).
#[derive(Debug, Clone)]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub body: Option<Value>,
    pub status: u16,
    /// The REST description's templated path, when the request matched one.
    pub template: Option<String>,
}

impl LoggedRequest {
    /// Anything but GET and HEAD.
    pub fn is_write(&self) -> bool {
        self.method != "GET" && self.method != "HEAD"
    }
}

/// A queued forced answer for the next request with `method` whose path starts with
/// `path_prefix`. With `after_success` the request is carried out first and its answer then
/// replaced (a 5xx that did succeed).
#[derive(Debug, Clone)]
pub struct Fault {
    pub method: String,
    pub path_prefix: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Value,
    pub after_success: bool,
}

impl Fault {
    pub fn new(method: &str, path_prefix: &str, status: u16) -> Self {
        let message = match status {
            403 | 429 => {
                "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID."
            }
            500 => "Server Error",
            502 => "Bad Gateway",
            503 => "Service Unavailable",
            _ => "Injected failure",
        };
        Self {
            method: method.to_ascii_uppercase(),
            path_prefix: path_prefix.to_owned(),
            status,
            headers: Vec::new(),
            body: json!({"message": message, "documentation_url": DOCS, "status": status.to_string()}),
            after_success: false,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The handle
// ---------------------------------------------------------------------------------------------

/// The running fake. Dropping it stops the server and, unless the thread is already panicking,
/// asserts that no request violated GitHub's REST description.
pub struct FakeGitHub {
    shared: Arc<Mutex<State>>,
    addr: SocketAddr,
    server: tokio::task::JoinHandle<()>,
}

/// An answer read by [`FakeGitHub::request`].
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    /// The JSON body (`Null` when empty, a string when not JSON).
    pub body: Value,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl FakeGitHub {
    /// Starts a fake for the App [`APP_ID`] / [`APP_SLUG`] with no installations.
    pub async fn start() -> Self {
        Self::start_with_app(APP_ID, APP_SLUG).await
    }

    pub async fn start_with_app(app_id: u64, app_slug: &str) -> Self {
        // Parse the description now rather than inside the first request.
        openapi::description();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Mutex::new(State {
            app_id,
            app_slug: app_slug.to_owned(),
            api_url: format!("http://{addr}"),
            installations: BTreeMap::new(),
            repos: BTreeMap::new(),
            tokens: HashMap::new(),
            log: Vec::new(),
            violations: Vec::new(),
            faults: VecDeque::new(),
            strict_bodies: false,
            app_public_key: None,
            hook: Hook::default(),
            manifests: ManifestFlow::default(),
            gates: Vec::new(),
            next_id: 1000,
        }));
        let app = axum::Router::new()
            // GitHub's web pages of the manifest flow, at the root beside the API.
            .route("/settings/apps/new", axum::routing::post(apps::new_app))
            .route(
                "/organizations/{org}/settings/apps/new",
                axum::routing::post(apps::new_org_app),
            )
            .fallback(handle)
            .layer(axum::extract::DefaultBodyLimit::max(64 << 20))
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            shared,
            addr,
            server,
        }
    }

    /// `http://127.0.0.1:PORT` (no trailing slash): the API base URL for the client.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn app_id(&self) -> u64 {
        self.with_state(|s| s.app_id)
    }

    /// `ws-fix[bot]`: the login of what the App writes.
    pub fn bot_login(&self) -> String {
        self.with_state(|s| s.bot_login())
    }

    /// Runs `f` on the locked state (do not call other methods of the fake inside).
    pub fn with_state<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.shared.lock().unwrap())
    }

    /// GitHub's request schemas allow unknown properties (GitHub ignores them). With `true`,
    /// a body field the operation's schema does not list is a violation too.
    pub fn set_strict_bodies(&self, strict: bool) {
        self.with_state(|s| s.strict_bodies = strict);
    }

    // --- seeding ---------------------------------------------------------------------------

    /// Adds (or replaces) an installation on `account` with no repositories.
    pub fn add_installation(&self, installation_id: u64, account: &str) {
        self.with_state(|s| {
            s.installations.insert(
                installation_id,
                Installation {
                    id: installation_id,
                    account: account.to_owned(),
                    repos: BTreeSet::new(),
                },
            );
        });
    }

    /// Creates `owner/name` with a `main` branch holding one commit of `files` (path, text),
    /// made by a person, and gives `installation_id` (which must exist) access to it. Returns
    /// the commit's SHA.
    pub fn add_repo(
        &self,
        installation_id: u64,
        owner: &str,
        name: &str,
        files: &[(&str, &str)],
    ) -> String {
        self.with_state(|s| {
            let id = s.next_id();
            let key = repo_key(owner, name);
            let mut repo = Repo {
                id,
                owner: owner.to_owned(),
                name: name.to_owned(),
                default_branch: "main".to_owned(),
                archived: false,
                private: true,
                objects: HashMap::new(),
                refs: BTreeMap::new(),
                issues: BTreeMap::new(),
                comments: BTreeMap::new(),
                permissions: HashMap::new(),
                check_runs: BTreeMap::new(),
                next_number: 1,
            };
            let mut flat = Flat::new();
            for (path, text) in files {
                let sha = repo.put(GitObject::Blob(text.as_bytes().to_vec()));
                set_path(&mut flat, path, Some(FlatEntry::blob(sha)));
            }
            let tree = repo.write_flat(&flat);
            let commit = repo.put(GitObject::Commit(Commit {
                tree,
                parents: Vec::new(),
                message: "Initial commit".to_owned(),
                author: person(owner),
                committer: person(owner),
                verified: false,
            }));
            repo.refs
                .insert("refs/heads/main".to_owned(), commit.clone());
            s.repos.insert(key.clone(), repo);
            s.installations
                .get_mut(&installation_id)
                .expect("add_installation first")
                .repos
                .insert(key);
            commit
        })
    }

    pub fn set_archived(&self, owner: &str, repo: &str, archived: bool) {
        self.with_repo(owner, repo, |r| r.archived = archived);
    }

    /// Points the default branch elsewhere (the branch is created at the current default
    /// branch's tip when it does not exist).
    pub fn set_default_branch(&self, owner: &str, repo: &str, branch: &str) {
        self.with_repo(owner, repo, |r| {
            let full = format!("refs/heads/{branch}");
            if !r.refs.contains_key(&full) {
                let tip = r.branch_sha(&r.default_branch.clone()).unwrap();
                r.refs.insert(full, tip);
            }
            r.default_branch = branch.to_owned();
        });
    }

    /// What `GET .../collaborators/{user}/permission` answers for `user` (unknown users get
    /// `none` / `none`).
    pub fn set_permission(
        &self,
        owner: &str,
        repo: &str,
        user: &str,
        permission: &str,
        role: &str,
    ) {
        self.with_repo(owner, repo, |r| {
            r.permissions.insert(
                user.to_ascii_lowercase(),
                (permission.to_owned(), role.to_owned()),
            );
        });
    }

    /// A person commits `changes` (path → new text, or `None` to delete) on `branch` and pushes
    /// it (the branch is made from the default branch when absent). The commit is not verified.
    /// Returns its SHA.
    pub fn push_commit(
        &self,
        owner: &str,
        repo: &str,
        branch: &str,
        author: &str,
        message: &str,
        changes: &[(&str, Option<&str>)],
    ) -> String {
        self.with_repo(owner, repo, |r| {
            let parent = r
                .branch_sha(branch)
                .or_else(|| r.branch_sha(&r.default_branch.clone()))
                .expect("the default branch exists");
            let mut flat = r.flatten(&r.commit(&parent).unwrap().tree).unwrap();
            for (path, text) in changes {
                let entry = text.map(|t| FlatEntry::blob(r.put(GitObject::Blob(t.into()))));
                set_path(&mut flat, path, entry);
            }
            let tree = r.write_flat(&flat);
            let sha = r.put(GitObject::Commit(Commit {
                tree,
                parents: vec![parent],
                message: message.to_owned(),
                author: person(author),
                committer: person(author),
                verified: false,
            }));
            r.refs.insert(format!("refs/heads/{branch}"), sha.clone());
            sha
        })
    }

    /// A person opens an issue. Returns its number.
    pub fn create_issue(&self, owner: &str, repo: &str, user: &str, title: &str) -> u64 {
        self.with_state(|s| {
            let id = s.next_id();
            let r = s.repo_mut(owner, repo);
            let number = r.next_number;
            r.next_number += 1;
            r.issues
                .insert(number, Issue::new(number, id, title, None, user, None));
            number
        })
    }

    /// A person comments on issue or PR `number`. Returns the comment id.
    pub fn post_comment_as(
        &self,
        owner: &str,
        repo: &str,
        number: u64,
        user: &str,
        body: &str,
    ) -> u64 {
        self.with_state(|s| {
            let id = s.next_id();
            let r = s.repo_mut(owner, repo);
            assert!(r.issues.contains_key(&number), "no issue #{number}");
            r.comments.insert(id, Comment::new(id, number, user, body));
            id
        })
    }

    /// A person edits a comment.
    pub fn edit_comment_as(&self, owner: &str, repo: &str, comment_id: u64, body: &str) {
        self.with_repo(owner, repo, |r| {
            let c = r.comments.get_mut(&comment_id).expect("the comment exists");
            c.body = body.to_owned();
            c.updated_at = rfc3339(now());
        });
    }

    /// A person merges PR `number` from the web page: a merge commit on the base branch whose
    /// files are the base's plus what the head changed since the merge base (the head wins on
    /// conflicts). Returns the merge commit's SHA.
    pub fn merge_pr(&self, owner: &str, repo: &str, number: u64, by: &str) -> String {
        self.with_repo(owner, repo, |r| {
            let pull = r.issues[&number].pull.clone().expect("a pull request");
            let head = r
                .branch_sha(&pull.head_ref)
                .unwrap_or(pull.head_sha.clone());
            let base = r
                .branch_sha(&pull.base_ref)
                .expect("the base branch exists");
            let merge_base = r.merge_base(&base, &head);
            let old = match &merge_base {
                Some(mb) => r.flatten(&r.commit(mb).unwrap().tree).unwrap(),
                None => Flat::new(),
            };
            let theirs = r.flatten(&r.commit(&head).unwrap().tree).unwrap();
            let mut merged = r.flatten(&r.commit(&base).unwrap().tree).unwrap();
            let paths: BTreeSet<&String> = old.keys().chain(theirs.keys()).collect();
            for p in paths {
                if old.get(p) != theirs.get(p) {
                    match theirs.get(p) {
                        Some(e) => merged.insert(p.clone(), e.clone()),
                        None => merged.remove(p),
                    };
                }
            }
            let tree = r.write_flat(&merged);
            let sha = r.put(GitObject::Commit(Commit {
                tree,
                parents: vec![base, head.clone()],
                message: format!(
                    "Merge pull request #{number} from {}/{}",
                    r.owner, pull.head_ref
                ),
                author: person(by),
                committer: person(by),
                verified: false,
            }));
            r.refs
                .insert(format!("refs/heads/{}", pull.base_ref), sha.clone());
            let issue = r.issues.get_mut(&number).unwrap();
            let now = rfc3339(now());
            issue.state = "closed".to_owned();
            issue.closed_at = Some(now.clone());
            issue.updated_at = now.clone();
            let p = issue.pull.as_mut().unwrap();
            p.head_sha = head;
            p.merged_at = Some(now);
            p.merge_commit_sha = Some(sha.clone());
            p.merged_by = Some(by.to_owned());
            sha
        })
    }

    /// A person closes PR (or issue) `number` without merging.
    pub fn close_pr(&self, owner: &str, repo: &str, number: u64) {
        self.with_repo(owner, repo, |r| r.set_state(number, "closed"));
    }

    /// A person reopens PR (or issue) `number`.
    pub fn reopen_pr(&self, owner: &str, repo: &str, number: u64) {
        self.with_repo(owner, repo, |r| r.set_state(number, "open"));
    }

    /// Deletes a branch as a person would (e.g. after a merge).
    pub fn delete_branch(&self, owner: &str, repo: &str, branch: &str) {
        self.with_repo(owner, repo, |r| {
            r.refs.remove(&format!("refs/heads/{branch}"));
        });
    }

    // --- inspection --------------------------------------------------------------------------

    /// The tip of `branch`, if it exists.
    pub fn branch_sha(&self, owner: &str, repo: &str, branch: &str) -> Option<String> {
        self.with_repo(owner, repo, |r| r.branch_sha(branch))
    }

    /// The branches (names without `refs/heads/`).
    pub fn branches(&self, owner: &str, repo: &str) -> Vec<String> {
        self.with_repo(owner, repo, |r| {
            r.refs
                .keys()
                .filter_map(|k| k.strip_prefix("refs/heads/"))
                .map(str::to_owned)
                .collect()
        })
    }

    pub fn commit(&self, owner: &str, repo: &str, sha: &str) -> Option<Commit> {
        self.with_repo(owner, repo, |r| r.commit(sha).cloned())
    }

    /// Every file (path → text, lossy UTF-8) at `rev`: a branch name or a commit SHA.
    pub fn files(&self, owner: &str, repo: &str, rev: &str) -> BTreeMap<String, String> {
        self.with_repo(owner, repo, |r| {
            let sha = r.branch_sha(rev).unwrap_or_else(|| rev.to_owned());
            let tree = r.commit(&sha).expect("a commit").tree.clone();
            r.flatten(&tree)
                .unwrap()
                .into_iter()
                .filter_map(|(path, e)| match r.objects.get(&e.sha) {
                    Some(GitObject::Blob(b)) => {
                        Some((path, String::from_utf8_lossy(b).into_owned()))
                    }
                    _ => None,
                })
                .collect()
        })
    }

    /// One file's text at `rev` (branch or commit SHA).
    pub fn file(&self, owner: &str, repo: &str, rev: &str, path: &str) -> Option<String> {
        self.files(owner, repo, rev).remove(path)
    }

    /// Issue or PR `number`.
    pub fn issue(&self, owner: &str, repo: &str, number: u64) -> Option<Issue> {
        self.with_repo(owner, repo, |r| r.issues.get(&number).cloned())
    }

    /// The pull requests, by number.
    pub fn pulls(&self, owner: &str, repo: &str) -> Vec<Issue> {
        self.with_repo(owner, repo, |r| {
            r.issues
                .values()
                .filter(|i| i.pull.is_some())
                .cloned()
                .collect()
        })
    }

    /// The comments on issue or PR `number`, oldest first.
    pub fn comments(&self, owner: &str, repo: &str, number: u64) -> Vec<Comment> {
        self.with_repo(owner, repo, |r| {
            r.comments
                .values()
                .filter(|c| c.issue_number == number)
                .cloned()
                .collect()
        })
    }

    /// A comment by id.
    pub fn comment(&self, owner: &str, repo: &str, comment_id: u64) -> Option<Comment> {
        self.with_repo(owner, repo, |r| r.comments.get(&comment_id).cloned())
    }

    // --- the request log ---------------------------------------------------------------------

    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.with_state(|s| s.log.clone())
    }

    /// The requests other than GET and HEAD.
    pub fn writes(&self) -> Vec<LoggedRequest> {
        self.with_state(|s| s.log.iter().filter(|r| r.is_write()).cloned().collect())
    }

    /// How many requests with `method` had a path starting with `path_prefix`.
    pub fn count(&self, method: &str, path_prefix: &str) -> usize {
        self.with_state(|s| {
            s.log
                .iter()
                .filter(|r| {
                    r.method.eq_ignore_ascii_case(method) && r.path.starts_with(path_prefix)
                })
                .count()
        })
    }

    pub fn clear_log(&self) {
        self.with_state(|s| s.log.clear());
    }

    // --- faults ------------------------------------------------------------------------------

    /// The next `method` request under `path_prefix` is answered `status` with `headers`
    /// (and GitHub's kind of message) without being carried out.
    pub fn fail_next(
        &self,
        method: &str,
        path_prefix: &str,
        status: u16,
        headers: &[(&str, &str)],
    ) {
        let mut fault = Fault::new(method, path_prefix, status);
        fault.headers = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.push_fault(fault);
    }

    /// The next `method` request under `path_prefix` is carried out (the PR, comment or ref is
    /// created) and then answered `status`, as a 5xx that did succeed on GitHub's side.
    pub fn fail_next_after_success(&self, method: &str, path_prefix: &str, status: u16) {
        let mut fault = Fault::new(method, path_prefix, status);
        fault.after_success = true;
        self.push_fault(fault);
    }

    /// The next `method` request under `path_prefix` hits a secondary rate limit: 403 with
    /// `retry-after: SECS` and GitHub's message.
    pub fn secondary_rate_limit_next(
        &self,
        method: &str,
        path_prefix: &str,
        retry_after_secs: u64,
    ) {
        let mut fault = Fault::new(method, path_prefix, 403);
        fault.headers = vec![
            ("retry-after".to_owned(), retry_after_secs.to_string()),
            ("x-ratelimit-remaining".to_owned(), "4999".to_owned()),
        ];
        self.push_fault(fault);
    }

    pub fn push_fault(&self, fault: Fault) {
        self.with_state(|s| s.faults.push_back(fault));
    }

    /// Faults queued and not yet used.
    pub fn pending_faults(&self) -> usize {
        self.with_state(|s| s.faults.len())
    }

    // --- violations --------------------------------------------------------------------------

    /// Requests GitHub's REST description does not allow (and calls the fake does not
    /// implement), one line each.
    pub fn violations(&self) -> Vec<String> {
        self.with_state(|s| s.violations.clone())
    }

    /// The violations so far, forgetting them (for tests that provoke them on purpose).
    pub fn take_violations(&self) -> Vec<String> {
        self.with_state(|s| std::mem::take(&mut s.violations))
    }

    #[track_caller]
    pub fn assert_no_violations(&self) {
        let v = self.violations();
        assert!(
            v.is_empty(),
            "requests GitHub's REST description does not allow:\n  {}",
            v.join("\n  ")
        );
    }

    // --- credentials and a plain client ------------------------------------------------------

    /// Mints an installation token directly (as if `access_tokens` had been called).
    pub fn installation_token(&self, installation_id: u64) -> String {
        self.with_state(|s| s.mint_token(installation_id))
    }

    /// The App's key was replaced on GitHub: from now on only JWTs signed with the private key
    /// of `public_key_pem` are accepted (installation tokens already issued stay valid).
    pub fn rotate_app_key(&self, public_key_pem: &str) {
        self.with_state(|s| s.app_public_key = Some(public_key_pem.to_owned()));
    }

    /// Expires every installation token issued so far (the next use gets 401).
    pub fn expire_tokens(&self) {
        self.with_state(|s| {
            for t in s.tokens.values_mut() {
                t.expires_at = now() - 1;
            }
        });
    }

    /// A valid App JWT signed with the test key (iat 60 s ago, exp in 9 minutes).
    pub fn app_jwt(&self) -> String {
        let now = now();
        make_jwt(&json!({"iat": now - 60, "exp": now + 540, "iss": self.app_id().to_string()}))
    }

    /// Sends one request to the fake. `authorization` is the whole header value (e.g.
    /// `"token ghs_..."`, `"Bearer <jwt>"`); `path_and_query` starts with `/`.
    pub async fn request(
        &self,
        method: &str,
        path_and_query: &str,
        authorization: Option<&str>,
        body: Option<&Value>,
    ) -> RawResponse {
        raw_request(self.addr, method, path_and_query, authorization, body).await
    }

    /// [`Self::request`] with a fresh token of `installation_id`.
    pub async fn call(
        &self,
        installation_id: u64,
        method: &str,
        path_and_query: &str,
        body: Option<&Value>,
    ) -> RawResponse {
        let token = format!("token {}", self.installation_token(installation_id));
        self.request(method, path_and_query, Some(&token), body)
            .await
    }

    fn with_repo<R>(&self, owner: &str, repo: &str, f: impl FnOnce(&mut Repo) -> R) -> R {
        self.with_state(|s| f(s.repo_mut(owner, repo)))
    }
}

impl Drop for FakeGitHub {
    fn drop(&mut self) {
        self.server.abort();
        if !std::thread::panicking() {
            self.assert_no_violations();
        }
    }
}

/// Signs `claims` with the test App key (RS256).
pub fn make_jwt(claims: &Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(test_private_key_pem().as_bytes()).unwrap();
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        claims,
        &key,
    )
    .unwrap()
}

// ---------------------------------------------------------------------------------------------
// Serving
// ---------------------------------------------------------------------------------------------

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Option<Value>,
}

impl Reply {
    fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Some(body),
        }
    }

    fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: None,
        }
    }

    fn error(status: u16, message: &str) -> Self {
        Self::json(
            status,
            json!({"message": message, "documentation_url": DOCS, "status": status.to_string()}),
        )
    }

    fn not_found() -> Self {
        Self::error(404, "Not Found")
    }

    /// A 422 with GitHub's `Validation Failed` shape.
    fn invalid(resource: &str, field: Option<&str>, message: &str) -> Self {
        let mut error = json!({"resource": resource, "code": "custom", "message": message});
        if let Some(f) = field {
            error["field"] = json!(f);
            error["code"] = json!("invalid");
        }
        Self::json(
            422,
            json!({"message": "Validation Failed", "errors": [error], "documentation_url": DOCS, "status": "422"}),
        )
    }

    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = match self.body {
            Some(body) => (status, axum::Json(body)).into_response(),
            None => status.into_response(),
        };
        for (k, v) in self.headers {
            if let (Ok(k), Ok(v)) = (HeaderName::try_from(k), HeaderValue::try_from(v)) {
                response.headers_mut().append(k, v);
            }
        }
        response
    }
}

async fn handle(
    AxumState(shared): AxumState<Arc<Mutex<State>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let method = method.as_str().to_owned();
    let path = uri.path().to_owned();
    let query = uri.query().map(str::to_owned);
    let pairs = openapi::parse_query(query.as_deref());
    let parsed: Result<Option<Value>, String> = if body.iter().all(u8::is_ascii_whitespace) {
        Ok(None)
    } else {
        serde_json::from_slice(&body)
            .map(Some)
            .map_err(|e| format!("the body is not JSON: {e}"))
    };
    let strict = shared.lock().unwrap().strict_bodies;
    let checked = parsed
        .clone()
        .and_then(|b| openapi::description().check(&method, &path, &pairs, b.as_ref(), strict));
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);

    if !gate::pass(&shared, &method, &path).await {
        return Reply::error(502, "fake GitHub: the request was held and dropped").into_response();
    }
    let reply = {
        let mut state = shared.lock().unwrap();
        let body = parsed.unwrap_or(None);
        let (reply, template) = match checked {
            Err(message) => {
                let q = query
                    .as_deref()
                    .map(|q| format!("?{q}"))
                    .unwrap_or_default();
                state
                    .violations
                    .push(format!("{method} {path}{q}: {message}"));
                (
                    Reply::error(
                        400,
                        &format!("fake GitHub: refused by GitHub's REST description: {message}"),
                    ),
                    None,
                )
            }
            Ok(matched) => {
                let reply = state.serve(
                    &method,
                    &path,
                    &matched,
                    &pairs,
                    body.as_ref(),
                    authorization.as_deref(),
                );
                (reply, Some(matched.template))
            }
        };
        state.log.push(LoggedRequest {
            method,
            path,
            query,
            body,
            status: reply.status,
            template,
        });
        reply
    };
    hook::flush(&shared).await;
    reply.into_response()
}

enum Caller {
    App,
    Installation(u64),
}

impl State {
    fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn bot_login(&self) -> String {
        format!("{}[bot]", self.app_slug)
    }

    fn repo_mut(&mut self, owner: &str, repo: &str) -> &mut Repo {
        self.repos
            .get_mut(&repo_key(owner, repo))
            .unwrap_or_else(|| panic!("no repository {owner}/{repo} in the fake"))
    }

    fn mint_token(&mut self, installation_id: u64) -> String {
        assert!(
            self.installations.contains_key(&installation_id),
            "no installation {installation_id}"
        );
        let n = self.next_id();
        let token = format!("ghs_fake{n:0>32}");
        self.tokens.insert(
            token.clone(),
            Token {
                installation_id,
                expires_at: now() + 3600,
            },
        );
        token
    }

    fn serve(
        &mut self,
        method: &str,
        path: &str,
        m: &openapi::Matched,
        query: &[(String, String)],
        body: Option<&Value>,
        authorization: Option<&str>,
    ) -> Reply {
        if let Some(reply) = self.route_manifest_conversion(method, m) {
            return reply;
        }
        let caller = match self.authenticate(&m.template, authorization) {
            Ok(c) => c,
            Err(reply) => return reply,
        };
        let fault = self
            .faults
            .iter()
            .position(|f| f.method.eq_ignore_ascii_case(method) && path.starts_with(&f.path_prefix))
            .and_then(|i| self.faults.remove(i));
        let fault_reply = |f: &Fault| Reply {
            status: f.status,
            headers: f.headers.clone(),
            body: Some(f.body.clone()),
        };
        if let Some(f) = &fault
            && !f.after_success
        {
            return fault_reply(f);
        }
        let reply = self.route(method, m, query, body, &caller);
        if reply.status == 501 {
            self.violations.push(format!(
                "{method} {path}: allowed by GitHub but not implemented by the fake ({})",
                m.template
            ));
        }
        match fault {
            Some(f) => fault_reply(&f),
            None => reply,
        }
    }

    fn authenticate(&self, template: &str, authorization: Option<&str>) -> Result<Caller, Reply> {
        let Some(auth) = authorization else {
            return Err(Reply::error(401, "Requires authentication"));
        };
        let (scheme, credential) = auth.split_once(' ').unwrap_or((auth, ""));
        let credential = credential.trim();
        if template == "/app" || template.starts_with("/app/") {
            if !scheme.eq_ignore_ascii_case("bearer") {
                return Err(Reply::error(
                    401,
                    "A JSON web token could not be decoded (use `Authorization: Bearer <JWT>`)",
                ));
            }
            return self
                .verify_jwt(credential)
                .map(|()| Caller::App)
                .map_err(|e| Reply::error(401, &e));
        }
        if !(scheme.eq_ignore_ascii_case("token") || scheme.eq_ignore_ascii_case("bearer")) {
            return Err(Reply::error(401, "Bad credentials"));
        }
        match self.tokens.get(credential) {
            Some(t) if t.expires_at > now() => Ok(Caller::Installation(t.installation_id)),
            _ => Err(Reply::error(401, "Bad credentials")),
        }
    }

    fn verify_jwt(&self, jwt: &str) -> Result<(), String> {
        #[derive(serde::Deserialize)]
        struct Claims {
            iss: Value,
            iat: i64,
            exp: i64,
        }
        let public = self
            .app_public_key
            .clone()
            .unwrap_or_else(test_public_key_pem);
        let key = jsonwebtoken::DecodingKey::from_rsa_pem(public.as_bytes())
            .map_err(|e| e.to_string())?;
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.leeway = 0;
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "iat"]);
        let claims = jsonwebtoken::decode::<Claims>(jwt, &key, &validation)
            .map_err(|e| format!("A JSON web token could not be decoded: {e}"))?
            .claims;
        let now = now();
        let iss_ok = match &claims.iss {
            Value::String(s) => s == &self.app_id.to_string(),
            Value::Number(n) => n.as_u64() == Some(self.app_id),
            _ => false,
        };
        if !iss_ok {
            return Err(format!(
                "'Issuer' claim ('iss') must be the App's ID {}",
                self.app_id
            ));
        }
        if claims.exp > now + 600 {
            return Err("'Expiration time' claim ('exp') is too far in the future".into());
        }
        if claims.iat > now {
            return Err(
                "'Issued at' claim ('iat') must be an Integer representing a time in the past"
                    .into(),
            );
        }
        Ok(())
    }

    fn route(
        &mut self,
        method: &str,
        m: &openapi::Matched,
        query: &[(String, String)],
        body: Option<&Value>,
        caller: &Caller,
    ) -> Reply {
        let empty = json!({});
        let body = body.unwrap_or(&empty);
        let q = |name: &str| {
            query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let id_param = |name: &str| m.param(name).parse::<u64>().unwrap_or(0);
        if let Some(reply) = self.route_hook(method, m, query) {
            return reply;
        }
        match (method, m.template.as_str()) {
            ("GET", "/app") => Reply::json(
                200,
                json!({
                    "id": self.app_id,
                    "slug": self.app_slug,
                    "node_id": format!("A_{}", self.app_id),
                    "name": self.app_slug,
                    "owner": {"login": "acme", "id": 1, "type": "Organization"},
                    "description": "",
                    "external_url": "https://example.com",
                    "html_url": format!("https://github.com/apps/{}", self.app_slug),
                    "created_at": "2026-01-01T00:00:00Z",
                    "updated_at": "2026-01-01T00:00:00Z",
                    "permissions": {},
                    "events": []
                }),
            ),
            ("GET", "/app/installations/{installation_id}") => {
                match self.installations.get(&id_param("installation_id")) {
                    Some(i) => Reply::json(200, self.installation_json(i)),
                    None => Reply::not_found(),
                }
            }
            ("POST", "/app/installations/{installation_id}/access_tokens") => {
                let id = id_param("installation_id");
                if !self.installations.contains_key(&id) {
                    return Reply::not_found();
                }
                let token = self.mint_token(id);
                let expires_at = rfc3339(self.tokens[&token].expires_at);
                Reply::json(
                    201,
                    json!({
                        "token": token,
                        "expires_at": expires_at,
                        "permissions": permissions_json(),
                        "repository_selection": "selected",
                    }),
                )
            }
            ("GET", "/installation/repositories") => {
                let Caller::Installation(id) = caller else {
                    return Reply::error(403, "an installation token is required");
                };
                let keys = self.installations[id].repos.clone();
                let repos: Vec<Value> = keys
                    .iter()
                    .filter_map(|k| self.repos.get(k))
                    .map(|r| self.repo_json(r))
                    .collect();
                Reply::json(
                    200,
                    json!({"total_count": repos.len(), "repositories": repos}),
                )
            }
            (_, t) if t.starts_with("/repos/{owner}/{repo}") => {
                let key = repo_key(m.param("owner"), m.param("repo"));
                let reachable = match caller {
                    Caller::Installation(id) => self.installations[id].repos.contains(&key),
                    Caller::App => false,
                };
                if !reachable || !self.repos.contains_key(&key) {
                    return Reply::not_found();
                }
                if method != "GET" && self.repos[&key].archived {
                    return Reply::error(403, "Repository was archived so is read-only.");
                }
                self.route_repo(method, t, m, &key, q, body)
            }
            _ => Reply::error(
                501,
                &format!("fake GitHub does not implement {method} {}", m.template),
            ),
        }
    }

    fn route_repo<'q>(
        &mut self,
        method: &str,
        template: &str,
        m: &openapi::Matched,
        key: &str,
        q: impl Fn(&str) -> Option<&'q str>,
        body: &Value,
    ) -> Reply {
        let api = self.api_url.clone();
        let bot = self.bot_login();
        let new_id = self.next_id();
        let repo_json = self.repo_json(&self.repos[key]);
        let r = self.repos.get_mut(key).unwrap();
        let base = format!("{api}/repos/{}/{}", r.owner, r.name);
        let html = format!("https://github.com/{}/{}", r.owner, r.name);
        let str_field = |name: &str| body[name].as_str().map(str::to_owned);
        let number = || m.param("pull_number").parse::<u64>().unwrap_or(0);
        let issue_number = || m.param("issue_number").parse::<u64>().unwrap_or(0);
        let comment_id = || m.param("comment_id").parse::<u64>().unwrap_or(0);
        let now = rfc3339(now());
        let app = (self.app_id, self.app_slug.as_str());
        if let Some(reply) = r.route_checks(method, template, m, &q, body, new_id, app, &base) {
            return reply;
        }
        match (method, template.trim_start_matches("/repos/{owner}/{repo}")) {
            ("GET", "") => Reply::json(200, repo_json),

            // --- git data ------------------------------------------------------------------
            ("POST", "/git/blobs") => {
                let content = str_field("content").unwrap_or_default();
                let bytes = match body["encoding"].as_str().unwrap_or("utf-8") {
                    "utf-8" | "utf8" => content.into_bytes(),
                    "base64" => match base64::engine::general_purpose::STANDARD
                        .decode(content.replace(['\n', '\r'], ""))
                    {
                        Ok(b) => b,
                        Err(_) => return Reply::error(422, "content is not valid Base64"),
                    },
                    other => {
                        return Reply::error(422, &format!("encoding `{other}` is not supported"));
                    }
                };
                let sha = r.put(GitObject::Blob(bytes));
                Reply::json(
                    201,
                    json!({"sha": sha, "url": format!("{base}/git/blobs/{sha}")}),
                )
            }
            ("GET", "/git/blobs/{file_sha}") => match r.objects.get(m.param("file_sha")) {
                Some(GitObject::Blob(b)) => {
                    let sha = m.param("file_sha");
                    Reply::json(
                        200,
                        json!({
                            "sha": sha,
                            "node_id": node_id("Blob", sha),
                            "size": b.len(),
                            "url": format!("{base}/git/blobs/{sha}"),
                            "content": base64_lines(b),
                            "encoding": "base64",
                        }),
                    )
                }
                _ => Reply::not_found(),
            },
            ("GET", "/git/trees/{tree_sha}") => {
                let wanted = m.param("tree_sha");
                let sha = r.branch_sha(wanted).unwrap_or_else(|| wanted.to_owned());
                let sha = match r.objects.get(&sha) {
                    Some(GitObject::Commit(c)) => c.tree.clone(),
                    Some(GitObject::Tree(_)) => sha,
                    _ => return Reply::not_found(),
                };
                let recursive =
                    q("recursive").is_some_and(|v| !v.is_empty() && v != "0" && v != "false");
                Reply::json(200, r.tree_json(&base, &sha, recursive))
            }
            ("POST", "/git/trees") => {
                let mut flat = match str_field("base_tree") {
                    Some(b) => match r.objects.get(&b) {
                        Some(GitObject::Tree(_)) => r.flatten(&b).unwrap(),
                        _ => {
                            return Reply::invalid(
                                "Tree",
                                Some("base_tree"),
                                "base_tree is not a valid tree",
                            );
                        }
                    },
                    None => Flat::new(),
                };
                for entry in body["tree"].as_array().into_iter().flatten() {
                    let path = entry["path"]
                        .as_str()
                        .unwrap_or("")
                        .trim_matches('/')
                        .to_owned();
                    if path.is_empty() {
                        return Reply::invalid("Tree", Some("path"), "tree.path is required");
                    }
                    let mode = entry["mode"].as_str().unwrap_or("100644").to_owned();
                    let kind = entry["type"].as_str().unwrap_or("blob").to_owned();
                    let has_sha = entry.as_object().is_some_and(|o| o.contains_key("sha"));
                    match (&entry["sha"], entry["content"].as_str()) {
                        (Value::String(_), Some(_)) => {
                            return Reply::invalid(
                                "Tree",
                                Some("tree"),
                                "Use either tree.sha or content, not both",
                            );
                        }
                        (Value::Null, None) if has_sha => set_path(&mut flat, &path, None),
                        (Value::Null, None) => {
                            return Reply::invalid(
                                "Tree",
                                Some("tree"),
                                "Must supply tree.sha or content",
                            );
                        }
                        (_, Some(text)) => {
                            let sha = r.put(GitObject::Blob(text.as_bytes().to_vec()));
                            set_path(
                                &mut flat,
                                &path,
                                Some(FlatEntry {
                                    mode,
                                    kind: "blob".into(),
                                    sha,
                                }),
                            );
                        }
                        (Value::String(sha), None) => match (kind.as_str(), r.objects.get(sha)) {
                            ("tree", Some(GitObject::Tree(_))) => {
                                let sub = r.flatten(sha).unwrap();
                                set_path(&mut flat, &path, None);
                                for (p, e) in sub {
                                    flat.insert(format!("{path}/{p}"), e);
                                }
                            }
                            ("blob", Some(GitObject::Blob(_))) | ("commit", _) => {
                                set_path(
                                    &mut flat,
                                    &path,
                                    Some(FlatEntry {
                                        mode,
                                        kind,
                                        sha: sha.clone(),
                                    }),
                                );
                            }
                            _ => {
                                return Reply::invalid(
                                    "Tree",
                                    Some("tree.sha"),
                                    &format!("tree.sha {sha} is not a valid {kind}"),
                                );
                            }
                        },
                        _ => return Reply::invalid("Tree", Some("tree"), "bad tree entry"),
                    }
                }
                let sha = r.write_flat(&flat);
                Reply::json(201, r.tree_json(&base, &sha, false))
            }
            ("GET", "/git/commits/{commit_sha}") => match r.commit(m.param("commit_sha")) {
                Some(c) => Reply::json(200, commit_json(&base, &html, m.param("commit_sha"), c)),
                None => Reply::not_found(),
            },
            ("POST", "/git/commits") => {
                let tree = str_field("tree").unwrap_or_default();
                if !matches!(r.objects.get(&tree), Some(GitObject::Tree(_))) {
                    return Reply::invalid("Commit", Some("tree"), "Tree SHA does not exist");
                }
                let parents: Vec<String> = body["parents"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p.as_str().map(str::to_owned))
                    .collect();
                if let Some(p) = parents.iter().find(|p| r.commit(p).is_none()) {
                    return Reply::invalid(
                        "Commit",
                        Some("parents"),
                        &format!("Parent SHA {p} does not exist"),
                    );
                }
                let custom = ["author", "committer", "signature"]
                    .iter()
                    .any(|k| body.as_object().is_some_and(|o| o.contains_key(*k)));
                let sig = |v: &Value, fallback: &Signature| {
                    if v.is_object() {
                        Signature {
                            name: v["name"].as_str().unwrap_or(&fallback.name).to_owned(),
                            email: v["email"].as_str().unwrap_or(&fallback.email).to_owned(),
                            date: v["date"].as_str().unwrap_or(&now).to_owned(),
                        }
                    } else {
                        fallback.clone()
                    }
                };
                let app = Signature {
                    name: bot.clone(),
                    email: format!("{}+{bot}@users.noreply.github.com", user_id(&bot)),
                    date: now.clone(),
                };
                let author = sig(&body["author"], &app);
                let committer = sig(&body["committer"], &author);
                let commit = Commit {
                    tree,
                    parents,
                    message: str_field("message").unwrap_or_default(),
                    author,
                    committer,
                    verified: !custom,
                };
                let sha = r.put(GitObject::Commit(commit));
                Reply::json(
                    201,
                    commit_json(&base, &html, &sha, r.commit(&sha).unwrap()),
                )
            }
            ("GET", "/git/ref/{ref}") => {
                let full = format!("refs/{}", m.param("ref"));
                match r.refs.get(&full) {
                    Some(sha) => Reply::json(200, ref_json(&base, &full, sha)),
                    None => Reply::not_found(),
                }
            }
            ("GET", "/git/matching-refs/{ref}") => {
                let prefix = format!("refs/{}", m.param("ref"));
                let refs: Vec<Value> = r
                    .refs
                    .iter()
                    .filter(|(k, _)| k.starts_with(&prefix))
                    .map(|(k, v)| ref_json(&base, k, v))
                    .collect();
                Reply::json(200, Value::Array(refs))
            }
            ("POST", "/git/refs") => {
                let full = str_field("ref").unwrap_or_default();
                let sha = str_field("sha").unwrap_or_default();
                if !full.starts_with("refs/") || full.matches('/').count() < 2 {
                    return Reply::error(
                        422,
                        "Reference name must start with 'refs/' and have at least two slashes.",
                    );
                }
                if r.refs.contains_key(&full) {
                    return Reply::error(422, "Reference already exists");
                }
                if r.commit(&sha).is_none() {
                    return Reply::error(422, "Object does not exist");
                }
                r.refs.insert(full.clone(), sha.clone());
                Reply::json(201, ref_json(&base, &full, &sha))
            }
            ("PATCH", "/git/refs/{ref}") => {
                let full = format!("refs/{}", m.param("ref"));
                let sha = str_field("sha").unwrap_or_default();
                let Some(old) = r.refs.get(&full).cloned() else {
                    return Reply::error(422, "Reference does not exist");
                };
                if r.commit(&sha).is_none() {
                    return Reply::error(422, "Object does not exist");
                }
                if body["force"] != true && !r.is_ancestor(&old, &sha) {
                    return Reply::error(422, "Update is not a fast forward");
                }
                r.refs.insert(full.clone(), sha.clone());
                Reply::json(200, ref_json(&base, &full, &sha))
            }
            ("DELETE", "/git/refs/{ref}") => {
                match r.refs.remove(&format!("refs/{}", m.param("ref"))) {
                    Some(_) => Reply::empty(204),
                    None => Reply::error(422, "Reference does not exist"),
                }
            }

            // --- pull requests -------------------------------------------------------------
            ("GET", "/pulls") => {
                let state = q("state").unwrap_or("open");
                let head = q("head").and_then(|h| h.split_once(':'));
                let base_filter = q("base");
                let mut pulls: Vec<&Issue> = r
                    .issues
                    .values()
                    .rev()
                    .filter(|i| i.pull.is_some())
                    .filter(|i| state == "all" || i.state == state)
                    .filter(|i| {
                        let p = i.pull.as_ref().unwrap();
                        head.is_none_or(|(o, b)| {
                            o.eq_ignore_ascii_case(&r.owner) && p.head_ref == b
                        }) && base_filter.is_none_or(|b| p.base_ref == b)
                    })
                    .collect();
                if q("direction") == Some("asc") {
                    pulls.reverse();
                }
                let items: Vec<Value> = pulls
                    .iter()
                    .map(|i| r.pull_json(&base, &html, &repo_json, i))
                    .collect();
                paginate(items, &q, &format!("{base}/pulls"))
            }
            ("POST", "/pulls") => {
                let head = str_field("head").unwrap_or_default();
                let base_ref = str_field("base").unwrap_or_default();
                let head_ref = match head.split_once(':') {
                    Some((o, b)) if o.eq_ignore_ascii_case(&r.owner) => b.to_owned(),
                    Some(_) => {
                        return Reply::invalid(
                            "PullRequest",
                            Some("head"),
                            "head is not in this repository",
                        );
                    }
                    None => head.clone(),
                };
                let Some(title) = str_field("title") else {
                    return Reply::invalid("PullRequest", Some("title"), "title is required");
                };
                let Some(head_sha) = r.branch_sha(&head_ref) else {
                    return Reply::invalid("PullRequest", Some("head"), "head is invalid");
                };
                let Some(base_sha) = r.branch_sha(&base_ref) else {
                    return Reply::invalid("PullRequest", Some("base"), "base is invalid");
                };
                if r.open_pull(&head_ref, &base_ref).is_some() {
                    return Reply::invalid(
                        "PullRequest",
                        None,
                        &format!("A pull request already exists for {}:{head_ref}.", r.owner),
                    );
                }
                if r.is_ancestor(&head_sha, &base_sha) {
                    return Reply::invalid(
                        "PullRequest",
                        None,
                        &format!("No commits between {base_ref} and {head_ref}"),
                    );
                }
                let number = r.next_number;
                r.next_number += 1;
                let pull = Pull {
                    head_ref,
                    base_ref,
                    head_sha,
                    head_repo: None,
                    draft: body["draft"] == true,
                    merged_at: None,
                    merge_commit_sha: None,
                    merged_by: None,
                };
                let issue = Issue::new(number, new_id, &title, str_field("body"), &bot, Some(pull));
                let json = r.pull_json(&base, &html, &repo_json, &issue);
                r.issues.insert(number, issue);
                Reply::json(201, json)
            }
            ("GET", "/pulls/{pull_number}") => match r.issues.get(&number()) {
                Some(i) if i.pull.is_some() => {
                    Reply::json(200, r.pull_json(&base, &html, &repo_json, i))
                }
                _ => Reply::not_found(),
            },
            ("PATCH", "/pulls/{pull_number}") => {
                let n = number();
                let Some(issue) = r.issues.get(&n).filter(|i| i.pull.is_some()).cloned() else {
                    return Reply::not_found();
                };
                let pull = issue.pull.as_ref().unwrap();
                if let Some(b) = str_field("base")
                    && r.branch_sha(&b).is_none()
                {
                    return Reply::invalid("PullRequest", Some("base"), "base is invalid");
                }
                if let Some(state) = str_field("state")
                    && state == "open"
                    && issue.state == "closed"
                {
                    if pull.merged_at.is_some() {
                        return Reply::invalid(
                            "PullRequest",
                            Some("state"),
                            "Cannot reopen a merged pull request",
                        );
                    }
                    let base_ref = str_field("base").unwrap_or(pull.base_ref.clone());
                    if r.open_pull(&pull.head_ref, &base_ref).is_some() {
                        return Reply::invalid(
                            "PullRequest",
                            None,
                            &format!(
                                "A pull request already exists for {}:{}.",
                                r.owner, pull.head_ref
                            ),
                        );
                    }
                    if r.branch_sha(&pull.head_ref).is_none() {
                        return Reply::invalid(
                            "PullRequest",
                            Some("state"),
                            "The head branch was deleted",
                        );
                    }
                }
                let head_sha = r.branch_sha(&pull.head_ref);
                let i = r.issues.get_mut(&n).unwrap();
                if let Some(t) = str_field("title") {
                    i.title = t;
                }
                if body.get("body").is_some() {
                    i.body = str_field("body");
                }
                if let Some(b) = str_field("base") {
                    i.pull.as_mut().unwrap().base_ref = b;
                }
                if let Some(state) = str_field("state")
                    && state != i.state
                {
                    if let Some(sha) = head_sha {
                        i.pull.as_mut().unwrap().head_sha = sha;
                    }
                    i.closed_at = (state == "closed").then(|| now.clone());
                    i.state = state;
                }
                i.updated_at = now.clone();
                let i = i.clone();
                Reply::json(200, r.pull_json(&base, &html, &repo_json, &i))
            }

            // --- issues, comments, labels, reactions ---------------------------------------
            ("GET", "/issues") => {
                let state = q("state").unwrap_or("open");
                let creator = q("creator");
                let labels: Vec<&str> = q("labels").map_or(Vec::new(), |l| l.split(',').collect());
                let items: Vec<Value> = r
                    .issues
                    .values()
                    .filter(|i| state == "all" || i.state == state)
                    .filter(|i| creator.is_none_or(|c| i.user.eq_ignore_ascii_case(c)))
                    .filter(|i| labels.iter().all(|l| i.labels.iter().any(|x| x == l)))
                    .map(|i| r.issue_json(&base, &html, i))
                    .collect();
                paginate(items, &q, &format!("{base}/issues"))
            }
            ("POST", "/issues") => {
                let Some(title) = str_field("title") else {
                    return Reply::error(422, "title is missing");
                };
                let number = r.next_number;
                r.next_number += 1;
                let mut issue = Issue::new(number, new_id, &title, str_field("body"), &bot, None);
                issue.labels = body["labels"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|l| l.as_str().map(str::to_owned))
                    .collect();
                let json = r.issue_json(&base, &html, &issue);
                r.issues.insert(number, issue);
                Reply::json(201, json)
            }
            ("PATCH", "/issues/{issue_number}") => match r.issues.get_mut(&issue_number()) {
                Some(i) => {
                    if let Some(t) = str_field("title") {
                        i.title = t;
                    }
                    if let Some(b) = str_field("body") {
                        i.body = Some(b);
                    }
                    if let Some(st) = str_field("state") {
                        i.state = st;
                    }
                    i.updated_at = now.clone();
                    let i = i.clone();
                    Reply::json(200, r.issue_json(&base, &html, &i))
                }
                None => Reply::not_found(),
            },
            ("GET", "/issues/{issue_number}") => match r.issues.get(&issue_number()) {
                Some(i) => Reply::json(200, r.issue_json(&base, &html, i)),
                None => Reply::not_found(),
            },
            ("GET", "/issues/{issue_number}/comments") => {
                let n = issue_number();
                if !r.issues.contains_key(&n) {
                    return Reply::not_found();
                }
                let items: Vec<Value> = r
                    .comments
                    .values()
                    .filter(|c| c.issue_number == n)
                    .filter(|c| q("since").is_none_or(|s| c.updated_at.as_str() >= s))
                    .map(|c| r.comment_json(&base, &html, c))
                    .collect();
                paginate(items, &q, &format!("{base}/issues/{n}/comments"))
            }
            ("GET", "/issues/comments") => {
                let items: Vec<Value> = r
                    .comments
                    .values()
                    .filter(|c| q("since").is_none_or(|s| c.updated_at.as_str() >= s))
                    .map(|c| r.comment_json(&base, &html, c))
                    .collect();
                paginate(items, &q, &format!("{base}/issues/comments"))
            }
            ("POST", "/issues/{issue_number}/comments") => {
                let n = issue_number();
                if !r.issues.contains_key(&n) {
                    return Reply::not_found();
                }
                let c = Comment::new(new_id, n, &bot, &str_field("body").unwrap_or_default());
                let json = r.comment_json(&base, &html, &c);
                r.comments.insert(new_id, c);
                Reply::json(201, json)
            }
            ("GET", "/issues/comments/{comment_id}") => match r.comments.get(&comment_id()) {
                Some(c) => Reply::json(200, r.comment_json(&base, &html, c)),
                None => Reply::not_found(),
            },
            ("PATCH", "/issues/comments/{comment_id}") => {
                let Some(c) = r.comments.get_mut(&comment_id()) else {
                    return Reply::not_found();
                };
                c.body = str_field("body").unwrap_or_default();
                c.updated_at = now.clone();
                let c = c.clone();
                Reply::json(200, r.comment_json(&base, &html, &c))
            }
            ("DELETE", "/issues/comments/{comment_id}") => match r.comments.remove(&comment_id()) {
                Some(_) => Reply::empty(204),
                None => Reply::not_found(),
            },
            ("POST", "/issues/comments/{comment_id}/reactions") => {
                let Some(c) = r.comments.get_mut(&comment_id()) else {
                    return Reply::not_found();
                };
                let content = str_field("content").unwrap_or_default();
                let (status, reaction) = match c
                    .reactions
                    .iter()
                    .find(|x| x.user == bot && x.content == content)
                {
                    Some(existing) => (200, existing.clone()),
                    None => {
                        let reaction = Reaction {
                            id: new_id,
                            user: bot.clone(),
                            content,
                        };
                        c.reactions.push(reaction.clone());
                        (201, reaction)
                    }
                };
                Reply::json(
                    status,
                    json!({
                        "id": reaction.id,
                        "node_id": node_id("Reaction", &reaction.id.to_string()),
                        "user": user_json(&api, &reaction.user),
                        "content": reaction.content,
                        "created_at": now,
                    }),
                )
            }
            ("GET", "/issues/{issue_number}/labels") => match r.issues.get(&issue_number()) {
                Some(i) => Reply::json(200, labels_json(&base, &i.labels)),
                None => Reply::not_found(),
            },
            ("POST", "/issues/{issue_number}/labels") => {
                let Some(i) = r.issues.get_mut(&issue_number()) else {
                    return Reply::not_found();
                };
                for l in body["labels"].as_array().into_iter().flatten() {
                    let name = l
                        .as_str()
                        .or_else(|| l["name"].as_str())
                        .unwrap_or_default();
                    if !i.labels.iter().any(|x| x == name) {
                        i.labels.push(name.to_owned());
                    }
                }
                i.updated_at = now.clone();
                Reply::json(200, labels_json(&base, &i.labels))
            }
            ("GET", "/collaborators/{username}/permission") => {
                let user = m.param("username");
                let (permission, role) = r
                    .permissions
                    .get(&user.to_ascii_lowercase())
                    .cloned()
                    .unwrap_or(("none".to_owned(), "none".to_owned()));
                Reply::json(
                    200,
                    json!({"permission": permission, "role_name": role, "user": user_json(&api, user)}),
                )
            }
            _ => Reply::error(
                501,
                &format!("fake GitHub does not implement {method} {template}"),
            ),
        }
    }

    fn installation_json(&self, i: &Installation) -> Value {
        let api = &self.api_url;
        json!({
            "id": i.id,
            "account": user_json(api, &i.account),
            "app_id": self.app_id,
            "app_slug": self.app_slug,
            "target_id": user_id(&i.account),
            "target_type": "Organization",
            "repository_selection": "selected",
            "access_tokens_url": format!("{api}/app/installations/{}/access_tokens", i.id),
            "repositories_url": format!("{api}/installation/repositories"),
            "html_url": format!("https://github.com/organizations/{}/settings/installations/{}", i.account, i.id),
            "permissions": permissions_json(),
            "events": ["push", "issue_comment", "pull_request", "repository"],
            "created_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z",
            "single_file_name": null,
            "suspended_at": null,
            "suspended_by": null,
        })
    }

    fn repo_json(&self, r: &Repo) -> Value {
        let api = &self.api_url;
        json!({
            "id": r.id,
            "node_id": node_id("Repository", &r.id.to_string()),
            "name": r.name,
            "full_name": format!("{}/{}", r.owner, r.name),
            "owner": user_json(api, &r.owner),
            "private": r.private,
            "visibility": if r.private { "private" } else { "public" },
            "html_url": format!("https://github.com/{}/{}", r.owner, r.name),
            "url": format!("{api}/repos/{}/{}", r.owner, r.name),
            "fork": false,
            "archived": r.archived,
            "disabled": false,
            "default_branch": r.default_branch,
        })
    }
}

fn repo_key(owner: &str, name: &str) -> String {
    format!("{owner}/{name}").to_ascii_lowercase()
}

// ---------------------------------------------------------------------------------------------
// Git objects
// ---------------------------------------------------------------------------------------------

/// A tree flattened to its non-tree entries: path → entry.
type Flat = BTreeMap<String, FlatEntry>;

#[derive(Debug, Clone, PartialEq)]
struct FlatEntry {
    mode: String,
    kind: String,
    sha: String,
}

impl FlatEntry {
    fn blob(sha: String) -> Self {
        Self {
            mode: "100644".into(),
            kind: "blob".into(),
            sha,
        }
    }
}

/// Sets (or with `None` deletes) `path`, removing what it replaces: anything under `path/`
/// and any file at a parent of `path`.
fn set_path(flat: &mut Flat, path: &str, entry: Option<FlatEntry>) {
    let under = format!("{path}/");
    // A range, not a scan of every path: trees of 100,000 files are built one path at a time.
    let replaced: Vec<String> = flat
        .range(path.to_owned()..)
        .take_while(|(p, _)| p.starts_with(path))
        .filter(|(p, _)| p.as_str() == path || p.starts_with(&under))
        .map(|(p, _)| p.clone())
        .collect();
    for p in replaced {
        flat.remove(&p);
    }
    let mut parent = path;
    while let Some((p, _)) = parent.rsplit_once('/') {
        flat.remove(p);
        parent = p;
    }
    if let Some(e) = entry {
        flat.insert(path.to_owned(), e);
    }
}

impl Repo {
    fn put(&mut self, obj: GitObject) -> String {
        let (kind, bytes) = match &obj {
            GitObject::Blob(b) => (git2::ObjectType::Blob, b.clone()),
            GitObject::Tree(entries) => {
                let mut bytes = Vec::new();
                for e in entries {
                    bytes.extend_from_slice(e.mode.trim_start_matches('0').as_bytes());
                    bytes.push(b' ');
                    bytes.extend_from_slice(e.name.as_bytes());
                    bytes.push(0);
                    bytes.extend_from_slice(git2::Oid::from_str(&e.sha).unwrap().as_bytes());
                }
                (git2::ObjectType::Tree, bytes)
            }
            GitObject::Commit(c) => {
                let mut text = format!("tree {}\n", c.tree);
                for p in &c.parents {
                    text.push_str(&format!("parent {p}\n"));
                }
                for (role, s) in [("author", &c.author), ("committer", &c.committer)] {
                    let t = parse_rfc3339(&s.date).unwrap_or(0);
                    text.push_str(&format!("{role} {} <{}> {t} +0000\n", s.name, s.email));
                }
                text.push('\n');
                text.push_str(&c.message);
                (git2::ObjectType::Commit, text.into_bytes())
            }
        };
        let sha = git2::Oid::hash_object(kind, &bytes).unwrap().to_string();
        self.objects.insert(sha.clone(), obj);
        sha
    }

    fn commit(&self, sha: &str) -> Option<&Commit> {
        match self.objects.get(sha) {
            Some(GitObject::Commit(c)) => Some(c),
            _ => None,
        }
    }

    fn branch_sha(&self, branch: &str) -> Option<String> {
        let branch = branch.strip_prefix("refs/heads/").unwrap_or(branch);
        self.refs.get(&format!("refs/heads/{branch}")).cloned()
    }

    fn flatten(&self, tree: &str) -> Result<Flat, String> {
        let mut out = Flat::new();
        self.flatten_into(tree, "", &mut out)?;
        Ok(out)
    }

    fn flatten_into(&self, tree: &str, prefix: &str, out: &mut Flat) -> Result<(), String> {
        let Some(GitObject::Tree(entries)) = self.objects.get(tree) else {
            return Err(format!("{tree} is not a tree"));
        };
        for e in entries {
            let path = format!("{prefix}{}", e.name);
            if e.kind == "tree" {
                self.flatten_into(&e.sha, &format!("{path}/"), out)?;
            } else {
                out.insert(
                    path,
                    FlatEntry {
                        mode: e.mode.clone(),
                        kind: e.kind.clone(),
                        sha: e.sha.clone(),
                    },
                );
            }
        }
        Ok(())
    }

    /// Writes the trees of `flat` bottom-up; returns the root tree's SHA.
    fn write_flat(&mut self, flat: &Flat) -> String {
        let items: Vec<(&str, &FlatEntry)> = flat.iter().map(|(p, e)| (p.as_str(), e)).collect();
        self.write_level(&items)
    }

    fn write_level(&mut self, items: &[(&str, &FlatEntry)]) -> String {
        let mut entries = Vec::new();
        let mut dirs: BTreeMap<&str, Vec<(&str, &FlatEntry)>> = BTreeMap::new();
        for (path, e) in items {
            match path.split_once('/') {
                Some((dir, rest)) => dirs.entry(dir).or_default().push((rest, e)),
                None => entries.push(TreeEntry {
                    name: path.to_string(),
                    mode: e.mode.clone(),
                    kind: e.kind.clone(),
                    sha: e.sha.clone(),
                }),
            }
        }
        for (dir, sub) in dirs {
            let sha = self.write_level(&sub);
            entries.push(TreeEntry {
                name: dir.to_owned(),
                mode: "040000".into(),
                kind: "tree".into(),
                sha,
            });
        }
        // Git's order: names compared as if trees ended in `/`.
        entries.sort_by_cached_key(|e| {
            let mut k = e.name.clone().into_bytes();
            if e.kind == "tree" {
                k.push(b'/');
            }
            k
        });
        self.put(GitObject::Tree(entries))
    }

    fn ancestors(&self, sha: &str) -> HashSet<String> {
        let mut seen = HashSet::new();
        let mut todo = vec![sha.to_owned()];
        while let Some(s) = todo.pop() {
            if seen.insert(s.clone())
                && let Some(c) = self.commit(&s)
            {
                todo.extend(c.parents.iter().cloned());
            }
        }
        seen
    }

    /// Whether `ancestor` is `sha` or reachable from it.
    fn is_ancestor(&self, ancestor: &str, sha: &str) -> bool {
        self.ancestors(sha).contains(ancestor)
    }

    /// The nearest common ancestor (breadth-first from `b`).
    fn merge_base(&self, a: &str, b: &str) -> Option<String> {
        let of_a = self.ancestors(a);
        let mut queue = VecDeque::from([b.to_owned()]);
        let mut seen = HashSet::new();
        while let Some(s) = queue.pop_front() {
            if of_a.contains(&s) {
                return Some(s);
            }
            if seen.insert(s.clone())
                && let Some(c) = self.commit(&s)
            {
                queue.extend(c.parents.iter().cloned());
            }
        }
        None
    }

    fn open_pull(&self, head_ref: &str, base_ref: &str) -> Option<u64> {
        self.issues
            .values()
            .find(|i| {
                i.state == "open"
                    && i.pull
                        .as_ref()
                        .is_some_and(|p| p.head_ref == head_ref && p.base_ref == base_ref)
            })
            .map(|i| i.number)
    }

    fn set_state(&mut self, number: u64, state: &str) {
        let head = self.issues[&number]
            .pull
            .as_ref()
            .and_then(|p| self.branch_sha(&p.head_ref));
        let i = self.issues.get_mut(&number).expect("the issue exists");
        let now = rfc3339(now());
        if let (Some(p), Some(h)) = (i.pull.as_mut(), head) {
            p.head_sha = h;
        }
        i.state = state.to_owned();
        i.closed_at = (state == "closed").then(|| now.clone());
        i.updated_at = now;
    }

    fn tree_json(&self, base: &str, sha: &str, recursive: bool) -> Value {
        let mut out = Vec::new();
        self.tree_entries_json(base, sha, "", recursive, &mut out);
        // GitHub lists at most 100,000 entries and says so.
        let truncated = out.len() > MAX_TREE_ENTRIES;
        out.truncate(MAX_TREE_ENTRIES);
        json!({"sha": sha, "url": format!("{base}/git/trees/{sha}"), "tree": out, "truncated": truncated})
    }

    fn tree_entries_json(
        &self,
        base: &str,
        sha: &str,
        prefix: &str,
        recursive: bool,
        out: &mut Vec<Value>,
    ) {
        let Some(GitObject::Tree(entries)) = self.objects.get(sha) else {
            return;
        };
        for e in entries {
            let path = format!("{prefix}{}", e.name);
            let mut v = json!({
                "path": path,
                "mode": e.mode,
                "type": e.kind,
                "sha": e.sha,
                "url": format!("{base}/git/{}s/{}", e.kind, e.sha),
            });
            if let Some(GitObject::Blob(b)) = self.objects.get(&e.sha) {
                v["size"] = json!(b.len());
            }
            out.push(v);
            if recursive && e.kind == "tree" {
                self.tree_entries_json(base, &e.sha, &format!("{path}/"), true, out);
            }
        }
    }

    fn pull_json(&self, base: &str, html: &str, repo_json: &Value, i: &Issue) -> Value {
        let api = base.split("/repos/").next().unwrap_or(base);
        let p = i.pull.as_ref().unwrap();
        let head_sha = if i.state == "open" && p.head_repo.is_none() {
            self.branch_sha(&p.head_ref).unwrap_or(p.head_sha.clone())
        } else {
            p.head_sha.clone()
        };
        let base_sha = self.branch_sha(&p.base_ref).unwrap_or_default();
        let n = i.number;
        let mut v = json!({
            "url": format!("{base}/pulls/{n}"),
            "id": i.id,
            "node_id": node_id("PullRequest", &i.id.to_string()),
            "html_url": format!("{html}/pull/{n}"),
            "diff_url": format!("{html}/pull/{n}.diff"),
            "patch_url": format!("{html}/pull/{n}.patch"),
            "issue_url": format!("{base}/issues/{n}"),
            "commits_url": format!("{base}/pulls/{n}/commits"),
            "review_comments_url": format!("{base}/pulls/{n}/comments"),
            "review_comment_url": format!("{base}/pulls/comments{{/number}}"),
            "comments_url": format!("{base}/issues/{n}/comments"),
            "statuses_url": format!("{base}/statuses/{head_sha}"),
            "number": n,
            "state": i.state,
            "locked": false,
            "title": i.title,
            "user": user_json(api, &i.user),
            "body": i.body,
            "labels": labels_json(base, &i.labels),
            "milestone": null,
            "active_lock_reason": null,
            "created_at": i.created_at,
            "updated_at": i.updated_at,
            "closed_at": i.closed_at,
            "merged_at": p.merged_at,
            "merge_commit_sha": p.merge_commit_sha,
            "assignee": null,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
        });
        let (head_owner, head_repo) = fork_json(repo_json, p.head_repo.as_deref());
        let more = json!({
            "head": {
                "label": format!("{head_owner}:{}", p.head_ref),
                "ref": p.head_ref,
                "sha": head_sha,
                "user": user_json(api, &head_owner),
                "repo": head_repo,
            },
            "base": {
                "label": format!("{}:{}", self.owner, p.base_ref),
                "ref": p.base_ref,
                "sha": base_sha,
                "user": user_json(api, &self.owner),
                "repo": repo_json,
            },
            "_links": {},
            "author_association": self.association(&i.user),
            "auto_merge": null,
            "draft": p.draft,
            "merged": p.merged_at.is_some(),
            "mergeable": null,
            "mergeable_state": "unknown",
            "merged_by": p.merged_by.as_deref().map(|u| user_json(api, u)),
            "comments": self.comments.values().filter(|c| c.issue_number == n).count(),
            "review_comments": 0,
            "maintainer_can_modify": false,
            "commits": 1,
            "additions": 0,
            "deletions": 0,
            "changed_files": 0,
        });
        v.as_object_mut()
            .unwrap()
            .extend(more.as_object().unwrap().clone());
        v
    }

    fn issue_json(&self, base: &str, html: &str, i: &Issue) -> Value {
        let api = base.split("/repos/").next().unwrap_or(base);
        let n = i.number;
        let mut v = json!({
            "url": format!("{base}/issues/{n}"),
            "id": i.id,
            "node_id": node_id("Issue", &i.id.to_string()),
            "number": n,
            "html_url": format!("{html}/{}/{n}", if i.pull.is_some() { "pull" } else { "issues" }),
            "repository_url": base,
            "labels_url": format!("{base}/issues/{n}/labels{{/name}}"),
            "comments_url": format!("{base}/issues/{n}/comments"),
            "events_url": format!("{base}/issues/{n}/events"),
            "state": i.state,
            "title": i.title,
            "body": i.body,
            "user": user_json(api, &i.user),
            "labels": labels_json(base, &i.labels),
            "assignee": null,
            "assignees": [],
            "milestone": null,
            "locked": false,
            "comments": self.comments.values().filter(|c| c.issue_number == n).count(),
            "created_at": i.created_at,
            "updated_at": i.updated_at,
            "closed_at": i.closed_at,
            "author_association": self.association(&i.user),
        });
        if i.pull.is_some() {
            v["pull_request"] = json!({
                "url": format!("{base}/pulls/{n}"),
                "html_url": format!("{html}/pull/{n}"),
                "diff_url": format!("{html}/pull/{n}.diff"),
                "patch_url": format!("{html}/pull/{n}.patch"),
            });
        }
        v
    }

    fn comment_json(&self, base: &str, html: &str, c: &Comment) -> Value {
        let api = base.split("/repos/").next().unwrap_or(base);
        let kind = if self
            .issues
            .get(&c.issue_number)
            .is_some_and(|i| i.pull.is_some())
        {
            "pull"
        } else {
            "issues"
        };
        let count = |content: &str| c.reactions.iter().filter(|r| r.content == content).count();
        json!({
            "id": c.id,
            "node_id": node_id("IssueComment", &c.id.to_string()),
            "url": format!("{base}/issues/comments/{}", c.id),
            "html_url": format!("{html}/{kind}/{}#issuecomment-{}", c.issue_number, c.id),
            "issue_url": format!("{base}/issues/{}", c.issue_number),
            "body": c.body,
            "user": user_json(api, &c.user),
            "created_at": c.created_at,
            "updated_at": c.updated_at,
            "author_association": self.association(&c.user),
            "reactions": {
                "url": format!("{base}/issues/comments/{}/reactions", c.id),
                "total_count": c.reactions.len(),
                "+1": count("+1"), "-1": count("-1"), "laugh": count("laugh"),
                "hooray": count("hooray"), "confused": count("confused"), "heart": count("heart"),
                "rocket": count("rocket"), "eyes": count("eyes"),
            },
        })
    }

    fn association(&self, user: &str) -> &'static str {
        if user.eq_ignore_ascii_case(&self.owner) {
            "OWNER"
        } else if self.permissions.contains_key(&user.to_ascii_lowercase()) {
            "COLLABORATOR"
        } else {
            "NONE"
        }
    }
}

impl Issue {
    fn new(
        number: u64,
        id: u64,
        title: &str,
        body: Option<String>,
        user: &str,
        pull: Option<Pull>,
    ) -> Self {
        let now = rfc3339(now());
        Self {
            number,
            id,
            title: title.to_owned(),
            body,
            user: user.to_owned(),
            state: "open".to_owned(),
            labels: Vec::new(),
            created_at: now.clone(),
            updated_at: now,
            closed_at: None,
            pull,
        }
    }
}

impl Comment {
    fn new(id: u64, issue_number: u64, user: &str, body: &str) -> Self {
        let now = rfc3339(now());
        Self {
            id,
            issue_number,
            user: user.to_owned(),
            body: body.to_owned(),
            created_at: now.clone(),
            updated_at: now,
            reactions: Vec::new(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// JSON views
// ---------------------------------------------------------------------------------------------

fn commit_json(base: &str, html: &str, sha: &str, c: &Commit) -> Value {
    let sig = |s: &Signature| json!({"name": s.name, "email": s.email, "date": s.date});
    json!({
        "sha": sha,
        "node_id": node_id("Commit", sha),
        "url": format!("{base}/git/commits/{sha}"),
        "html_url": format!("{html}/commit/{sha}"),
        "author": sig(&c.author),
        "committer": sig(&c.committer),
        "message": c.message,
        "tree": {"sha": c.tree, "url": format!("{base}/git/trees/{}", c.tree)},
        "parents": c.parents.iter().map(|p| json!({
            "sha": p,
            "url": format!("{base}/git/commits/{p}"),
            "html_url": format!("{html}/commit/{p}"),
        })).collect::<Vec<_>>(),
        "verification": {
            "verified": c.verified,
            "reason": if c.verified { "valid" } else { "unsigned" },
            "signature": if c.verified { json!("-----BEGIN PGP SIGNATURE-----\nfake\n-----END PGP SIGNATURE-----") } else { Value::Null },
            "payload": null,
            "verified_at": if c.verified { json!(c.committer.date) } else { Value::Null },
        },
    })
}

fn ref_json(base: &str, full: &str, sha: &str) -> Value {
    json!({
        "ref": full,
        "node_id": node_id("Ref", full),
        "url": format!("{base}/git/{full}"),
        "object": {"type": "commit", "sha": sha, "url": format!("{base}/git/commits/{sha}")},
    })
}

fn labels_json(base: &str, labels: &[String]) -> Value {
    labels
        .iter()
        .map(|name| {
            json!({
                "id": user_id(name),
                "node_id": node_id("Label", name),
                "url": format!("{base}/labels/{name}"),
                "name": name,
                "color": "ededed",
                "default": false,
                "description": null,
            })
        })
        .collect()
}

/// A `simple-user`: bots (`...[bot]`) are `Bot`, everyone else `User`.
fn user_json(api: &str, login: &str) -> Value {
    let html = format!("https://github.com/{login}");
    let url = format!("{api}/users/{login}");
    json!({
        "login": login,
        "id": user_id(login),
        "node_id": node_id("User", login),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{}", user_id(login)),
        "gravatar_id": "",
        "url": url,
        "html_url": html,
        "followers_url": format!("{url}/followers"),
        "following_url": format!("{url}/following{{/other_user}}"),
        "gists_url": format!("{url}/gists{{/gist_id}}"),
        "starred_url": format!("{url}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{url}/subscriptions"),
        "organizations_url": format!("{url}/orgs"),
        "repos_url": format!("{url}/repos"),
        "events_url": format!("{url}/events{{/privacy}}"),
        "received_events_url": format!("{url}/received_events"),
        "type": if login.ends_with("[bot]") { "Bot" } else { "User" },
        "site_admin": false,
    })
}

fn permissions_json() -> Value {
    json!({"contents": "write", "pull_requests": "write", "issues": "write", "metadata": "read", "checks": "write"})
}

/// A stable id for a login or name (FNV-1a, kept below 2^31).
fn user_id(login: &str) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in login.to_ascii_lowercase().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    h % 2_000_000_000 + 1
}

fn node_id(kind: &str, id: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{kind}:{id}"))
}

/// Base64 in 60-character lines, as GitHub answers blobs.
fn base64_lines(bytes: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut out = String::new();
    for chunk in b64.as_bytes().chunks(60) {
        out.push_str(std::str::from_utf8(chunk).unwrap());
        out.push('\n');
    }
    out
}

fn person(login: &str) -> Signature {
    Signature {
        name: login.to_owned(),
        email: format!("{login}@users.noreply.github.com"),
        date: rfc3339(now()),
    }
}

/// `per_page` (default 30, at most 100) and `page`, with a `Link` header like GitHub's.
fn paginate<'q>(items: Vec<Value>, q: &impl Fn(&str) -> Option<&'q str>, url: &str) -> Reply {
    let per_page = q("per_page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let page = q("page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let last = items.len().div_ceil(per_page).max(1);
    let slice: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let mut reply = Reply::json(200, Value::Array(slice));
    if page < last {
        let link = |p: usize| format!("<{url}?per_page={per_page}&page={p}>");
        reply.headers.push((
            "link".into(),
            format!(
                "{}; rel=\"next\", {}; rel=\"last\"",
                link(page + 1),
                link(last)
            ),
        ));
    }
    reply
}

// ---------------------------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------------------------

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Unix seconds → `YYYY-MM-DDTHH:MM:SSZ`.
pub fn rfc3339(t: i64) -> String {
    ws_fix::queue::admin::utc(t * 1000)
}

/// `YYYY-MM-DDTHH:MM:SS` + `Z` or `±HH:MM` (fractions ignored) → Unix seconds.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let num = |a: usize, b: usize| s.get(a..b)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (h, mi, sec) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    let rest = s
        .get(19..)?
        .trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    let offset = match rest {
        "Z" | "z" | "" => 0,
        o => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            sign * (o.get(1..3)?.parse::<i64>().ok()? * 3600
                + o.get(4..6)?.parse::<i64>().ok()? * 60)
        }
    };
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if mo > 2 { mo - 3 } else { mo + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86400 + h * 3600 + mi * 60 + sec - offset)
}

// ---------------------------------------------------------------------------------------------
// A plain HTTP/1.1 client for tests of the fake
// ---------------------------------------------------------------------------------------------

async fn raw_request(
    addr: SocketAddr,
    method: &str,
    path_and_query: &str,
    authorization: Option<&str>,
    body: Option<&Value>,
) -> RawResponse {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let body = body
        .map(|b| serde_json::to_vec(b).unwrap())
        .unwrap_or_default();
    let mut head = format!(
        "{method} {path_and_query} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\nuser-agent: fake-github-test\r\naccept: application/vnd.github+json\r\ncontent-length: {}\r\n",
        body.len()
    );
    if !body.is_empty() {
        head.push_str("content-type: application/json\r\n");
    }
    if let Some(a) = authorization {
        head.push_str(&format!("authorization: {a}\r\n"));
    }
    head.push_str("\r\n");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP response");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut payload = raw[split + 4..].to_vec();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
    {
        payload = dechunk(&payload);
    }
    let body = if payload.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&payload)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&payload).into_owned()))
    };
    RawResponse {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = data.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&data[..end])
                .split(';')
                .next()
                .unwrap()
                .trim(),
            16,
        )
        .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = end + 2;
        out.extend_from_slice(&data[start..(start + size).min(data.len())]);
        data = &data[(start + size + 2).min(data.len())..];
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Checks: check runs with their annotations, commit comparisons, pull requests by people and
// from forks
// ---------------------------------------------------------------------------------------------

/// A check run as the fake holds it.
#[derive(Debug, Clone)]
pub struct CheckRun {
    pub id: u64,
    pub name: String,
    pub head_sha: String,
    pub external_id: Option<String>,
    /// `queued`, `in_progress` or `completed`.
    pub status: String,
    pub conclusion: Option<String>,
    pub title: Option<String>,
    pub summary: Option<String>,
    pub text: Option<String>,
    /// Every annotation sent, in order.
    pub annotations: Vec<Value>,
    /// How many annotations each request (create, then updates) carried.
    pub batches: Vec<usize>,
    /// The App that created it.
    pub app_id: u64,
}

impl FakeGitHub {
    /// Creates `owner/name` as [`FakeGitHub::add_repo`] does, with the files under `dir` as
    /// the CLI's snapshot lists them (ignore files honoured). Returns the commit's SHA.
    pub fn add_repo_from_dir(
        &self,
        installation_id: u64,
        owner: &str,
        name: &str,
        dir: &std::path::Path,
    ) -> String {
        use ws_fix::snapshot::{EntryState, LocalDir, Snapshot};
        let snap = LocalDir::new(dir).expect("a directory");
        let files: Vec<(String, String)> = snap
            .entries()
            .unwrap()
            .into_iter()
            .filter(|e| e.state == EntryState::File)
            .map(|e| {
                let bytes = snap
                    .read(&e.path, ws_fix::load::DEFAULT_MAX_FILE_SIZE)
                    .unwrap();
                (e.path, String::from_utf8(bytes).expect("UTF-8 files"))
            })
            .collect();
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_str()))
            .collect();
        self.add_repo(installation_id, owner, name, &refs)
    }

    /// The production App talking to this fake: the test key, the embedded catalogue, short
    /// retry delays.
    pub async fn app(&self) -> ws_fix::app::App {
        ws_fix::github::install_crypto();
        let mut github =
            ws_fix::github::GitHubApp::new(&self.url(), self.app_id(), &test_private_key_pem())
                .unwrap();
        github.retry.base_delay = std::time::Duration::from_millis(5);
        let bot_login = github.bot_login().await.unwrap();
        ws_fix::app::App {
            github,
            catalogue: ws_fix::catalogue::Catalogue::embedded().unwrap(),
            bot_login,
            max_file_size: ws_fix::load::DEFAULT_MAX_FILE_SIZE,
            verify: None,
        }
    }

    /// The check runs of a repository, oldest first.
    pub fn check_runs(&self, owner: &str, repo: &str) -> Vec<CheckRun> {
        self.with_repo(owner, repo, |r| r.check_runs.values().cloned().collect())
    }

    /// `user` opens a pull request from `branch` of this repository (pushed with
    /// [`FakeGitHub::push_commit`]) into the default branch. Returns its number.
    pub fn open_pr(&self, owner: &str, repo: &str, user: &str, branch: &str, title: &str) -> u64 {
        self.with_state(|s| {
            let id = s.next_id();
            let r = s.repo_mut(owner, repo);
            let head_sha = r.branch_sha(branch).expect("push the branch first");
            let pull = Pull {
                head_ref: branch.to_owned(),
                base_ref: r.default_branch.clone(),
                head_sha,
                head_repo: None,
                draft: false,
                merged_at: None,
                merge_commit_sha: None,
                merged_by: None,
            };
            let number = r.next_number;
            r.next_number += 1;
            r.issues.insert(
                number,
                Issue::new(number, id, title, None, user, Some(pull)),
            );
            number
        })
    }

    /// `user` opens a pull request from `branch` of the fork `fork` (`owner/name`, which no
    /// installation reaches) with one commit of `changes` on the default branch. As on GitHub,
    /// the head commit is readable through this repository (`refs/pull/N/head`). Returns the
    /// number and the head commit.
    #[allow(clippy::too_many_arguments)]
    pub fn open_fork_pr(
        &self,
        owner: &str,
        repo: &str,
        fork: &str,
        user: &str,
        branch: &str,
        title: &str,
        changes: &[(&str, Option<&str>)],
    ) -> (u64, String) {
        self.with_state(|s| {
            let id = s.next_id();
            let r = s.repo_mut(owner, repo);
            let base_ref = r.default_branch.clone();
            let parent = r.branch_sha(&base_ref).expect("the default branch exists");
            let mut flat = r.flatten(&r.commit(&parent).unwrap().tree).unwrap();
            for (path, text) in changes {
                let entry = text.map(|t| FlatEntry::blob(r.put(GitObject::Blob(t.into()))));
                set_path(&mut flat, path, entry);
            }
            let tree = r.write_flat(&flat);
            let fork_owner = fork.split('/').next().unwrap_or(fork);
            let head_sha = r.put(GitObject::Commit(Commit {
                tree,
                parents: vec![parent],
                message: title.to_owned(),
                author: person(fork_owner),
                committer: person(fork_owner),
                verified: false,
            }));
            let number = r.next_number;
            r.next_number += 1;
            r.refs
                .insert(format!("refs/pull/{number}/head"), head_sha.clone());
            let pull = Pull {
                head_ref: branch.to_owned(),
                base_ref,
                head_sha: head_sha.clone(),
                head_repo: Some(fork.to_owned()),
                draft: false,
                merged_at: None,
                merge_commit_sha: None,
                merged_by: None,
            };
            r.issues.insert(
                number,
                Issue::new(number, id, title, None, user, Some(pull)),
            );
            (number, head_sha)
        })
    }
}

/// The owner and `repo` JSON of a pull request's head: this repository's, or a fork's.
fn fork_json(repo_json: &Value, fork: Option<&str>) -> (String, Value) {
    let owner = repo_json["owner"]["login"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    let Some(fork) = fork else {
        return (owner, repo_json.clone());
    };
    let (fork_owner, name) = fork.split_once('/').unwrap_or((fork, ""));
    let mut v = repo_json.clone();
    v["id"] = json!(user_id(fork));
    v["node_id"] = json!(node_id("Repository", fork));
    v["name"] = json!(name);
    v["full_name"] = json!(fork);
    v["fork"] = json!(true);
    v["owner"]["login"] = json!(fork_owner);
    (fork_owner.to_owned(), v)
}

impl Repo {
    /// The checks and compare endpoints; `None` for every other request.
    /// More than 50 annotations in one request are refused before this, by the REST
    /// description (`maxItems: 50`), as GitHub refuses them.
    #[allow(clippy::too_many_arguments)]
    fn route_checks<'q>(
        &mut self,
        method: &str,
        template: &str,
        m: &openapi::Matched,
        q: impl Fn(&str) -> Option<&'q str>,
        body: &Value,
        new_id: u64,
        (app_id, app_slug): (u64, &str),
        base: &str,
    ) -> Option<Reply> {
        let app = json!({
            "id": app_id,
            "slug": app_slug,
            "node_id": format!("A_{app_id}"),
            "name": app_slug,
            "owner": {"login": "acme", "id": 1, "type": "Organization"},
        });
        let run_id = || m.param("check_run_id").parse::<u64>().unwrap_or(0);
        let reply = match (method, template.trim_start_matches("/repos/{owner}/{repo}")) {
            ("POST", "/check-runs") => {
                let head_sha = body["head_sha"].as_str().unwrap_or("").to_owned();
                if self.commit(&head_sha).is_none() {
                    return Some(Reply::invalid(
                        "CheckRun",
                        Some("head_sha"),
                        &format!("No commit found for SHA: {head_sha}"),
                    ));
                }
                let mut run = CheckRun {
                    id: new_id,
                    name: body["name"].as_str().unwrap_or("").to_owned(),
                    head_sha,
                    external_id: None,
                    status: "queued".to_owned(),
                    conclusion: None,
                    title: None,
                    summary: None,
                    text: None,
                    annotations: Vec::new(),
                    batches: Vec::new(),
                    app_id,
                };
                run.apply(body);
                let json = run.json(base, &app);
                self.check_runs.insert(new_id, run);
                Reply::json(201, json)
            }
            ("PATCH", "/check-runs/{check_run_id}") => match self.check_runs.get_mut(&run_id()) {
                Some(run) if run.app_id == app_id => {
                    run.apply(body);
                    Reply::json(200, run.json(base, &app))
                }
                Some(_) => Reply::error(
                    403,
                    "Invalid app_id `app_id` - check run is not owned by app",
                ),
                None => Reply::not_found(),
            },
            ("GET", "/check-runs/{check_run_id}") => match self.check_runs.get(&run_id()) {
                Some(run) => Reply::json(200, run.json(base, &app)),
                None => Reply::not_found(),
            },
            ("GET", "/commits/{ref}/check-runs") => {
                let wanted = m.param("ref");
                let Some(sha) = self
                    .branch_sha(wanted)
                    .or_else(|| self.commit(wanted).map(|_| wanted.to_owned()))
                else {
                    return Some(Reply::invalid(
                        "Commit",
                        None,
                        &format!("No commit found for SHA: {wanted}"),
                    ));
                };
                let mut runs: Vec<&CheckRun> = self
                    .check_runs
                    .values()
                    .rev()
                    .filter(|c| c.head_sha == sha)
                    .filter(|c| q("check_name").is_none_or(|n| c.name == n))
                    .filter(|c| q("status").is_none_or(|s| c.status == s))
                    .filter(|c| q("app_id").is_none_or(|a| a == c.app_id.to_string()))
                    .collect();
                if q("filter").unwrap_or("latest") == "latest" {
                    let mut seen = HashSet::new();
                    runs.retain(|c| seen.insert(c.name.clone()));
                }
                let items: Vec<Value> = runs.iter().map(|c| c.json(base, &app)).collect();
                Reply::json(
                    200,
                    json!({"total_count": items.len(), "check_runs": items}),
                )
            }
            ("GET", "/compare/{basehead}") => self.compare_json(base, m.param("basehead"), &q),
            _ => return None,
        };
        Some(reply)
    }

    /// `GET /compare/{base}...{head}`: the merge base, the commits and the files changed.
    fn compare_json<'q>(
        &self,
        base: &str,
        basehead: &str,
        q: impl Fn(&str) -> Option<&'q str>,
    ) -> Reply {
        let Some((b, h)) = basehead
            .split_once("...")
            .or_else(|| basehead.split_once(".."))
        else {
            return Reply::not_found();
        };
        let resolve = |x: &str| {
            let x = x.rsplit_once(':').map_or(x, |(_, b)| b);
            self.branch_sha(x)
                .or_else(|| self.commit(x).map(|_| x.to_owned()))
        };
        let (Some(b), Some(h)) = (resolve(b), resolve(h)) else {
            return Reply::not_found();
        };
        let Some(mb) = self.merge_base(&b, &h) else {
            return Reply::error(404, &format!("No common ancestor between {b} and {h}."));
        };
        let of_b = self.ancestors(&b);
        let of_h = self.ancestors(&h);
        let ahead: Vec<&String> = of_h.iter().filter(|c| !of_b.contains(*c)).collect();
        let behind = of_b.iter().filter(|c| !of_h.contains(*c)).count();
        let status = match (ahead.len(), behind) {
            (0, 0) => "identical",
            (_, 0) => "ahead",
            (0, _) => "behind",
            _ => "diverged",
        };
        let flat = |sha: &str| self.flatten(&self.commit(sha).unwrap().tree).unwrap();
        let (old, new) = (flat(&mb), flat(&h));
        let paths: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
        let files: Vec<Value> = paths
            .into_iter()
            .filter(|p| old.get(*p) != new.get(*p))
            .map(|p| {
                let (status, sha) = match (old.get(p), new.get(p)) {
                    (None, Some(e)) => ("added", &e.sha),
                    (Some(e), None) => ("removed", &e.sha),
                    (_, Some(e)) => ("modified", &e.sha),
                    (None, None) => unreachable!(),
                };
                json!({
                    "sha": sha, "filename": p, "status": status,
                    "additions": 0, "deletions": 0, "changes": 0,
                    "blob_url": format!("{base}/blob/{h}/{p}"),
                    "raw_url": format!("{base}/raw/{h}/{p}"),
                    "contents_url": format!("{base}/contents/{p}?ref={h}"),
                })
            })
            .collect();
        let per_page = q("per_page")
            .and_then(|p| p.parse().ok())
            .unwrap_or(250usize);
        let commit = |sha: &str| {
            let c = self.commit(sha).unwrap();
            json!({
                "sha": sha,
                "url": format!("{base}/commits/{sha}"),
                "commit": {"message": c.message, "tree": {"sha": c.tree}},
                "parents": c.parents.iter().map(|p| json!({"sha": p})).collect::<Vec<_>>(),
            })
        };
        let commits: Vec<Value> = ahead.iter().take(per_page).map(|s| commit(s)).collect();
        Reply::json(
            200,
            json!({
                "url": format!("{base}/compare/{basehead}"),
                "status": status,
                "ahead_by": ahead.len(),
                "behind_by": behind,
                "total_commits": ahead.len(),
                "base_commit": commit(&b),
                "merge_base_commit": commit(&mb),
                "commits": commits,
                "files": files,
            }),
        )
    }
}

impl CheckRun {
    /// Applies a create or update body: fields replace, annotations are appended.
    fn apply(&mut self, body: &Value) {
        let text = |k: &str| body[k].as_str().map(str::to_owned);
        if let Some(n) = text("name") {
            self.name = n;
        }
        if let Some(e) = text("external_id") {
            self.external_id = Some(e);
        }
        if let Some(s) = text("status") {
            self.status = s;
        }
        if let Some(c) = text("conclusion") {
            self.conclusion = Some(c);
            self.status = "completed".to_owned();
        }
        let out = &body["output"];
        if out.is_object() {
            let field = |k: &str| out[k].as_str().map(str::to_owned);
            self.title = field("title").or(self.title.take());
            self.summary = field("summary").or(self.summary.take());
            self.text = field("text").or(self.text.take());
            let added = out["annotations"].as_array().cloned().unwrap_or_default();
            self.batches.push(added.len());
            self.annotations.extend(added);
        }
    }

    fn json(&self, base: &str, app: &Value) -> Value {
        let id = self.id;
        json!({
            "id": id,
            "node_id": node_id("CheckRun", &id.to_string()),
            "head_sha": self.head_sha,
            "external_id": self.external_id,
            "name": self.name,
            "url": format!("{base}/check-runs/{id}"),
            "html_url": format!("https://github.com/runs/{id}"),
            "details_url": null,
            "status": self.status,
            "conclusion": self.conclusion,
            "started_at": null,
            "completed_at": null,
            "output": {
                "title": self.title,
                "summary": self.summary,
                "text": self.text,
                "annotations_count": self.annotations.len(),
                "annotations_url": format!("{base}/check-runs/{id}/annotations"),
            },
            "check_suite": {"id": id},
            "app": app,
            "pull_requests": [],
        })
    }
}
