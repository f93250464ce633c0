//! Where the service may send requests (health-check endpoints, webhooks):
//! a strict reading of `http(s)://` URLs and the outbound address policy.
//!
//! By default only public unicast addresses are allowed: loopback,
//! link-local, private, shared (carrier-grade NAT), unique-local,
//! unspecified, multicast, reserved and documentation ranges are refused,
//! and so are IPv6 forms that embed an IPv4 address (IPv4-mapped,
//! IPv4-compatible, NAT64, 6to4, Teredo). An allow-list of CIDRs and host
//! names (`--outbound-allow`) opens chosen ones.
//!
//! This module does no I/O: the engine resolves names, checks every address
//! here, and connects to the address it checked.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The host of a URL: a DNS name, or a literal address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Name(String),
    Ip(IpAddr),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Name(n) => f.write_str(n),
            Self::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]"),
            Self::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// An `http://` or `https://` URL, read strictly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundUrl {
    pub tls: bool,
    pub host: Host,
    pub port: u16,
    /// Path and query, starting with `/`; the fragment is dropped.
    pub path: String,
}

impl OutboundUrl {
    /// The host as a string for TLS server names and `Host` headers
    /// (IPv6 without brackets).
    pub fn host_str(&self) -> String {
        match &self.host {
            Host::Name(n) => n.clone(),
            Host::Ip(ip) => ip.to_string(),
        }
    }
}

/// Reads an `http(s)` URL strictly: no user information (`user:pw@`), a
/// port from 1 to 65535, a host that is a DNS name or a literal address in
/// its one usual spelling (dotted decimal IPv4, bracketed IPv6). Numeric
/// spellings resolvers read as addresses (`2130706433`, `0`, `127.1`,
/// `0x7f.0.0.1`, `017.0.0.1`) are refused, as are spaces and control
/// characters. The error is a sentence for an operator.
pub fn parse_url(url: &str) -> Result<OutboundUrl, String> {
    let (tls, rest) = if let Some(rest) = strip_prefix_ignore_case(url, "https://") {
        (true, rest)
    } else if let Some(rest) = strip_prefix_ignore_case(url, "http://") {
        (false, rest)
    } else {
        return Err("must start with http:// or https://".to_owned());
    };
    if url
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '\\')
    {
        return Err("must not contain spaces, control characters or backslashes".to_owned());
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if authority.contains('@') {
        return Err(
            "must not carry a user name or password (user:password@); the service sends no credentials in URLs"
                .to_owned(),
        );
    }
    let (host_text, port_text) = if let Some(inner) = authority.strip_prefix('[') {
        let Some((v6, after)) = inner.split_once(']') else {
            return Err("has an IPv6 address without its closing ]".to_owned());
        };
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or_else(|| "has text after the IPv6 address".to_owned())?,
            ),
        };
        (format!("[{v6}]"), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), Some(p)),
            None => (authority.to_owned(), None),
        }
    };
    let port = match port_text {
        None => {
            if tls {
                443
            } else {
                80
            }
        }
        Some(p) => {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || p.len() > 5 {
                return Err(format!(
                    "has a port \"{p}\" that is not a number from 1 to 65535"
                ));
            }
            match p.parse::<u32>() {
                Ok(n @ 1..=65535) => n as u16,
                _ => {
                    return Err(format!("has a port {p} outside 1 to 65535"));
                }
            }
        }
    };
    let host = parse_host(&host_text)?;
    let path = tail.split('#').next().unwrap_or("");
    let path = if path.is_empty() {
        "/".to_owned()
    } else if path.starts_with('?') {
        format!("/{path}")
    } else {
        path.to_owned()
    };
    Ok(OutboundUrl {
        tls,
        host,
        port,
        path,
    })
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

