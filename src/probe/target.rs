//! What to probe: `HOST[:PORT][/PATH]` targets, curl-style `--resolve HOST:PORT:ADDR`
//! overrides, and the WebSocket hosts and probe paths a repository serves (`--from`).

use std::net::{IpAddr, SocketAddr};

use serde::Serialize;

use crate::catalogue::Catalogue;
use crate::config::RepoConfig;
use crate::load::Loaded;

/// Why an argument is not a target or a resolve entry.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetError {
    #[error("`{0}`: no host name")]
    NoHost(String),
    #[error("`{0}`: a wildcard host cannot be dialled; name one host (e.g. www.example.com)")]
    Wildcard(String),
    #[error("`{0}`: `{1}` is not a valid host name")]
    BadHost(String, String),
    #[error("`{0}`: the port must be a number from 1 to 65535")]
    BadPort(String),
    #[error("`{0}`: expected HOST:PORT:ADDRESS (like curl's --resolve)")]
    BadResolve(String),
    #[error("`{0}`: `{1}` is not an IP address")]
    BadAddress(String, String),
}

/// One host and the path of its WebSocket endpoint.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Target {
    /// Lower case; an IPv6 address without brackets.
    pub host: String,
    pub port: u16,
    /// Starts with `/`.
    pub path: String,
}

impl Target {
    pub fn new(host: &str, path: Option<&str>) -> Result<Target, TargetError> {
        Target::parse(&format!("{host}{}", path.unwrap_or("/")))
    }

    /// `HOST[:PORT][/PATH]`, optionally written as an `https://` or `wss://` URL.
    pub fn parse(arg: &str) -> Result<Target, TargetError> {
        let rest = arg
            .strip_prefix("https://")
            .or_else(|| arg.strip_prefix("wss://"))
            .unwrap_or(arg);
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = split_port(arg, authority)?;
        let host = check_host(arg, host)?;
        Ok(Target {
            host,
            port: port.unwrap_or(443),
            path: path.to_owned(),
        })
    }

    /// `host[:port]` as a Host header and a URL write it (the port only when not 443).
    pub fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == 443 {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// `host[:port]/path`, as the command line takes it.
    pub fn display(&self) -> String {
        format!("{}{}", self.authority(), self.path)
    }
}

/// `host` and the optional `:port` of an authority (`[v6]:port` too).
fn split_port<'a>(arg: &str, authority: &'a str) -> Result<(&'a str, Option<u16>), TargetError> {
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6
            .split_once(']')
            .ok_or_else(|| TargetError::BadHost(arg.into(), authority.into()))?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = port
        .map(|p| match p.parse::<u16>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(TargetError::BadPort(arg.into())),
        })
        .transpose()?;
    Ok((host, port))
}

fn check_host(arg: &str, host: &str) -> Result<String, TargetError> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() {
        return Err(TargetError::NoHost(arg.into()));
    }
    if host.contains('*') {
        return Err(TargetError::Wildcard(arg.into()));
    }
    if host.parse::<IpAddr>().is_err()
        && rustls::pki_types::ServerName::try_from(host.as_str()).is_err()
    {
        return Err(TargetError::BadHost(arg.into(), host));
    }
    Ok(host)
}

/// A `--resolve HOST:PORT:ADDRESS` entry: connections to `HOST:PORT` go to `ADDRESS` (the
/// TLS server name and the Host header stay `HOST`). `*` as the host matches every host.
/// Parsed from the command line the port stays `PORT`; built in code it may differ (like
/// curl's `--connect-to`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolve {
    pub host: String,
    pub port: u16,
    pub address: SocketAddr,
}

impl std::str::FromStr for Resolve {
    type Err = TargetError;

    fn from_str(arg: &str) -> Result<Resolve, TargetError> {
        let bad = || TargetError::BadResolve(arg.into());
        let (host, rest) = arg.split_once(':').ok_or_else(bad)?;
        let (port, address) = rest.split_once(':').ok_or_else(bad)?;
        let port = match port.parse::<u16>() {
            Ok(n) if n > 0 => n,
            _ => return Err(TargetError::BadPort(arg.into())),
        };
        let address = address.trim_start_matches('[').trim_end_matches(']');
        let address = address
            .parse::<IpAddr>()
            .map_err(|_| TargetError::BadAddress(arg.into(), address.into()))?;
        let host = if host == "*" {
            host.to_owned()
        } else {
            check_host(arg, host)?
        };
        Ok(Resolve {
            host,
            port,
            address: SocketAddr::new(address, port),
        })
    }
}

