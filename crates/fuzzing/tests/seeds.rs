//! Every seed and every crash that fuzzing found, through its target on
//! stable Rust: `fuzz/seeds/{target}/*` (inputs taken from the tests) and
//! `fuzz/regressions/{target}/*` (each named after what it found). A target
//! that panics on one fails here with the file's name.

use std::path::{Path, PathBuf};

fn inputs(folder: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(folder)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    files
}

#[test]
fn every_seed_and_every_regression_passes_through_its_target() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    for (name, target) in fuzzing::TARGETS {
        let seeds = inputs(&fuzz.join("seeds").join(name));
        assert!(
            !seeds.is_empty(),
            "target {name} has no seeds in fuzz/seeds/{name}"
        );
        for file in seeds
            .iter()
            .chain(&inputs(&fuzz.join("regressions").join(name)))
        {
            let data = std::fs::read(file).expect("readable");
            let outcome = std::panic::catch_unwind(|| target(&data));
            assert!(outcome.is_ok(), "{name} panicked on {}", file.display());
        }
    }
}
