#!/usr/bin/env python3
"""seeds.py - (re)write the seed corpora in tests/fuzz/corpus/ from the tests' own inputs,
and the dictionaries tests/fuzz/NAME.dict from the program's own key names.

  python3 tests/fuzz/seeds.py

Seeds are named seed-*; files named regress-* (inputs that once found a
bug) are left alone. Sources: profiles/*.yaml and the YAML of
tests/unit_profile.c (fuzz_profile), the strings of tests/unit_units.c and
the profiles' values (fuzz_units), the scenarios of tests/unit_udpseq.c as
datagrams (fuzz_udpseq), and iperf3 3.12's messages as tests/unit_iperf3.c
and tests/data/ have them (fuzz_iperf3).
"""
import glob
import hashlib
import json
import os
import re
import struct

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(SRC, "tests", "fuzz", "corpus")

LIT = re.compile(r'(?:"(?:[^"\\\n]|\\.)*"\s*)+')


def c_strings(path):
    """Every (concatenated) string literal of a C file, unescaped."""
    text = open(path, encoding="utf-8").read()
    out = []
    for m in LIT.finditer(text):
        parts = re.findall(r'"((?:[^"\\\n]|\\.)*)"', m.group(0))
        s = "".join(parts)
        out.append(s.encode("latin-1", "backslashreplace").decode("unicode_escape").encode("latin-1"))
    return out


def write(name, data, tag=""):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    h = hashlib.sha1(data).hexdigest()[:12]
    with open(os.path.join(d, "seed-%s%s" % (tag + "-" if tag else "", h)), "wb") as f:
        f.write(data)


def clear(name):
    for f in glob.glob(os.path.join(OUT, name, "seed-*")):
        os.unlink(f)


def profile_seeds():
    clear("profile")
    for p in sorted(glob.glob(os.path.join(SRC, "profiles", "*.yaml"))):
        write("profile", open(p, "rb").read(), os.path.basename(p)[:-5])
    for s in c_strings(os.path.join(SRC, "tests", "unit_profile.c")):
        if b":" in s and (b"\n" in s or b"{" in s) and len(s) > 6:
            write("profile", s.replace(b"@CPU@", b"4095"), "unit")
    # command-line overrides (#--KEY=VALUE lines), as tests/t_cli.sh gives them
    write("profile", b"#--dest=127.0.0.1:5201\n#--server=none\n#--cpus=0-1\n#--queues=2\n"
          b"#--mode=fast\n#--size=64K\n#--duration=1\nprotocol: tcp\n", "cli")
    write("profile", b"#--dest=[::1]:5201\n#--protocol=udp\n#--size=1400\n#--rate=1G\n"
          b"#--nic.xps=none\n#--omit=2s\ntarget:\n  host: x\n", "cli")


def units_seeds():
    clear("units")
    seen = set()
    for s in c_strings(os.path.join(SRC, "tests", "unit_units.c")):
        if 0 < len(s) < 64 and b"%" not in s and s not in seen:
            seen.add(s)
            write("units", s, "unit")
    for p in sorted(glob.glob(os.path.join(SRC, "profiles", "*.yaml"))):
        for line in open(p, "rb"):
            m = re.match(rb"\s*[a-z_]+:\s*([^#\s][^#]*?)\s*$", line)
            if m and m.group(1) not in seen:
                seen.add(m.group(1))
                write("units", m.group(1), "profile")


def datagram(seq, sec=1795986552, usec=0, payload=16):
    body = bytes(i % 251 for i in range(payload))
    return struct.pack(">IIQ", sec, usec, seq) + body


def receive(dgrams, seg=0, stream=0, extra=0):
    data = b"".join(dgrams)
    return struct.pack("<HHHB", len(data), seg, extra, stream) + data


def udpseq_seeds():
    clear("udpseq")
    head = lambda flags: bytes([flags]) + struct.pack("<Q", 1795986552 * 10**9 + 50000)
    scen = {
        "in-order": [1, 2, 3, 4, 5],
        "drop-one": [1, 2, 4, 5],
        "late-start": [5, 6, 7],
        "reordered": [1, 3, 2, 4],
        "duplicates": [1, 2, 2, 3, 1],
        "window": [1, 4097, 2, 4098, 3],
        "beyond-window": [1, 10000, 2, 9999],
        "foreign": [0, 1, 0, 2],
    }
    for name, seqs in scen.items():
        for flags in (0, 1, 3):
            write("udpseq", head(flags) + b"".join(receive([datagram(s)]) for s in seqs),
                  "%s-%d" % (name, flags))
    # GRO: one receive of 4 datagrams of 32 bytes, the last short; and one truncated
    g = [datagram(s) for s in (1, 2, 3)] + [datagram(4, payload=8)]
    write("udpseq", head(3) + receive(g, seg=32), "gro")
    write("udpseq", head(3) + receive(g, seg=32, extra=100), "gro-trunc")
    # two streams, and a latency below zero (sent after it arrived)
    write("udpseq", head(1) + receive([datagram(1)], stream=0) + receive([datagram(1)], stream=1)
          + receive([datagram(2, sec=1895986552)], stream=1), "streams")


def lp(obj):
    """iperf3's length-prefixed JSON."""
    t = obj if isinstance(obj, bytes) else json.dumps(obj, separators=(",", ":")).encode()
    return struct.pack(">I", len(t)) + t


def st(*v):
    return bytes(x & 0xff for x in v)


COOKIE = b"2njoguwvopcgryo65mx4qnt3odh225oih3bw\0"


