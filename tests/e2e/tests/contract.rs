//! The running API against its contract, `contracts/openapi.yaml`: schemathesis
//! (from PyPI) generates requests from the contract, valid and invalid, runs
//! stateful sequences through its links, and checks every answer against it.
//! The app runs on the full profile (PostgreSQL) through the host and daprd.

use std::process::Command;

use e2e::{Env, Profile, SECRET, Stack, token};
use libtest_mimic::{Arguments, Trial};

fn main() {
    let args = Arguments::from_args();
    let trials = vec![Trial::test(
        "api_conforms_to_contracts_openapi_yaml",
        || conforms().map_err(|e| format!("{e:#}").into()),
    )];
    libtest_mimic::run(&args, e2e::needing_services(trials)).exit();
}

fn conforms() -> anyhow::Result<()> {
    let env = Env::from_environment()?;
    let schemathesis = std::env::var("TODO_SCHEMATHESIS").map_err(|_| {
        anyhow::anyhow!("TODO_SCHEMATHESIS is not set: run the tests with scripts/test")
    })?;
    let stack = Stack::start(&env, Profile::Postgres)?;
    let contracts = e2e::repo_root().join("contracts");
    let user = "contract-user";
    let output = Command::new(schemathesis)
        .current_dir(&contracts)
        .args([
            "run",
            "openapi.yaml",
            "--url",
            &stack.url(""),
            "--no-color",
            "--seed",
            "1",
        ])
        .env("TODO_SCHEMATHESIS_USER", user)
        .env("TODO_SCHEMATHESIS_TOKEN", token(user, 3600, SECRET))
        .output()?;
    let report = String::from_utf8_lossy(&output.stdout);
    let summary: Vec<&str> = report
        .lines()
        .filter(|l| l.contains("generated,") || l.contains(" in "))
        .collect();
    println!("{}", summary.join("\n"));
    // Long generated bodies make long lines: keep the report readable.
    let shortened: Vec<String> = report
        .lines()
        .map(|l| l.chars().take(400).collect())
        .collect();
    anyhow::ensure!(
        output.status.success(),
        "schemathesis found failures:\n{}\n{}",
        shortened.join("\n"),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}
