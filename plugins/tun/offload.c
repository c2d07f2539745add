/* SPDX-License-Identifier: MIT */
/*
 * offload.c — the tun plugin's side of TUN offloads: turning them on
 * (TUNSETOFFLOAD), reading super-packets and splitting them into plain
 * packets (gso.c), and writing runs of TCP segments merged (gro.c).  The
 * rest of the data path (batching, the write queue) stays in tun.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/if_tun.h>

#include "gro.h"
#include "gso.h"
#include "tun.h"

/* The largest IP packet, as in tun.c. */
#define TUN_MAX_PACKET 65535
/* Extra headroom in front of a super-packet (beyond the pipeline's and the
 * vnet header's): room for a framer's super-packet header even when the
 * framer declares only what a plain packet needs (framer-len), so the 64
 * KiB are never moved. */
#define TUN_SUPER_SLACK 32
/* Newer than the kernel headers of some distributions (Linux 6.2). */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif

/* The offloads we ask for, and their names for the log, in the order we
 * give them up when the kernel refuses: UDP segmentation is the newest. */
static const struct {
	unsigned flag;
	const char *name;
} tun_offs[] = {
	{ TUN_F_CSUM, "csum" }, { TUN_F_TSO4, "tso4" }, { TUN_F_TSO6, "tso6" },
	{ TUN_F_USO4, "uso4" }, { TUN_F_USO6, "uso6" },
};

static void offs_str(unsigned f, char *out, size_t len)
{
	size_t i, o = 0;

	out[0] = '\0';
	for (i = 0; i < sizeof(tun_offs) / sizeof(tun_offs[0]); i++)
		if ((f & tun_offs[i].flag) && o < len)
			o += (size_t)snprintf(out + o, len - o, "%s%s", o ? " " : "", tun_offs[i].name);
	if (!o)
		snprintf(out, len, "none");
}

/* Ask for every offload, then drop the newest ones the kernel refuses.
 * With a vnet header and no offload at all we still coalesce writes. */
int tun_offload_setup(struct tun *t)
{
	static const unsigned tries[] = {
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_USO4 | TUN_F_USO6,
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6,
		TUN_F_CSUM,
	};
	char got[64], lost[64];
	int e = 0;
	size_t i;

	t->offloads = 0;
	for (i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		if (ioctl(t->fd, TUNSETOFFLOAD, tries[i]) == 0) {
			t->offloads = tries[i];
			break;
		}
		if (!e)
			e = errno;
	}
	offs_str(t->offloads, got, sizeof(got));
	if (t->offloads != tries[0]) {
		offs_str(tries[0] & ~t->offloads, lost, sizeof(lost));
		t->host->log(t->st, t->conf->offload == 1 && !t->offloads ? TP_LOG_ERROR : TP_LOG_WARN,
			     "offload on %s: the kernel refuses %s (%s)", t->ifname, lost, strerror(e));
		if (t->conf->offload == 1 && !t->offloads)
			return -1;
	}
	t->host->log(t->st, TP_LOG_INFO, "offload on %s: %s, coalescing writes", t->ifname, got);
	return 0;
}

static uint8_t *seg_get(void *arg, size_t need)
{
	struct tun *t = arg;
	uint32_t mtu = t->cur_mtu ? t->cur_mtu : t->mtu;
	struct tp_buf *b = t->host->buf_alloc(t->st, need > mtu ? need : mtu);

	if (!b)
		return NULL;
	if (tp_buf_tailroom(b) < need) {
		t->host->buf_free(t->st, b);
		return NULL;
	}
	/* put() always follows get(): the buffer is seg_q's tail then. */
	tp_batch_add(&t->seg_q, b);
	return b->data;
}

static void seg_put(void *arg, uint8_t *p, size_t len)
{
	struct tun *t = arg;

	(void)p;
	t->seg_q.tail->len = (uint32_t)len;
	t->seg_q.bytes += (uint32_t)len;
}

/* A read small enough for a packet-sized buffer is copied into one, so a
 * ping or an ACK does not pin a 64 KiB buffer while it waits in a queue. */
static void keep_small(struct tun *t, struct tp_buf **bp)
{
	struct tp_buf *b = *bp, *c;

	if (b->len > (t->cur_mtu ? t->cur_mtu : t->mtu) || !(c = t->host->buf_alloc(t->st, b->len)))
		return;
	if (tp_buf_tailroom(c) < b->len) {
		t->host->buf_free(t->st, c);
		return;
	}
	memcpy(tp_buf_put(c, b->len), b->data, b->len);
	c->off = b->off;
	t->host->buf_free(t->st, b);
	*bp = c;
}

/* Read path with a vnet header: one read straight into a 64 KiB pool
 * buffer.  The packet goes down whole with its offload metadata (ABI 1.2):
 * the core segments it (gso.c) for every stage or session that takes only
 * plain packets, so a peer that agreed gets it in one piece and any other
 * gets what it got before.  Returns the number of packets added to q (0:
 * the read was dropped, counted), -1 when the fd is drained or failed. */
