/* unit_lab_flavour.c - nic/lab: the drop lab told from the veth lab by the qdiscs tc prints; flavour names */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include "nic/nic.h"
#include "nic/lab.h"

#define MQ "{\"kind\":\"mq\",\"handle\":\"1:\",\"root\":true,\"options\":{}}"
#define DROP(p) "{\"kind\":\"pfifo\",\"handle\":\"80" p ":\",\"parent\":\"1:" p "\",\"options\":{\"limit\":0}}"
#define FIFO(p) "{\"kind\":\"pfifo\",\"handle\":\"81" p ":\",\"parent\":\"1:" p "\",\"options\":{\"limit\":1000}}"
#define FQ(p) "{\"kind\":\"pfifo_fast\",\"handle\":\"0:\",\"parent\":\"1:" p "\",\"options\":{\"bands\":3}}"

static const struct {
	const char *json;
	unsigned queues;
	int ret;
	enum lab_flavour want;
	const char *msg;           /* a part of the message, for errors */
} cases[] = {
	/* what `lab up --drop --queues 2` makes, children in tc's order (last first) */
	{ "[" MQ "," DROP("2") "," DROP("1") "]", 2, 0, LAB_DROP, NULL },
	/* the veth lab: mq with the default children */
	{ "[" MQ "," FQ("2") "," FQ("1") "]", 2, 0, LAB_VETH, NULL },
	/* 10 queues: minors are hex, 1:a is queue 10 */
	{ "[" MQ "," DROP("1") "," DROP("2") "," DROP("3") "," DROP("4") "," DROP("5") ","
	  DROP("6") "," DROP("7") "," DROP("8") "," DROP("9") "," DROP("a") "]", 10, 0, LAB_DROP, NULL },
	/* one queue: the pfifo at the root */
	{ "[{\"kind\":\"pfifo\",\"handle\":\"8029:\",\"root\":true,\"options\":{\"limit\":0}}]", 1, 0,
	  LAB_DROP, NULL },
	{ "[{\"kind\":\"noqueue\",\"handle\":\"0:\",\"root\":true,\"options\":{}}]", 1, 0, LAB_VETH, NULL },
	{ "[]", 1, 0, LAB_VETH, NULL },
	/* a pfifo that takes packets is not the drop lab's */
	{ "[" MQ "," FIFO("2") "," FIFO("1") "]", 2, 0, LAB_VETH, NULL },
	/* half built, or changed by hand */
	{ "[" MQ "," DROP("1") "," FQ("2") "]", 2, -ENOLINK, LAB_VETH, "only 1 of the 2 TX queues" },
	{ "[" MQ "," DROP("1") "]", 2, -ENOLINK, LAB_VETH, "only 1 of the 2 TX queues" },
	{ "[{\"kind\":\"noqueue\",\"handle\":\"0:\",\"root\":true}]", 2, -ENOLINK, LAB_VETH, "no mq root" },
	{ "[]", 2, -ENOLINK, LAB_VETH, "no mq root" },
	/* a child of another parent does not count */
	{ "[" MQ ",{\"kind\":\"pfifo\",\"parent\":\"2:1\",\"options\":{\"limit\":0}}," DROP("2") "]", 2,
	  -ENOLINK, LAB_VETH, "only 1 of the 2" },
	{ "Error: not json", 2, -EPROTO, LAB_VETH, "unexpected output" },
};

static void test_qdisc_flavour(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum lab_flavour f = LAB_DROP;
		char msg[256] = "";
		int ret = lab_qdisc_flavour(cases[i].json, "zcl-tx0", cases[i].queues, &f, msg, sizeof(msg));

		if (ret != cases[i].ret || (!ret && f != cases[i].want) ||
		    (cases[i].msg && !strstr(msg, cases[i].msg)))
			fail_msg("case %zu: ret %d flavour %d msg '%s'", i, ret, (int)f, msg);
	}
}

static void test_names(void **state)
{
	enum lab_flavour f = LAB_DROP;

	(void)state;
	assert_int_equal(lab_flavour_parse(NULL, &f), 0);
	assert_int_equal(f, LAB_VETH);
	assert_int_equal(lab_flavour_parse("drop", &f), 0);
	assert_int_equal(f, LAB_DROP);
	assert_int_equal(lab_flavour_parse("", &f), 0);
	assert_int_equal(f, LAB_VETH);
	assert_int_equal(lab_flavour_parse("veth", &f), 0);
	assert_int_equal(f, LAB_VETH);
	assert_int_equal(lab_flavour_parse("Drop", &f), -EINVAL);
	assert_string_equal(lab_flavour_name(LAB_DROP), "drop");
	assert_string_equal(lab_flavour_name(LAB_VETH), "veth");
}

static void test_cfg(void **state)
{
	struct lab_cfg c;
	char msg[256] = "";

	(void)state;
	lab_cfg_init(&c);
	assert_int_equal(c.flavour, LAB_VETH);
	c.flavour = LAB_DROP;
	assert_int_equal(lab_check_cfg(&c, msg, sizeof(msg)), 0);
	c.gro = 1;
	assert_int_equal(lab_check_cfg(&c, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "no receiver"));
	c.gro = 0;
	c.flavour = (enum lab_flavour)7;
	assert_int_equal(lab_check_cfg(&c, msg, sizeof(msg)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qdisc_flavour),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_cfg),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
