#![no_main]
//! `fuzzing::bearer_token` under libFuzzer.
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzing::bearer_token(data));
