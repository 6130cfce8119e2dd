//! GitHub webhook deliveries as a closed set of events: `X-GitHub-Event` + the payload's
//! `action`, with only the fields ws-fix acts on. Anything else is [`Event::Ignored`].

use serde_json::Value;

/// `owner/name` and the App installation a delivery is for.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RepoRef {
    pub installation: u64,
    pub owner: String,
    pub name: String,
}

impl RepoRef {
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }
}

/// The name of ws-fix's check run (`rules.md`: one per head commit).
pub const CHECK_RUN_NAME: &str = "ws-fix";

/// A comment with a possible `/ws-fix` command.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Comment {
    pub repo: RepoRef,
    pub issue: u64,
    pub is_pull_request: bool,
    pub comment_id: u64,
    pub author: String,
    /// True for comments by Apps and bots (`user.type == "Bot"`), ws-fix's own included.
    pub author_is_bot: bool,
    pub body: String,
    /// For an edited comment: the body before the edit.
    pub previous_body: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Event {
    /// A push to a branch.
    Push {
        repo: RepoRef,
        /// `refs/heads/main`.
        git_ref: String,
        after: String,
        default_branch: String,
        /// The pusher's login (an App pushes as `name[bot]`).
        sender: String,
        sender_is_bot: bool,
        /// Paths added, modified or removed by the pushed commits (may be incomplete: GitHub
        /// lists at most 20 commits).
        paths: Vec<String>,
    },
    /// The App was installed, or repositories were added to an installation.
    Installed { repos: Vec<RepoRef> },
    /// The installation was deleted or suspended, repositories were removed from it, or a
    /// repository was archived: drop its queued work and state.
    Removed {
        installation: u64,
        /// Empty: the whole installation.
        repos: Vec<RepoRef>,
    },
    /// The installation was unsuspended: scan again.
    Unsuspended { installation: u64 },
    /// A pull request was closed.
    PullRequestClosed {
        repo: RepoRef,
        number: u64,
        merged: bool,
        head_ref: String,
        body: String,
    },
    /// A pull request was opened, reopened or pushed to (`synchronize`): its head gets a check
    /// run.
    PullRequestChanged {
        repo: RepoRef,
        number: u64,
        head_sha: String,
        /// The branch it merges into.
        base_ref: String,
    },
    /// A check suite was requested (new commits) or re-requested, or ws-fix's check run was
    /// re-run (`rerun` for both re-requests).
    CheckRequested {
        repo: RepoRef,
        head_sha: String,
        /// The pull requests of this repository with that head (GitHub lists none from forks).
        pulls: Vec<u64>,
        rerun: bool,
    },
    /// A fix pull request merged a while ago (`--verify-after-merge`): probe its hosts now.
    /// Queued by the server itself with the `pull_request` delivery, to run after the delay.
    VerifyMerged { repo: RepoRef, number: u64 },
    /// An issue or PR comment was created or edited.
    Comment(Comment),
    /// `ping`.
    Ping,
    /// Everything else: answered 200 and dropped.
    Ignored { event: String, action: String },
}

/// The deepest nesting of arrays and objects a delivery may have (GitHub's nest about six).
pub const MAX_JSON_DEPTH: usize = 64;
/// The most JSON values a delivery may hold. A 25 MB body of tiny values would take over a
/// gigabyte as a parsed tree; GitHub's largest payloads hold tens of thousands.
pub const MAX_JSON_VALUES: usize = 1_000_000;

/// Why a delivery could not be read.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("the body is not JSON: {0}")]
    NotJson(#[from] serde_json::Error),
    #[error(
        "the body nests arrays and objects deeper than {MAX_JSON_DEPTH} levels (at byte {offset})"
    )]
    TooDeep { offset: usize },
    #[error("the body holds more than {MAX_JSON_VALUES} JSON values")]
    TooManyValues,
    #[error("the {event} payload has no {field}")]
    Missing { event: String, field: &'static str },
}