fn parse_host(text: &str) -> Result<Host, String> {
    if text.is_empty() {
        return Err("has no host".to_owned());
    }
    if let Some(v6) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        return v6
            .parse::<Ipv6Addr>()
            .map(|ip| Host::Ip(IpAddr::V6(ip)))
            .map_err(|_| format!("has \"{v6}\", which is not an IPv6 address"));
    }
    let name = text.strip_suffix('.').unwrap_or(text).to_ascii_lowercase();
    if name.len() > 253 {
        return Err("has a host name longer than 253 characters".to_owned());
    }
    let labels: Vec<&str> = name.split('.').collect();
    let dotted_quad = labels.len() == 4
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 3
                && l.bytes().all(|b| b.is_ascii_digit())
                && (l.len() == 1 || !l.starts_with('0'))
                && l.parse::<u16>().is_ok_and(|v| v <= 255)
        });
    if dotted_quad {
        return name
            .parse::<Ipv4Addr>()
            .map(|ip| Host::Ip(IpAddr::V4(ip)))
            .map_err(|_| format!("has \"{text}\", which is not an IPv4 address"));
    }
    for label in &labels {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err(format!(
                "has a host \"{text}\" that is neither a DNS name nor an address"
            ));
        }
    }
    // A last label of digits (or 0x…) is read as an address by resolvers
    // (`2130706433`, `127.1`, `0x7f.1`): only dotted decimal is accepted.
    let last = labels.last().copied().unwrap_or("");
    let numeric = |l: &str| {
        l.bytes().all(|b| b.is_ascii_digit())
            || (l.starts_with("0x") && l[2..].bytes().all(|b| b.is_ascii_hexdigit()))
    };
    if numeric(last) || labels.iter().all(|l| numeric(l)) {
        return Err(format!(
            "has a host \"{text}\" that is a number; write an IPv4 address as four decimal parts (e.g. 203.0.113.7)"
        ));
    }
    Ok(Host::Name(name))
}

/// Why an address is not a public unicast one, or `None` when it is.
pub fn non_public_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => v6_reason(v6),
    }
}

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, _, _) => "an unspecified (\"this network\") address",
        (10, _, _) | (172, 16..=31, _) | (192, 168, _) => "a private address",
        (100, 64..=127, _) => "a shared (carrier-grade NAT) address",
        (127, _, _) => "a loopback address",
        (169, 254, _) => "a link-local address",
        (192, 0, 0) => "an IETF protocol assignment",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "a documentation address",
        (198, 18..=19, _) => "a benchmarking address",
        (224..=239, _, _) => "a multicast address",
        (240..=255, _, _) => "a reserved or broadcast address",
        _ => return None,
    })
}

fn v6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    if ip.is_unspecified() {
        return Some("an unspecified address");
    }
    if ip.is_loopback() {
        return Some("a loopback address");
    }
    Some(match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] => "an IPv4-mapped address",
        [0, 0, 0, 0, 0, 0, _, _] => "an IPv4-compatible address",
        [0x64, 0xff9b, ..] => "a NAT64 address (it reaches IPv4)",
        [0x100, 0, 0, 0, ..] => "a discard-only address",
        [0x2001, 0xdb8, ..] => "a documentation address",
        [0x2001, 0, ..] => "a Teredo address (it reaches IPv4)",
        [0x2002, ..] => "a 6to4 address (it reaches IPv4)",
        [x, ..] if x & 0xfe00 == 0xfc00 => "a unique-local address",
        [x, ..] if x & 0xffc0 == 0xfe80 => "a link-local address",
        [x, ..] if x & 0xffc0 == 0xfec0 => "a site-local address",
        [x, ..] if x & 0xff00 == 0xff00 => "a multicast address",
        _ => return None,
    })
}

/// An address block `addr/prefix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            // An allowed IPv4 block also allows its IPv4-mapped spelling.
            (IpAddr::V4(_), IpAddr::V6(ip)) => ip
                .to_ipv4_mapped()
                .is_some_and(|v4| self.contains(IpAddr::V4(v4))),
            (IpAddr::V6(_), IpAddr::V4(_)) => false,
        }
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// The outbound address policy: public unicast addresses, plus what the
/// allow-list names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboundPolicy {
    nets: Vec<IpNet>,
    hosts: Vec<String>,
}

