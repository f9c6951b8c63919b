// SPDX-License-Identifier: GPL-2.0
/*
 * x0t_xdp: per-peer packet/byte counters, source quarantine and rate-limited
 * events for one interface. The map layouts are the contract with the host
 * driver; bpf/README.md documents them. Only UAPI headers are used (no
 * vmlinux.h) so the object is byte-identical on every build machine.
 *
 * Cost per packet is dominated by map lookups (a hash lookup is ~20-30 ns,
 * an ARRAY lookup ~1 ns as the verifier inlines it): a passing packet from a
 * known peer that owns its peer_cache slot on this CPU does two ARRAY lookups
 * (quarantine_filter, peer_cache) and no hash lookup; the peer hash is looked
 * up only on a cache miss, the quarantine hash only when the source's filter
 * bit is set.
 */
#include <linux/bpf.h>
#include <linux/errno.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define X0T_PEERS_MAX 16384
#define X0T_QUARANTINE_MAX 4096
#define X0T_EVENTS_BYTES (256 * 1024)
#define X0T_DEFAULT_EVENTS_PER_SEC 1000
#define X0T_WINDOW_NS 1000000000ULL
#define X0T_FILTER_BITS 65536
#define X0T_FILTER_WORDS (X0T_FILTER_BITS / 64)
#define X0T_FILTER_MUL 0x9E3779B1u
#define X0T_CACHE_SLOTS 4096 /* power of two */
#define X0T_CACHE_SHIFT 20   /* 32 - log2(X0T_CACHE_SLOTS) */
#define X0T_CACHE_MUL 0x85EBCA6Bu

#define X0T_EVENT_NEW_PEER 1
#define X0T_EVENT_DROP 2

/* Ethernet header. Not the UAPI struct ethhdr: that one is packed, so clang reads its ethertype a byte at a
 * time; this one has the same 14-byte layout with natural 2-byte alignment. */
struct x0t_eth {
	__u8 dst[ETH_ALEN];
	__u8 src[ETH_ALEN];
	__be16 proto;
};

/* 802.1Q / 802.1ad tag as it sits between the MAC addresses and the payload ethertype. */
struct x0t_vlan_tag {
	__be16 tci;
	__be16 inner_proto;
};

struct x0t_in6 {
	__u8 addr[16];
};

struct x0t_peer_stats {
	__u64 packets;
	__u64 bytes;
};

struct x0t_quarantine {
	__u64 drops;
};

struct x0t_event {
	__u8 kind;
	__u8 family;
	__u16 reserved;
	__u32 ifindex;
	__u64 ts_ns;
	__u8 addr[16];
};

struct x0t_config {
	__u32 events_per_sec;
	__u32 reserved;
};

/* A one-bit-per-bucket pre-filter of the quarantine, written by user space:
 * the source's bit (x0t_maybe_quarantined) set ⇔ "quarantine_v4/v6 may hold
 * this source".
 * A clear bit skips the quarantine hash lookup, so an entry whose bit is clear
 * is NOT enforced. User space sets the bit before it inserts an entry and
 * clears it only after a delete left no entry (v4 or v6) with that bit, so a
 * stale bit costs one lookup and never lets a quarantined source through.
 * All bits set = always look up; all clear = the quarantine is off. */
struct x0t_quarantine_filter {
	__u64 words[X0T_FILTER_WORDS];
};

/* One slot of peer_cache, the per-CPU direct-mapped cache in front of
 * peers_v4/v6: family 0 = empty, else 4 or 6 and the source address (IPv4 in
 * addr[0..4), rest zero); packets/bytes are this CPU's counts for it that are
 * NOT in the hash. A peer's totals = its hash value + its slots, over CPUs. */
struct x0t_peer_slot {
	__u8 family;
	__u8 reserved[7];
	__u8 addr[16];
	__u64 packets;
	__u64 bytes;
};

struct x0t_stats {
	__u64 events_sent;
	__u64 events_suppressed;
	__u64 ringbuf_full;
	__u64 window_start_ns; /* CLOCK_MONOTONIC_COARSE */
	__u64 window_count;
	/* New sources not counted because peers_v4/v6 were full (the maps are
	 * plain hashes, so a full map keeps its peers and refuses new ones). */
	__u64 peers_full;
};

