//! URLs the service may call, and the outbound address policy.

use std::net::IpAddr;

use grove_core::outbound::{Host, OutboundPolicy, non_public_reason, parse_url, printable};
use proptest::prelude::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn urls_are_read_strictly() {
    let u = parse_url("https://Hooks.Example.com:8443/a/b?x=1#frag").unwrap();
    assert!(u.tls);
    assert_eq!(u.host, Host::Name("hooks.example.com".into()));
    assert_eq!(u.port, 8443);
    assert_eq!(u.path, "/a/b?x=1");
    assert_eq!(parse_url("http://h.example").unwrap().path, "/");
    assert_eq!(parse_url("http://h.example?x").unwrap().path, "/?x");
    assert_eq!(
        parse_url("http://[2001:4860::8888]:81/").unwrap().host,
        Host::Ip(ip("2001:4860::8888"))
    );
    assert_eq!(
        parse_url("http://8.8.8.8/").unwrap().host,
        Host::Ip(ip("8.8.8.8"))
    );
    for bad in [
        "ftp://h.example/",
        "http://",
        "http:///x",
        "http://user:pw@h.example/",
        "http://user@h.example/",
        "http://h.example:99999/",
        "http://h.example:0/",
        "http://h.example:-1/",
        "http://h.example:80a/",
        "http://2130706433/",
        "http://0/",
        "http://127.1/",
        "http://0x7f.0.0.1/",
        "http://017.0.0.1/",
        "http://1.2.3.256/",
        "http://[::1/",
        "http://[fe80::1%25eth0]/",
        "http://h example/",
        "http://h.example/\u{0}",
        "http://h.example\\@evil/",
        "http://-bad.example/",
    ] {
        assert!(parse_url(bad).is_err(), "{bad} parsed");
    }
}

#[test]
fn only_public_unicast_addresses_are_public() {
    for (a, why) in [
        ("127.0.0.1", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("100.64.0.1", "shared"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.251", "multicast"),
        ("255.255.255.255", "broadcast"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fd12::1", "unique-local"),
        ("fe80::1", "link-local"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "IPv4-mapped"),
        ("::ffff:8.8.8.8", "IPv4-mapped"),
        ("64:ff9b::a00:1", "NAT64"),
        ("2002:7f00:1::", "6to4"),
    ] {
        let reason = non_public_reason(ip(a)).unwrap_or_else(|| panic!("{a} is public"));
        assert!(reason.contains(why), "{a}: {reason}");
    }
    for a in [
        "8.8.8.8",
        "1.1.1.1",
        "203.0.112.9",
        "2606:4700::1111",
        "172.32.0.1",
    ] {
        assert_eq!(non_public_reason(ip(a)), None, "{a}");
    }
}

#[test]
fn the_allow_list_opens_blocks_and_names() {
    let p = OutboundPolicy::parse(" 10.0.0.0/8, fd00::/8,127.0.0.1 , rag.internal,").unwrap();
    assert!(p.check("x", ip("10.9.8.7")).is_ok());
    assert!(p.check("x", ip("fd00::5")).is_ok());
    assert!(p.check("x", ip("127.0.0.1")).is_ok());
    assert!(p.check("x", ip("::ffff:127.0.0.1")).is_ok());
    assert!(p.check("rag.internal", ip("192.168.0.3")).is_ok());
    assert!(p.check("RAG.internal.", ip("192.168.0.3")).is_ok());
    let err = p.check("other.internal", ip("192.168.0.3")).unwrap_err();
    assert!(
        err.starts_with("outbound address not allowed (other.internal resolves to 192.168.0.3"),
        "{err}"
    );
    assert!(p.check("x", ip("127.0.0.2")).is_err());
    assert!(OutboundPolicy::default().check("x", ip("8.8.8.8")).is_ok());
    for bad in ["10.0.0.0/33", "::/129", "nonsense/8", "a b", "2130706433"] {
        assert!(OutboundPolicy::parse(bad).is_err(), "{bad}");
    }
    let strict = OutboundPolicy::default();
    assert!(strict.check_url("http://localhost:8080/").is_err());
    assert!(strict.check_url("http://[::1]/").is_err());
    assert!(strict.check_url("http://rag.example.com/").is_ok());
    assert!(
        OutboundPolicy::parse("localhost")
            .unwrap()
            .check_url("http://localhost/")
            .is_ok()
    );
}

#[test]
fn remote_text_is_made_printable_and_short() {
    assert_eq!(printable("SSH-2.0-x\r\n", 200), "SSH-2.0-x");
    let s = printable("a\u{1b}[31mb\u{0}c\u{202e}d", 200);
    assert!(!s.chars().any(char::is_control), "{s:?}");
    assert!(!s.contains('\u{202e}'));
    let long = printable(&"x".repeat(5000), 200);
    assert_eq!(long.chars().count(), 201);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn url_parsing_never_panics(text in "\\PC{0,60}", tail in "[a-z0-9:/@\\[\\]%.?#-]{0,40}") {
        let _ = parse_url(&text);
        let _ = parse_url(&format!("http://{tail}"));
        let _ = OutboundPolicy::parse(&text);
        let _ = OutboundPolicy::default().check_url(&format!("https://{tail}"));
    }

    #[test]
    fn literal_addresses_outside_the_policy_never_pass(a in any::<u32>(), b in any::<u128>()) {
        let strict = OutboundPolicy::default();
        for addr in [IpAddr::V4(a.into()), IpAddr::V6(b.into())] {
            let url = match addr {
                IpAddr::V4(v4) => format!("http://{v4}/"),
                IpAddr::V6(v6) => format!("http://[{v6}]/"),
            };
            let ok = strict.check_url(&url).is_ok();
            prop_assert_eq!(ok, non_public_reason(addr).is_none(), "{}", url);
        }
    }
}
