//! Dates for HTTP headers and access logs, from a Unix time the caller
//! reads (this crate reads no clock).

const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A broken-down UTC time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    /// Year, e.g. 1994.
    pub year: i64,
    /// Month, 1–12.
    pub month: u32,
    /// Day of the month, 1–31.
    pub day: u32,
    /// Hour, 0–23.
    pub hour: u32,
    /// Minute, 0–59.
    pub minute: u32,
    /// Second, 0–59 (leap seconds do not exist in Unix time).
    pub second: u32,
    /// Day of the week, 0 = Sunday.
    pub weekday: u32,
}

impl Civil {
    /// The UTC date and time `secs` seconds after 1970-01-01T00:00:00Z
    /// (days to civil date after H. Hinnant's `civil_from_days`).
    pub fn from_unix(secs: u64) -> Civil {
        let days = (secs / 86_400) as i64;
        let rem = (secs % 86_400) as u32;
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Civil {
            year,
            month,
            day,
            hour: rem / 3600,
            minute: rem / 60 % 60,
            second: rem % 60,
            weekday: ((days + 4).rem_euclid(7)) as u32,
        }
    }

    fn month_name(&self) -> &'static str {
        MONTHS
            .get(self.month.saturating_sub(1) as usize)
            .copied()
            .unwrap_or("Jan")
    }
}

/// The preferred HTTP date format, IMF-fixdate (RFC 9110 §5.6.7):
/// `Sun, 06 Nov 1994 08:49:37 GMT`, for the `Date` header ("An origin
/// server with a clock … MUST generate a Date header field in all 2xx, 3xx,
/// and 4xx responses", §6.6.1).
pub fn imf_fixdate(unix_secs: u64) -> String {
    let c = Civil::from_unix(unix_secs);
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        DAYS.get(c.weekday as usize).copied().unwrap_or("Sun"),
        c.day,
        c.month_name(),
        c.year,
        c.hour,
        c.minute,
        c.second
    )
}

/// The timestamp of the Common Log Format (NCSA httpd, Apache `%t`):
/// `06/Nov/1994:08:49:37 +0000`.
pub fn clf_timestamp(unix_secs: u64) -> String {
    let c = Civil::from_unix(unix_secs);
    format!(
        "{:02}/{}/{:04}:{:02}:{:02}:{:02} +0000",
        c.day,
        c.month_name(),
        c.year,
        c.hour,
        c.minute,
        c.second
    )
}

