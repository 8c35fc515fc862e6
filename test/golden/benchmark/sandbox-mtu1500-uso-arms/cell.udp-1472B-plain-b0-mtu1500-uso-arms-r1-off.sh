# offload-lab cell udp-1472B-plain-b0-mtu1500-uso-arms-r1-off
exec timeout -k 5 32 /usr/bin/iperf3 -c 10.77.0.1 -p 12345 -u -l 1472 -b 0 -t 2 -J --get-server-output --connect-timeout 5000
