# offload-lab cell udp-1472B-gso-mtu1500-uso-on-r1
exec timeout -k 5 32 /usr/bin/iperf3 -c 10.77.0.1 -p 12345 -u -l 1472 -b 100M -t 2 -J --get-server-output --connect-timeout 5000 --gsro
