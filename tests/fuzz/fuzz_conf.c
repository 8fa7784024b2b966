/* libFuzzer target: the configuration file parser, policy sections
 * included, in both modes (stop at the first error; collect them all, as
 * "postseal policy check" does), then the resolution of a few addresses
 * against what was parsed, as site file and as user file. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "conf.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const addrs[] = {"bob@example.org", "a@x.example.org",
					    "Bob@EXAMPLE.ORG", "c@bank.example"};
	struct ps_config cf, user;
	struct pol_effective pe;
	struct buf errors;
	char why[512], val[512];

	config_defaults(&cf);
	config_parse(&cf, "fuzz.conf", (const char *)data, size, why, sizeof(why));
	buf_init(&errors, 1 << 16);
	config_defaults(&user);
	user.errors = &errors;
	user.user_file = 1;
	config_parse(&user, "user.conf", (const char *)data, size, why, sizeof(why));
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		pol_resolve(&cf.policy, &user.policy, addrs[i], &pe);
		for (int k = 0; k < PK_COUNT; k++) {
			pol_format(&pe, (enum pol_key)k, val, sizeof(val));
			pol_origin(&pe, (enum pol_key)k, val, sizeof(val));
		}
		policy_decide(&pe, NULL, &(struct pol_decision){0});
	}
	buf_free(&errors);
	config_free(&cf);
	config_free(&user);
	return 0;
}
