/* C ABI checks of sk_reuseport steering, a flow dissector test run and the
 * netkit attach (issue 11), included by test_capi.c; tests/kernel/net2.rs
 * checks the same in Rust and runs netkit on real packets in the 6.12 VM. */
#include <netinet/in.h>

/* A UDP socket with SO_REUSEPORT bound to 127.0.0.1:port (0: any); -1 on error. */
static int reuseport_socket(uint16_t port)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), one = 1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) || bind(s, (struct sockaddr *)&a, sizeof a)) {
		if (s >= 0)
			close(s);
		return -1;
	}
	return s;
}

/* Four SO_REUSEPORT sockets; the program puts datagram b on socket b % 4. */
static void test_sk_reuseport(struct bpfl_object o)
{
	struct bpfl_program p;
	struct bpfl_map socks, counts;
	struct bpfl_link l;
	struct sockaddr_in a;
	socklen_t alen = sizeof a;
	int s[4], tx, err;
	char got[64];

	OK(bpfl_object_find_program(o, "rp_select", &p));
	OK(bpfl_object_find_map(o, "rp_socks", &socks));
	OK(bpfl_object_find_map(o, "rp_counts", &counts));
	s[0] = reuseport_socket(0);
	CHECK(s[0] >= 0 && getsockname(s[0], (struct sockaddr *)&a, &alen) == 0, "first socket");
	for (uint32_t i = 1; i < 4; i++)
		CHECK((s[i] = reuseport_socket(ntohs(a.sin_port))) >= 0, "socket %u on the same port", i);
	for (uint32_t i = 0; i < 4; i++) {
		uint64_t fd = (uint64_t)s[i];
		OK(bpfl_map_update(socks, &i, 4, &fd, 8, 0));
	}
	OK(bpfl_program_attach_socket(p, s[0], NULL, &l));
	tx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	for (int b = 0; b < 24; b++) {
		char d[2] = { (char)(b * 5), 'r' };
		CHECK(sendto(tx, d, 2, 0, (struct sockaddr *)&a, sizeof a) == 2, "sendto");
	}
	usleep(100 * 1000);
	for (uint32_t i = 0; i < 4; i++) {
		int n = drain(s[i], got, 64), want = 0, right = 1;
		for (int b = 0; b < 24; b++)
			want += (b * 5) % 4 == (int)i;
		for (int j = 0; j < n; j++)
			right &= (unsigned char)got[j] % 4 == i;
		CHECK(n == want && right, "socket %u: %d datagrams (want %d), each chosen for it: %d", i, n, want, right);
		CHECK(lookup_u64(counts, &i, 4, &err) == (uint64_t)want, "slot %u counted", i);
	}
	uint32_t k = 4;
	CHECK(lookup_u64(counts, &k, 4, &err) == 0, "no refused selection");
	OK(bpfl_link_destroy(l));
	CHECK(sendto(tx, "\1r", 2, 0, (struct sockaddr *)&a, sizeof a) == 2, "sendto");
	usleep(100 * 1000);
	int total = 0;
	for (int i = 0; i < 4; i++)
		total += drain(s[i], got, 64);
	k = 1;
	CHECK(total == 1 && lookup_u64(counts, &k, 4, &err) == 6, "after destroy: delivered, not counted (%d)", total);
	for (int i = 0; i < 4; i++)
		close(s[i]);
	close(tx);
}

/* The flow keys a flow dissector fills come back from a test run. */
static void test_flow_dissector_run(struct bpfl_object o)
{
	struct bpfl_program p;
	struct bpfl_map counts;
	unsigned char f[46] = { 0 };
	struct bpf_flow_keys keys;
	int err;

	OK(bpfl_object_find_program(o, "dissect_ipv4_udp", &p));
	OK(bpfl_object_find_map(o, "fd_counts", &counts));
	f[12] = 0x08, f[14] = 0x45, f[17] = 32, f[22] = 64, f[23] = 17;
	memcpy(f + 26, "\x0a\x01\x02\x03\x0a\x04\x05\x06", 8);
	f[34] = 1111 >> 8, f[35] = 1111 & 0xff, f[36] = 2222 >> 8, f[37] = 2222 & 0xff;
	BPFL_OPTS(bpfl_test_run_opts, ro, .data_in = f, .data_size_in = sizeof f, .data_out = &keys, .data_size_out = sizeof keys);
	BPFL_OPTS(bpfl_test_run_result, rr);
	OK(bpfl_program_test_run(p, &ro, &rr));
	CHECK(rr.retval == BPF_OK && rr.data_size_out == sizeof keys, "retval %u, %zu bytes", rr.retval, rr.data_size_out);
	CHECK(keys.nhoff == 14 && keys.thoff == 34 && keys.ip_proto == 17 && keys.addr_proto == 0x0800, "offsets and protocols");
	CHECK(ntohs(keys.sport) == 1111 && ntohs(keys.dport) == 2222, "ports %u %u", ntohs(keys.sport), ntohs(keys.dport));
	CHECK(keys.ipv4_src == htonl(0x0a010203) && keys.ipv4_dst == htonl(0x0a040506), "addresses");
	f[23] = 6;
	OK(bpfl_program_test_run(p, &ro, &rr));
	CHECK(rr.retval == BPF_DROP, "TCP: BPF_DROP (%u)", rr.retval);
	uint32_t k0 = 0, k1 = 1, k2 = 2;
	CHECK(lookup_u64(counts, &k0, 4, &err) == 2 && lookup_u64(counts, &k1, 4, &err) == 1 && lookup_u64(counts, &k2, 4, &err) == 1, "runs counted");
}

/* netkit: refused with the feature named where the kernel lacks it; lo is no netkit device. */
static void test_netkit_refusals(void)
{
	struct bpfl_object o;
	struct bpfl_program p;
	struct bpfl_link l;

	OK(bpfl_object_open_file(path("netkit.o"), NULL, &o));
	OK(bpfl_object_load(o, NULL));
	OK(bpfl_object_find_program(o, "nk_primary_drop", &p));
	BPFL_OPTS(bpfl_netkit_opts, no, .side = BPFL_NETKIT_PEER);
	int r = bpfl_program_attach_netkit(p, 1, &no, &l);
	if (r == -EOPNOTSUPP) {
		CHECK(strstr(bpfl_last_error(), "netkit needs Linux 6.7+ with CONFIG_NETKIT") != NULL, "%s", bpfl_last_error());
		printf("SKIPPED: netkit on real packets: this kernel lacks it (%s); tested in the 6.12 VM\n", bpfl_last_error());
	} else {
		CHECK(r == -EINVAL && strstr(bpfl_last_error(), "not a netkit device") != NULL, "lo: %d %s", r, bpfl_last_error());
	}
	no.side = 7;
	CHECK(bpfl_program_attach_netkit(p, 1, &no, &l) == -EINVAL && strstr(bpfl_last_error(), "bpfl_netkit_side"), "bad side");
	CHECK(bpfl_program_attach(p, &l) == -EOPNOTSUPP && strstr(bpfl_last_error(), "attach_netkit"), "auto-attach names the call");
	OK(bpfl_object_close(o));
}

#include "test_query_if.h"

static void test_net2(void)
{
	struct bpfl_object o;

	OK(bpfl_object_open_file(path("net2.o"), NULL, &o));
	OK(bpfl_object_load(o, NULL));
	test_sk_reuseport(o);
	test_flow_dissector_run(o);
	OK(bpfl_object_close(o));
	test_netkit_refusals();
	test_query_ifindex();
}
