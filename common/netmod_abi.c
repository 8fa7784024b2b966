/* The interface stamp of postseal-net.so, checked by netmod_load(). */
#include "config.h"

#include "netmod.h"

extern const char netmod_abi[];
const char netmod_abi[] = PS_NETMOD_ABI;
