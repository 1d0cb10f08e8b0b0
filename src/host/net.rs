//! Network interfaces of the caller's network namespace.

use crate::error::{Error, Result};
use crate::sys;

/// The index of interface `name` (`if_nametoindex`), for the XDP and tc attach calls.
pub fn ifindex(name: &str) -> Result<u32> {
    if name.is_empty() || name.len() >= 16 || name.contains(['/', ' ', '\0']) {
        return Err(Error::inval(format!("'{name}' is not an interface name (1 to 15 characters, no '/', space or NUL)")));
    }
    sys::netlink::if_nametoindex(name).map_err(|e| match e.0 {
        libc::ENODEV | libc::ENXIO => Error::not_found(format!("no network interface '{name}' in this network namespace")),
        _ => e.error(format!("looking up interface '{name}'")),
    })
}
