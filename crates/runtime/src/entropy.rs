//! Randomness for device code: the OS's, or in a simulation (`vnet sim
//! --seed`) the simulation's seeded generator, so a run replays exactly.

/// Fills `buf` with random bytes: the simulation's seeded generator when
/// the caller is a simulated device, else the OS CSPRNG (a fast PRNG if
/// that fails).
pub fn fill(buf: &mut [u8]) {
    if let Some(scope) = vnet_telemetry::current_scope() {
        scope.world.fill(buf);
        return;
    }
    if getrandom::fill(buf).is_err() {
        fastrand::fill(buf);
    }
}

/// A random `u64` ([`fill`]).
pub fn u64() -> u64 {
    let mut b = [0u8; 8];
    fill(&mut b);
    u64::from_le_bytes(b)
}

/// A random `u32` ([`fill`]).
pub fn u32() -> u32 {
    let mut b = [0u8; 4];
    fill(&mut b);
    u32::from_le_bytes(b)
}

#[cfg(test)]
mod tests {
    #[test]
    fn draws_differ_outside_a_simulation() {
        // Two draws of 64 random bits are equal with probability 2^-64.
        assert_ne!(super::u64(), super::u64());
    }
}
