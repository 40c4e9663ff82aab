//! CPU lists (`0`, `0-3`, `0,2,4-5`): the CPUs a device may run on, in the
//! notation of Linux's `taskset -c`, `cpuset` and
//! `/sys/devices/system/cpu/online`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Highest CPU number accepted: the kernel's default `CPU_SETSIZE` is 1024.
pub const MAX_CPU: usize = 1023;

/// A non-empty set of CPU numbers, kept sorted and without repeats.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CpuList(Vec<usize>);

/// A CPU list that does not parse; names the part that is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CpuListError {
    /// Nothing given.
    #[error("an empty CPU list (expected e.g. 0, 0-3 or 0,2)")]
    Empty,
    /// A part that is not `N` or `N-M`.
    #[error("{0:?} is not a CPU number or range (expected e.g. 0, 0-3 or 0,2)")]
    NotANumber(String),
    /// A range whose end is below its start.
    #[error("the range {0:?} runs backwards")]
    Backwards(String),
    /// A CPU number above [`MAX_CPU`].
    #[error("CPU {0} is above {MAX_CPU}")]
    TooHigh(usize),
}

impl CpuList {
    /// The CPU numbers, ascending.
    pub fn cpus(&self) -> &[usize] {
        &self.0
    }

    /// The CPUs of `self` that are not in `other`; None when there are none.
    pub fn missing_from(&self, other: &CpuList) -> Option<CpuList> {
        let missing: Vec<usize> = self
            .0
            .iter()
            .copied()
            .filter(|c| other.0.binary_search(c).is_err())
            .collect();
        (!missing.is_empty()).then_some(CpuList(missing))
    }
}

impl FromStr for CpuList {
    type Err = CpuListError;

    /// Parses comma-separated CPU numbers and inclusive ranges; spaces
    /// around parts are ignored (`/sys` files end with a newline).
    fn from_str(text: &str) -> Result<CpuList, CpuListError> {
        // `digits` of `part`; the error names the whole part.
        let number = |digits: &str, part: &str| -> Result<usize, CpuListError> {
            let n: usize = digits
                .trim()
                .parse()
                .map_err(|_| CpuListError::NotANumber(part.trim().to_string()))?;
            if n > MAX_CPU {
                return Err(CpuListError::TooHigh(n));
            }
            Ok(n)
        };
        if text.trim().is_empty() {
            return Err(CpuListError::Empty);
        }
        let mut cpus = Vec::new();
        for part in text.trim().split(',') {
            match part.split_once('-') {
                Some((from, to)) => {
                    let (from, to) = (number(from, part)?, number(to, part)?);
                    if to < from {
                        return Err(CpuListError::Backwards(part.trim().to_string()));
                    }
                    cpus.extend(from..=to);
                }
                None => cpus.push(number(part, part)?),
            }
        }
        cpus.sort_unstable();
        cpus.dedup();
        Ok(CpuList(cpus))
    }
}

impl fmt::Display for CpuList {
    /// Runs of consecutive CPUs as ranges: `0-3,6`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        let mut i = 0;
        while i < self.0.len() {
            let start = self.0[i];
            let mut end = start;
            while i + 1 < self.0.len() && self.0[i + 1] == end + 1 {
                i += 1;
                end += 1;
            }
            parts.push(if start == end {
                start.to_string()
            } else {
                format!("{start}-{end}")
            });
            i += 1;
        }
        f.write_str(&parts.join(","))
    }
}

impl Serialize for CpuList {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CpuList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<CpuList, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn list(text: &str) -> CpuList {
        text.parse().expect("valid")
    }

    #[test]
    fn lists_and_ranges_parse_like_taskset() {
        assert_eq!(list("0").cpus(), &[0]);
        assert_eq!(list("0-3").cpus(), &[0, 1, 2, 3]);
        assert_eq!(list("4,0-1, 1").cpus(), &[0, 1, 4]);
        // What /sys/devices/system/cpu/online holds.
        assert_eq!(list("0-1\n").to_string(), "0-1");
        assert_eq!(list("3,0,1,2,6").to_string(), "0-3,6");
    }

    #[test]
    fn bad_lists_name_the_part() {
        let err = |t: &str| t.parse::<CpuList>().expect_err(t);
        assert_eq!(err(""), CpuListError::Empty);
        assert_eq!(err("0,a"), CpuListError::NotANumber("a".into()));
        assert_eq!(err("0,,1"), CpuListError::NotANumber(String::new()));
        assert_eq!(err("3-1"), CpuListError::Backwards("3-1".into()));
        assert_eq!(err("2048"), CpuListError::TooHigh(2048));
        assert_eq!(
            err("-1").to_string(),
            "\"-1\" is not a CPU number or range (expected e.g. 0, 0-3 or 0,2)"
        );
    }

    #[test]
    fn subsets() {
        let online = list("0-1");
        assert_eq!(list("0,2-3").missing_from(&online), Some(list("2-3")));
        assert_eq!(list("1").missing_from(&online), None);
    }

    #[test]
    fn serde_as_a_string() {
        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        struct T {
            cpus: CpuList,
        }
        let t = T { cpus: list("0-2") };
        let text = toml::to_string(&t).expect("toml");
        assert_eq!(text.trim(), "cpus = \"0-2\"");
        assert_eq!(toml::from_str::<T>(&text).expect("back"), t);
        assert!(toml::from_str::<T>("cpus = \"x\"").is_err());
    }

    proptest! {
        #[test]
        fn any_text_parses_or_errs(text in ".{0,40}") {
            let _ = text.parse::<CpuList>();
        }

        #[test]
        fn display_parses_back(cpus in proptest::collection::btree_set(0usize..=MAX_CPU, 1..40)) {
            let l = CpuList(cpus.into_iter().collect());
            prop_assert_eq!(l.to_string().parse::<CpuList>(), Ok(l));
        }
    }
}