/// Bounds the cost of parsing `body` before it is parsed: one pass over the bytes, counting
/// nesting and values outside strings (invalid JSON is left to the parser).
fn check_shape(body: &[u8]) -> Result<(), EventError> {
    let (mut depth, mut values) = (0usize, 1usize);
    let (mut in_string, mut escaped) = (false, false);
    for (offset, &b) in body.iter().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_JSON_DEPTH {
                    return Err(EventError::TooDeep { offset });
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' => {
                values += 1;
                if values > MAX_JSON_VALUES {
                    return Err(EventError::TooManyValues);
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// The numbers of a check suite's or check run's `pull_requests` that merge into `repository`.
fn pulls_of(check: &Value, repository: &Value) -> Vec<u64> {
    let mut out: Vec<u64> = check["pull_requests"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|pr| pr["base"]["repo"]["id"] == repository["id"])
        .filter_map(|pr| pr["number"].as_u64())
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or("").to_owned()
}

impl Event {
    /// Reads a delivery. `event` is the `X-GitHub-Event` header.
    pub fn parse(event: &str, body: &[u8]) -> Result<Event, EventError> {
        check_shape(body)?;
        let p: Value = serde_json::from_slice(body)?;
        let action = s(&p["action"]);
        let missing = |field: &'static str| EventError::Missing {
            event: event.to_owned(),
            field,
        };
        let installation = p["installation"]["id"].as_u64();
        let repo_of = |r: &Value| -> Option<RepoRef> {
            Some(RepoRef {
                installation: installation?,
                owner: r["owner"]["login"]
                    .as_str()
                    .or_else(|| r["full_name"].as_str()?.split('/').next())?
                    .to_owned(),
                name: r["name"].as_str()?.to_owned(),
            })
        };
        let repo =
            || repo_of(&p["repository"]).ok_or_else(|| missing("installation or repository"));
        Ok(match (event, action.as_str()) {
            ("ping", _) => Event::Ping,
            ("push", _) => {
                let mut paths: Vec<String> = Vec::new();
                for c in p["commits"].as_array().into_iter().flatten() {
                    for k in ["added", "modified", "removed"] {
                        for f in c[k].as_array().into_iter().flatten() {
                            if let Some(f) = f.as_str()
                                && !paths.iter().any(|x| x == f)
                            {
                                paths.push(f.to_owned());
                            }
                        }
                    }
                }
                Event::Push {
                    repo: repo()?,
                    git_ref: s(&p["ref"]),
                    after: s(&p["after"]),
                    default_branch: s(&p["repository"]["default_branch"]),
                    sender: s(&p["sender"]["login"]),
                    sender_is_bot: p["sender"]["type"] == "Bot",
                    paths,
                }
            }
            ("installation", "created") | ("installation_repositories", "added") => {
                let key = if event == "installation" {
                    "repositories"
                } else {
                    "repositories_added"
                };
                let owner = s(&p["installation"]["account"]["login"]);
                let inst = installation.ok_or_else(|| missing("installation"))?;
                let repos = p[key]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|r| {
                        let full = r["full_name"].as_str()?;
                        let (o, n) = full.split_once('/').unwrap_or((&owner, full));
                        Some(RepoRef {
                            installation: inst,
                            owner: o.to_owned(),
                            name: n.to_owned(),
                        })
                    })
                    .collect();
                Event::Installed { repos }
            }
            ("installation", "deleted" | "suspend") => Event::Removed {
                installation: installation.ok_or_else(|| missing("installation"))?,
                repos: Vec::new(),
            },
            ("installation", "unsuspend") => Event::Unsuspended {
                installation: installation.ok_or_else(|| missing("installation"))?,
            },
            ("installation_repositories", "removed") => {
                let inst = installation.ok_or_else(|| missing("installation"))?;
                let repos = p["repositories_removed"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|r| {
                        let (o, n) = r["full_name"].as_str()?.split_once('/')?;
                        Some(RepoRef {
                            installation: inst,
                            owner: o.to_owned(),
                            name: n.to_owned(),
                        })
                    })
                    .collect();
                Event::Removed {
                    installation: inst,
                    repos,
                }
            }
            ("repository", "archived") => {
                let r = repo()?;
                Event::Removed {
                    installation: r.installation,
                    repos: vec![r],
                }
            }
            ("pull_request", "closed") => Event::PullRequestClosed {
                repo: repo()?,
                number: p["pull_request"]["number"]
                    .as_u64()
                    .ok_or_else(|| missing("pull_request.number"))?,
                merged: p["pull_request"]["merged"].as_bool().unwrap_or(false),
                head_ref: s(&p["pull_request"]["head"]["ref"]),
                body: s(&p["pull_request"]["body"]),
            },
            ("pull_request", "opened" | "synchronize" | "reopened") => Event::PullRequestChanged {
                repo: repo()?,
                number: p["pull_request"]["number"]
                    .as_u64()
                    .ok_or_else(|| missing("pull_request.number"))?,
                head_sha: s(&p["pull_request"]["head"]["sha"]),
                base_ref: s(&p["pull_request"]["base"]["ref"]),
            },
            ("check_suite", "requested" | "rerequested") => Event::CheckRequested {
                repo: repo()?,
                head_sha: s(&p["check_suite"]["head_sha"]),
                pulls: pulls_of(&p["check_suite"], &p["repository"]),
                rerun: action == "rerequested",
            },
            ("check_run", "rerequested") if p["check_run"]["name"] == CHECK_RUN_NAME => {
                Event::CheckRequested {
                    repo: repo()?,
                    head_sha: s(&p["check_run"]["head_sha"]),
                    pulls: pulls_of(&p["check_run"], &p["repository"]),
                    rerun: true,
                }
            }
            ("issue_comment", "created" | "edited") => Event::Comment(Comment {
                repo: repo()?,
                issue: p["issue"]["number"]
                    .as_u64()
                    .ok_or_else(|| missing("issue.number"))?,
                is_pull_request: !p["issue"]["pull_request"].is_null(),
                comment_id: p["comment"]["id"]
                    .as_u64()
                    .ok_or_else(|| missing("comment.id"))?,
                author: s(&p["comment"]["user"]["login"]),
                author_is_bot: p["comment"]["user"]["type"] == "Bot",
                body: s(&p["comment"]["body"]),
                previous_body: p["changes"]["body"]["from"].as_str().map(str::to_owned),
            }),
            _ => Event::Ignored {
                event: event.to_owned(),
                action,
            },
        })
    }

    /// The repositories whose work this event starts (one job each); empty for events that
    /// start none.
    pub fn repos(&self) -> Vec<&RepoRef> {
        match self {
            Event::Push { repo, .. }
            | Event::PullRequestClosed { repo, .. }
            | Event::PullRequestChanged { repo, .. }
            | Event::CheckRequested { repo, .. }
            | Event::VerifyMerged { repo, .. }
            | Event::Comment(Comment { repo, .. }) => vec![repo],
            Event::Installed { repos } | Event::Removed { repos, .. } => repos.iter().collect(),
            Event::Unsuspended { .. } | Event::Ping | Event::Ignored { .. } => Vec::new(),
        }
    }
}
