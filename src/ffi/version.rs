//! The library's version, as a call and as the header's macros.

use std::ffi::c_char;

/// The library version, "MAJOR.MINOR.PATCH".
#[no_mangle]
pub extern "C" fn bpfl_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr() as *const c_char
}

#[cfg(test)]
mod tests {
    #[test]
    fn header_version_macros_match_cargo() {
        let cfg = include_str!("../../cbindgen.toml");
        for (name, v) in [("MAJOR", env!("CARGO_PKG_VERSION_MAJOR")), ("MINOR", env!("CARGO_PKG_VERSION_MINOR")), ("PATCH", env!("CARGO_PKG_VERSION_PATCH"))] {
            assert!(cfg.contains(&format!("#define BPFL_VERSION_{name} {v}\n")), "cbindgen.toml BPFL_VERSION_{name} != {v}");
        }
        assert!(cfg.contains(&format!("#define BPFL_VERSION_STRING \"{}\"", env!("CARGO_PKG_VERSION"))));
    }
}