int tun_read_vnet(struct tun *t, struct tp_batch *q)
{
	struct tg_vnet_hdr h;
	struct tp_buf *b = t->host->buf_alloc(t->st, TUN_SUPER_SLACK + TG_VNET_HDR_LEN + TUN_MAX_PACKET);
	uint8_t *to = t->scratch;
	ssize_t n;

	if (b && tp_buf_tailroom(b) >= TUN_SUPER_SLACK + TG_VNET_HDR_LEN + TUN_MAX_PACKET) {
		b->data += TUN_SUPER_SLACK;
		to = b->data;
	}

	/* Without a buffer we still read, into scratch, and drop: the fd
	 * stays readable otherwise and the loop would spin on it. */
	do
		n = read(t->fd, to, TG_VNET_HDR_LEN + TUN_MAX_PACKET);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		if (n < 0 && errno != EAGAIN) {
			(*t->rx_errors)++;
			t->host->log(t->st, TP_LOG_WARN, "read from %s: %s", t->ifname, strerror(errno));
		}
		if (b)
			t->host->buf_free(t->st, b);
		return -1;
	}
	if (to == t->scratch) {
		(*t->rx_nobuf)++;
		goto drop;
	}
	if (n < TG_VNET_HDR_LEN + 20) {
		(*t->rx_bad)++;
		goto drop;
	}
	if (n > TG_VNET_HDR_LEN + TUN_MAX_PACKET) {
		/* The driver reports the whole length of what it truncated
		 * (a GSO size raised behind our back): never pass on a cut
		 * packet. */
		(*t->rx_toolong)++;
		goto drop;
	}
	tg_vnet_read(b->data, &h);
	tp_buf_put(b, (size_t)n);
	tp_buf_pull(b, TG_VNET_HDR_LEN);
	if (tg_vnet_to_off(&h, &b->off) < 0 || ((b->data[0] >> 4) != 4 && (b->data[0] >> 4) != 6)) {
		(*t->rx_bad)++; /* UFO, or not IP: we never asked for either */
		goto drop;
	}
	if (b->off.gso_type != TP_GSO_NONE)
		(*t->rx_super)++;
	else
		keep_small(t, &b);
	tp_batch_add(q, b);
	return 1;

drop:
	if (b)
		t->host->buf_free(t->st, b);
	return 0;
}

/* A device without a vnet header takes plain packets only: split what
 * came up whole (a peer that agreed sends super-packets whatever our
 * offload option says).  Segments replace b at the end of q. */
void tun_split_one(struct tun *t, struct tp_buf *b, struct tp_batch *q)
{
	const struct tg_sink sink = { seg_get, seg_put, t };
	struct tg_vnet_hdr h;
	int r;

	tg_off_to_vnet(&b->off, &h);
	if (b->off.gso_type == TP_GSO_NONE && b->len <= TUN_MAX_PACKET) {
		/* One packet: its checksum finished in place, no copy. */
		if (tg_complete(&h, b->data, b->len) < 0) {
			(*t->up_errors)++;
			t->host->buf_free(t->st, b);
			return;
		}
		memset(&b->off, 0, sizeof(b->off));
		tp_batch_add(q, b);
		return;
	}
	tp_batch_init(&t->seg_q);
	r = tg_segment(&h, b->data, b->len, TUN_MAX_PACKET, &sink);
	if (r == TG_ENOBUF)
		(*t->up_dropped)++;
	else if (r < 0)
		(*t->up_errors)++;
	tp_batch_splice(q, &t->seg_q);
	t->host->buf_free(t->st, b);
}

/* Write the packet at the queue's head, merged with the segments of the
 * same TCP stream right behind it when offloads are on.  Returns how many
 * queued packets the write covered, 0 to be called again (merging just
 * turned off), or -1 with errno. */
int tun_write_head(struct tun *t)
{
	struct iovec iov[TG_GRO_MAX + 2];
	uint8_t vh[TG_VNET_HDR_LEN], hdr[TG_GRO_HDR_MAX];
	struct tg_vnet_hdr h = { 0 };
	struct tp_buf *b = t->queue.head, *c;
	struct tg_gro g;
	unsigned i, cnt = 1;
	ssize_t n;

	if (!t->vnet)
		return write(t->fd, b->data, b->len) < 0 ? -1 : 1;
	iov[1].iov_base = b->data;
	iov[1].iov_len = b->len;
	if (tp_buf_is_super(b)) {
		/* A super-packet from a peer that agreed: written whole, its
		 * metadata as the vnet header (the kernel segments, or
		 * completes the checksum, only if it forwards it on). */
		tg_off_to_vnet(&b->off, &h);
		(*t->tx_super)++;
	} else if (!t->no_merge && b->next && !tp_buf_is_super(b->next) &&
		   tg_gro_start(&g, b->data, b->len)) {
		/* Only when a packet follows: the start verifies the whole
		 * checksum, wasted on a packet with nothing to merge with. */
		for (c = b->next; c && !tp_buf_is_super(c) && tg_gro_add(&g, c->data, c->len); c = c->next)
			cnt++;
	}
	/* cnt == 1: the packet as it is (a plain one with a zero header: the
	 * checksum is the sender's) */
	if (cnt > 1) {
		/* Payloads stay where they are: the kernel gathers them. */
		iov[1].iov_base = hdr;
		iov[1].iov_len = tg_gro_header(&g, hdr, &h);
		for (i = 0, c = b; i < cnt; i++, c = c->next) {
			iov[2 + i].iov_base = c->data + g.hlen;
			iov[2 + i].iov_len = c->len - g.hlen;
		}
	}
	tg_vnet_write(vh, &h);
	iov[0].iov_base = vh;
	iov[0].iov_len = sizeof(vh);
	n = writev(t->fd, iov, cnt == 1 ? 2 : (int)cnt + 2);
	if (n < 0 && cnt > 1 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		/* A kernel that takes plain packets but not our super-packets:
		 * stop merging rather than lose whole runs; the caller retries
		 * the same packets one by one. */
		t->host->log(t->st, TP_LOG_WARN, "%s refused a merged write (%s): writing packets one by one",
			     t->ifname, strerror(errno));
		t->no_merge = 1;
		return 0;
	}
	if (n < 0)
		return -1;
	if (cnt > 1)
		(*t->tx_merged)++;
	return (int)cnt;
}

