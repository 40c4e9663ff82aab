//! The whole journey in the default lab: DHCP, DNS through the resolver,
//! TCP to vnet-web, GET of the page and of each resource over one
//! keep-alive connection, files saved byte for byte.

mod common;

use common::{LabRun, repo_path};

fn web_counter(lab: &LabRun, name: &str) -> u64 {
    let status = lab.status("web");
    status["device"]["web"][name]
        .as_u64()
        .unwrap_or_else(|| panic!("no web counter {name} in {status}"))
}

#[test]
fn browse_fetches_the_page_and_its_resources_over_one_connection() {
    let lab = LabRun::default_lab();
    let saved = lab.dir.path().join("saved");
    let run = lab.exec(
        "client",
        &[
            "browse",
            "http://www.example.com/",
            "-o",
            saved.to_str().expect("utf8"),
        ],
    );
    assert_eq!(run.code, 0, "{run:?}\n{}", lab.logs());
    assert!(
        run.stdout.contains("DNS www.example.com -> 10.0.3.10"),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("5 requests, 5 ok"),
        "page + stylesheet + 3 images: {run:?}"
    );
    assert!(run.stdout.contains("over 1 TCP connection"), "{run:?}");
    // The server saw exactly that: one connection, five requests.
    assert_eq!(web_counter(&lab, "connections_accepted"), 1);
    assert_eq!(web_counter(&lab, "requests"), 5);
    // Every saved file is byte-identical to the served one.
    for file in [
        "index.html",
        "style.css",
        "img/journey.png",
        "img/layers.svg",
        "img/wire.jpg",
    ] {
        let served = std::fs::read(repo_path("configs/www").join(file)).expect("served file");
        let got = std::fs::read(saved.join(file))
            .unwrap_or_else(|e| panic!("{file} not saved: {e}\n{run:?}"));
        assert_eq!(got, served, "{file} differs");
    }

    // fetch prints a body like curl; a missing page is a 404 with curl -f's exit code.
    let run = lab.exec("client", &["fetch", "http://www.example.com/style.css"]);
    assert_eq!(run.code, 0, "{run:?}");
    let css = std::fs::read_to_string(repo_path("configs/www/style.css")).expect("css");
    assert_eq!(run.stdout.trim_end(), css.trim_end());
    let run = lab.exec("client", &["fetch", "http://www.example.com/nothere.html"]);
    assert_eq!(run.code, 22, "{run:?}");
    let run = lab.exec("client", &["browse", "https://www.example.com/"]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("https is not supported"), "{run:?}");
}
