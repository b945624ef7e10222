#![no_main]
//! `fuzzing::signed_claims` under libFuzzer.
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzing::signed_claims(data));
