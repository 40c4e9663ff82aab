//! Range, Content-Range, entity-tag lists, If-Range and HTTP-dates: no
//! input panics, what is emitted parses back, and dates agree with the
//! `httpdate` crate (hyper's parser) as an oracle. (`httparse` parses
//! heads, not field values, so it is no oracle here; heads carrying these
//! fields are cross-checked against it in `http_httparse_oracle.rs`.)

use proptest::prelude::*;
use std::time::{Duration, UNIX_EPOCH};
use vnet_wire::http::date::{Civil, imf_fixdate, parse_http_date};
use vnet_wire::http::{
    ContentRange, EntityTag, EtagList, IfRange, RangeSpec, parse_range, range_value,
};

fn range_spec() -> impl Strategy<Value = RangeSpec> {
    prop_oneof![
        (0u64..1 << 40, 0u64..1 << 40).prop_map(|(a, n)| RangeSpec::FromTo(a, a + n)),
        (0u64..1 << 40).prop_map(RangeSpec::From),
        (0u64..1 << 40).prop_map(RangeSpec::Suffix),
    ]
}

fn entity_tag() -> impl Strategy<Value = EntityTag> {
    (any::<bool>(), "[!#-~]{0,20}").prop_map(|(weak, s)| EntityTag {
        weak,
        opaque: s.into_bytes(),
    })
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = parse_range(&bytes);
        let _ = ContentRange::parse(&bytes);
        let _ = EntityTag::parse(&bytes);
        let _ = EtagList::parse([bytes.as_slice()]);
        let _ = IfRange::parse(&bytes);
        let _ = parse_http_date(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn ranges_round_trip(specs in prop::collection::vec(range_spec(), 1..8), len in 0u64..1 << 41) {
        let value = range_value(&specs);
        prop_assert_eq!(parse_range(value.as_bytes()), Ok(specs.clone()));
        for s in specs {
            if let Some((a, b)) = s.resolve(len) {
                prop_assert!(a <= b && b < len);
                let cr = ContentRange::Bytes { first: a, last: b, complete: Some(len) };
                prop_assert_eq!(ContentRange::parse(cr.to_string().as_bytes()), Ok(cr));
            }
        }
    }

    #[test]
    fn etag_lists_round_trip(tags in prop::collection::vec(entity_tag(), 1..6)) {
        let list = EtagList::Tags(tags.clone());
        let text = list.to_string();
        prop_assert_eq!(EtagList::parse([text.as_bytes()]), Ok(list));
        for t in tags {
            prop_assert_eq!(EntityTag::parse(t.to_string().as_bytes()), Ok(t.clone()));
            prop_assert_eq!(IfRange::parse(t.to_string().as_bytes()), Ok(IfRange::Tag(t)));
        }
    }

    #[test]
    fn dates_agree_with_httpdate(secs in 0u64..253_402_300_799) {
        let text = imf_fixdate(secs);
        let oracle = httpdate::parse_http_date(&text).ok();
        prop_assert_eq!(oracle, Some(UNIX_EPOCH + Duration::from_secs(secs)));
        prop_assert_eq!(parse_http_date(&text), Some(secs));
        prop_assert_eq!(httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(secs)), text);
    }

    #[test]
    fn the_obsolete_forms_agree_with_httpdate(secs in 0u64..3_155_760_000, form in 0u8..2) {
        const MONTHS: [&str; 12] = ["Jan","Feb","Mar","Apr","May","Jun","Jul","Aug","Sep","Oct","Nov","Dec"];
        const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
        const LONG: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
        // 1970–2069: the years a two-digit rfc850 year stands for here.
        let c = Civil::from_unix(secs);
        let mon = MONTHS[c.month as usize - 1];
        let (day, h, m, s, wd) = (c.day, c.hour, c.minute, c.second, c.weekday as usize);
        let text = if form == 0 {
            format!("{}, {day:02}-{mon}-{:02} {h:02}:{m:02}:{s:02} GMT", LONG[wd], c.year % 100)
        } else {
            format!("{} {mon} {day:>2} {h:02}:{m:02}:{s:02} {}", DAYS[wd], c.year)
        };
        let oracle = httpdate::parse_http_date(&text)
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_secs());
        prop_assert_eq!(parse_http_date(&text), oracle, "{}", text);
    }
}

#[test]
fn rfc_9110_date_examples_against_httpdate() {
    for text in [
        "Sun, 06 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
    ] {
        let oracle = httpdate::parse_http_date(text).expect("httpdate parses it");
        let ours = parse_http_date(text).expect("we parse it");
        assert_eq!(UNIX_EPOCH + Duration::from_secs(ours), oracle, "{text}");
    }
}
