#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""fdbgen - Ethernet frames for the fdb scenario (tests/net/test_fdb.sh).

  fdbgen.py flood DEV COUNT DST [EXTRA_SRC]
      COUNT frames from COUNT distinct source MACs 06:00:00:xx:xx:xx to DST,
      then one from EXTRA_SRC if given (a MAC that must not move); paced so
      that the receiving CPU's backlog does not overflow.
  fdbgen.py blast DEV SECONDS DST SRC
      frames from SRC to DST as fast as the socket takes them, for SECONDS;
      prints how many it sent.

Run inside the sending host's namespace. Frames are 60-byte IPv4/UDP-sized
frames with an experimental ethertype (0x88b5), which no host answers.
"""
import socket
import sys
import time


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def frame(dst, src):
    return dst + src + b"\x88\xb5" + bytes(46)


def main():
    mode, dev = sys.argv[1], sys.argv[2]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((dev, 0))
    if mode == "flood":
        count, dst = int(sys.argv[3]), mac(sys.argv[4])
        for i in range(count):
            src = bytes([0x06, 0, 0, (i >> 16) & 0xFF, (i >> 8) & 0xFF, i & 0xFF])
            s.send(frame(dst, src))
            if i % 200 == 199:
                time.sleep(0.002)
        if len(sys.argv) > 5:
            s.send(frame(dst, mac(sys.argv[5])))
        print(count)
    elif mode == "blast":
        secs, dst, src = float(sys.argv[3]), mac(sys.argv[4]), mac(sys.argv[5])
        f, n, end = frame(dst, src), 0, time.monotonic() + secs
        while time.monotonic() < end:
            for _ in range(100):
                try:
                    s.send(f)
                    n += 1
                except BlockingIOError:
                    pass
        print(n)
    else:
        sys.exit("usage: fdbgen.py flood DEV COUNT DST [EXTRA_SRC] | blast DEV SECONDS DST SRC")


main()