impl OutboundPolicy {
    /// Reads a comma-separated allow-list of CIDRs (`10.0.0.0/8`,
    /// `fd00::/8`), single addresses (`127.0.0.1`) and host names
    /// (`rag.internal`). Empty entries are ignored.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut policy = Self::default();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            policy.add(entry)?;
        }
        Ok(policy)
    }

    /// Adds one allow-list entry.
    pub fn add(&mut self, entry: &str) -> Result<(), String> {
        let (addr_text, prefix_text) = match entry.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (entry, None),
        };
        let addr_text = addr_text
            .strip_prefix('[')
            .and_then(|a| a.strip_suffix(']'))
            .unwrap_or(addr_text);
        if let Ok(addr) = addr_text.parse::<IpAddr>() {
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let prefix = match prefix_text {
                None => max,
                Some(p) => p
                    .parse::<u8>()
                    .ok()
                    .filter(|p| *p <= max)
                    .ok_or_else(|| {
                        format!("outbound allow-list entry \"{entry}\": the prefix length must be 0 to {max}")
                    })?,
            };
            self.nets.push(IpNet { addr, prefix });
            return Ok(());
        }
        if prefix_text.is_some() {
            return Err(format!(
                "outbound allow-list entry \"{entry}\" is not a CIDR such as 10.0.0.0/8 or fd00::/8"
            ));
        }
        match parse_host(entry) {
            Ok(Host::Name(name)) => {
                self.hosts.push(name);
                Ok(())
            }
            _ => Err(format!(
                "outbound allow-list entry \"{entry}\" is neither a CIDR, an address nor a host name"
            )),
        }
    }

    /// This policy plus another's entries.
    pub fn merged(mut self, other: &Self) -> Self {
        self.nets.extend(other.nets.iter().copied());
        self.hosts.extend(other.hosts.iter().cloned());
        self
    }

    pub fn is_empty(&self) -> bool {
        self.nets.is_empty() && self.hosts.is_empty()
    }

    /// Whether the allow-list names this host.
    pub fn allows_host(&self, host: &str) -> bool {
        let host = host.strip_suffix('.').unwrap_or(host);
        self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
    }

    /// Whether a request to `host` (as written in the URL) may go to
    /// `ip`: a public address, or one the allow-list names by block or by
    /// host. The error says why not, for an operator.
    pub fn check(&self, host: &str, ip: IpAddr) -> Result<(), String> {
        let Some(reason) = non_public_reason(ip) else {
            return Ok(());
        };
        if self.allows_host(host) || self.nets.iter().any(|n| n.contains(ip)) {
            return Ok(());
        }
        let shown = match ip {
            IpAddr::V6(v6) => format!("[{v6}]"),
            IpAddr::V4(v4) => v4.to_string(),
        };
        let via = if host.trim_matches(['[', ']']) == ip.to_string() {
            String::new()
        } else {
            format!("{host} resolves to ")
        };
        Err(format!(
            "outbound address not allowed ({via}{shown}, {reason}; list it in --outbound-allow to allow it)"
        ))
    }

    /// What validation can tell without resolving names: the URL is well
    /// formed, and a literal address in it (or `localhost`) is allowed.
    pub fn check_url(&self, url: &str) -> Result<OutboundUrl, String> {
        let u = parse_url(url)?;
        match &u.host {
            Host::Ip(ip) => self.check(&u.host.to_string(), *ip)?,
            Host::Name(name)
                if (name == "localhost" || name.ends_with(".localhost"))
                    && !self.allows_host(name) =>
            {
                self.check(name, IpAddr::V4(Ipv4Addr::LOCALHOST))?;
            }
            Host::Name(_) => {}
        }
        Ok(u)
    }
}

impl fmt::Display for OutboundPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries: Vec<String> = self
            .nets
            .iter()
            .map(ToString::to_string)
            .chain(self.hosts.iter().cloned())
            .collect();
        f.write_str(&entries.join(","))
    }
}

/// `text` with every non-printable character replaced by U+FFFD and cut to
/// `max` characters (an ellipsis marks the cut): remote bytes made safe for
/// logs and messages.
pub fn printable(text: &str, max: usize) -> String {
    let text = text.trim();
    let mut out: String = text
        .chars()
        .map(|c| {
            if c.is_control() || crate::validate::is_bidi_control(c) {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .take(max)
        .collect();
    if text.chars().count() > max {
        out.push('…');
    }
    out
}
