#!/usr/bin/env python3
"""Make OpenPGP messages that only look encrypted, for the tests.

  pgpcraft.py dearmor            armored message on stdin -> packets on stdout
  pgpcraft.py armor [MODE]       packets on stdin -> armor (MODE: good, the
                                 default; wrong: a wrong CRC-24; none: no
                                 checksum line)
  pgpcraft.py first              packets on stdin -> the first packet only
  pgpcraft.py packet TAG         stdin -> one new-format packet of type TAG
  pgpcraft.py literal            stdin -> a literal data packet (tag 11)
                                 holding it

Independent of postseal: CRC-24 as in RFC 4880 section 6.1.
"""
import base64
import sys


def crc24(data):
    crc = 0xB704CE
    for b in data:
        crc ^= b << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


def dearmor(text):
    lines = text.decode().splitlines()
    start = lines.index("-----BEGIN PGP MESSAGE-----") + 1
    while lines[start].strip():
        start += 1
    data = []
    for line in lines[start + 1:]:
        if line.startswith("=") or line.startswith("-----END"):
            break
        data.append(line.strip())
    return base64.b64decode("".join(data))


def armor(data, mode):
    b = base64.b64encode(data).decode()
    out = ["-----BEGIN PGP MESSAGE-----", ""]
    out += [b[i:i + 64] for i in range(0, len(b), 64)]
    crc = crc24(data) ^ (0x000100 if mode == "wrong" else 0)
    if mode != "none":
        out.append("=" + base64.b64encode(crc.to_bytes(3, "big")).decode())
    out.append("-----END PGP MESSAGE-----")
    return ("\n".join(out) + "\n").encode()


def packet_len(data, pos):
    """(header length, body length) of the packet at pos (no partial)."""
    h = data[pos]
    if h & 0x40:
        o = data[pos + 1]
        if o < 192:
            return 2, o
        if o < 224:
            return 3, ((o - 192) << 8) + data[pos + 2] + 192
        if o == 255:
            return 6, int.from_bytes(data[pos + 2:pos + 6], "big")
        raise SystemExit("partial length")
    lt = h & 3
    n = {0: 1, 1: 2, 2: 4}[lt]
    return 1 + n, int.from_bytes(data[pos + 1:pos + 1 + n], "big")


def packet(tag, body):
    n = len(body)
    if n < 192:
        hdr = bytes([0xC0 | tag, n])
    elif n < 8384:
        hdr = bytes([0xC0 | tag, ((n - 192) >> 8) + 192, (n - 192) & 0xFF])
    else:
        hdr = bytes([0xC0 | tag, 255]) + n.to_bytes(4, "big")
    return hdr + body


def main():
    cmd = sys.argv[1]
    data = sys.stdin.buffer.read()
    if cmd == "dearmor":
        out = dearmor(data)
    elif cmd == "armor":
        out = armor(data, sys.argv[2] if len(sys.argv) > 2 else "good")
    elif cmd == "first":
        hl, bl = packet_len(data, 0)
        out = data[:hl + bl]
    elif cmd == "packet":
        out = packet(int(sys.argv[2]), data)
    elif cmd == "literal":
        out = packet(11, b"b\x00\x00\x00\x00\x00" + data)
    else:
        raise SystemExit("unknown command " + cmd)
    sys.stdout.buffer.write(out)


if __name__ == "__main__":
    main()