/* The layouts are the contract with user space (bpf/README.md). */
_Static_assert(sizeof(struct x0t_eth) == 14, "Ethernet header is 14 bytes");
_Static_assert(sizeof(struct x0t_in6) == 16, "IPv6 key is 16 bytes");
_Static_assert(sizeof(struct x0t_peer_stats) == 16, "peer counters are 16 bytes");
_Static_assert(sizeof(struct x0t_quarantine) == 8, "quarantine value is 8 bytes");
_Static_assert(sizeof(struct x0t_event) == 32, "event record is 32 bytes");
_Static_assert(sizeof(struct x0t_config) == 8, "config is 8 bytes");
_Static_assert(sizeof(struct x0t_quarantine_filter) == 8192, "quarantine filter is 8 KiB");
_Static_assert(sizeof(struct x0t_peer_slot) == 40, "peer cache slot is 40 bytes");
_Static_assert(sizeof(struct x0t_stats) == 48, "stats are 48 bytes");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, X0T_PEERS_MAX);
	__type(key, __u32);
	__type(value, struct x0t_peer_stats);
} peers_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, X0T_PEERS_MAX);
	__type(key, struct x0t_in6);
	__type(value, struct x0t_peer_stats);
} peers_v6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, X0T_QUARANTINE_MAX);
	__type(key, __u32);
	__type(value, struct x0t_quarantine);
} quarantine_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, X0T_QUARANTINE_MAX);
	__type(key, struct x0t_in6);
	__type(value, struct x0t_quarantine);
} quarantine_v6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, X0T_EVENTS_BYTES);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct x0t_config);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct x0t_stats);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct x0t_quarantine_filter);
} quarantine_filter SEC(".maps");

/* Slot of a source: the top bits of fold * X0T_CACHE_MUL (fold as for the
 * quarantine filter, a different multiplier so the two do not correlate). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, X0T_CACHE_SLOTS);
	__type(key, __u32);
	__type(value, struct x0t_peer_slot);
} peer_cache SEC(".maps");

/* Feature flags: each program below is x0t_handle() with a constant set, so
 * the compiler removes the disabled parts and the variants can be benchmarked. */
#define X0T_F_COUNT (1u << 0)
#define X0T_F_QUARANTINE (1u << 1)
#define X0T_F_EVENTS (1u << 2)

/* Per-CPU token window: at most events_per_sec events per CPU per second.
 * Per-CPU so no atomics are needed; the host sums the stats over CPUs. */
static __always_inline void x0t_emit(struct xdp_md *ctx, __u8 kind, __u8 family,
				     const void *addr, __u32 addr_len)
{
	__u32 zero = 0;
	struct x0t_stats *st = bpf_map_lookup_elem(&stats, &zero);
	if (!st)
		return;

	__u32 limit = X0T_DEFAULT_EVENTS_PER_SEC;
	struct x0t_config *cfg = bpf_map_lookup_elem(&config, &zero);
	if (cfg && cfg->events_per_sec)
		limit = cfg->events_per_sec;

	/* The window runs on the coarse clock (jiffy resolution, ~20 ns cheaper):
	 * under a flood of drops most events are suppressed, and those pay only
	 * this. The precise clock is read only for an event actually written. */
	__u64 now = bpf_ktime_get_coarse_ns();
	if (now - st->window_start_ns >= X0T_WINDOW_NS) {
		st->window_start_ns = now;
		st->window_count = 0;
	}
	if (st->window_count >= limit) {
		st->events_suppressed++;
		return;
	}
	st->window_count++;

	struct x0t_event ev = {};
	ev.kind = kind;
	ev.family = family;
	ev.ifindex = ctx->ingress_ifindex;
	ev.ts_ns = bpf_ktime_get_ns();
	if (addr_len == 4)
		__builtin_memcpy(ev.addr, addr, 4);
	else
		__builtin_memcpy(ev.addr, addr, 16);

	if (bpf_ringbuf_output(&events, &ev, sizeof(ev), 0) == 0)
		st->events_sent++;
	else
		st->ringbuf_full++;
}

