#![no_main]
//! `fuzzing::rrule` under libFuzzer.
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzing::rrule(data));
