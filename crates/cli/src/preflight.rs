//! Checks a validated lab needs before any process starts, that the
//! topology crate cannot make itself: every zone file of every DNS device
//! is parsed with the parser the DNS device uses at start-up
//! ([`vnet_dns::authority::Authority::from_texts`]), so a bad zone stops
//! `vnet up` before anything runs, with every error at once.

use std::path::Path;
use vnet_dns::authority::{Authority, AuthorityError};
use vnet_dns::zone::Zone;
use vnet_topology::Lab;

/// Every problem the devices of `lab` (read from `topology`) would meet at
/// start-up, one message per problem, each naming its file and line:
/// `configs/zones/com.zone:7: devices.dns-com.zones[0]: bad IPv4 address …`.
/// Empty when the lab can start.
pub fn check_lab(topology: &Path, lab: &Lab) -> Vec<String> {
    let base = topology.parent().unwrap_or(Path::new(""));
    let mut errors = Vec::new();
    for device in &lab.devices {
        let Some(dns) = &device.dns else { continue };
        // The same parse, zone by zone, as `Authority::from_texts` does in
        // the device, but without stopping at the first bad zone.
        let mut zones = Vec::new();
        for (i, z) in dns.zones.iter().enumerate() {
            match Zone::parse(&z.file, &z.text) {
                Ok(zone) => zones.push(zone),
                Err(e) => {
                    let file = base.join(&e.file);
                    let at = match e.line {
                        Some(line) => format!("{}:{line}", file.display()),
                        None => file.display().to_string(),
                    };
                    errors.push(format!(
                        "{at}: devices.{}.zones[{i}]: {}",
                        device.name, e.message
                    ));
                }
            }
        }
        if zones.len() == dns.zones.len()
            && let Err(e @ AuthorityError::Duplicate { .. }) = Authority::new(zones)
        {
            errors.push(format!(
                "{}: devices.{}.zones: {e}",
                topology.display(),
                device.name
            ));
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lab_with_zones(dir: &Path, zones: &[(&str, &str)]) -> (std::path::PathBuf, Lab) {
        let mut names = Vec::new();
        for (name, text) in zones {
            std::fs::write(dir.join(name), text).expect("write zone");
            names.push(format!("{name:?}"));
        }
        let topology = dir.join("t.toml");
        let text = format!(
            "links = [{{ a = \"ns:eth0\", b = \"h:eth0\" }}]\n\
             [devices.ns]\nkind = \"dns\"\nrole = \"authoritative\"\nzones = [{}]\n\
             interfaces.eth0 = {{ address = \"10.0.1.53/24\" }}\n\
             [devices.h]\nkind = \"host\"\ninterfaces.eth0 = {{ address = \"10.0.1.10/24\" }}\n",
            names.join(", ")
        );
        std::fs::write(&topology, text).expect("write topology");
        let lab = Lab::load(&topology).expect("valid topology");
        (topology, lab)
    }

    const GOOD: &str = "$ORIGIN test.\n$TTL 3600\n\
        @ IN SOA ns.test. admin.test. 1 7200 3600 1209600 3600\n\
        @ IN NS ns.test.\nns IN A 10.0.1.53\n";

    #[test]
    fn good_zones_pass_and_every_bad_zone_is_reported() {
        let dir = std::env::temp_dir().join(format!("vnet-preflight-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let (topology, lab) = lab_with_zones(&dir, &[("a.zone", GOOD)]);
        assert_eq!(check_lab(&topology, &lab), Vec::<String>::new());

        let bad_a = GOOD.replace("10.0.1.53", "10.0.1");
        let bad_b = GOOD
            .replace("$ORIGIN test.", "$ORIGIN other.")
            .replace("IN NS", "IN NX");
        let (topology, lab) = lab_with_zones(&dir, &[("a.zone", &bad_a), ("b.zone", &bad_b)]);
        let errors = check_lab(&topology, &lab);
        assert_eq!(errors.len(), 2, "{errors:#?}");
        let a = dir.join("a.zone").display().to_string();
        let b = dir.join("b.zone").display().to_string();
        assert!(
            errors[0].starts_with(&format!("{a}:5: devices.ns.zones[0]: ")),
            "{errors:#?}"
        );
        assert!(errors[1].starts_with(&format!("{b}:")), "{errors:#?}");
        assert!(errors[1].contains("devices.ns.zones[1]"), "{errors:#?}");

        let (topology, lab) = lab_with_zones(&dir, &[("a.zone", GOOD), ("b.zone", GOOD)]);
        let errors = check_lab(&topology, &lab);
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert!(errors[0].contains("defined twice"), "{errors:#?}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