/* The hash path: `key` is the source address as the map stores it: 4 bytes
 * (IPv4) or 16 (IPv6). Returns 1 when the source was already a known peer. */
static __always_inline int x0t_count_hash(struct xdp_md *ctx, void *peers, const void *key,
					  __u8 family, __u32 key_len, __u64 len, __u32 flags)
{
	struct x0t_peer_stats *ps = bpf_map_lookup_elem(peers, key);
	if (ps) {
		/* Per-CPU value: plain increments are race-free. */
		ps->packets++;
		ps->bytes += len;
		return 1;
	}
	struct x0t_peer_stats first = { .packets = 1, .bytes = len };
	/* BPF_NOEXIST: when several CPUs see a new peer at once only the one
	 * whose insert wins reports it; the others add to their own slot. */
	long err = bpf_map_update_elem(peers, key, &first, BPF_NOEXIST);
	if (err == 0) {
		if (flags & X0T_F_EVENTS)
			x0t_emit(ctx, X0T_EVENT_NEW_PEER, family, key, key_len);
		return 0;
	}
	if (err != -EEXIST) {
		/* The map is full (-E2BIG) or out of memory: the source is not counted. */
		__u32 zero = 0;
		struct x0t_stats *st = bpf_map_lookup_elem(&stats, &zero);
		if (st)
			st->peers_full++;
		return 0;
	}
	ps = bpf_map_lookup_elem(peers, key);
	if (ps) {
		ps->packets++;
		ps->bytes += len;
		return 1;
	}
	return 0;
}

/* The source's slot in peer_cache (this CPU's copy), or NULL. */
static __always_inline struct x0t_peer_slot *x0t_slot(__u32 fold)
{
	__u32 idx = (fold * X0T_CACHE_MUL) >> X0T_CACHE_SHIFT;
	return bpf_map_lookup_elem(&peer_cache, &idx);
}

/* Counts a packet: in the source's cache slot when it owns the slot on this
 * CPU, else in the hash; a known peer finding its slot empty claims it (an
 * occupied slot is never evicted: a colliding peer keeps using the hash).
 * Only this CPU writes its copy of a slot, so no atomics are needed. */
static __always_inline void x0t_count4(struct xdp_md *ctx, __u32 saddr, __u64 len, __u32 flags)
{
	struct x0t_peer_slot *slot = x0t_slot(saddr);
	if (slot && slot->family == 4 && *(__u32 *)slot->addr == saddr) {
		slot->packets++;
		slot->bytes += len;
		return;
	}
	if (x0t_count_hash(ctx, &peers_v4, &saddr, 4, 4, len, flags) && slot && slot->family == 0) {
		__u64 *a = (__u64 *)slot->addr;
		a[0] = saddr;
		a[1] = 0;
		slot->packets = 0;
		slot->bytes = 0;
		slot->family = 4;
	}
}

static __always_inline void x0t_count6(struct xdp_md *ctx, const struct x0t_in6 *saddr, __u32 fold,
				       __u64 len, __u32 flags)
{
	struct x0t_peer_slot *slot = x0t_slot(fold);
	__u64 w0 = *(const __u64 *)&saddr->addr[0];
	__u64 w1 = *(const __u64 *)&saddr->addr[8];
	if (slot && slot->family == 6) {
		__u64 *a = (__u64 *)slot->addr;
		if (a[0] == w0 && a[1] == w1) {
			slot->packets++;
			slot->bytes += len;
			return;
		}
	}
	if (x0t_count_hash(ctx, &peers_v6, saddr, 6, 16, len, flags) && slot && slot->family == 0) {
		__u64 *a = (__u64 *)slot->addr;
		a[0] = w0;
		a[1] = w1;
		slot->packets = 0;
		slot->bytes = 0;
		slot->family = 6;
	}
}

/* The source's bit in quarantine_filter. `fold` is the IPv4 key read as one
 * u32 in the host's byte order, or the XOR of the IPv6 key's four u32s;
 * the bit is the top 16 bits of fold * X0T_FILTER_MUL (mod 2^32): word
 * bit >> 6, bit bit & 63 of that word. */
