//! IP network functions: `cidrhost`, `cidrnetmask`, `cidrsubnet` and `cidrsubnets`, for
//! carving per-tenant address space the way Terraform configurations do.
//!
//! Addresses are handled as 128-bit integers with a width of 32 (IPv4) or 128 (IPv6) bits. As
//! in Terraform (Go's `net.ParseCIDR`), host bits in the given prefix are ignored, and
//! `cidrsubnets` never allocates outside the given prefix.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{def, p, Args, FuncDef, FunctionError, Kind};
use crate::value::Value;

pub(super) const FUNCTIONS: &[FuncDef] = &[
    def("cidrhost", &[p("prefix", Kind::String), p("hostnum", Kind::Number)], cidrhost),
    def("cidrnetmask", &[p("prefix", Kind::String)], cidrnetmask),
    def("cidrsubnet", &[p("prefix", Kind::String), p("newbits", Kind::Number), p("netnum", Kind::Number)], cidrsubnet),
    def("cidrsubnets", &[p("prefix", Kind::String)], cidrsubnets).variadic(p("newbits", Kind::Number)),
];

/// A network: its first address, prefix length and address width (32 or 128).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Net {
    addr: u128,
    len: u32,
    bits: u32,
}

impl Net {
    fn parse(s: &str) -> Option<Net> {
        let (ip, len) = s.split_once('/')?;
        if len.is_empty() || !len.bytes().all(|b| b.is_ascii_digit()) || len.len() > 3 {
            return None;
        }
        let len: u32 = len.parse().ok()?;
        let (addr, bits) = match ip.parse::<IpAddr>().ok()? {
            IpAddr::V4(v4) => (u32::from(v4) as u128, 32),
            IpAddr::V6(v6) => (u128::from(v6), 128),
        };
        if len > bits {
            return None;
        }
        Some(Net { addr: addr & mask(len, bits), len, bits })
    }

    fn host_mask(&self) -> u128 {
        !mask(self.len, self.bits) & all_ones(self.bits)
    }

    fn last(&self) -> u128 {
        self.addr | self.host_mask()
    }
}

impl std::fmt::Display for Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", show_addr(self.addr, self.bits), self.len)
    }
}

fn all_ones(bits: u32) -> u128 {
    if bits == 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    }
}

/// The network mask of a prefix length, within `bits`.
fn mask(len: u32, bits: u32) -> u128 {
    if len == 0 {
        0
    } else {
        (all_ones(len) << (bits - len)) & all_ones(bits)
    }
}

fn show_addr(addr: u128, bits: u32) -> String {
    if bits == 32 {
        Ipv4Addr::from(addr as u32).to_string()
    } else {
        Ipv6Addr::from(addr).to_string()
    }
}

fn parse_prefix(a: &Args) -> Result<Net, FunctionError> {
    Net::parse(a.str(0)).ok_or_else(|| {
        FunctionError::at(0, format!("invalid CIDR expression: invalid CIDR address: {}", a.show(a.str(0))))
    })
}

/// `cidrhost(prefix, hostnum)`: a negative host number counts back from the last address.
fn cidrhost(a: Args) -> Result<Value, FunctionError> {
    let net = parse_prefix(&a)?;
    let hostnum = a.int(1)?;
    let size = net.host_mask() as i128 + 1; // at most 2^128, which i128 holds up to 2^127
    let host_bits = net.bits - net.len;
    let fits = if host_bits >= 127 {
        true
    } else if hostnum >= 0 {
        (hostnum as i128) < size
    } else {
        (hostnum as i128) >= -size
    };
    if !fits {
        return Err(FunctionError::at(
            1,
            format!("prefix of {} does not accommodate a host numbered {hostnum}", net.len),
        ));
    }
    let addr =
        if hostnum >= 0 { net.addr + hostnum as u128 } else { net.last() - (hostnum.unsigned_abs() as u128 - 1) };
    Ok(Value::String(show_addr(addr, net.bits)))
}

fn cidrnetmask(a: Args) -> Result<Value, FunctionError> {
    let net = parse_prefix(&a)?;
    if net.bits != 32 {
        return Err(FunctionError::at(0, "IPv6 addresses cannot have a netmask"));
    }
    Ok(Value::String(show_addr(mask(net.len, 32), 32)))
}

