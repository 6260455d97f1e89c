#!/usr/bin/env python3
"""Splits a tcpdump capture of conntrackd replication traffic into files.

Usage: extract.py PCAP PREFIX OUTDIR [--list]

Reads a classic pcap file (what `tcpdump -w` writes; not pcapng), link
type Ethernet (a veth) or Linux cooked (`-i any`), and writes the payload
of every UDP datagram, and of every TCP segment that carries data, to
OUTDIR/PREFIX_NNN.bin (NNN counts from 001 in capture order). With
--list it also prints one line per file: direction, size, and each
conntrackd message in it (header fields and attribute ids), so that the
README can say what every file holds. Only the standard library is used.

The message walk follows conntrackd 1.4.7's wire format (see
/work/shared/reference/conntrackd.md): an 8-byte header
{version<<4|type, flags, len BE16, seq BE32}, then TLV attributes
{len BE16, type BE16} padded to 4 bytes, messages back to back.
"""

import os
import socket
import struct
import sys

PCAP_MAGIC_US = 0xA1B2C3D4
PCAP_MAGIC_NS = 0xA1B23C4D
LINKTYPE_ETHERNET = 1
LINKTYPE_LINUX_SLL = 113

CT_ATTRS = {
    0: "IPV4", 1: "IPV6", 2: "L4PROTO", 3: "PORT", 4: "TCP_STATE",
    5: "STATUS", 6: "TIMEOUT", 7: "MARK", 8: "MASTER_IPV4",
    9: "MASTER_IPV6", 10: "MASTER_L4PROTO", 11: "MASTER_PORT",
    12: "SNAT_IPV4", 13: "DNAT_IPV4", 14: "SPAT_PORT", 15: "DPAT_PORT",
    16: "NAT_SEQ_ADJ", 17: "SCTP_STATE", 18: "SCTP_VTAG_ORIG",
    19: "SCTP_VTAG_REPL", 20: "DCCP_STATE", 21: "DCCP_ROLE",
    22: "ICMP_TYPE", 23: "ICMP_CODE", 24: "ICMP_ID",
    25: "TCP_WSCALE_ORIG", 26: "TCP_WSCALE_REPL", 27: "HELPER_NAME",
    28: "LABELS", 29: "SNAT_IPV6", 30: "DNAT_IPV6", 31: "SYNPROXY",
    32: "ZONE",
}
EXP_ATTRS = {
    0: "MASTER_IPV4", 1: "MASTER_IPV6", 2: "MASTER_L4PROTO",
    3: "MASTER_PORT", 4: "EXPECT_IPV4", 5: "EXPECT_IPV6",
    6: "EXPECT_L4PROTO", 7: "EXPECT_PORT", 8: "MASK_IPV4", 9: "MASK_IPV6",
    10: "MASK_L4PROTO", 11: "MASK_PORT", 12: "TIMEOUT", 13: "FLAGS",
    14: "CLASS", 15: "NAT_IPV4", 16: "NAT_PORT", 17: "NAT_L4PROTO",
    18: "NAT_DIR", 19: "HELPER_NAME", 20: "FN",
}
TYPES = {0: "CT_NEW", 1: "CT_UPD", 2: "CT_DEL", 3: "EXP_NEW", 4: "EXP_UPD",
         5: "EXP_DEL", 10: "CTL"}
FLAGS = [(0x01, "UNUSED"), (0x02, "RESYNC"), (0x04, "NACK"), (0x08, "ACK"),
         (0x10, "ALIVE"), (0x20, "HELLO"), (0x40, "HELLO_BACK")]


