# The host side of the Windows uso sender (windows-uso-cell.ps1). uso-receiver-lib.sh runs
# it as python3 -c TEXT ADDRESS PORT MAGIC: the host has no copy of this file. iperf3's
# server cannot take that sender: it accepts UDP only after a TCP control exchange (cookie,
# JSON parameters) and reads its own datagram header. So a uso cell gets this receiver
# instead, on the iperf3 port's UDP side (free between iperf3 tests). Python 3 from the Debian
# archive, standard library only. It counts the lab's datagrams (an 8-byte big-endian sequence
# number, then MAGIC), their bytes, the highest sequence and out-of-order arrivals, and on TERM
# prints them as one JSON document (output.ts reads it beside the sender's report).
# Strings in single quotes: the loop binds this text in double quotes, where each double quote
# would need a backslash.
import json, signal, socket, struct, sys, time
magic = sys.argv[3].encode()
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
sock.bind((sys.argv[1], int(sys.argv[2])))
seen = {'datagrams': 0, 'bytes': 0, 'maxSequence': -1, 'outOfOrder': 0, 'first': None, 'last': None}
def finish(*_):
    span = 0.0 if seen['first'] is None else seen['last'] - seen['first']
    out = {k: seen[k] for k in ('datagrams', 'bytes', 'maxSequence', 'outOfOrder')}
    out['seconds'] = span
    print(json.dumps(out), flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, finish)
print('listening', file=sys.stderr, flush=True)
while True:
    data = sock.recv(65535)
    if len(data) < 8 + len(magic) or data[8:8 + len(magic)] != magic:
        continue
    now = time.monotonic()
    sequence = struct.unpack_from('>Q', data)[0]
    if sequence < seen['maxSequence']:
        seen['outOfOrder'] += 1
    else:
        seen['maxSequence'] = sequence
    if seen['first'] is None:
        seen['first'] = now
    seen['last'] = now
    seen['datagrams'] += 1
    seen['bytes'] += len(data)