fn cidrsubnet(a: Args) -> Result<Value, FunctionError> {
    let net = parse_prefix(&a)?;
    let newbits = a.int(1)?;
    let netnum = a.int(2)?;
    if newbits < 0 {
        return Err(FunctionError::at(1, "newbits must not be negative"));
    }
    let new_len = net.len as i64 + newbits;
    if new_len > net.bits as i64 {
        return Err(FunctionError::at(
            1,
            format!("insufficient address space to extend prefix of {} by {newbits}", net.len),
        ));
    }
    if netnum < 0 || (newbits < 63 && netnum >= (1i64 << newbits)) {
        return Err(FunctionError::at(
            2,
            format!("prefix extension of {newbits} does not accommodate a subnet numbered {netnum}"),
        ));
    }
    let new_len = new_len as u32;
    let shift = net.bits - new_len;
    let offset = if shift >= 128 { 0 } else { (netnum as u128) << shift };
    Ok(Value::String(Net { addr: net.addr | offset, len: new_len, bits: net.bits }.to_string()))
}

/// `cidrsubnets(prefix, newbits...)`: consecutive subnets of the given sizes, each aligned to
/// its own size, packed after the previous one, all inside the prefix.
fn cidrsubnets(a: Args) -> Result<Value, FunctionError> {
    let net = parse_prefix(&a)?;
    if a.len() == 1 {
        return Ok(Value::List(Vec::new()));
    }
    let mut lens = Vec::with_capacity(a.len() - 1);
    for i in 1..a.len() {
        let newbits = a.int(i)?;
        if newbits < 1 {
            return Err(FunctionError::at(i, "must extend prefix by at least one bit"));
        }
        let len = net.len as i64 + newbits;
        if len > net.bits as i64 {
            return Err(FunctionError::at(
                i,
                format!(
                    "would extend prefix to {len} bits, which is too long for an IPv{} address",
                    if net.bits == 32 { 4 } else { 6 }
                ),
            ));
        }
        lens.push(len as u32);
    }
    // Allocate upwards from the prefix's first address, aligning each subnet to its own size.
    // (Terraform walks from the address before the prefix and wraps around, which makes
    // prefixes starting at 0.0.0.0 fail; counting forward gives the same answers otherwise.)
    let mut cursor = Some(net.addr);
    let mut previous: Option<Net> = None;
    let mut out = Vec::with_capacity(lens.len());
    for (i, len) in lens.into_iter().enumerate() {
        let size = 1u128 << (net.bits - len);
        let start = cursor.and_then(|c| c.checked_add(size - 1)).map(|c| c & !(size - 1));
        let fits = start.is_some_and(|st| st.checked_add(size - 1).is_some_and(|end| end <= net.last()));
        let (Some(start), true) = (start, fits) else {
            let after = previous.map(|p| p.to_string()).unwrap_or_else(|| net.to_string());
            return Err(FunctionError::at(
                i + 1,
                format!(
                    "not enough remaining address space for a subnet with a prefix of {len} bits \
                     after {after}"
                ),
            ));
        };
        let subnet = Net { addr: start, len, bits: net.bits };
        out.push(Value::String(subnet.to_string()));
        previous = Some(subnet);
        cursor = start.checked_add(size);
    }
    Ok(Value::List(out))
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;

    #[test]
    fn cidrsubnet_examples() {
        assert_eq!(ok("cidrsubnet", vec![s("172.16.0.0/12"), n(4.0), n(2.0)]), s("172.18.0.0/16"));
        assert_eq!(ok("cidrsubnet", vec![s("10.1.2.0/24"), n(4.0), n(15.0)]), s("10.1.2.240/28"));
        assert_eq!(
            ok("cidrsubnet", vec![s("fd00:fd12:3456:7890::/56"), n(16.0), n(162.0)]),
            s("fd00:fd12:3456:7800:a200::/72")
        );
        assert_eq!(ok("cidrsubnet", vec![s("10.0.0.5/16"), n(8.0), n(1.0)]), s("10.0.1.0/24"), "host bits ignored");
        assert_eq!(ok("cidrsubnet", vec![s("10.0.0.0/16"), n(0.0), n(0.0)]), s("10.0.0.0/16"));
        assert_eq!(
            err("cidrsubnet", vec![s("10.0.0.0/16"), n(2.0), n(4.0)]),
            "cidrsubnet: prefix extension of 2 does not accommodate a subnet numbered 4"
        );
        assert_eq!(
            err("cidrsubnet", vec![s("10.0.0.0/30"), n(4.0), n(0.0)]),
            "cidrsubnet: insufficient address space to extend prefix of 30 by 4"
        );
        assert_eq!(
            err("cidrsubnet", vec![s("10.0.0/16"), n(4.0), n(0.0)]),
            "cidrsubnet: invalid CIDR expression: invalid CIDR address: \"10.0.0/16\""
        );
    }

    #[test]
    fn cidrhost_examples() {
        assert_eq!(ok("cidrhost", vec![s("10.12.112.0/20"), n(16.0)]), s("10.12.112.16"));
        assert_eq!(ok("cidrhost", vec![s("10.12.112.0/20"), n(268.0)]), s("10.12.113.12"));
        assert_eq!(ok("cidrhost", vec![s("10.0.0.0/24"), n(-1.0)]), s("10.0.0.255"));
        assert_eq!(ok("cidrhost", vec![s("10.0.0.0/24"), n(-256.0)]), s("10.0.0.0"));
        assert_eq!(ok("cidrhost", vec![s("fd00:fd12:3456:7890:00a2::/72"), n(34.0)]), s("fd00:fd12:3456:7890::22"));
        assert_eq!(
            err("cidrhost", vec![s("10.0.0.0/30"), n(4.0)]),
            "cidrhost: prefix of 30 does not accommodate a host numbered 4"
        );
        assert_eq!(
            err("cidrhost", vec![s("10.0.0.0/30"), n(-5.0)]),
            "cidrhost: prefix of 30 does not accommodate a host numbered -5"
        );
    }

    #[test]
    fn cidrnetmask_examples() {
        assert_eq!(ok("cidrnetmask", vec![s("172.16.0.0/12")]), s("255.240.0.0"));
        assert_eq!(ok("cidrnetmask", vec![s("0.0.0.0/0")]), s("0.0.0.0"));
        assert_eq!(ok("cidrnetmask", vec![s("10.0.0.1/32")]), s("255.255.255.255"));
        assert_eq!(err("cidrnetmask", vec![s("fd00::/8")]), "cidrnetmask: IPv6 addresses cannot have a netmask");
    }

    #[test]
    fn cidrsubnets_packs_aligned_subnets() {
        assert_eq!(
            ok("cidrsubnets", vec![s("10.1.0.0/16"), n(4.0), n(4.0), n(8.0), n(4.0)]),
            sl(&["10.1.0.0/20", "10.1.16.0/20", "10.1.32.0/24", "10.1.48.0/20"])
        );
        assert_eq!(
            ok("cidrsubnets", vec![s("fd00:fd12:3456:7890::/56"), n(16.0), n(16.0), n(16.0), n(32.0)]),
            sl(&[
                "fd00:fd12:3456:7800::/72",
                "fd00:fd12:3456:7800:100::/72",
                "fd00:fd12:3456:7800:200::/72",
                "fd00:fd12:3456:7800:300::/88",
            ])
        );
        assert_eq!(ok("cidrsubnets", vec![s("10.0.0.0/8")]), sl(&[]));
        assert_eq!(
            err("cidrsubnets", vec![s("10.0.0.0/24"), n(1.0), n(1.0), n(1.0)]),
            "cidrsubnets: not enough remaining address space for a subnet with a prefix of 25 bits after 10.0.0.128/25"
        );
        assert_eq!(
            err("cidrsubnets", vec![s("10.0.0.0/24"), n(0.0)]),
            "cidrsubnets: must extend prefix by at least one bit"
        );
        assert_eq!(
            err("cidrsubnets", vec![s("10.0.0.0/24"), n(9.0)]),
            "cidrsubnets: would extend prefix to 33 bits, which is too long for an IPv4 address"
        );
        assert_eq!(ok("cidrsubnets", vec![s("0.0.0.0/0"), n(1.0), n(1.0)]), sl(&["0.0.0.0/1", "128.0.0.0/1"]));
    }
}
