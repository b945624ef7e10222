#![no_main]
//! `fuzzing::list_query` under libFuzzer.
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzing::list_query(data));
