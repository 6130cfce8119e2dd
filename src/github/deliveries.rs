//! The App's webhook deliveries as GitHub recorded them (`GET /app/hook/deliveries`) and
//! their redelivery (`POST /app/hook/deliveries/{id}/attempts`), both with the App's JWT:
//! what the redelivery sweep uses to heal deliveries that failed while the server was down.

use serde_json::Value;

use super::{GitHubApp, GitHubError};

/// One delivery attempt, as `GET /app/hook/deliveries` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HookDelivery {
    /// The attempt's id (what a redelivery is asked for).
    pub id: u64,
    /// The event's id, shared by every attempt of it: our `X-GitHub-Delivery`.
    pub guid: String,
    /// Milliseconds since the epoch; 0 when GitHub's timestamp does not parse.
    pub delivered_at_ms: i64,
    pub redelivery: bool,
    /// The answer our server gave (0 when nothing answered).
    pub status_code: u16,
    pub event: String,
}

impl HookDelivery {
    fn from_json(v: &Value) -> Option<HookDelivery> {
        Some(HookDelivery {
            id: v["id"].as_u64()?,
            guid: v["guid"].as_str()?.to_owned(),
            delivered_at_ms: v["delivered_at"]
                .as_str()
                .and_then(parse_timestamp_ms)
                .unwrap_or(0),
            redelivery: v["redelivery"].as_bool().unwrap_or(false),
            status_code: v["status_code"].as_u64().unwrap_or(0) as u16,
            event: v["event"].as_str().unwrap_or("").to_owned(),
        })
    }

    /// True when our server accepted this attempt.
    pub fn succeeded(&self) -> bool {
        (200..300).contains(&self.status_code)
    }
}

impl GitHubApp {
    /// The delivery attempts of the last `window_ms` before `now_ms`, newest first, reading
    /// at most `max_pages` pages of 100.
    pub async fn hook_deliveries(
        &self,
        now_ms: i64,
        window_ms: i64,
        max_pages: usize,
    ) -> Result<Vec<HookDelivery>, GitHubError> {
        let oldest = now_ms.saturating_sub(window_ms);
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..max_pages {
            let path = match &cursor {
                Some(c) => format!("/app/hook/deliveries?per_page=100&cursor={c}"),
                None => "/app/hook/deliveries?per_page=100".to_owned(),
            };
            let (page, link) = self.app_request(http::Method::GET, &path).await?;
            let items: Vec<HookDelivery> = page
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(HookDelivery::from_json)
                .collect();
            let done = items.is_empty() || items.iter().any(|d| d.delivered_at_ms < oldest);
            out.extend(items.into_iter().filter(|d| d.delivered_at_ms >= oldest));
            cursor = link.as_deref().and_then(next_cursor);
            if done || cursor.is_none() {
                break;
            }
        }
        Ok(out)
    }

    /// Asks GitHub to deliver attempt `id` again.
    pub async fn redeliver(&self, id: u64) -> Result<(), GitHubError> {
        let path = format!("/app/hook/deliveries/{id}/attempts");
        self.app_request(http::Method::POST, &path).await?;
        Ok(())
    }

    /// One request with the App's JWT: the JSON answer and the `link` header.
    async fn app_request(
        &self,
        method: http::Method,
        path: &str,
    ) -> Result<(Value, Option<String>), GitHubError> {
        let app = self.clients().app.clone();
        self.counters
            .requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let transport = super::octocrab_error;
        let response = self.counted(if method == http::Method::POST {
            app._post(path, None::<&()>).await
        } else {
            app._get(path).await
        })?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let link = headers
            .get("link")
            .and_then(|l| l.to_str().ok())
            .map(str::to_owned);
        let text = app.body_to_string(response).await.map_err(transport)?;
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        super::answer(status, &headers, value, method.as_str(), path).map(|v| (v, link))
    }
}

/// The `cursor` of the `rel="next"` link of a `link` header.
fn next_cursor(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, rel) = part.split_once(';')?;
        if !rel.contains("rel=\"next\"") {
            return None;
        }
        let url = url.trim().trim_start_matches('<').trim_end_matches('>');
        let query = url.split_once('?')?.1;
        query
            .split('&')
            .find_map(|kv| kv.strip_prefix("cursor="))
            .map(str::to_owned)
    })
}

/// `2021-05-12T20:33:44Z` (GitHub's timestamps are UTC) as milliseconds since the epoch.
fn parse_timestamp_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || !s.ends_with('Z') {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (hh, mm, ss) = (n(11..13)?, n(14..16)?, n(17..19)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + hh) * 60 + mm) * 60_000 + ss * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_timestamp_ms("2021-05-12T20:33:44Z"),
            Some(1_620_851_624_000)
        );
        assert_eq!(
            parse_timestamp_ms("2024-02-29T12:00:00Z"),
            Some(1_709_208_000_000)
        );
        assert_eq!(parse_timestamp_ms("2021-13-12T20:33:44Z"), None);
        assert_eq!(parse_timestamp_ms("yesterday"), None);
    }

    #[test]
    fn cursors() {
        let link = r#"<https://api.github.com/app/hook/deliveries?per_page=100&cursor=v1_12077215967>; rel="next", <https://api.github.com/app/hook/deliveries?per_page=100>; rel="first""#;
        assert_eq!(next_cursor(link).as_deref(), Some("v1_12077215967"));
        assert_eq!(
            next_cursor(r#"<https://x/app/hook/deliveries?per_page=100>; rel="prev""#),
            None
        );
    }
}
