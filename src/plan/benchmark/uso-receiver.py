# The host side of the Windows uso sender (windows-uso-cell.ps1). uso-receiver-lib.sh runs
# it as python3 -c TEXT ADDRESS PORT MAGIC: the host has no copy of this file. iperf3's
# server cannot take that sender: it accepts UDP only after a TCP control exchange (cookie,
# JSON parameters) and reads its own datagram header. So a uso cell gets this receiver
# instead, on the iperf3 port's UDP side (free between iperf3 tests). Python 3 from the Debian
# archive, standard library only. Each datagram is: an 8-byte big-endian sequence number,
# MAGIC (8 bytes), and when the payload has room, the sender's clock at the send (8 bytes,
# big-endian microseconds). It counts the lab's datagrams, their bytes, the highest sequence,
# out-of-order arrivals and the jitter of RFC 3550 (as iperf3 does, from those send times),
# and on TERM prints them as one JSON document (output.ts reads it beside the sender's report).
#
# Loss must mean loss: the socket asks for an 8 MiB receive buffer with SO_RCVBUFFORCE (the
# host side runs as root), which net.core.rmem_max does not cap (SO_RCVBUF alone is capped
# there, 416 KiB on RHEL's defaults); without the privilege it falls back to SO_RCVBUF. It
# reports which option took and the buffer the kernel really gave (getsockopt).
# Strings in single quotes: the loop binds this text in double quotes, where each double quote
# would need a backslash.
import json, signal, socket, struct, sys, time
magic = sys.argv[3].encode()
header = 8 + len(magic)
REQUESTED = 8 << 20
# SO_RCVBUFFORCE is 33 on Linux (asm-generic/socket.h); Python names it only where the C
# library header does.
SO_RCVBUFFORCE = getattr(socket, 'SO_RCVBUFFORCE', 33)
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, REQUESTED)
    option = 'SO_RCVBUFFORCE'
except PermissionError:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, REQUESTED)
    option = 'SO_RCVBUF'
sock.bind((sys.argv[1], int(sys.argv[2])))
seen = {'datagrams': 0, 'bytes': 0, 'maxSequence': -1, 'outOfOrder': 0, 'first': None, 'last': None,
        'jitter': None, 'transit': None}
def finish(*_):
    span = 0.0 if seen['first'] is None else seen['last'] - seen['first']
    out = {k: seen[k] for k in ('datagrams', 'bytes', 'maxSequence', 'outOfOrder')}
    out['seconds'] = span
    out['jitterMs'] = None if seen['jitter'] is None else seen['jitter'] * 1000.0
    out['requestedBufferBytes'] = REQUESTED
    # What the kernel gave: it doubles the request for its bookkeeping (socket(7)).
    out['bufferBytes'] = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    out['bufferOption'] = option
    print(json.dumps(out), flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, finish)
print('listening', file=sys.stderr, flush=True)
while True:
    data = sock.recv(65535)
    if len(data) < header or data[8:header] != magic:
        continue
    now = time.monotonic()
    sequence = struct.unpack_from('>Q', data)[0]
    if sequence < seen['maxSequence']:
        seen['outOfOrder'] += 1
    else:
        seen['maxSequence'] = sequence
    if len(data) >= header + 8:
        # RFC 3550 6.4.1: J += (|D| - J) / 16, D the change in transit time between arrivals.
        transit = now - struct.unpack_from('>Q', data, header)[0] / 1e6
        if seen['transit'] is not None:
            d = abs(transit - seen['transit'])
            j = seen['jitter'] or 0.0
            seen['jitter'] = j + (d - j) / 16.0
        seen['transit'] = transit
    if seen['first'] is None:
        seen['first'] = now
    seen['last'] = now
    seen['datagrams'] += 1
    seen['bytes'] += len(data)
