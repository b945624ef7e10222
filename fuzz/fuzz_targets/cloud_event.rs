#![no_main]
//! `fuzzing::cloud_event` under libFuzzer.
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzing::cloud_event(data));