impl Resolve {
    /// The address a `--resolve` entry gives `target`, if any (the first entry that matches).
    pub fn find(entries: &[Resolve], target: &Target) -> Option<SocketAddr> {
        entries
            .iter()
            .find(|r| r.port == target.port && (r.host == "*" || r.host == target.host))
            .map(|r| r.address)
    }
}

/// The WebSocket hosts of a repository and the hosts that cannot be probed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Found {
    /// Sorted, each once.
    pub targets: Vec<Target>,
    /// `(host, why it is not probed)`, sorted, each once.
    pub skipped: Vec<(String, String)>,
}

/// Every host on which a WebSocket route is served over an HTTPS listener, with the app's probe
/// path (the same hosts and paths as a fix pull request's verification checklist).
pub fn from_repo(loaded: &Loaded, catalogue: &Catalogue, config: &RepoConfig) -> Found {
    let (_, models) = crate::model::build(loaded, catalogue, config);
    let mut found = Found::default();
    for model in &models {
        for route in model.routes.iter().filter(|r| r.websocket.is_some()) {
            let https: Vec<&str> = route
                .listeners()
                .map(|a| a.listener.as_str())
                .filter(|l| model.listeners.iter().any(|x| x.key == *l && x.https))
                .collect();
            if https.is_empty() {
                for h in crate::rules::route_hosts(route, None) {
                    found
                        .skipped
                        .push((h, "not served on an HTTPS listener".into()));
                }
            }
            for listener in https {
                let affected = crate::fix::affected(route, Some(listener));
                for host in &affected.hosts {
                    if host.contains("${") {
                        found.skipped.push((
                            host.clone(),
                            "set by Flux post-build substitution; name the host on the command line".into(),
                        ));
                        continue;
                    }
                    match Target::new(host, affected.probe_path.as_deref()) {
                        Ok(t) => found.targets.push(t),
                        Err(e) => found.skipped.push((host.clone(), e.to_string())),
                    }
                }
            }
        }
    }
    found.targets.sort();
    found.targets.dedup();
    found.skipped.sort();
    found.skipped.dedup();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_with_ports_paths_and_schemes() {
        let t = Target::parse("HA.Example.com/api/websocket").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.path.as_str()),
            ("ha.example.com", 443, "/api/websocket")
        );
        let t = Target::parse("wss://ha.example.com:8443").unwrap();
        assert_eq!((t.port, t.path.as_str()), (8443, "/"));
        assert_eq!(t.display(), "ha.example.com:8443/");
        let t = Target::parse("[::1]:9443/ws").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 9443));
        assert_eq!(t.authority(), "[::1]:9443");
        assert!(matches!(
            Target::parse("*.example.com"),
            Err(TargetError::Wildcard(_))
        ));
        assert!(matches!(
            Target::parse("a.example.com:0"),
            Err(TargetError::BadPort(_))
        ));
        assert!(matches!(Target::parse("/x"), Err(TargetError::NoHost(_))));
        assert!(matches!(
            Target::parse("a b.example.com"),
            Err(TargetError::BadHost(..))
        ));
    }

    #[test]
    fn resolve_entries_parse_and_match() {
        let r: Resolve = "ws.test:8443:127.0.0.1".parse().unwrap();
        let any: Resolve = "*:443:[::1]".parse().unwrap();
        let t = Target::parse("ws.test:8443/x").unwrap();
        assert_eq!(
            Resolve::find(&[r.clone(), any.clone()], &t),
            Some("127.0.0.1:8443".parse().unwrap())
        );
        let other = Target::parse("other.test").unwrap();
        assert_eq!(
            Resolve::find(&[r, any], &other),
            Some("[::1]:443".parse().unwrap())
        );
        assert!(matches!(
            "ws.test:8443".parse::<Resolve>(),
            Err(TargetError::BadResolve(_))
        ));
        assert!(matches!(
            "ws.test:8443:nowhere".parse::<Resolve>(),
            Err(TargetError::BadAddress(..))
        ));
    }
}
