/* SPDX-License-Identifier: MIT */
/*
 * check-main.c — the shared main() of the Check unit tests (see
 * check-main.h): every tests/unit/test_*.c defines only its suite.
 */
#include <stdlib.h>

#include "check-main.h"

int main(void)
{
	SRunner *sr = srunner_create(tp_test_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
