/* netmod_load() where the network code is linked in (unit tests and
 * fuzzers, through libpsnet.a): nothing to load. */
#include "config.h"

#include "netmod.h"

enum ps_status
netmod_load(char *why, size_t whylen)
{
	(void)why;
	(void)whylen;
	return PS_OK;
}
