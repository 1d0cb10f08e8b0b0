//! rtnetlink messages as bytes, built and parsed without I/O: the header,
//! a fixed family header (`ifinfomsg`, `tcmsg`), attributes (nested ones
//! too), and the kernel's error/ack replies with their extended-ack text.
//! Everything the kernel sends is bounds-checked: a short or lying length
//! is an error, never a panic.

pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;
pub const NLM_F_REQUEST: u16 = 0x1;
pub const NLM_F_ACK: u16 = 0x4;
pub const NLM_F_ECHO: u16 = 0x8;
pub const NLM_F_DUMP: u16 = 0x300;
pub const NLM_F_EXCL: u16 = 0x200;
pub const NLM_F_CREATE: u16 = 0x400;
const NLM_F_CAPPED: u16 = 0x100;
const NLM_F_ACK_TLVS: u16 = 0x200;
const NLMSGERR_ATTR_MSG: u16 = 1;
pub const NLA_F_NESTED: u16 = 1 << 15;
const NLA_TYPE_MASK: u16 = !(NLA_F_NESTED | (1 << 14));
const HDR: usize = 16;

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// A request being built: header, family header, attributes.
#[derive(Debug, Clone)]
pub struct Builder {
    buf: Vec<u8>,
}

impl Builder {
    /// A message of `ty` with `flags` and the family header `fixed`.
    pub fn new(ty: u16, flags: u16, fixed: &[u8]) -> Builder {
        let mut buf = vec![0u8; HDR];
        buf[4..6].copy_from_slice(&ty.to_ne_bytes());
        buf[6..8].copy_from_slice(&flags.to_ne_bytes());
        buf.extend_from_slice(fixed);
        buf.resize(align4(buf.len()), 0);
        Builder { buf }
    }
    /// Append attribute `ty` holding `data`.
    pub fn attr(&mut self, ty: u16, data: &[u8]) -> &mut Self {
        let len = 4 + data.len();
        self.buf.extend_from_slice(&(len as u16).to_ne_bytes());
        self.buf.extend_from_slice(&ty.to_ne_bytes());
        self.buf.extend_from_slice(data);
        self.buf.resize(align4(self.buf.len()), 0);
        self
    }
    pub fn u32(&mut self, ty: u16, v: u32) -> &mut Self {
        self.attr(ty, &v.to_ne_bytes())
    }
    pub fn i32(&mut self, ty: u16, v: i32) -> &mut Self {
        self.attr(ty, &v.to_ne_bytes())
    }
    /// A NUL-terminated string attribute.
    pub fn str(&mut self, ty: u16, s: &str) -> &mut Self {
        let mut d = s.as_bytes().to_vec();
        d.push(0);
        self.attr(ty, &d)
    }
    /// Open nested attribute `ty`; close it with [`Builder::end_nest`].
    pub fn nest(&mut self, ty: u16) -> usize {
        let at = self.buf.len();
        self.attr(ty | NLA_F_NESTED, &[]);
        at
    }
    pub fn end_nest(&mut self, at: usize) -> &mut Self {
        let len = (self.buf.len() - at) as u16;
        self.buf[at..at + 2].copy_from_slice(&len.to_ne_bytes());
        self
    }
    /// The message, with its length and sequence number set.
    pub fn finish(mut self, seq: u32) -> Vec<u8> {
        let len = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&len.to_ne_bytes());
        self.buf[8..12].copy_from_slice(&seq.to_ne_bytes());
        self.buf
    }
}

/// One message the kernel sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg<'a> {
    pub ty: u16,
    pub flags: u16,
    pub seq: u32,
    /// After the 16-byte header.
    pub payload: &'a [u8],
}

/// Split a datagram into its messages.
pub fn messages(mut buf: &[u8]) -> Result<Vec<Msg<'_>>, String> {
    let mut out = Vec::new();
    while buf.len() >= HDR {
        let len = u32::from_ne_bytes(buf[0..4].try_into().unwrap()) as usize;
        if len < HDR || len > buf.len() {
            return Err(format!("netlink message length {len} outside the {} bytes received", buf.len()));
        }
        let ty = u16::from_ne_bytes([buf[4], buf[5]]);
        let flags = u16::from_ne_bytes([buf[6], buf[7]]);
        let seq = u32::from_ne_bytes(buf[8..12].try_into().unwrap());
        out.push(Msg { ty, flags, seq, payload: &buf[HDR..len] });
        buf = &buf[align4(len).min(buf.len())..];
    }
    Ok(out)
}

/// The attributes in `buf`: (type without flags, payload). Stops at a malformed one.
pub fn attrs(mut buf: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    while buf.len() >= 4 {
        let len = u16::from_ne_bytes([buf[0], buf[1]]) as usize;
        let ty = u16::from_ne_bytes([buf[2], buf[3]]) & NLA_TYPE_MASK;
        if len < 4 || len > buf.len() {
            break;
        }
        out.push((ty, &buf[4..len]));
        buf = &buf[align4(len).min(buf.len())..];
    }
    out
}

/// The attribute `ty` of `list`.
pub fn find<'a>(list: &[(u16, &'a [u8])], ty: u16) -> Option<&'a [u8]> {
    list.iter().find(|(t, _)| *t == ty).map(|(_, d)| *d)
}

pub fn as_u32(d: &[u8]) -> Option<u32> {
    Some(u32::from_ne_bytes(d.get(..4)?.try_into().ok()?))
}

