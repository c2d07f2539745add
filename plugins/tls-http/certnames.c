/* SPDX-License-Identifier: MIT */
/*
 * certnames.c — say exactly why the server's certificate was refused: the
 * verification error and, for a name mismatch, the name we expected
 * against the names the certificate holds (SAN DNS and IP entries, then
 * the subject CN), so a user can tell a typo in the url from a server
 * with the wrong certificate.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include "tls-http.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <openssl/x509v3.h>

static void add(char *out, size_t cap, size_t *o, const char *kind, const char *v, size_t vlen)
{
	char clean[128];
	/* Certificate text is the peer's: escaped, bounded. */
	th_escape(clean, sizeof(clean), v, vlen);
	int n = snprintf(out + *o, cap - *o, "%s%s:%s", *o ? ", " : "", kind, clean);
	if (n > 0)
		*o = (size_t)n >= cap - *o ? cap - 1 : *o + (size_t)n;
}

size_t th_cert_names(X509 *x, char *out, size_t cap)
{
	size_t o = 0;
	out[0] = '\0';
	if (!x || cap < 2)
		return 0;
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		if (g->type == GEN_DNS) {
			add(out, cap, &o, "DNS", (const char *)ASN1_STRING_get0_data(g->d.dNSName),
			    (size_t)ASN1_STRING_length(g->d.dNSName));
		} else if (g->type == GEN_IPADD) {
			char ip[INET6_ADDRSTRLEN];
			int len = ASN1_STRING_length(g->d.iPAddress);
			const unsigned char *p = ASN1_STRING_get0_data(g->d.iPAddress);
			if ((len == 4 || len == 16) &&
			    inet_ntop(len == 4 ? AF_INET : AF_INET6, p, ip, sizeof(ip)))
				add(out, cap, &o, "IP", ip, strlen(ip));
		}
	}
	GENERAL_NAMES_free(gens);
	char cn[256];
	int n = X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn));
	if (n > 0)
		add(out, cap, &o, "CN", cn, (size_t)n);
	if (!o)
		snprintf(out, cap, "none");
	return o;
}

void th_cert_refusal(SSL *ssl, const char *expected, char *out, size_t cap)
{
	long vr = SSL_get_verify_result(ssl);
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
	X509 *leaf = SSL_get0_peer_certificate(ssl);
	char names[320];

	if (!leaf && chain && sk_X509_num(chain) > 0)
		leaf = sk_X509_value(chain, 0); /* the handshake stopped before it was kept */
	if (vr == X509_V_ERR_HOSTNAME_MISMATCH || vr == X509_V_ERR_IP_ADDRESS_MISMATCH) {
		th_cert_names(leaf, names, sizeof(names));
		snprintf(out, cap,
			 "the server's certificate is not for %s (it names %s); fix the url or "
			 "server_name",
			 expected, leaf ? names : "nothing we received");
	} else {
		snprintf(out, cap, "the server's certificate failed verification: %s%s",
			 X509_verify_cert_error_string(vr),
			 vr == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
					 vr == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
					 vr == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT
				 ? " (wrong or missing 'ca'?)"
				 : "");
	}
}
