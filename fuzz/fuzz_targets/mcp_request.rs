#![no_main]
//! `fuzzing::mcp_request` under libFuzzer.
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzing::mcp_request(data));
