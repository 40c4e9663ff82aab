// Real DNS captures shared by the wire crate's tests: the known-answer
// tests (`tests/dns_known_answers.rs`) and the frame descriptions
// (`src/describe.rs`) both `include!` this file, so each capture is
// written once.

/// A captured frame from 68.87.71.230:53 with the MX records of gmail.com
/// and two glue addresses (Net::Frame::Layer::DNS test suite, which decodes
/// it as below). Pointers point at pointers (alt1 → @46 → @18).
const GMAIL_MX_FRAME: &str = "c417fe127d75 586d8f78ad40 0800
    454000d2000040003a11e891 445747e6 c0a80a64
    0035 dcde 00be 8afc
    e7c68180000100050000000205676d61696c03636f6d00000f0001c00c000f000100000d7a
    0020001404616c74320d676d61696c2d736d74702d696e016c06676f6f676c65c012c00c000f
    000100000d7a00040005c02ec00c000f000100000d7a0009001e04616c7433c02ec00c000f00
    0100000d7a0009000a04616c7431c02ec00c000f000100000d7a0009002804616c7434c02ec0
    2e00010001000000cc00044a7d731bc08f000100010000005400044a7d7f1b";

/// A captured frame from 68.87.71.230:53 (same source as
/// [`GMAIL_MX_FRAME`]): ipv6.google.com A answered with a CNAME and, since
/// the alias has no A record, the SOA of l.google.com in the authority section.
const CNAME_SOA_FRAME: &str = "c417fe127d75 586d8f78ad40 0800
    45400084000040003a11e8df 445747e6 c0a80a64
    0035 f5e8 0070 1676
    db4a81800001000100010000046970763606676f6f676c6503636f6d0000010001c00c00050001
    00093a5e00090469707636016cc011c032000600010000003c0026036e7333c01109646e732d61
    646d696ec01100167e750000038400000384000007080000003c";

/// A captured frame from 68.87.71.230:53 (same source as
/// [`GMAIL_MX_FRAME`]): the TXT (SPF) record of gmail.com.
const GMAIL_TXT_FRAME: &str = "c417fe127d75 586d8f78ad40 0800
    45400063000040003a11e900 445747e6 c0a80a64
    0035 e79b 004f 0f03
    42468180000100010000000005676d61696c03636f6d0000100001c00c001000010000012c0020
    1f763d737066312072656469726563743d5f7370662e676f6f676c652e636f6d";

/// A public resolver's NXDOMAIN for no-such-domain-4815.com MX: the com
/// zone's SOA in the authority section (RFC 2308 §2.1) and an OPT record
/// offering 512 octets.
const NXDOMAIN: &str = "1234 8183 0001 0000 0001 0001
    13 6e6f2d737563682d646f6d61696e2d34383135 03 636f6d 00 000f 0001
    c020 0006 0001 00000384 003d
        01 61 0c 67746c642d73657276657273 03 6e6574 00
        05 6e73746c64 0c 766572697369676e2d677273 c020
        6ac9763b 00000708 00000384 00093a80 00000384
    00 0029 0200 00000000 0000";
