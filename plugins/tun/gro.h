/* SPDX-License-Identifier: MIT */
/*
 * gro.h — coalescing of consecutive TCP segments of one flow into one
 * super-packet for a TUN device opened with IFF_VNET_HDR, so the kernel
 * takes one write per run instead of one per packet.  Only a run of
 * packets that are adjacent in the write queue is merged: packets are
 * never reordered.
 */
#ifndef TUN_GRO_H
#define TUN_GRO_H
#include <stddef.h>
#include <stdint.h>

#include "gso.h"

/* At most this many segments in one super-packet (also bounds the iovec
 * array the writer needs: one per segment plus the two headers). */
#define TG_GRO_MAX 64
/* The merged IPv4+TCP or IPv6+TCP header: at most 60 + 60 bytes. */
#define TG_GRO_HDR_MAX 120

struct tg_gro {
	const uint8_t *head;  /* the first packet of the run */
	size_t ihl, hlen;     /* its IP header length, IP+TCP header length */
	size_t mss;           /* payload of the first segment: all but the last match it */
	size_t total;         /* payload bytes in the run */
	uint32_t next_seq;    /* sequence number the next segment must carry */
	unsigned count;       /* segments in the run */
	uint8_t last_flags;   /* TCP flags of the last segment (PSH carries over) */
	int closed;           /* nothing more may join (short segment or PSH) */
};

/* Start a run with packet p.  1: p may head a run (a TCP segment with
 * payload, only ACK/PSH set, no fragment, a checksum that verifies);
 * 0: write it alone. */
int tg_gro_start(struct tg_gro *g, const uint8_t *p, size_t n);
/* Append p to the run if it continues it exactly (same flow, headers,
 * options and ack; next sequence number; no flag change; a verified
 * checksum; the size rules of GSO).  1 appended, 0 not (the run ends). */
int tg_gro_add(struct tg_gro *g, const uint8_t *p, size_t n);
/* For a run of count > 1: write the merged IP+TCP header to hdr (room for
 * TG_GRO_HDR_MAX) and the virtio_net_hdr to h; returns the header length.
 * The payload of each segment (from its byte hlen on) follows it. */
size_t tg_gro_header(const struct tg_gro *g, uint8_t *hdr, struct tg_vnet_hdr *h);

#endif
