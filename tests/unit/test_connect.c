/* SPDX-License-Identifier: MIT */
/*
 * test_connect.c — `tunpipe connect`'s url (core/connect.c) and the names
 * of a certificate as a refused client reports them (certnames.c).
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <check.h>
#include <string.h>
#include <openssl/x509v3.h>

#include "connect.h"
#include "tls-http.h"

static char user[64], url[256], err[300];

static int parse(const char *in)
{
	user[0] = url[0] = err[0] = '\0';
	return tp_connect_parse_url(in, user, sizeof(user), url, sizeof(url), err, sizeof(err));
}

START_TEST(url_good)
{
	ck_assert_int_eq(parse("https://alice@vpn.example.org/vpn"), 0);
	ck_assert_str_eq(user, "alice");
	ck_assert_str_eq(url, "https://vpn.example.org/vpn");
	ck_assert_int_eq(parse("https://bob.smith@[2001:db8::1]:8443/a/b"), 0);
	ck_assert_str_eq(user, "bob.smith");
	ck_assert_str_eq(url, "https://[2001:db8::1]:8443/a/b");
}
END_TEST

START_TEST(url_bad)
{
	ck_assert_int_lt(parse("http://alice@vpn.example.org/vpn"), 0);
	ck_assert_ptr_nonnull(strstr(err, "must start with https://"));
	ck_assert_int_lt(parse("https://vpn.example.org/vpn"), 0);
	ck_assert_ptr_nonnull(strstr(err, "no user name"));
	ck_assert_int_lt(parse("https://vpn.example.org/a@b"), 0); /* '@' in the path only */
	ck_assert_ptr_nonnull(strstr(err, "no user name"));
	ck_assert_int_lt(parse("https://@vpn.example.org/vpn"), 0);
	ck_assert_int_lt(parse("https://alice:secret@vpn.example.org/vpn"), 0);
	ck_assert_ptr_nonnull(strstr(err, "no password in the url"));
	ck_assert_ptr_null(strstr(err, "secret")); /* not echoed */
	ck_assert_int_lt(parse("https://alice@vpn.example.org"), 0);
	ck_assert_ptr_nonnull(strstr(err, "expected https://USER@HOST"));
	ck_assert_int_lt(parse("https://alice@/vpn"), 0);
	ck_assert_int_lt(parse("https://alice@vpn.example.org/v\"pn"), 0);
	ck_assert_int_lt(parse("https://alice@vpn.example.org/v pn"), 0);
	ck_assert_uint_eq(user[0], '\0');
}
END_TEST

static X509 *cert(const char *cn, const char *san)
{
	X509 *x = X509_new();
	ck_assert_ptr_nonnull(x);
	if (cn)
		X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
					   (const unsigned char *)cn, -1, -1, 0);
	if (san) {
		X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san);
		ck_assert_ptr_nonnull(e);
		ck_assert_int_eq(X509_add_ext(x, e, -1), 1);
		X509_EXTENSION_free(e);
	}
	return x;
}

START_TEST(cert_names)
{
	char out[320];
	X509 *x = cert("vpn.example.org", "DNS:vpn.example.org,DNS:*.example.org,IP:10.0.0.1,"
					  "IP:2001:db8::1,email:a@example.org");
	ck_assert_uint_gt(th_cert_names(x, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "DNS:vpn.example.org, DNS:*.example.org, IP:10.0.0.1, IP:2001:db8::1, "
			      "CN:vpn.example.org");
	X509_free(x);

	x = cert("only-cn", NULL);
	th_cert_names(x, out, sizeof(out));
	ck_assert_str_eq(out, "CN:only-cn");
	X509_free(x);

	x = cert(NULL, NULL);
	ck_assert_uint_eq(th_cert_names(x, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "none");
	X509_free(x);

	/* The peer's bytes are escaped, and a small buffer is cut, not overrun. */
	x = cert("evil\x1b[31m", "DNS:a.example");
	th_cert_names(x, out, sizeof(out));
	ck_assert_str_eq(out, "DNS:a.example, CN:evil\\x1b[31m");
	char small[12];
	th_cert_names(x, small, sizeof(small));
	ck_assert_uint_lt(strlen(small), sizeof(small));
	ck_assert_int_eq(strncmp(small, "DNS:a.examp", sizeof(small) - 1), 0);
	X509_free(x);
}
END_TEST

Suite *tp_test_suite(void)
{
	Suite *s = suite_create("connect");
	TCase *t = tcase_create("url");
	tcase_add_test(t, url_good);
	tcase_add_test(t, url_bad);
	suite_add_tcase(s, t);
	TCase *c = tcase_create("certificate names");
	tcase_add_test(c, cert_names);
	suite_add_tcase(s, c);
	return s;
}
