//! proptest strategies for DNS messages, shared by the property tests and the
//! hickory oracle. `Profile::Hickory` keeps to what hickory-proto models
//! one-to-one (no Z bit, classes IN/CH/HS, non-empty RDATA, since hickory
//! reads RDLENGTH 0 as an RFC 2136 update record).

use std::net::{Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;
use vnet_wire::dns::{
    DnsHeader, DnsMessage, DnsName, Opcode, Question, Rcode, Record, RecordClass, RecordData,
    RecordType,
};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Profile {
    /// Everything the codec can represent.
    Full,
    /// The subset hickory-proto represents the same way.
    Hickory,
}

fn label(p: Profile) -> BoxedStrategy<Vec<u8>> {
    let text = "[a-zA-Z0-9_-]{1,12}".prop_map(String::into_bytes);
    match p {
        Profile::Full => prop_oneof![
            4 => text,
            1 => prop::collection::vec(any::<u8>(), 1..=63),
            1 => Just(vec![b'x'; 63]),
        ]
        .boxed(),
        Profile::Hickory => prop_oneof![4 => text, 1 => Just(vec![b'x'; 63])].boxed(),
    }
}

/// Names built on a few shared suffixes, so compression has work to do.
pub fn name(p: Profile) -> BoxedStrategy<DnsName> {
    let zone = prop_oneof![
        Just(""),
        Just("com"),
        Just("example.com"),
        Just("EXAMPLE.com"),
        Just("a.b.c.d.example.com"),
        Just("in-addr.arpa"),
    ];
    (prop::collection::vec(label(p), 0..4), zone)
        .prop_filter_map("name too long", |(labels, zone)| {
            let zone: DnsName = zone.parse().ok()?;
            let mut n = zone;
            for l in labels.iter().rev() {
                n = n.child(l).ok()?;
            }
            Some(n)
        })
        .boxed()
}

fn class(p: Profile) -> BoxedStrategy<RecordClass> {
    match p {
        Profile::Full => prop_oneof![
            4 => Just(RecordClass::In),
            1 => any::<u16>().prop_map(RecordClass::from),
        ]
        .boxed(),
        Profile::Hickory => prop_oneof![
            Just(RecordClass::In),
            Just(RecordClass::Ch),
            Just(RecordClass::Hs)
        ]
        .boxed(),
    }
}

fn bytes(min: usize, max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), min..=max)
}

pub fn rdata(p: Profile) -> BoxedStrategy<RecordData> {
    let min = usize::from(p == Profile::Hickory);
    prop_oneof![
        any::<[u8; 4]>().prop_map(|a| RecordData::A(Ipv4Addr::from(a))),
        any::<[u8; 16]>().prop_map(|a| RecordData::Aaaa(Ipv6Addr::from(a))),
        name(p).prop_map(RecordData::Ns),
        name(p).prop_map(RecordData::Cname),
        name(p).prop_map(RecordData::Ptr),
        (any::<u16>(), name(p)).prop_map(|(preference, exchange)| RecordData::Mx {
            preference,
            exchange
        }),
        (name(p), name(p), any::<[u32; 5]>()).prop_map(|(mname, rname, v)| RecordData::Soa {
            mname,
            rname,
            serial: v[0],
            refresh: v[1],
            retry: v[2],
            expire: v[3],
            minimum: v[4],
        }),
        prop::collection::vec(bytes(0, 255), min..4).prop_map(RecordData::Txt),
        // Private-use types (RFC 6895 §3.1), below 65305, which hickory
        // uses for its ANAME draft.
        (65280u16..65305, bytes(min, 40)).prop_map(|(t, data)| RecordData::Unknown {
            rtype: RecordType::Unknown(t),
            data
        }),
    ]
    .boxed()
}

pub fn record(p: Profile) -> impl Strategy<Value = Record> {
    (name(p), class(p), any::<u32>(), rdata(p)).prop_map(|(name, class, ttl, data)| Record {
        name,
        class,
        ttl,
        data,
    })
}

pub fn question(p: Profile) -> impl Strategy<Value = Question> {
    let qclass = match p {
        Profile::Full => any::<u16>().prop_map(RecordClass::from).boxed(),
        Profile::Hickory => class(p),
    };
    let qtype = prop_oneof![
        Just(RecordType::A),
        Just(RecordType::Aaaa),
        Just(RecordType::Mx),
        Just(RecordType::Any),
        (1u16..=65534).prop_map(RecordType::from),
    ];
    (name(p), qtype, qclass).prop_map(|(name, qtype, qclass)| Question {
        name,
        qtype,
        qclass,
    })
}

pub fn header(p: Profile) -> impl Strategy<Value = DnsHeader> {
    let opcode = match p {
        Profile::Full => (0u8..16).prop_map(Opcode::from).boxed(),
        Profile::Hickory => prop_oneof![
            Just(Opcode::Query),
            Just(Opcode::Status),
            Just(Opcode::Notify)
        ]
        .boxed(),
    };
    (any::<u16>(), any::<[bool; 9]>(), opcode, 0u8..16).prop_map(move |(id, f, opcode, rcode)| {
        DnsHeader {
            id,
            qr: f[0],
            opcode,
            aa: f[1],
            tc: f[2],
            rd: f[3],
            ra: f[4],
            z: f[5] && p == Profile::Full,
            ad: f[6],
            cd: f[7],
            rcode: Rcode::from(rcode),
        }
    })
}

pub fn message(p: Profile) -> impl Strategy<Value = DnsMessage> {
    (
        header(p),
        prop::collection::vec(question(p), 0..3),
        prop::collection::vec(record(p), 0..5),
        prop::collection::vec(record(p), 0..3),
        prop::collection::vec(record(p), 0..3),
    )
        .prop_map(
            |(header, questions, answers, authorities, additionals)| DnsMessage {
                header,
                questions,
                answers,
                authorities,
                additionals,
            },
        )
}
