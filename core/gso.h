/* SPDX-License-Identifier: MIT */
/*
 * gso.h — offload helpers of the core and the tun plugin: the virtio_net_hdr a TUN
 * device opened with IFF_VNET_HDR puts before every packet, the Internet
 * checksum, and userspace segmentation of a super-packet (what a NIC's
 * TSO/USO would do).  Pure functions over byte arrays: no I/O, no pool.
 */
#ifndef TP_CORE_GSO_H
#define TP_CORE_GSO_H
#include <stddef.h>
#include <stdint.h>
#include <tunpipe/plugin.h>

/* struct virtio_net_hdr (legacy, host byte order as the TUN uses it
 * unless TUNSETVNETLE/BE is set, which we never do). */
#define TG_VNET_HDR_LEN 10
#define TG_F_NEEDS_CSUM 1
#define TG_GSO_NONE 0
#define TG_GSO_TCPV4 1
#define TG_GSO_UDP 3     /* UFO: obsolete, refused */
#define TG_GSO_TCPV6 4
#define TG_GSO_UDP_L4 5  /* USO, IPv4 or IPv6 */
#define TG_GSO_ECN 0x80

struct tg_vnet_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
};

void tg_vnet_read(const uint8_t *p, struct tg_vnet_hdr *h);
void tg_vnet_write(uint8_t *p, const struct tg_vnet_hdr *h);

/* Internet checksum.  tg_csum_add sums n bytes (an odd n only for the
 * last piece); tg_csum_fold folds to 16 bits, not inverted. */
uint64_t tg_csum_add(uint64_t sum, const uint8_t *p, size_t n);
uint16_t tg_csum_fold(uint64_t sum);
/* The TCP/UDP pseudo-header sum of the IP header at ip (version from its
 * first nibble) for an L4 length of l4len. */
uint64_t tg_pseudo(const uint8_t *ip, uint8_t proto, uint32_t l4len);

/* Where segments go: get() returns room for `need` bytes (NULL: out of
 * buffers), put() says the segment written there is `len` bytes. */
struct tg_sink {
	uint8_t *(*get)(void *arg, size_t need);
	void (*put)(void *arg, uint8_t *p, size_t len);
	void *arg;
};

enum {
	TG_EBAD = -1,     /* malformed header or packet: dropped */
	TG_ETOOLONG = -2, /* a datagram larger than the MTU that cannot be cut */
	TG_ENOBUF = -3,   /* the sink ran out (segments already put stay put) */
};

/* A packet that needs no segmenting (gso_type none): its L4 checksum
 * completed in place when the header says NEEDS_CSUM.  1, or TG_EBAD when
 * the checksum offsets fall outside the packet or start inside its IP
 * header (nothing written).  The split paths use it instead of
 * tg_segment to keep the buffer they have rather than copy a plain packet
 * into a new one. */
int tg_complete(const struct tg_vnet_hdr *h, uint8_t *pkt, size_t n);
/* Turn one packet read from the TUN (pkt/n, after its header h) into
 * plain IP packets of at most mtu bytes, each complete with its
 * checksums.  Returns the number of packets put, or a TG_E* code. */
int tg_segment(const struct tg_vnet_hdr *h, const uint8_t *pkt, size_t n, uint32_t mtu,
	       const struct tg_sink *sink);

/* The virtio_net_hdr of a super-packet and the metadata a struct tp_buf
 * carries (plugin.h, ABI 1.2) are the same facts in two layouts.  From
 * the header: 0, or -1 for a type the metadata has no name for (UFO). */
static inline int tg_vnet_to_off(const struct tg_vnet_hdr *h, struct tp_offload *o)
{
	static const uint8_t map[] = { [TG_GSO_NONE] = TP_GSO_NONE, [TG_GSO_TCPV4] = TP_GSO_TCP4,
				       [TG_GSO_TCPV6] = TP_GSO_TCP6, [TG_GSO_UDP_L4] = TP_GSO_UDP };
	uint8_t gt = h->gso_type & (uint8_t)~TG_GSO_ECN;

	if (gt >= sizeof(map) || (gt != TG_GSO_NONE && !map[gt]))
		return -1;
	o->gso_type = map[gt];
	o->flags = (uint8_t)(((h->flags & TG_F_NEEDS_CSUM) ? TP_OFF_NEEDS_CSUM : 0) |
			     ((h->gso_type & TG_GSO_ECN) ? TP_OFF_ECN : 0));
	o->gso_size = gt == TG_GSO_NONE ? 0 : h->gso_size;
	o->hdr_len = h->hdr_len;
	o->csum_start = h->csum_start;
	o->csum_offset = h->csum_offset;
	return 0;
}

static inline void tg_off_to_vnet(const struct tp_offload *o, struct tg_vnet_hdr *h)
{
	static const uint8_t map[] = { [TP_GSO_NONE] = TG_GSO_NONE, [TP_GSO_TCP4] = TG_GSO_TCPV4,
				       [TP_GSO_TCP6] = TG_GSO_TCPV6, [TP_GSO_UDP] = TG_GSO_UDP_L4 };

	h->flags = (o->flags & TP_OFF_NEEDS_CSUM) ? TG_F_NEEDS_CSUM : 0;
	h->gso_type = (uint8_t)((o->gso_type < sizeof(map) ? map[o->gso_type] : TG_GSO_NONE) |
				((o->flags & TP_OFF_ECN) ? TG_GSO_ECN : 0));
	h->hdr_len = o->hdr_len;
	h->gso_size = o->gso_size;
	h->csum_start = o->csum_start;
	h->csum_offset = o->csum_offset;
}

#endif