/// Days from 1970-01-01 to the civil date (H. Hinnant's
/// `days_from_civil`); the inverse of [`Civil::from_unix`]'s date part.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// Reads exactly `n` ASCII digits.
fn digits(s: &str, n: usize) -> Option<u32> {
    (s.len() == n && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn month_number(name: &str) -> Option<u32> {
    MONTHS.iter().position(|m| *m == name).map(|i| i as u32 + 1)
}

/// `hour ":" minute ":" second`, each two digits (RFC 9110 §5.6.7
/// `time-of-day`; 60 is allowed for a leap second and read as 59).
fn time_of_day(s: &str) -> Option<(u32, u32, u32)> {
    let mut it = s.split(':');
    let (h, m, sec) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() {
        return None;
    }
    let (h, m, sec) = (digits(h, 2)?, digits(m, 2)?, digits(sec, 2)?);
    (h < 24 && m < 60 && sec <= 60).then_some((h, m, sec.min(59)))
}

fn to_unix(year: i64, month: u32, day: u32, (h, m, s): (u32, u32, u32)) -> Option<u64> {
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let secs = days_from_civil(year, month, day) * 86_400
        + i64::from(h) * 3600
        + i64::from(m) * 60
        + i64::from(s);
    u64::try_from(secs).ok()
}

/// Parses an HTTP-date (RFC 9110 §5.6.7) into Unix seconds: the preferred
/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) and the two obsolete
/// forms a recipient "MUST accept": rfc850-date (`Sunday, 06-Nov-94
/// 08:49:37 GMT`) and asctime-date (`Sun Nov  6 08:49:37 1994`). A
/// two-digit rfc850 year is read as 19yy from 70 on and 20yy below (this
/// crate reads no clock, so it cannot apply the "50 years in the future"
/// rule literally). The day name is checked for syntax only ("recipients
/// … are not required to validate" it, §5.6.7). `None` for anything else,
/// or a date before 1970.
pub fn parse_http_date(text: &str) -> Option<u64> {
    if text.len() > 64 || !text.is_ascii() {
        return None;
    }
    let (day_name, rest) = match text.split_once(", ") {
        Some(parts) => parts,
        None => return parse_asctime(text),
    };
    let parts: Vec<&str> = rest.split(' ').collect();
    if DAYS.contains(&day_name) {
        // IMF-fixdate: day-name "," SP date1 SP time-of-day SP GMT.
        let [day, month, year, time, "GMT"] = parts.as_slice() else {
            return None;
        };
        let year = i64::from(digits(year, 4)?);
        return to_unix(
            year,
            month_number(month)?,
            digits(day, 2)?,
            time_of_day(time)?,
        );
    }
    const LONG: [&str; 7] = [
        "Sunday",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
    ];
    if !LONG.contains(&day_name) {
        return None;
    }
    // rfc850-date: day-name-l "," SP date2 SP time-of-day SP GMT.
    let [date2, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    let mut d = date2.split('-');
    let (day, month, yy) = (d.next()?, d.next()?, d.next()?);
    if d.next().is_some() {
        return None;
    }
    let yy = i64::from(digits(yy, 2)?);
    let year = if yy >= 70 { 1900 + yy } else { 2000 + yy };
    to_unix(
        year,
        month_number(month)?,
        digits(day, 2)?,
        time_of_day(time)?,
    )
}

/// asctime-date: day-name SP month SP ( 2DIGIT / ( SP DIGIT )) SP
/// time-of-day SP year.
fn parse_asctime(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    if b.len() != 24 || b[3] != b' ' || b[7] != b' ' || b[10] != b' ' || b[19] != b' ' {
        return None;
    }
    if !DAYS.contains(&&text[0..3]) {
        return None;
    }
    let month = month_number(&text[4..7])?;
    let day = match &text[8..10] {
        d if d.starts_with(' ') => digits(&d[1..], 1)?,
        d => digits(d, 2)?,
    };
    let year = i64::from(digits(&text[20..24], 4)?);
    to_unix(year, month, day, time_of_day(&text[11..19])?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        // RFC 9110 §5.6.7's example.
        assert_eq!(imf_fixdate(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(imf_fixdate(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(imf_fixdate(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(clf_timestamp(1_795_237_200), "21/Nov/2026:05:00:00 +0000");
        assert_eq!(imf_fixdate(4_102_444_799), "Thu, 31 Dec 2099 23:59:59 GMT");
    }

    #[test]
    fn parses_the_three_forms_of_rfc_9110() {
        // RFC 9110 §5.6.7's three spellings of one instant.
        for text in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(parse_http_date(text), Some(784_111_777), "{text}");
        }
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            parse_http_date("Tue, 29 Feb 2000 00:00:00 GMT"),
            Some(951_782_400)
        );
        assert_eq!(
            parse_http_date("Wednesday, 01-Jan-31 00:00:00 GMT"),
            Some(1_924_992_000)
        );
        for bad in [
            "",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 31 Feb 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1969 08:49:37 GMT",
            "Sun, 06 nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT ",
            "Sun Nov 6 08:49:37 1994",
            "Funday, 06-Nov-94 08:49:37 GMT",
            "1994-11-06T08:49:37Z",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn every_emitted_date_parses_back() {
        for secs in (0..4_102_444_800u64).step_by(86_400 * 37 + 3_601) {
            assert_eq!(parse_http_date(&imf_fixdate(secs)), Some(secs));
        }
    }
}
