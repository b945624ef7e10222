//! The web app in a real browser, on the full profile (PostgreSQL and
//! Kafka): `tests/web/app.test.mjs` drives Debian's Chromium through
//! playwright-core against a stack of its own, checks every main view with
//! axe-core and saves screenshots at desktop and phone widths in
//! `$TODO_ARTIFACTS/screenshots` (`.data/artifacts/` under `scripts/test`).

use std::process::Command;

use e2e::{Env, Profile, Stack};

fn main() {
    e2e::run_trials(
        &[],
        &[(
            "the_web_app_works_in_a_real_browser",
            &[Profile::Postgres],
            browser,
        )],
    )
}

fn browser(env: &Env, profile: Profile) -> anyhow::Result<()> {
    let required = |name: &str| {
        std::env::var(name)
            .map_err(|_| anyhow::anyhow!("{name} is not set: run the tests with scripts/test"))
    };
    let (node, chromium) = (required("TODO_NODE")?, required("TODO_CHROMIUM")?);
    let artifacts = std::env::var("TODO_ARTIFACTS")
        .map_or_else(|_| env.work_dir.clone(), Into::into)
        .join("screenshots");
    let stack = Stack::start(env, profile)?;
    let output = Command::new(node)
        .current_dir(e2e::repo_root().join("tests/web"))
        .args([
            "--test",
            "--test-reporter=tap",
            "--test-timeout=600000",
            "app.test.mjs",
        ])
        .env("TODO_URL", stack.url(""))
        .env("CHROMIUM", chromium)
        .env("TODO_JWT_SECRET", e2e::SECRET)
        .env("TODO_SCREENSHOTS", &artifacts)
        .output()?;
    let report = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        // What the app said meanwhile, for whoever reads the failure.
        let log = artifacts.with_file_name("web-host.log");
        std::fs::write(&log, stack.host_log())?;
        anyhow::bail!(
            "the browser tests failed (the app's log: {}):\n{report}\n{}",
            log.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    for line in report
        .lines()
        .filter(|l| l.starts_with("ok ") || l.contains("ms after"))
    {
        println!("    {line}");
    }
    println!("    screenshots: {}", artifacts.display());
    Ok(())
}
