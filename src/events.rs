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
    /// An issue or PR comment was created or edited.
    Comment(Comment),
    /// `ping`.
    Ping,
    /// Everything else: answered 200 and dropped.
    Ignored { event: String, action: String },
}

/// Why a delivery could not be read.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("the body is not JSON: {0}")]
    NotJson(#[from] serde_json::Error),
    #[error("the {event} payload has no {field}")]
    Missing { event: String, field: &'static str },
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or("").to_owned()
}

impl Event {
    /// Reads a delivery. `event` is the `X-GitHub-Event` header.
    pub fn parse(event: &str, body: &[u8]) -> Result<Event, EventError> {
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
            | Event::Comment(Comment { repo, .. }) => vec![repo],
            Event::Installed { repos } | Event::Removed { repos, .. } => repos.iter().collect(),
            Event::Unsuspended { .. } | Event::Ping | Event::Ignored { .. } => Vec::new(),
        }
    }
}
