//! A schema of its own on the test PostgreSQL server (`WS_FIX_TEST_DATABASE_URL`), so that
//! tests run in parallel. Without that variable a test is skipped (`None`), unless
//! `WS_FIX_REQUIRE_POSTGRES=1` (`.ci/run` sets both), which fails it.

use std::sync::atomic::{AtomicUsize, Ordering};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

pub struct Schema {
    /// The database URL, with the schema as its search path.
    pub url: String,
    name: String,
}

/// A fresh schema, or `None` (skipped) when there is no test server.
pub async fn schema(test: &str) -> Option<Schema> {
    let Ok(base) = std::env::var("WS_FIX_TEST_DATABASE_URL") else {
        assert!(
            std::env::var("WS_FIX_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "WS_FIX_REQUIRE_POSTGRES=1 but WS_FIX_TEST_DATABASE_URL is not set"
        );
        eprintln!("skipped {test} on PostgreSQL: WS_FIX_TEST_DATABASE_URL is not set");
        return None;
    };
    let name = format!(
        "t_{}_{}_{}",
        std::process::id(),
        ws_fix::queue::now_ms(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    let admin = sqlx::PgPool::connect(&base).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}")))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let sep = if base.contains('?') { '&' } else { '?' };
    Some(Schema {
        url: format!("{base}{sep}options[search_path]={name}"),
        name,
    })
}

impl Schema {
    /// Drops the schema and what it holds.
    pub async fn drop(self) {
        let base = std::env::var("WS_FIX_TEST_DATABASE_URL").unwrap();
        let admin = sqlx::PgPool::connect(&base).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA {} CASCADE",
            self.name
        )))
        .execute(&admin)
        .await
        .unwrap();
        admin.close().await;
    }
}