/// A string attribute, without its NUL.
pub fn as_str(d: &[u8]) -> String {
    let end = d.iter().position(|&b| b == 0).unwrap_or(d.len());
    String::from_utf8_lossy(&d[..end]).into_owned()
}

/// An `NLMSG_ERROR` reply: 0 for an ack, else a positive errno, and the
/// kernel's extended-ack message when it sent one.
pub fn error_reply(m: &Msg<'_>) -> Result<(i32, Option<String>), String> {
    let p = m.payload;
    if p.len() < 4 + HDR {
        return Err(format!("netlink error reply of {} bytes", p.len()));
    }
    let err = -i32::from_ne_bytes(p[0..4].try_into().unwrap());
    let mut text = None;
    if m.flags & NLM_F_ACK_TLVS != 0 {
        // The request echoed back: its header only when capped.
        let orig = if m.flags & NLM_F_CAPPED != 0 { HDR } else { align4(u32::from_ne_bytes(p[4..8].try_into().unwrap()) as usize) };
        if let Some(tlvs) = p.get(4 + orig..) {
            text = find(&attrs(tlvs), NLMSGERR_ATTR_MSG).map(as_str).filter(|s| !s.is_empty());
        }
    }
    Ok((err, text))
}

/// `struct ifinfomsg` for interface `index`.
pub fn ifinfomsg(index: i32) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[4..8].copy_from_slice(&index.to_ne_bytes());
    b
}

/// `struct tcmsg`: interface, handle, parent, info.
pub fn tcmsg(ifindex: i32, handle: u32, parent: u32, info: u32) -> [u8; 20] {
    let mut b = [0u8; 20];
    b[4..8].copy_from_slice(&ifindex.to_ne_bytes());
    b[8..12].copy_from_slice(&handle.to_ne_bytes());
    b[12..16].copy_from_slice(&parent.to_ne_bytes());
    b[16..20].copy_from_slice(&info.to_ne_bytes());
    b
}

/// The (ifindex, handle, parent, info) of a `struct tcmsg` payload.
pub fn parse_tcmsg(p: &[u8]) -> Option<(i32, u32, u32, u32)> {
    let w = |i: usize| p.get(i..i + 4).map(|b| u32::from_ne_bytes(b.try_into().unwrap()));
    Some((w(4)? as i32, w(8)?, w(12)?, w(16)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_and_parse_round_trip() {
        let mut b = Builder::new(19, NLM_F_REQUEST | NLM_F_ACK, &ifinfomsg(7));
        let n = b.nest(43);
        b.i32(1, 5).u32(3, 2);
        b.end_nest(n);
        b.str(3, "eth0");
        let m = b.finish(9);
        assert_eq!(m.len() % 4, 0);
        assert_eq!(u32::from_ne_bytes(m[0..4].try_into().unwrap()) as usize, m.len());
        let msgs = messages(&m).unwrap();
        assert_eq!(msgs.len(), 1);
        assert_eq!((msgs[0].ty, msgs[0].seq), (19, 9));
        assert_eq!(&msgs[0].payload[4..8], &7i32.to_ne_bytes());
        let a = attrs(&msgs[0].payload[16..]);
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].0, 43, "the nested flag is masked off");
        let inner = attrs(a[0].1);
        assert_eq!(as_u32(find(&inner, 1).unwrap()), Some(5));
        assert_eq!(as_u32(find(&inner, 3).unwrap()), Some(2));
        assert_eq!(as_str(find(&a, 3).unwrap()), "eth0");
    }

    #[test]
    fn error_replies_with_and_without_ext_ack() {
        // An ack: error 0, the request's header echoed.
        let mut p = 0i32.to_ne_bytes().to_vec();
        p.extend_from_slice(&[0u8; 16]);
        assert_eq!(error_reply(&Msg { ty: NLMSG_ERROR, flags: 0, seq: 1, payload: &p }).unwrap(), (0, None));
        // EEXIST, capped, with an extended-ack message.
        let mut p = (-17i32).to_ne_bytes().to_vec();
        p.extend_from_slice(&[0u8; 16]);
        let mut t = Builder::new(0, 0, &[]);
        t.str(NLMSGERR_ATTR_MSG, "Exclusivity flag on, cannot modify");
        p.extend_from_slice(&t.finish(0)[16..]);
        let m = Msg { ty: NLMSG_ERROR, flags: NLM_F_CAPPED | NLM_F_ACK_TLVS, seq: 1, payload: &p };
        assert_eq!(error_reply(&m).unwrap(), (17, Some("Exclusivity flag on, cannot modify".into())));
        assert!(error_reply(&Msg { ty: NLMSG_ERROR, flags: 0, seq: 1, payload: &[1, 2] }).is_err());
    }

    #[test]
    fn malformed_input_is_refused_not_panicked() {
        let mut m = Builder::new(16, 0, &[0; 16]).finish(1);
        m[0..4].copy_from_slice(&1000u32.to_ne_bytes());
        assert!(messages(&m).is_err());
        m[0..4].copy_from_slice(&3u32.to_ne_bytes());
        assert!(messages(&m).is_err());
        // An attribute whose length runs past the end stops the walk.
        assert!(attrs(&[200, 0, 1, 0, 9, 9]).is_empty());
        assert!(attrs(&[2, 0, 1, 0]).is_empty());
        let tc = tcmsg(3, 0x10000, 0xfffffff2, 1 << 16 | 0x0300);
        assert_eq!(parse_tcmsg(&tc), Some((3, 0x10000, 0xfffffff2, 0x10300)));
        assert_eq!(parse_tcmsg(&tc[..10]), None);
    }
}
