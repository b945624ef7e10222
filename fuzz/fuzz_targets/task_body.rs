#![no_main]
//! `fuzzing::task_body` under libFuzzer.
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzing::task_body(data));
