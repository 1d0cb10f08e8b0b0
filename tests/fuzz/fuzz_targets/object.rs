//! Fuzz target `object`: the body is bpfl_obj::fuzz::object, shared with the
//! corpus replay on stable (src/obj/tests/fuzz_replay.rs).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| bpfl_obj::fuzz::object(data));
