//! The running kernel's version as `KERNEL_VERSION(a, b, c)`, for the
//! `kern_version` field that kprobe programs needed before Linux 5.0.
//! Distributions hide the real sublevel: Ubuntu in `/proc/version_signature`,
//! Debian in `uname -v` ("... Debian 6.1.76-1 ..."); both are read first.

/// `KERNEL_VERSION(a, b, c)`, with the sublevel clamped to 255 as the kernel does.
pub fn kernel_version(a: u32, b: u32, c: u32) -> u32 {
    (a << 16) + (b << 8) + c.min(255)
}

fn parse_triplet(s: &str) -> Option<u32> {
    let mut it = s.split(|c: char| !c.is_ascii_digit()).filter(|p| !p.is_empty()).map(|p| p.parse::<u32>().ok());
    let a = it.next()??;
    let b = it.next()??;
    let c = it.next().flatten().unwrap_or(0);
    Some(kernel_version(a, b, c))
}

/// Parse Ubuntu's `/proc/version_signature` ("Ubuntu 5.4.0-42.46-generic 5.4.44"): the last field.
pub fn parse_ubuntu_signature(sig: &str) -> Option<u32> {
    parse_triplet(sig.split_whitespace().last()?)
}

/// Parse Debian's `uname -v` ("#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)").
pub fn parse_debian_uname_version(v: &str) -> Option<u32> {
    let mut words = v.split_whitespace();
    words.find(|w| *w == "Debian")?;
    let ver = words.next()?;
    ver.chars().next()?.is_ascii_digit().then(|| parse_triplet(ver))?
}

/// Parse `uname -r` ("6.18.44-fc-v669").
pub fn parse_release(r: &str) -> Option<u32> {
    parse_triplet(r.split(['-', '+', '~']).next()?)
}

/// The running kernel's version code.
pub fn running() -> u32 {
    if let Ok(sig) = std::fs::read_to_string("/proc/version_signature") {
        if let Some(v) = parse_ubuntu_signature(&sig) {
            return v;
        }
    }
    let Ok(u) = crate::sys::uname() else { return 0 };
    parse_debian_uname_version(&u.version).or_else(|| parse_release(&u.release)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn distributions() {
        assert_eq!(parse_ubuntu_signature("Ubuntu 5.4.0-42.46-generic 5.4.44\n"), Some(kernel_version(5, 4, 44)));
        assert_eq!(parse_debian_uname_version("#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)"), Some(kernel_version(6, 1, 76)));
        assert_eq!(parse_debian_uname_version("#1 SMP PREEMPT_DYNAMIC @0"), None);
        assert_eq!(parse_release("6.18.44-fc-v669"), Some(kernel_version(6, 18, 44)));
        assert_eq!(parse_release("6.1.0-18-amd64"), Some(kernel_version(6, 1, 0)));
        assert_eq!(parse_release("5.10"), Some(kernel_version(5, 10, 0)));
        assert_eq!(parse_release("4.9.300"), Some(kernel_version(4, 9, 255)));
        assert_eq!(parse_release("garbage"), None);
        assert!(running() >= kernel_version(3, 0, 0));
    }
}