static __always_inline int x0t_maybe_quarantined(__u32 fold)
{
	__u32 zero = 0;
	struct x0t_quarantine_filter *f = bpf_map_lookup_elem(&quarantine_filter, &zero);
	if (!f)
		return 1; /* cannot happen for an ARRAY; fail closed */
	__u32 bit = (fold * X0T_FILTER_MUL) >> 16;
	return (f->words[bit >> 6] >> (bit & 63)) & 1;
}

static __always_inline __u32 x0t_fold6(const struct x0t_in6 *a)
{
	__u32 w[4];
	__builtin_memcpy(w, a->addr, 16);
	return w[0] ^ w[1] ^ w[2] ^ w[3];
}

static __always_inline int x0t_handle(struct xdp_md *ctx, __u32 flags)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 len = (__u64)(data_end - data);

	struct x0t_eth *eth = data;
	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;

	__be16 proto = eth->proto;
	void *l3 = eth + 1;
	if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
		struct x0t_vlan_tag *tag = l3;
		if ((void *)(tag + 1) > data_end)
			return XDP_PASS;
		proto = tag->inner_proto;
		l3 = tag + 1;
	}

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = l3;
		if ((void *)(ip + 1) > data_end)
			return XDP_PASS;
		/* Version 4 and a header of at least 20 bytes (IHL 5..15), read from the
		 * first byte (no bitfields): 0x45..0x4f, one unsigned compare. */
		__u8 vihl = *(__u8 *)ip;
		if ((__u8)(vihl - 0x45) > 0x0a)
			return XDP_PASS;
		__u32 saddr = ip->saddr;

		if ((flags & X0T_F_QUARANTINE) && x0t_maybe_quarantined(saddr)) {
			struct x0t_quarantine *q = bpf_map_lookup_elem(&quarantine_v4, &saddr);
			if (q) {
				__sync_fetch_and_add(&q->drops, 1);
				if (flags & X0T_F_EVENTS)
					x0t_emit(ctx, X0T_EVENT_DROP, 4, &saddr, 4);
				return XDP_DROP;
			}
		}
		if (flags & X0T_F_COUNT)
			x0t_count4(ctx, saddr, len, flags);
		return XDP_PASS;
	}

	if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = l3;
		if ((void *)(ip6 + 1) > data_end)
			return XDP_PASS;
		if ((*(__u8 *)ip6 >> 4) != 6)
			return XDP_PASS;
		/* Aligned on the stack so the copy is four word moves, not sixteen byte moves. */
		struct x0t_in6 saddr __attribute__((aligned(8)));
		__builtin_memcpy(saddr.addr, &ip6->saddr, 16);

		__u32 fold = x0t_fold6(&saddr);
		if ((flags & X0T_F_QUARANTINE) && x0t_maybe_quarantined(fold)) {
			struct x0t_quarantine *q = bpf_map_lookup_elem(&quarantine_v6, &saddr);
			if (q) {
				__sync_fetch_and_add(&q->drops, 1);
				if (flags & X0T_F_EVENTS)
					x0t_emit(ctx, X0T_EVENT_DROP, 6, saddr.addr, 16);
				return XDP_DROP;
			}
		}
		if (flags & X0T_F_COUNT)
			x0t_count6(ctx, &saddr, fold, len, flags);
		return XDP_PASS;
	}

	return XDP_PASS;
}

SEC("xdp")
int x0t_xdp(struct xdp_md *ctx)
{
	return x0t_handle(ctx, X0T_F_COUNT | X0T_F_QUARANTINE | X0T_F_EVENTS);
}

SEC("xdp")
int x0t_xdp_empty(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int x0t_xdp_count(struct xdp_md *ctx)
{
	return x0t_handle(ctx, X0T_F_COUNT);
}

SEC("xdp")
int x0t_xdp_count_quarantine(struct xdp_md *ctx)
{
	return x0t_handle(ctx, X0T_F_COUNT | X0T_F_QUARANTINE);
}

char LICENSE[] SEC("license") = "GPL";
