#![no_main]
//! `fuzzing::chat_message` under libFuzzer.
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzing::chat_message(data));
