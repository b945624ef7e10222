#![no_main]
//! `fuzzing::import_file` under libFuzzer.
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzing::import_file(data));
