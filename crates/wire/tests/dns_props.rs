//! DNS property tests: no input makes the parser panic, and every message
//! survives emit → parse, with and without truncation.

use proptest::prelude::*;
use vnet_wire::dns::{DnsMessage, HEADER_LEN};

#[path = "support/dns_strategies.rs"]
mod strategies;

use strategies::{Profile, message};

/// A header announcing a few entries, followed by arbitrary bytes, so the
/// name and record decoders are reached often.
fn dns_like() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<[u8; 4]>(),
        prop::collection::vec(0u8..4, 4),
        prop::collection::vec(any::<u8>(), 0..300),
    )
        .prop_map(|(idflags, counts, tail)| {
            let mut b = idflags.to_vec();
            for c in counts {
                b.extend_from_slice(&[0, c]);
            }
            b.extend_from_slice(&tail);
            b
        })
}

/// A valid message with a few octets overwritten: mostly well-formed names
/// with broken pointers and lengths.
fn mutated() -> impl Strategy<Value = Vec<u8>> {
    (
        message(Profile::Full),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    )
        .prop_map(|(m, edits)| {
            let mut b = m.emit(usize::MAX);
            for (i, v) in edits {
                let at = i.index(b.len());
                b[at] = v;
            }
            b
        })
}

fn check_no_panic(b: &[u8]) {
    if let Ok(m) = DnsMessage::parse(b) {
        // Whatever parsed must re-encode and parse to the same message.
        let again = m.emit(usize::MAX);
        assert_eq!(DnsMessage::parse(&again).as_ref(), Ok(&m));
        for r in m.answers.iter().chain(&m.authorities).chain(&m.additionals) {
            let _ = (
                r.name.to_string(),
                r.rtype().to_string(),
                r.class.to_string(),
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(b in prop::collection::vec(any::<u8>(), 0..600)) {
        check_no_panic(&b);
    }

    #[test]
    fn dns_like_bytes_never_panic(b in dns_like()) {
        check_no_panic(&b);
    }

    #[test]
    fn mutated_messages_never_panic(b in mutated()) {
        check_no_panic(&b);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn emit_parse_round_trip(m in message(Profile::Full)) {
        let b = m.emit(usize::MAX);
        let p = DnsMessage::parse(&b).unwrap();
        prop_assert_eq!(&p, &m);
        // Case is preserved exactly, not only up to ASCII case.
        for (x, y) in p.questions.iter().zip(&m.questions) {
            prop_assert!(x.name.labels().eq(y.name.labels()));
        }
        // Encoding is deterministic.
        prop_assert_eq!(p.emit(usize::MAX), b);
    }

    #[test]
    fn truncation_keeps_whole_records(m in message(Profile::Full), max in 0usize..700) {
        let full = m.emit(usize::MAX);
        let b = m.emit(max);
        prop_assert!(b.len() <= max.max(HEADER_LEN));
        let p = DnsMessage::parse(&b).unwrap();
        if full.len() <= max.max(HEADER_LEN) {
            // Everything fits (an empty message is never cut below its header).
            prop_assert_eq!(b, full);
        } else {
            prop_assert!(p.header.tc);
            // Each section is a prefix of the original, and a later section
            // is only present when the earlier ones are complete.
            prop_assert_eq!(&p.questions[..], &m.questions[..p.questions.len()]);
            prop_assert_eq!(&p.answers[..], &m.answers[..p.answers.len()]);
            prop_assert_eq!(&p.authorities[..], &m.authorities[..p.authorities.len()]);
            prop_assert_eq!(&p.additionals[..], &m.additionals[..p.additionals.len()]);
            let lens = [
                (p.questions.len(), m.questions.len()),
                (p.answers.len(), m.answers.len()),
                (p.authorities.len(), m.authorities.len()),
                (p.additionals.len(), m.additionals.len()),
            ];
            let first_short = lens.iter().position(|(a, b)| a < b).unwrap();
            prop_assert!(lens[first_short + 1..].iter().all(|&(a, _)| a == 0));
        }
    }
}