def read_pcap(path):
    """Yields (seconds, linktype, frame bytes) for each record."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise ValueError("%s: too short for a pcap header" % path)
    for endian in ("<", ">"):
        magic, = struct.unpack(endian + "I", data[:4])
        if magic in (PCAP_MAGIC_US, PCAP_MAGIC_NS):
            break
    else:
        raise ValueError("%s: not a classic pcap file (pcapng?)" % path)
    scale = 1e-6 if magic == PCAP_MAGIC_US else 1e-9
    _, _, _, _, _, linktype = struct.unpack(endian + "HHiIII", data[4:24])
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        if off + incl > len(data):
            raise ValueError("%s: truncated record" % path)
        yield sec + frac * scale, linktype, data[off:off + incl]
        off += incl


def l4_payload(linktype, frame):
    """(proto, src, sport, dst, dport, payload) of an IPv4/IPv6 UDP or TCP
    frame, or None."""
    if linktype == LINKTYPE_ETHERNET:
        if len(frame) < 14:
            return None
        ethertype, = struct.unpack("!H", frame[12:14])
        off = 14
        while ethertype in (0x8100, 0x88A8) and len(frame) >= off + 4:
            ethertype, = struct.unpack("!H", frame[off + 2:off + 4])
            off += 4
    elif linktype == LINKTYPE_LINUX_SLL:
        if len(frame) < 16:
            return None
        ethertype, = struct.unpack("!H", frame[14:16])
        off = 16
    else:
        raise ValueError("unsupported link type %d" % linktype)
    ip = frame[off:]
    if ethertype == 0x0800 and len(ip) >= 20:
        ihl = (ip[0] & 0x0F) * 4
        total, = struct.unpack("!H", ip[2:4])
        proto = ip[9]
        src = ".".join(str(b) for b in ip[12:16])
        dst = ".".join(str(b) for b in ip[16:20])
        l4 = ip[ihl:total]
    elif ethertype == 0x86DD and len(ip) >= 40:
        plen, = struct.unpack("!H", ip[4:6])
        proto = ip[6]  # extension headers are not expected here
        src = ip[8:24].hex()
        dst = ip[24:40].hex()
        l4 = ip[40:40 + plen]
    else:
        return None
    if proto == 17 and len(l4) >= 8:
        sport, dport, ulen = struct.unpack("!HHH", l4[:6])
        return "udp", src, sport, dst, dport, l4[8:ulen]
    if proto == 6 and len(l4) >= 20:
        sport, dport = struct.unpack("!HH", l4[:4])
        doff = (l4[12] >> 4) * 4
        return "tcp", src, sport, dst, dport, l4[doff:]
    return None


TCP_STATES = ["NONE", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT",
              "CLOSE_WAIT", "LAST_ACK", "TIME_WAIT", "CLOSE", "SYN_SENT2"]
# Sent with htons() applied to a value already in network order: on an
# x86 sender these u16 are little-endian on the wire.
SWAPPED_U16 = ("SPAT_PORT", "DPAT_PORT", "ICMP_ID")


def describe_attr(attrs, atype, value):
    name = attrs.get(atype, "ATTR_%d" % atype)
    if name.endswith("IPV4") and len(value) % 4 == 0:
        shown = ">".join(socket.inet_ntop(socket.AF_INET, value[i:i + 4])
                         for i in range(0, len(value), 4))
    elif name.endswith("IPV6") and len(value) % 16 == 0:
        shown = ">".join(socket.inet_ntop(socket.AF_INET6, value[i:i + 16])
                         for i in range(0, len(value), 16))
    elif name in ("PORT", "MASTER_PORT", "EXPECT_PORT", "MASK_PORT") \
            and len(value) == 4:
        shown = "%d>%d" % struct.unpack("!HH", value)
    elif name.endswith("HELPER_NAME") or name == "FN":
        shown = repr(value.split(b"\0")[0].decode("ascii", "replace"))
    elif name in SWAPPED_U16 and len(value) == 2:
        shown = "%s (%d read little-endian)" % (
            value.hex(), struct.unpack("<H", value)[0])
    elif name == "TCP_STATE" and len(value) == 1:
        shown = "%d (%s)" % (value[0], TCP_STATES[value[0]]
                             if value[0] < len(TCP_STATES) else "?")
    elif name in ("STATUS", "FLAGS") and len(value) == 4:
        shown = "0x%x" % struct.unpack("!I", value)
    elif len(value) == 4:
        shown = "%d" % struct.unpack("!I", value)
    elif len(value) == 2:
        shown = "%d" % struct.unpack("!H", value)
    elif len(value) == 1:
        shown = str(value[0])
    else:
        shown = value.hex()
    return "%s=%s" % (name, shown)


def describe_messages(payload):
    """One string per conntrackd message in a datagram."""
    out = []
    off = 0
    while off + 8 <= len(payload):
        b0, flags, mlen, seq = struct.unpack("!BBHI", payload[off:off + 8])
        version, mtype = b0 >> 4, b0 & 0x0F
        names = [n for bit, n in FLAGS if flags & bit]
        head = "%s%s v%d len=%d seq=%d" % (
            TYPES.get(mtype, "TYPE_%d" % mtype),
            "|" + "|".join(names) if names else "", version, mlen, seq)
        if mlen < 8 or off + mlen > len(payload):
            out.append(head + " (malformed length)")
            break
        body = payload[off + 8:off + mlen]
        if mtype == 10:
            if len(body) >= 8:
                head += " from=%d to=%d" % struct.unpack("!II", body[:8])
        else:
            attrs = EXP_ATTRS if mtype in (3, 4, 5) else CT_ATTRS
            parts = []
            a = 0
            while a + 4 <= len(body):
                alen, atype = struct.unpack("!HH", body[a:a + 4])
                if alen < 4 or a + alen > len(body):
                    parts.append("(bad attribute length %d)" % alen)
                    break
                parts.append(describe_attr(attrs, atype, body[a + 4:a + alen]))
                a += (alen + 3) & ~3
            head += " " + " ".join(parts)
        out.append(head)
        off += (mlen + 3) & ~3
    if off < len(payload):
        out.append("(%d trailing bytes)" % (len(payload) - off))
    return out


def main(argv):
    args = [a for a in argv[1:] if a != "--list"]
    listing = "--list" in argv[1:]
    if len(args) != 3:
        sys.stderr.write(__doc__)
        return 2
    pcap, prefix, outdir = args
    os.makedirs(outdir, exist_ok=True)
    n = 0
    t0 = None
    for ts, linktype, frame in read_pcap(pcap):
        parsed = l4_payload(linktype, frame)
        if parsed is None:
            continue
        proto, src, sport, dst, dport, payload = parsed
        if not payload:
            continue  # a TCP segment without data (SYN, bare ACK, FIN)
        n += 1
        if t0 is None:
            t0 = ts
            if listing:
                print("# first payload at %.6f (epoch seconds); +N.NNNs "
                      "below count from it" % t0)
        name = "%s_%03d.bin" % (prefix, n)
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(payload)
        if listing:
            print("%s  +%.3fs %s %s:%d > %s:%d %d bytes" % (
                name, ts - t0, proto, src, sport, dst, dport, len(payload)))
            for m in describe_messages(payload):
                print("    " + m)
    if not listing:
        print("%s: %d payloads written to %s" % (pcap, n, outdir))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