def iperf3_seeds():
    clear("iperf3")
    strings = c_strings(os.path.join(SRC, "tests", "unit_iperf3.c"))
    params = [s for s in strings if s.startswith(b"{\"") and (b"tcp" in s or b"udp" in s)]
    params += [lp({"tcp": True, "omit": 0, "time": 10, "num": 0, "blockcount": 0, "parallel": 2,
                   "len": 131072, "pacing_timer": 1000, "client_version": "3.12"})[4:],
               lp({"udp": True, "omit": 1, "time": 2, "parallel": 1, "len": 1400,
                   "bandwidth": 10000000, "pacing_timer": 1000, "udp_counters_64bit": 1,
                   "client_version": "3.12"})[4:]]
    results = [s for s in strings if s.startswith(b"{\"cpu_util_total")]
    client_res = lp({"cpu_util_total": 1.5, "cpu_util_user": 0.5, "cpu_util_system": 1.0,
                     "sender_has_retransmits": 1, "congestion_used": "cubic",
                     "streams": [{"id": 1, "bytes": 1000, "retransmits": 0, "jitter": 0,
                                  "errors": 0, "packets": 0, "start_time": 0, "end_time": 1},
                                 {"id": 3, "bytes": 2000, "retransmits": 0, "jitter": 0,
                                  "errors": 0, "packets": 0, "start_time": 0, "end_time": 1}]})
    server_res = [lp(r) for r in results]
    server_res.append(lp({"cpu_util_total": 1, "cpu_util_user": 0, "cpu_util_system": 1,
                          "sender_has_retransmits": -1, "zcgen_latency_us": {
                              "p50": 12.5, "p90": 20, "p99": 30, "p99_9": 40, "max": 50,
                              "mean": 14, "count": 1000, "negative": 0, "valid": True},
                          "streams": [{"id": 1, "bytes": 1400, "retransmits": -1, "jitter": 1e-5,
                                       "errors": 0, "packets": 1, "start_time": 0,
                                       "end_time": 1, "zcgen_corrupt_bytes": 0,
                                       "zcgen_corrupt_datagrams": 0, "zcgen_duplicates": 0,
                                       "zcgen_reordered": 0}]}))
    # tests/data: whole iperf3 -J reports (not what goes over the wire, but its JSON)
    for p in sorted(glob.glob(os.path.join(SRC, "tests", "data", "*.json"))):
        server_res.append(lp(open(p, "rb").read()))
    # 0: the server side - cookie, params, TEST_END, the client's results, IPERF_DONE
    for i, p in enumerate(params):
        conv = COOKIE + lp(p) + st(4) + client_res + st(16)
        write("iperf3", b"\0" + conv, "server-%d" % i)
        # 3: the sink - two TCP streams (or two UDP hellos), counters published
        write("iperf3", b"\3" + st(0x82 if b"tcp" in p else 0x90) + conv, "sink-%d" % i)
    write("iperf3", b"\0" + COOKIE + lp(params[0]) + st(12), "server-terminate")
    write("iperf3", b"\0" + COOKIE[:-1] + b"!", "server-bad-cookie")
    # 1: the client side - the server's states and results
    for i, r in enumerate(server_res):
        write("iperf3", b"\1" + st(9, 10, 1, 2, 13) + r + st(14), "client-%d" % i)
    write("iperf3", b"\1" + st(-1), "client-denied")
    write("iperf3", b"\1" + st(9, -2) + struct.pack(">ii", 6, 0), "client-server-error")
    write("iperf3", b"\1" + st(9, 10, 1, 2, 11), "client-server-terminate")
    # 2: the UDP connect reply, both byte orders and the legacy value
    for r in (b"6789", b"9876", struct.pack("<I", 987654321), struct.pack(">I", 987654321)):
        write("iperf3", b"\2" + r, "udp-hello")


def dict_write(name, words):
    with open(os.path.join(SRC, "tests", "fuzz", name + ".dict"), "w") as f:
        f.write("# %s.dict - written by tests/fuzz/seeds.py; libFuzzer's -dict (tests/fuzz.sh)\n" % name)
        for w in sorted(set(words)):
            f.write('"%s"\n' % "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "\\x%02x" % ord(c)
                                        for c in w))


def dicts():
    prof = "".join(open(os.path.join(SRC, "gen", f), encoding="utf-8").read()
                   for f in ("profile.c", "names.c"))
    words = []
    for path in re.findall(r'\.path = "([a-z_.]+)"', prof):
        words.append(path.split(".")[-1] + ":")
    for m in re.findall(r'_words\[\] = \{([^}]*)\}', prof):
        words += re.findall(r'"([^"]+)"', m)
    words += ["line", "pps", "Mpps", "Gbit", "KiB", "ms", "on", "off", "auto", "none", "#--", "- ",
              "{", "}", "[", "]", "&a", "*a", "<<: ", "!!str", "---", "\t"]
    dict_write("profile", words)
    ip3 = open(os.path.join(SRC, "gen", "iperf3.c"), encoding="utf-8").read()
    keys = set(re.findall(r'(?:jnum|jnum_uint|json_object_get)\([a-z]+, "([A-Za-z_0-9]+)"', ip3))
    keys |= set(re.findall(r'"((?:cpu_util|sender|zcgen)_[a-z_0-9]+)"', ip3))
    words = ['"%s":' % k for k in keys] + ["true", "false", "1e30", "-1", "18446744073709551615"]
    dict_write("iperf3", words)


if __name__ == "__main__":
    dicts()
    profile_seeds()
    units_seeds()
    udpseq_seeds()
    iperf3_seeds()
    for d in sorted(os.listdir(OUT)):
        print("%-8s %d files" % (d, len(os.listdir(os.path.join(OUT, d)))))
