#!/usr/bin/env bash
# tests/system/tls_certs.sh — certificate mode on a real cluster (issue 16,
# docs/security.md "Certificates"): scripts/cluster up -c makes a CA, a
# certificate per node (URI SAN paxfs://local/node/I) and one for the tools
# (paxfs://local/client); no secret file anywhere. The nodes link, a file
# written on node 1 reads on node 2, paxfsctl status and paxfs-verify work
# with the client certificate; a node will not run on the client's or
# another node's certificate; a certificate of another CA is refused with
# OpenSSL's reason in the log.
source "$(dirname "$0")/lib.sh"
CTL="$PAXFS_BUILDDIR/tools/paxfsctl"
PAXFS=$PAXFS_BUILDDIR/mount/paxfs
command -v openssl >/dev/null || skip_all "no openssl command"
[[ -x $CTL ]] || skip_all "paxfsctl not built"
cluster_up -c

check "the nodes authenticate with certificates" -- \
	grep -q "authenticates with certificates (tls_cert .*node1.pem, naming node 1" "$C/log/1.log"
check "... and there is no secret file" -- test ! -e "$C/cluster.key"
check "node 1 and node 2 linked on node 2's certificate" -- \
	wait_until 5 grep -q "node 2 (.*): link up (.*, certificate of node 2)" "$C/log/1.log"

echo "written on node 1" >"$C/mnt/1/certs.txt"
sync "$C/mnt/1/certs.txt"
check "a file written on node 1 reads on node 2" -- \
	wait_until 20 sh -c "test \"\$(cat '$C/mnt/2/certs.txt')\" = 'written on node 1'"

out=$("$CTL" status "$C/cluster.conf" 2>&1)
rc=$?
check "paxfsctl status with the client certificate: exit 0" -- test $rc -eq 0
check "... all three voting" -- grep -q "^cluster local: 3 of 3 nodes voting" <<<"$out"
[[ $rc -ne 0 ]] && printf '%s\n' "$out" | sed 's/^/# /'
check "... the node saw a client certificate" -- \
	wait_until 5 grep -q "client [0-9]* (.*): connected (client certificate)" "$C/log/1.log"

# A node will not run on the tools' certificate, nor on another node's: a
# node 4 is added to a copy of the config (without metrics lines, so that
# nothing it opens first is in use).
port4=$(grep '^node\.3' "$C/cluster.conf" | sed 's/.*://')
port4=$((port4 + 100))
as_node4() { # as_node4 CERT-CONF > CONF
	grep -v '^metrics\.' "$1"
	echo "node.4 = 127.0.0.1:$port4"
}
as_node4 "$C/cluster.conf" >"$C/client4.conf"
sed 's/node3\./node2./' "$C/cluster.3.conf" >"$C/stolen.conf.tmp"
as_node4 "$C/stolen.conf.tmp" >"$C/stolen4.conf"
mkdir -p "$_tmp/mnt4"
out=$(timeout 30 "$PAXFS" -o "node=4,data=$_tmp/data4a" "$C/client4.conf" "$_tmp/mnt4" 2>&1)
rc=$?
check "paxfs refuses the client certificate (rc $rc)" -- test $rc -ne 0 -a $rc -ne 124
check "... saying so: $out" -- grep -q "names the client role; node 4 needs a certificate" <<<"$out"
out=$(timeout 30 "$PAXFS" -o "node=4,data=$_tmp/data4b" "$C/stolen4.conf" "$_tmp/mnt4" 2>&1)
rc=$?
check "paxfs refuses node 2's certificate for node 4 (rc $rc)" -- test $rc -ne 0 -a $rc -ne 124
check "... saying so: $out" -- grep -q "names node 2, this is node 4" <<<"$out"

# Node 3 on a certificate of another CA: the others refuse it and say why.
pki=$C/pki
(
	umask 077
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$pki/other-ca.key" \
		-out "$pki/other-ca.pem" -days 30 -subj "/CN=another CA" &&
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$pki/other3.key" \
			-out "$pki/other3.csr" -subj "/CN=node 3 of another CA" &&
		printf 'subjectAltName = URI:paxfs://local/node/3\n' >"$pki/other3.ext" &&
		openssl x509 -req -in "$pki/other3.csr" -CA "$pki/other-ca.pem" -CAkey "$pki/other-ca.key" \
			-set_serial 3 -days 30 -extfile "$pki/other3.ext" -out "$pki/other3.pem"
) >/dev/null 2>&1
check "openssl made another CA's certificate for node 3" -- test -s "$pki/other3.pem"
sed -e 's|^tls_ca.*|tls_ca = pki/other-ca.pem|' -e 's|node3\.|other3.|' "$C/cluster.3.conf" \
	>"$C/other.conf"
"$CLUSTER" stop "$C" 3
out=$(timeout 30 "$PAXFS" -o "node=3,data=$C/data/3,log=$_tmp/other.log" "$C/other.conf" \
	"$C/mnt/3" 2>&1)
rc=$?
check "node 3 with another CA's certificate does not start (rc $rc)" -- test $rc -ne 0 -a $rc -ne 124
check "... and says which certificate to check: $out" -- \
	grep -q "refuse this node's certificate.*other3.pem" <<<"$out"
# TLS 1.3: the server shows its certificate first, so whichever side
# verifies first refuses: the other hears the alert
check "... node 3 names OpenSSL's reason for the others' certificates" -- \
	grep -q "certificate does not verify against tls_ca: unable to get local issuer certificate" \
	"$_tmp/other.log"
check "... node 1 and node 2 say node 3 refuses theirs" -- \
	grep -q "the peer refuses this side's certificate (tlsv1 alert unknown ca" "$C/log/1.log" \
	"$C/log/2.log"
check "with its own certificate node 3 comes back" -- "$CLUSTER" start "$C" 3
check "... and reads what node 1 wrote" -- \
	wait_until 20 sh -c "test \"\$(cat '$C/mnt/3/certs.txt')\" = 'written on node 1'"

verify_cluster
