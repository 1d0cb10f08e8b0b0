//! The host's CPUs: per-CPU maps hold one value per possible CPU, perf
//! buffers open one ring per online CPU.

use std::sync::OnceLock;

/// Number of possible CPUs (per-CPU maps hold one value per possible CPU);
/// 1 if sysfs does not say.
pub fn possible_cpus() -> usize {
    possible_cpus_known().unwrap_or(1)
}

/// Number of possible CPUs, if sysfs says: what sizes a per-CPU value
/// buffer the kernel fills, so a guess will not do there.
pub(crate) fn possible_cpus_known() -> Option<usize> {
    static N: OnceLock<Option<usize>> = OnceLock::new();
    *N.get_or_init(|| std::fs::read_to_string("/sys/devices/system/cpu/possible").ok().and_then(|s| parse_cpu_list(&s)))
}

/// The ids of CPUs that are both possible and online now.
pub fn online_cpus() -> Vec<u32> {
    let read = |f: &str| std::fs::read_to_string(format!("/sys/devices/system/cpu/{f}")).ok().and_then(|s| parse_cpu_ids(&s));
    let possible = read("possible").unwrap_or_else(|| (0..possible_cpus() as u32).collect());
    match read("online") {
        Some(online) => possible.into_iter().filter(|c| online.contains(c)).collect(),
        None => possible,
    }
}

/// Parse a CPU list such as "0-3,5,7-8" into a count of CPUs.
pub fn parse_cpu_list(s: &str) -> Option<usize> {
    parse_cpu_ids(s).map(|v| v.len()).filter(|&n| n > 0)
}

/// The ids in a CPU list such as "0-3,5" (None if malformed).
pub fn parse_cpu_ids(s: &str) -> Option<Vec<u32>> {
    let mut v = Vec::new();
    for part in s.trim().split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (u32, u32) = (a.parse().ok()?, b.parse().ok()?);
                if b < a {
                    return None;
                }
                v.extend(a..=b);
            }
            None => v.push(part.parse().ok()?),
        }
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    #[test]
    fn cpu_lists() {
        assert_eq!(super::parse_cpu_list("0-3\n"), Some(4));
        assert_eq!(super::parse_cpu_list("0"), Some(1));
        assert_eq!(super::parse_cpu_list("0-1,4,6-7"), Some(5));
        assert_eq!(super::parse_cpu_list("x"), None);
        assert_eq!(super::parse_cpu_list("3-1"), None);
        assert_eq!(super::parse_cpu_ids("0-2,5\n"), Some(vec![0, 1, 2, 5]));
        assert_eq!(super::parse_cpu_ids("3-1"), None);
        assert_eq!(super::parse_cpu_ids("a"), None);
    }
}
